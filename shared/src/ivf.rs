//! Inverted-file (IVF) candidate index over item vectors, for large catalogs.
//!
//! The trainer clusters item vectors (k-means) and stores the centroids and each cluster's items
//! in the artifact, with the number of clusters to probe it tuned for ≥ 0.95 recall of the exact
//! top 10. At request time the edge scores the centroids against the folded-in user vector and
//! only the items of the best `nprobe` clusters, instead of the whole catalog.

use std::ops::Range;

use crate::factors::dot;

/// Why an IVF index cannot be written or read. The artifact wraps it into its own error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IvfError {
    #[error("cannot write the IVF index: {0}")]
    Invalid(String),
    #[error("artifact section {id} is malformed: {why}")]
    Malformed { id: u32, why: &'static str },
}

/// The index as the trainer builds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IvfData {
    /// Clusters probed per query.
    pub nprobe: u32,
    /// `nlist × k` centroids, row-major.
    pub centroids: Vec<f32>,
    /// Per cluster: its item indices.
    pub lists: Vec<Vec<u32>>,
}

fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn read_f32(b: &[u8], at: usize) -> Option<f32> {
    Some(f32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn invalid(m: &str) -> IvfError {
    IvfError::Invalid(m.to_owned())
}

impl IvfData {
    /// The centroids section: `nlist u32, nprobe u32, nlist × k f32`.
    pub fn encode_centroids(&self, k: usize) -> Result<Vec<u8>, IvfError> {
        let nlist = self.lists.len();
        if nlist == 0 || self.centroids.len() != nlist * k {
            return Err(invalid("IVF centroids must be nlist × k"));
        }
        if self.nprobe == 0 || self.nprobe as usize > nlist {
            return Err(invalid("IVF nprobe must be between 1 and nlist"));
        }
        let mut buf = Vec::with_capacity(8 + self.centroids.len() * 4);
        put_u32(
            &mut buf,
            u32::try_from(nlist).map_err(|_| invalid("too many IVF lists"))?,
        );
        put_u32(&mut buf, self.nprobe);
        for &c in &self.centroids {
            buf.extend_from_slice(&c.to_le_bytes());
        }
        Ok(buf)
    }

    /// The lists section: `nlist u32, nnz u32, offsets (nlist + 1) u32, items nnz u32`; every
    /// item must appear exactly once.
    pub fn encode_lists(&self, n_items: usize) -> Result<Vec<u8>, IvfError> {
        let nnz: usize = self.lists.iter().map(Vec::len).sum();
        let mut seen = vec![false; n_items];
        for &i in self.lists.iter().flatten() {
            match seen.get_mut(i as usize) {
                Some(s) if !*s => *s = true,
                _ => return Err(invalid("IVF lists must hold every item exactly once")),
            }
        }
        if nnz != n_items {
            return Err(invalid("IVF lists must hold every item exactly once"));
        }
        let len = |x: usize| u32::try_from(x).map_err(|_| invalid("IVF index too large"));
        let mut buf = Vec::with_capacity(8 + (self.lists.len() + 1 + nnz) * 4);
        put_u32(&mut buf, len(self.lists.len())?);
        put_u32(&mut buf, len(nnz)?);
        let mut at = 0;
        put_u32(&mut buf, 0);
        for l in &self.lists {
            at += l.len();
            put_u32(&mut buf, len(at)?);
        }
        for &i in self.lists.iter().flatten() {
            put_u32(&mut buf, i);
        }
        Ok(buf)
    }
}

/// A loaded, checked index: centroids decoded, lists read in place.
#[derive(Debug, Clone)]
pub(crate) struct LoadedIvf {
    nprobe: usize,
    centroids: Vec<f32>,
    nlist: usize,
    offsets: usize,
    items: usize,
}

impl LoadedIvf {
    pub(crate) fn load(
        b: &[u8],
        centroids: Range<usize>,
        lists: Range<usize>,
        ids: (u32, u32),
        k: usize,
        n_items: usize,
    ) -> Result<Self, IvfError> {
        let bad_c = |why| IvfError::Malformed { id: ids.0, why };
        let bad_l = |why| IvfError::Malformed { id: ids.1, why };
        let nlist = read_u32(b, centroids.start).ok_or(bad_c("no list count"))? as usize;
        let nprobe = read_u32(b, centroids.start + 4).ok_or(bad_c("no nprobe"))? as usize;
        if nlist == 0 || nprobe == 0 || nprobe > nlist {
            return Err(bad_c("bad list count or nprobe"));
        }
        if centroids.len() != 8 + nlist.saturating_mul(k).saturating_mul(4) {
            return Err(bad_c("nlist × k floats expected"));
        }
        let cs: Vec<f32> = (0..nlist * k)
            .filter_map(|i| read_f32(b, centroids.start + 8 + i * 4))
            .collect();
        if read_u32(b, lists.start).is_none_or(|x| x as usize != nlist) {
            return Err(bad_l("list count differs from the centroids"));
        }
        let nnz = read_u32(b, lists.start + 4).ok_or(bad_l("no entry count"))? as usize;
        let offsets = lists.start + 8;
        let items = offsets + (nlist + 1) * 4;
        if nnz != n_items || items + nnz * 4 != lists.end {
            return Err(bad_l("one entry per item expected"));
        }
        let mut prev = 0;
        for l in 0..=nlist {
            let o = read_u32(b, offsets + l * 4).ok_or(bad_l("offset out of bounds"))? as usize;
            if o < prev || o > nnz {
                return Err(bad_l("list offsets are not increasing"));
            }
            prev = o;
        }
        if (0..nnz).any(|e| read_u32(b, items + e * 4).is_none_or(|i| i as usize >= n_items)) {
            return Err(bad_l("item index out of range"));
        }
        Ok(Self {
            nprobe,
            centroids: cs,
            nlist,
            offsets,
            items,
        })
    }

    /// Clusters probed per query.
    pub(crate) fn nprobe(&self) -> usize {
        self.nprobe
    }

    /// Items of the `nprobe` clusters whose centroids score best against `x`.
    pub(crate) fn candidates(&self, b: &[u8], x: &[f32], nprobe: usize) -> Vec<u32> {
        let k = x.len();
        if k == 0 || self.centroids.len() != self.nlist * k {
            return Vec::new();
        }
        let mut scored: Vec<(f32, usize)> = self
            .centroids
            .chunks_exact(k)
            .map(|c| dot(x, c))
            .enumerate()
            .map(|(l, s)| (s, l))
            .collect();
        let take = nprobe.clamp(1, self.nlist);
        scored.select_nth_unstable_by(take - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out = Vec::new();
        for &(_, l) in &scored[..take] {
            let s = read_u32(b, self.offsets + l * 4).unwrap_or(0) as usize;
            let e = read_u32(b, self.offsets + l * 4 + 4).unwrap_or(0) as usize;
            out.extend((s..e).filter_map(|at| read_u32(b, self.items + at * 4)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture_v2;
    use crate::{Model, ModelData};

    fn with_ivf(ivf: IvfData) -> ModelData {
        let mut d = fixture_v2();
        if let Some(f) = d.factors.as_mut() {
            f.ivf = Some(ivf);
        }
        d
    }

    fn laptops_and_rest() -> IvfData {
        IvfData {
            nprobe: 1,
            centroids: vec![1.0, 0.25, 0.0, 0.0, 0.1, 0.7, 0.5, 0.1],
            lists: vec![vec![0, 1], vec![2, 3, 4]],
        }
    }

    #[test]
    fn probes_the_nearest_cluster() {
        let m = Model::load(with_ivf(laptops_and_rest()).encode().unwrap()).unwrap();
        let f = m.factors().unwrap();
        assert_eq!(f.ivf_nprobe(), Some(1));
        assert_eq!(f.candidates(&[1.0, 0.0, 0.0, 0.0], None), Some(vec![0, 1]));
        assert_eq!(
            f.candidates(&[0.0, 1.0, 0.0, 0.0], None),
            Some(vec![2, 3, 4])
        );
        let mut all = f.candidates(&[0.0, 1.0, 0.0, 0.0], Some(2)).unwrap();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2, 3, 4]);
        // Without an index every item is a candidate.
        let plain = Model::load(fixture_v2().encode().unwrap()).unwrap();
        assert_eq!(plain.factors().unwrap().candidates(&[1.0; 4], None), None);
    }

    #[test]
    fn refuses_lists_that_miss_or_repeat_items() {
        for lists in [
            vec![vec![0, 1], vec![2, 3]],
            vec![vec![0, 1, 1], vec![2, 3, 4]],
        ] {
            let ivf = IvfData {
                lists,
                ..laptops_and_rest()
            };
            assert!(matches!(
                with_ivf(ivf).encode(),
                Err(crate::ArtifactError::Invalid(_))
            ));
        }
        let ivf = IvfData {
            nprobe: 3,
            ..laptops_and_rest()
        };
        assert!(with_ivf(ivf).encode().is_err());
    }

    #[test]
    fn a_corrupted_list_section_is_a_typed_error() {
        let mut bytes = with_ivf(laptops_and_rest()).encode().unwrap();
        // Point the first list's end offset past the entries, then fix the checksum.
        let needle: Vec<u8> = [2u32, 5, 0, 2, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
            .unwrap();
        bytes[at + 12..at + 16].copy_from_slice(&9u32.to_le_bytes());
        let crc = crate::artifact::checksum(&bytes);
        bytes[16..20].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            Model::load(bytes),
            Err(crate::ArtifactError::Malformed { id: 17, .. })
        ));
    }
}
