//! The search index's bytes: the trainer encodes the index into the artifact's search section, the
//! edge decodes it once per model version. Every length and offset is checked, so a damaged
//! section is a typed error (the edge then indexes the model itself), never a panic. Format 1
//! (before analysed terms and concepts) is recognised and refused the same way: its terms are not
//! in the form today's queries are analysed into.
//!
//! ```text
//! magic "VSIX", format u32 (2)
//! n_docs u32, n_terms u32, n_postings u32, n_groups u32, n_queries u32, n_learned u32
//! n_terms × str                      vocabulary, strictly ascending
//! (n_terms + 1) × u32                posting starts, ascending from 0 to n_postings
//! n_postings × u32                   docs (< n_docs)
//! n_postings × u8                    weights, half units
//! n_docs × u8                        title lengths, words (length normalisation)
//! n_groups × { u32 m, m × str }      synonym groups, each phrase's analysed words joined by " "
//! n_queries × { str, u32 count }     ascending
//! n_learned × { str key, str category ("" for none), u32 m, m × { u32 doc, u8 strength } }
//!                                    keys strictly ascending
//! str = u32 byte length + UTF-8
//! ```

use crate::search::index::{Learned, SearchIndex};
use crate::search::synonyms::Synonyms;

const MAGIC: &[u8; 4] = b"VSIX";
/// The index format this code writes and reads.
pub const FORMAT: u32 = 2;

/// Why an index section could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("search index is truncated")]
    Truncated,
    #[error("not a search index (bad magic)")]
    BadMagic,
    #[error("search index format {0} is not supported (this build reads {FORMAT})")]
    Format(u32),
    #[error("search index covers {found} products, the model has {expected}")]
    DocCount { found: usize, expected: usize },
    #[error("search index is malformed: {0}")]
    Malformed(&'static str),
}

fn put_u32(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.checked_add(n).ok_or(CodecError::Truncated)?;
        let s = self.b.get(self.at..end).ok_or(CodecError::Truncated)?;
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn len(&mut self) -> Result<usize, CodecError> {
        let n = self.u32()? as usize;
        // Every counted thing takes at least one byte: a count past the end is a lie.
        if n > self.b.len() {
            return Err(CodecError::Truncated);
        }
        Ok(n)
    }

    fn str(&mut self) -> Result<String, CodecError> {
        let n = self.len()?;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| CodecError::Malformed("a string is not UTF-8"))
    }
}

impl SearchIndex {
    /// The index for `model`: the trainer's section when the artifact has one, else built from
    /// the model. A section that fails to decode is reported and the index built instead.
    pub fn for_model(model: &crate::artifact::Model) -> (Self, Option<CodecError>) {
        match model.search_section() {
            None => (Self::build(model), None),
            Some(bytes) => match Self::decode(bytes, model.n_items()) {
                Ok(ix) => (ix, None),
                Err(e) => (Self::build(model), Some(e)),
            },
        }
    }

    /// The section bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.approx_bytes());
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, FORMAT as usize);
        put_u32(&mut out, self.n_docs as usize);
        put_u32(&mut out, self.vocabulary.len());
        put_u32(&mut out, self.docs.len());
        put_u32(&mut out, self.synonyms.len());
        put_u32(&mut out, self.queries.len());
        put_u32(&mut out, self.learned.len());
        for t in &self.vocabulary {
            put_str(&mut out, t);
        }
        for &s in &self.starts {
            put_u32(&mut out, s as usize);
        }
        for &d in &self.docs {
            put_u32(&mut out, d as usize);
        }
        out.extend_from_slice(&self.weights);
        if self.lengths.len() == self.n_docs as usize {
            out.extend_from_slice(&self.lengths);
        } else {
            out.extend(std::iter::repeat_n(1u8, self.n_docs as usize));
        }
        for group in self.synonyms.groups() {
            put_u32(&mut out, group.len());
            for phrase in group {
                put_str(&mut out, &phrase.join(" "));
            }
        }
        for (q, count) in &self.queries {
            put_str(&mut out, q);
            put_u32(&mut out, *count as usize);
        }
        for (key, l) in &self.learned {
            put_str(&mut out, key);
            put_str(&mut out, l.category.as_deref().unwrap_or_default());
            put_u32(&mut out, l.boosts.len());
            for &(d, strength) in &l.boosts {
                put_u32(&mut out, d as usize);
                out.push(strength);
            }
        }
        out
    }

    /// Reads a section written by [`Self::encode`] for a model of `n_items` products.
    pub fn decode(bytes: &[u8], n_items: usize) -> Result<Self, CodecError> {
        let mut r = Reader { b: bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(CodecError::BadMagic);
        }
        let format = r.u32()?;
        if format != FORMAT {
            return Err(CodecError::Format(format));
        }
        let n_docs = r.u32()?;
        if n_docs as usize != n_items {
            return Err(CodecError::DocCount {
                found: n_docs as usize,
                expected: n_items,
            });
        }
        let (n_terms, n_postings, n_groups, n_queries, n_learned) =
            (r.len()?, r.len()?, r.len()?, r.len()?, r.len()?);
        let mut vocabulary = Vec::with_capacity(n_terms);
        for _ in 0..n_terms {
            let t = r.str()?;
            if vocabulary.last().is_some_and(|p: &String| *p >= t) {
                return Err(CodecError::Malformed("vocabulary is not sorted"));
            }
            vocabulary.push(t);
        }
        let starts = (0..=n_terms)
            .map(|_| r.u32())
            .collect::<Result<Vec<_>, _>>()?;
        if starts.first() != Some(&0)
            || starts.last().map(|&s| s as usize) != Some(n_postings)
            || !starts.is_sorted()
        {
            return Err(CodecError::Malformed("bad posting starts"));
        }
        let docs = (0..n_postings)
            .map(|_| r.u32())
            .collect::<Result<Vec<_>, _>>()?;
        if docs.iter().any(|&d| d >= n_docs) {
            return Err(CodecError::Malformed("a posting names a missing product"));
        }
        let weights = r.take(n_postings)?.to_vec();
        let lengths = r.take(n_docs as usize)?.to_vec();
        let mut groups = Vec::with_capacity(n_groups);
        for _ in 0..n_groups {
            let m = r.len()?;
            let phrases = (0..m)
                .map(|_| r.str().map(|p| p.split(' ').map(str::to_owned).collect()))
                .collect::<Result<Vec<Vec<String>>, _>>()?;
            groups.push(phrases);
        }
        let mut queries: Vec<(String, u32)> = Vec::with_capacity(n_queries);
        for _ in 0..n_queries {
            let q = r.str()?;
            let count = r.u32()?;
            if queries.last().is_some_and(|p| p.0 >= q) {
                return Err(CodecError::Malformed("past queries are not sorted"));
            }
            queries.push((q, count));
        }
        let mut learned: Vec<(String, Learned)> = Vec::with_capacity(n_learned);
        for _ in 0..n_learned {
            let key = r.str()?;
            if learned.last().is_some_and(|p| p.0 >= key) {
                return Err(CodecError::Malformed("learned queries are not sorted"));
            }
            let category = Some(r.str()?).filter(|c| !c.is_empty());
            let m = r.len()?;
            let mut boosts = Vec::with_capacity(m);
            for _ in 0..m {
                let d = r.u32()?;
                if d >= n_docs {
                    return Err(CodecError::Malformed(
                        "a learned boost names a missing product",
                    ));
                }
                boosts.push((d, r.take(1)?[0]));
            }
            learned.push((key, Learned { category, boosts }));
        }
        if r.at != bytes.len() {
            return Err(CodecError::Malformed("trailing bytes"));
        }
        Ok(Self {
            vocabulary,
            starts,
            docs,
            weights,
            synonyms: Synonyms::from_analysed(groups),
            queries,
            learned,
            n_docs,
            lengths,
            category_terms: std::sync::OnceLock::new(),
            norms: std::sync::OnceLock::new(),
            fuzzy: std::sync::OnceLock::new(),
            log_popularity: std::sync::OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::index::Doc;

    fn index() -> SearchIndex {
        let docs = [
            (
                "Samsung Galaxy S24",
                "samsung",
                "electronics.smartphone",
                "256GB",
            ),
            (
                "Sony WH-1000XM5",
                "sony",
                "electronics.audio.headphone",
                "black",
            ),
        ];
        SearchIndex::from_docs(
            docs.iter().map(|&(title, brand, category, attr)| Doc {
                title,
                brand,
                category,
                attributes: vec![attr],
                fits: Vec::new(),
            }),
            Synonyms::electronics(),
            vec![("galaxy s24".into(), 7), ("sony".into(), 2)],
        )
    }

    #[test]
    fn round_trips_and_rejects_every_damage() {
        let ix = index().with_learned(vec![(
            "phone".into(),
            Learned {
                category: Some("electronics.smartphone".into()),
                boosts: vec![(0, 200)],
            },
        )]);
        let bytes = ix.encode();
        assert_eq!(SearchIndex::decode(&bytes, 2).unwrap(), ix);
        assert_eq!(
            SearchIndex::decode(&bytes, 3),
            Err(CodecError::DocCount {
                found: 2,
                expected: 3
            })
        );
        for len in 0..bytes.len() {
            assert!(SearchIndex::decode(&bytes[..len], 2).is_err(), "{len}");
        }
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert_eq!(SearchIndex::decode(&bad, 2), Err(CodecError::BadMagic));
        // Any single flipped byte is an error or a still-consistent index, never a panic.
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0x5a;
            let _ = SearchIndex::decode(&b, 2);
        }
    }

    /// A format-1 section (written before terms were analysed) is recognised and refused, so the
    /// edge indexes the model itself instead of matching stemmed queries against raw terms.
    #[test]
    fn golden_format_1_section_is_recognised() {
        let golden = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/search-v1.bin"
        ))
        .unwrap();
        assert_eq!(SearchIndex::decode(&golden, 2), Err(CodecError::Format(1)));
    }
}
