//! Benchmark interaction sequences: the `user item item …` format of the Amazon-reviews sets
//! (`amazon-beauty.txt` in `VITRINE_DATA`) and the `SessionId ItemId Time` TSV of the YooChoose
//! session sets, read into dense item indices.

use std::collections::HashMap;
use std::path::Path;

/// Sequences over dense item indices `0..n_items`, each in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sequences {
    pub seqs: Vec<Vec<u32>>,
    /// Original item ids, by dense index.
    pub item_ids: Vec<String>,
}

/// Reading failures.
#[derive(Debug, thiserror::Error)]
pub enum SequenceError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {why}")]
    Format {
        path: String,
        line: usize,
        why: String,
    },
}

#[derive(Default)]
struct Dict {
    index: HashMap<String, u32>,
    ids: Vec<String>,
}

impl Dict {
    fn get(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.index.insert(id.to_owned(), i);
        self.ids.push(id.to_owned());
        i
    }
}

fn read(path: &Path) -> Result<String, SequenceError> {
    std::fs::read_to_string(path).map_err(|source| SequenceError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// `user item1 item2 …` per line, chronological.
pub fn read_user_sequences(path: &Path) -> Result<Sequences, SequenceError> {
    let mut dict = Dict::default();
    let mut seqs = Vec::new();
    for line in read(path)?.lines() {
        let mut parts = line.split_whitespace();
        if parts.next().is_none() {
            continue;
        }
        seqs.push(parts.map(|id| dict.get(id)).collect());
    }
    Ok(Sequences {
        seqs,
        item_ids: dict.ids,
    })
}

/// `SessionId ItemId Time` (tab- or space-separated, a header line allowed); sessions ordered by
/// their first click, then by id — numerically when both ids are numbers (RetailRocket's files
/// give every session time 0, and its numeric ids are in time order), clicks by time.
pub fn read_sessions(path: &Path) -> Result<Sequences, SequenceError> {
    let text = read(path)?;
    let mut dict = Dict::default();
    let mut sessions: HashMap<String, Vec<(f64, u32)>> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 3 {
            continue;
        }
        let Ok(t) = parts[2].parse::<f64>() else {
            if n == 0 {
                continue;
            }
            return Err(SequenceError::Format {
                path: path.display().to_string(),
                line: n + 1,
                why: format!("time `{}` is not a number", parts[2]),
            });
        };
        let item = dict.get(parts[1]);
        sessions
            .entry(parts[0].to_owned())
            .or_default()
            .push((t, item));
    }
    let mut list: Vec<(f64, String, Vec<u32>)> = sessions
        .into_iter()
        .map(|(id, mut clicks)| {
            clicks.sort_by(|a, b| a.0.total_cmp(&b.0));
            let first = clicks.first().map_or(0.0, |c| c.0);
            (first, id, clicks.into_iter().map(|c| c.1).collect())
        })
        .collect();
    let by_id = |a: &str, b: &str| match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    };
    list.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| by_id(&a.1, &b.1)));
    Ok(Sequences {
        seqs: list.into_iter().map(|s| s.2).collect(),
        item_ids: dict.ids,
    })
}

impl Sequences {
    pub fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    /// Leave-`k`-out: each sequence of at least `k + 2` items loses its last `k` items; the first
    /// of them is the target. `k = 1` tests on the last item, `k = 2` validates on the
    /// second-to-last.
    pub fn leave_out(&self, k: usize) -> (Vec<Vec<u32>>, Vec<Option<u32>>) {
        self.seqs
            .iter()
            .map(|s| {
                if s.len() >= k + 2 {
                    (s[..s.len() - k].to_vec(), Some(s[s.len() - k]))
                } else {
                    (s.clone(), None)
                }
            })
            .unzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_sequences_and_splits() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.txt");
        std::fs::write(&p, "1 10 11 12 13\n2 11 12\n\n3 13 10 14\n").unwrap();
        let s = read_user_sequences(&p).unwrap();
        assert_eq!(s.seqs, vec![vec![0, 1, 2, 3], vec![1, 2], vec![3, 0, 4]]);
        assert_eq!(s.item_ids, ["10", "11", "12", "13", "14"]);
        let (train, test) = s.leave_out(1);
        assert_eq!(train[0], vec![0, 1, 2]);
        assert_eq!(test, vec![Some(3), None, Some(4)]);
        let (train, valid) = s.leave_out(2);
        assert_eq!((train[0].clone(), valid[0]), (vec![0, 1], Some(2)));
        assert_eq!(valid[2], None);
    }

    /// Regression: sessions with equal first-click times (RetailRocket's positions) were ordered
    /// by id as a string ("10" before "9"), so "the most recent sessions" were not.
    #[test]
    fn sessions_with_equal_times_are_ordered_by_numeric_id() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rr.tsv");
        std::fs::write(&p, "10\t1\t0\n9\t2\t0\n100\t3\t0\n").unwrap();
        let s = read_sessions(&p).unwrap();
        let first: Vec<&str> = s
            .seqs
            .iter()
            .map(|q| s.item_ids[q[0] as usize].as_str())
            .collect();
        assert_eq!(first, ["2", "1", "3"], "9, 10, 100");
    }

    #[test]
    fn reads_sessions_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.tsv");
        std::fs::write(
            &p,
            "SessionId\tItemId\tTime\nb\t7\t20\na\t5\t11\na\t6\t10\nb\t5\t21\n",
        )
        .unwrap();
        let s = read_sessions(&p).unwrap();
        assert_eq!(s.seqs.len(), 2);
        let ids = |seq: &Vec<u32>| {
            seq.iter()
                .map(|&i| s.item_ids[i as usize].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&s.seqs[0]), ["6", "5"]);
        assert_eq!(ids(&s.seqs[1]), ["7", "5"]);
        std::fs::write(&p, "a\t1\t1\na\t2\tsoon\n").unwrap();
        assert!(matches!(
            read_sessions(&p),
            Err(SequenceError::Format { line: 2, .. })
        ));
    }
}
