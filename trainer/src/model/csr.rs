//! A compressed sparse row matrix of interaction weights (users × items), the input of training
//! and evaluation: built once from the lake, it holds only the non-zeros.

/// Sparse matrix with `f32` values; columns within a row are sorted and unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    cols: usize,
}

impl Csr {
    /// Builds from `(row, col, value)` triples; duplicates are summed, out-of-range ones dropped.
    pub fn from_triples(rows: usize, cols: usize, mut triples: Vec<(u32, u32, f32)>) -> Self {
        triples.retain(|&(r, c, v)| (r as usize) < rows && (c as usize) < cols && v.is_finite());
        triples.sort_unstable_by_key(|&(r, c, _)| (r, c));
        let mut indptr = vec![0usize; rows + 1];
        let mut indices = Vec::with_capacity(triples.len());
        let mut values: Vec<f32> = Vec::with_capacity(triples.len());
        let mut last: Option<(u32, u32)> = None;
        for (r, c, v) in triples {
            if last == Some((r, c)) {
                if let Some(x) = values.last_mut() {
                    *x += v;
                }
                continue;
            }
            last = Some((r, c));
            indices.push(c);
            values.push(v);
            indptr[r as usize + 1] += 1;
        }
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        Self {
            indptr,
            indices,
            values,
            cols,
        }
    }

    /// Builds from entries produced twice by `entries` (once to count, once to fill), so no list
    /// of triples is held: memory is the matrix itself. Duplicates are summed, out-of-range and
    /// non-finite entries dropped.
    pub fn from_entries(
        rows: usize,
        cols: usize,
        entries: impl Fn(&mut dyn FnMut(u32, u32, f32)),
    ) -> Self {
        let ok =
            |r: u32, c: u32, v: f32| (r as usize) < rows && (c as usize) < cols && v.is_finite();
        let mut indptr = vec![0usize; rows + 1];
        entries(&mut |r, c, v| {
            if ok(r, c, v) {
                indptr[r as usize + 1] += 1;
            }
        });
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        let nnz = indptr[rows];
        let mut next = indptr.clone();
        let mut indices = vec![0u32; nnz];
        let mut values = vec![0f32; nnz];
        entries(&mut |r, c, v| {
            if ok(r, c, v) {
                let at = &mut next[r as usize];
                indices[*at] = c;
                values[*at] = v;
                *at += 1;
            }
        });
        // Sort each row by column (stable, so equal columns sum in entry order) and merge.
        let mut out = 0usize;
        let mut pairs: Vec<(u32, f32)> = Vec::new();
        let mut start = 0usize;
        for r in 0..rows {
            let end = indptr[r + 1];
            pairs.clear();
            pairs.extend(
                indices[start..end]
                    .iter()
                    .copied()
                    .zip(values[start..end].iter().copied()),
            );
            pairs.sort_by_key(|&(c, _)| c);
            let row_start = out;
            for &(c, v) in &pairs {
                if out > row_start && indices[out - 1] == c {
                    values[out - 1] += v;
                } else {
                    indices[out] = c;
                    values[out] = v;
                    out += 1;
                }
            }
            start = end;
            indptr[r + 1] = out;
        }
        indices.truncate(out);
        values.truncate(out);
        indices.shrink_to_fit();
        values.shrink_to_fit();
        Self {
            indptr,
            indices,
            values,
            cols,
        }
    }

    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of stored values.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Columns and values of row `r` (empty when out of range).
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        match (self.indptr.get(r), self.indptr.get(r + 1)) {
            (Some(&s), Some(&e)) => (&self.indices[s..e], &self.values[s..e]),
            _ => (&[], &[]),
        }
    }

    /// The transpose (items × users).
    pub fn transpose(&self) -> Self {
        let mut counts = vec![0usize; self.cols + 1];
        for &c in &self.indices {
            counts[c as usize + 1] += 1;
        }
        for c in 0..self.cols {
            counts[c + 1] += counts[c];
        }
        let mut next = counts.clone();
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![0f32; self.nnz()];
        for r in 0..self.rows() {
            let (cols, vals) = self.row(r);
            for (&c, &v) in cols.iter().zip(vals) {
                let at = &mut next[c as usize];
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "row counts fit u32 (checked by callers' id maps)"
                )]
                let row = r as u32;
                indices[*at] = row;
                values[*at] = v;
                *at += 1;
            }
        }
        Self {
            indptr: counts,
            indices,
            values,
            cols: self.rows(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_sums_and_transposes() {
        let m = Csr::from_triples(
            3,
            4,
            vec![
                (0, 2, 1.0),
                (2, 0, 2.0),
                (0, 1, 1.0),
                (0, 2, 0.5),
                (5, 0, 1.0),
            ],
        );
        assert_eq!(m.rows(), 3);
        assert_eq!(m.nnz(), 3);
        assert_eq!(m.row(0), (&[1u32, 2][..], &[1.0f32, 1.5][..]));
        assert_eq!(m.row(1), (&[][..], &[][..]));
        let t = m.transpose();
        assert_eq!((t.rows(), t.cols()), (4, 3));
        assert_eq!(t.row(2), (&[0u32][..], &[1.5f32][..]));
        assert_eq!(t.row(0), (&[2u32][..], &[2.0f32][..]));
        assert_eq!(t.transpose(), m);
        assert_eq!(m.row(9), (&[][..], &[][..]));
    }

    #[test]
    fn entries_build_the_same_matrix_as_triples() {
        let triples = vec![
            (0, 2, 1.0),
            (2, 0, 2.0),
            (0, 1, 1.0),
            (0, 2, 0.5),
            (5, 0, 1.0),
            (1, 3, f32::NAN),
            (2, 3, 4.0),
            (2, 0, 0.25),
        ];
        let from_entries = Csr::from_entries(3, 4, |push| {
            for &(r, c, v) in &triples {
                push(r, c, v);
            }
        });
        assert_eq!(from_entries, Csr::from_triples(3, 4, triples.clone()));
        assert_eq!(from_entries.row(2), (&[0u32, 3][..], &[2.25f32, 4.0][..]));
    }
}
