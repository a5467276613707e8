//! Typo candidates without an edit distance against every indexed word.
//!
//! A query word with a typo budget used to be compared with the whole vocabulary (an allocating
//! edit distance per word of a similar length), the largest part of a search at 100k products and
//! several times more in wasm. The table here keeps, once per index, the words a typo may reach
//! (no concept terms, no numbers) grouped by length, each with the set of characters it holds:
//! one edit changes that set by at most two characters, so a word whose set differs from the
//! query's by more than `2k` is skipped with one XOR before any distance is computed.

use crate::search::synonyms::CONCEPT;
use crate::search::text;

/// The words of a vocabulary a typo may reach, by length in characters.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fuzzy {
    /// `(term id, character set)`, ordered by the term's length.
    entries: Vec<(u32, u64)>,
    /// Entries of length `l` are `starts[l]..starts[l + 1]` (the last length holds every longer
    /// word).
    starts: Vec<usize>,
}

/// Longest length with its own group; longer words share the last one.
const MAX_LEN: usize = 48;

/// One bit per letter and digit, the rest folded onto the remaining bits.
pub(crate) fn char_set(word: &str) -> u64 {
    word.chars().fold(0u64, |m, c| {
        let bit = match c {
            'a'..='z' => u32::from(c) - u32::from('a'),
            '0'..='9' => 26 + u32::from(c) - u32::from('0'),
            _ => 36 + u32::from(c) % 28,
        };
        m | (1u64 << bit)
    })
}

impl Fuzzy {
    /// The table of `vocabulary` (term ids are positions in it).
    pub(crate) fn new(vocabulary: &[String]) -> Self {
        let mut eligible: Vec<(usize, u32, u64)> = vocabulary
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.starts_with(CONCEPT) && !text::is_exact_only(v))
            .filter_map(|(t, v)| {
                let len = v.chars().count().min(MAX_LEN);
                Some((len, u32::try_from(t).ok()?, char_set(v)))
            })
            .collect();
        eligible.sort_unstable_by_key(|e| (e.0, e.1));
        let mut starts = vec![0usize; MAX_LEN + 2];
        for &(len, _, _) in &eligible {
            starts[len + 1] += 1;
        }
        for l in 1..starts.len() {
            starts[l] += starts[l - 1];
        }
        Self {
            entries: eligible.into_iter().map(|(_, t, m)| (t, m)).collect(),
            starts,
        }
    }

    /// Term ids of the vocabulary within `k` edits of `word` (not `word` itself), in no
    /// particular order.
    pub(crate) fn within<'a>(
        &'a self,
        vocabulary: &'a [String],
        word: &'a str,
        k: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        let n = word.chars().count();
        let lo = n.saturating_sub(k).min(MAX_LEN);
        let hi = (n + k).min(MAX_LEN);
        let set = char_set(word);
        let budget = 2 * k;
        let range = match (self.starts.get(lo), self.starts.get(hi + 1)) {
            (Some(&a), Some(&b)) if a <= b => a..b,
            _ => 0..0,
        };
        self.entries[range]
            .iter()
            .filter(move |&&(_, m)| (m ^ set).count_ones() as usize <= budget)
            .filter_map(move |&(t, _)| {
                let t = t as usize;
                let v = vocabulary.get(t)?;
                (v != word && text::within(word, v, k)).then_some(t)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        v.sort();
        v
    }

    /// The table finds exactly what comparing with every word finds.
    #[test]
    fn finds_what_the_full_scan_finds() {
        let v = vocab(&[
            "headphone",
            "headphones",
            "headphnoe",
            "keyboard",
            "keybaord",
            "keyboards",
            "mouse",
            "house",
            "mice",
            "samsung",
            "samsnug",
            "s24",
            "television",
            "televisions",
            "\u{1}tv",
            "écouteur",
            "ecouteur",
        ]);
        let f = Fuzzy::new(&v);
        for word in [
            "headphones",
            "keyboard",
            "mouse",
            "samsung",
            "television",
            "ecouteur",
        ] {
            for k in 0..=2 {
                let mut fast: Vec<usize> = f.within(&v, word, k).collect();
                fast.sort_unstable();
                let slow: Vec<usize> = v
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| {
                        *t != word
                            && !t.starts_with(CONCEPT)
                            && !text::is_exact_only(t)
                            && text::within(word, t, k)
                    })
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(fast, slow, "{word} k={k}");
            }
        }
    }

    #[test]
    fn one_edit_changes_the_character_set_by_at_most_two() {
        for (a, b) in [("mouse", "house"), ("keyboard", "keybaord"), ("tv", "tvs")] {
            assert!((char_set(a) ^ char_set(b)).count_ones() <= 2, "{a} {b}");
        }
    }
}
