//! What the index suggests beside results: "did you mean" (a correction offered only when it
//! clearly finds more) and query completions as the shopper types.

use crate::search::index::SearchIndex;
use crate::search::synonyms::CONCEPT;
use crate::search::text;

/// A correction is offered only when it matches at least this many times as many products with
/// every word as the query did (and at least one more).
pub const CLEARLY_MORE: usize = 2;

impl SearchIndex {
    /// The most frequent indexed word within two edits of `word` (one, if the first letter
    /// differs: shoppers seldom miss the first letter), not a number, not a concept, not one of
    /// the query's other words.
    fn closest(&self, word: &str, others: &[String]) -> Option<&str> {
        let n = word.len();
        self.vocabulary
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v.len().abs_diff(n) <= 2
                    && !v.starts_with(CONCEPT)
                    && !text::is_exact_only(v)
                    && v.as_str() != word
                    && !others.contains(v)
                    && text::within(word, v, if v.get(..1) == word.get(..1) { 2 } else { 1 })
            })
            .max_by(|a, b| self.df(a.0).cmp(&self.df(b.0)).then(b.1.cmp(a.1)))
            .map(|(_, v)| v.as_str())
    }

    /// "Did you mean": the query with each word that is not an indexed term replaced by the most
    /// frequent indexed word within two edits — offered only when that corrected query matches
    /// products with every word, and clearly more of them than `q` does ([`CLEARLY_MORE`]).
    pub fn did_you_mean(&self, q: &str) -> Option<String> {
        let words = text::analyse(q);
        let mut changed = false;
        let mut out = Vec::with_capacity(words.len());
        for w in words.iter().cloned() {
            if self.term_id(&w).is_some() || text::is_exact_only(&w) || text::is_stopword(&w) {
                out.push(w);
                continue;
            }
            match self.closest(&w, &words) {
                Some(v) => {
                    changed = true;
                    out.push(v.to_owned());
                }
                None => out.push(w),
            }
        }
        if !changed {
            return None;
        }
        let corrected = out.join(" ");
        let before = self.full_matches(q);
        let after = self.full_matches(&corrected);
        (after > 0 && after > CLEARLY_MORE * before).then_some(corrected)
    }

    /// Completions of `q`: past queries that start with it, most asked first, then the query with
    /// its last word completed by indexed terms, by how many products carry them.
    pub fn complete(&self, q: &str, k: usize) -> Vec<String> {
        let terms = text::query_terms(q);
        let Some((last, head)) = terms.split_last() else {
            return Vec::new();
        };
        let typed = terms.join(" ");
        let start = self
            .queries
            .partition_point(|p| p.0.as_str() < typed.as_str());
        let mut past: Vec<&(String, u32)> = self.queries[start..]
            .iter()
            .take_while(|p| p.0.starts_with(typed.as_str()))
            .collect();
        past.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut out: Vec<String> = past.into_iter().take(k).map(|p| p.0.clone()).collect();
        let start = self
            .vocabulary
            .partition_point(|v| v.as_str() < last.as_str());
        let mut found: Vec<(&String, usize)> = self.vocabulary[start..]
            .iter()
            .enumerate()
            .take_while(|(_, v)| v.starts_with(last.as_str()))
            .map(|(i, v)| (v, self.df(start + i)))
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        for (v, _) in found {
            if out.len() >= k {
                break;
            }
            let mut words = head.to_vec();
            words.push(v.clone());
            let c = words.join(" ");
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}
