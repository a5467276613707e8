//! Per-item columns of the artifact: category, brand, price, stock, popularity and the factor
//! scales, read in place by item index.
//!
//! Format v7 stores them narrow: `u16` category and brand indices, `f32` prices and a stock
//! bitset (8.1 bytes per item instead of v1's 16-byte records), and bf16 popularity and scales
//! ([`crate::half`]; 2 bytes instead of 4). A catalog with 65,535 or more categories or brands
//! keeps the 16-byte records. Readers take whichever section an artifact has.

use std::ops::Range;

use super::{ArtifactError, ItemRecord, NONE, read_f32, read_u32, sec};

/// "No category / brand" in the narrow records.
const NARROW_NONE: u16 = u16::MAX;

/// The attribute section for `items`: its id and bytes.
pub(super) fn encode_attrs(
    items: &[ItemRecord],
    n_categories: usize,
    n_brands: usize,
) -> (u32, Vec<u8>) {
    let narrow = |v: u32| {
        if v == NONE {
            Some(NARROW_NONE)
        } else {
            u16::try_from(v).ok().filter(|&x| x != NARROW_NONE)
        }
    };
    let fits = n_categories < usize::from(NARROW_NONE) && n_brands < usize::from(NARROW_NONE);
    let n = items.len();
    if fits {
        let mut out = Vec::with_capacity(n * 8 + n.div_ceil(8));
        for it in items {
            out.extend_from_slice(&narrow(it.category).unwrap_or(NARROW_NONE).to_le_bytes());
        }
        for it in items {
            out.extend_from_slice(&narrow(it.brand).unwrap_or(NARROW_NONE).to_le_bytes());
        }
        for it in items {
            out.extend_from_slice(&it.price.to_le_bytes());
        }
        let mut stock = vec![0u8; n.div_ceil(8)];
        for (i, it) in items.iter().enumerate() {
            stock[i / 8] |= u8::from(it.in_stock) << (i % 8);
        }
        out.extend(stock);
        return (sec::ITEM_ATTRS_N, out);
    }
    let mut out = Vec::with_capacity(n * 16);
    for it in items {
        for v in [
            it.category,
            it.brand,
            it.price.to_bits(),
            u32::from(it.in_stock),
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    (sec::ITEM_ATTRS, out)
}

/// Where an artifact's item attributes are.
#[derive(Debug, Clone, Copy)]
pub(super) enum Attrs {
    /// v1–v6: 16-byte records `{category u32, brand u32, price f32, in_stock u32}`.
    Wide(usize),
    /// v7: columns of `u16` categories, `u16` brands, `f32` prices, then the stock bits.
    Narrow { start: usize, n: usize },
}

impl Attrs {
    /// Finds and checks the attribute section: sizes, and every category and brand index.
    pub(super) fn load(
        b: &[u8],
        sections: &dyn Fn(u32) -> Option<Range<usize>>,
        n: usize,
        n_categories: usize,
        n_brands: usize,
    ) -> Result<Self, ArtifactError> {
        let (attrs, id, size) = match (sections(sec::ITEM_ATTRS_N), sections(sec::ITEM_ATTRS)) {
            (Some(r), _) => (
                Self::Narrow { start: r.start, n },
                sec::ITEM_ATTRS_N,
                (r.len(), n * 8 + n.div_ceil(8)),
            ),
            (None, Some(r)) => (Self::Wide(r.start), sec::ITEM_ATTRS, (r.len(), n * 16)),
            (None, None) => {
                return Err(ArtifactError::MissingSection {
                    id: sec::ITEM_ATTRS,
                });
            }
        };
        if size.0 != size.1 {
            return Err(ArtifactError::Malformed {
                id,
                why: "attribute section size does not match the items",
            });
        }
        for i in 0..n {
            let (c, br) = (attrs.category(b, i), attrs.brand(b, i));
            if (c != NONE && c as usize >= n_categories) || (br != NONE && br as usize >= n_brands)
            {
                return Err(ArtifactError::Malformed {
                    id,
                    why: "category or brand index out of range",
                });
            }
        }
        Ok(attrs)
    }

    fn narrow_u16(b: &[u8], at: usize) -> u32 {
        match b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]])) {
            Some(NARROW_NONE) | None => NONE,
            Some(v) => u32::from(v),
        }
    }

    /// Category index of item `i` ([`NONE`] when it has none or `i` is out of range).
    pub(super) fn category(self, b: &[u8], i: usize) -> u32 {
        match self {
            Self::Wide(s) => read_u32(b, s + i * 16).unwrap_or(NONE),
            Self::Narrow { start, n } if i < n => Self::narrow_u16(b, start + i * 2),
            Self::Narrow { .. } => NONE,
        }
    }

    /// Brand index of item `i` ([`NONE`] when it has none or `i` is out of range).
    pub(super) fn brand(self, b: &[u8], i: usize) -> u32 {
        match self {
            Self::Wide(s) => read_u32(b, s + i * 16 + 4).unwrap_or(NONE),
            Self::Narrow { start, n } if i < n => Self::narrow_u16(b, start + n * 2 + i * 2),
            Self::Narrow { .. } => NONE,
        }
    }

    pub(super) fn price(self, b: &[u8], i: usize) -> f32 {
        match self {
            Self::Wide(s) => read_f32(b, s + i * 16 + 8),
            Self::Narrow { start, n } if i < n => read_f32(b, start + n * 4 + i * 4),
            Self::Narrow { .. } => None,
        }
        .unwrap_or(0.0)
    }

    pub(super) fn in_stock(self, b: &[u8], i: usize) -> bool {
        match self {
            Self::Wide(s) => read_u32(b, s + i * 16 + 12).is_some_and(|v| v & 1 == 1),
            Self::Narrow { start, n } if i < n => b
                .get(start + n * 8 + i / 8)
                .is_some_and(|&byte| byte >> (i % 8) & 1 == 1),
            Self::Narrow { .. } => false,
        }
    }
}

/// A per-item number: `f32` (v1–v6) or bf16 (v7).
#[derive(Debug, Clone, Copy)]
pub(super) enum Column {
    F32(usize),
    Bf16(usize),
}

impl Column {
    /// bf16 bytes of `values` (what v7 writes).
    pub(super) fn encode(values: &[f32]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|&v| crate::half::to_bits(v).to_le_bytes())
            .collect()
    }

    /// The column of `n` values in section `bf16` (v7) or else `f32`.
    pub(super) fn load(
        sections: &dyn Fn(u32) -> Option<Range<usize>>,
        (bf16, f32): (u32, u32),
        n: usize,
    ) -> Result<Self, ArtifactError> {
        let (col, id, ok) = match (sections(bf16), sections(f32)) {
            (Some(r), _) => (Self::Bf16(r.start), bf16, r.len() == n * 2),
            (None, Some(r)) => (Self::F32(r.start), f32, r.len() == n * 4),
            (None, None) => return Err(ArtifactError::MissingSection { id: f32 }),
        };
        if !ok {
            return Err(ArtifactError::Malformed {
                id,
                why: "one value per item expected",
            });
        }
        Ok(col)
    }

    /// Value `i` (0 when absent; the caller bounds `i` by the item count).
    pub(super) fn get(self, b: &[u8], i: usize) -> f32 {
        match self {
            Self::F32(s) => read_f32(b, s + i * 4).unwrap_or(0.0),
            Self::Bf16(s) => b.get(s + i * 2..s + i * 2 + 2).map_or(0.0, |h| {
                crate::half::from_bits(u16::from_le_bytes([h[0], h[1]]))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixture;
    use super::super::{ItemOrder, Model, ModelData};
    use super::*;

    fn section_ids(bytes: &[u8]) -> Vec<u32> {
        let count = read_u32(bytes, 12).unwrap() as usize;
        (0..count)
            .map(|i| read_u32(bytes, super::super::HEADER_LEN + i * 24).unwrap())
            .collect()
    }

    #[test]
    fn sorted_ids_need_no_order_section() {
        let mut data = fixture();
        let ids = ["a-cable", "b-laptop", "c-laptop", "d-mouse", "e-phone"];
        for (it, id) in data.items.iter_mut().zip(ids) {
            it.id = id.into();
        }
        let bytes = data.encode().unwrap();
        assert!(!section_ids(&bytes).contains(&sec::ITEM_ORDER));
        let m = Model::load(bytes).unwrap();
        assert!(matches!(m.by_id, ItemOrder::Identity));
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.item_index(id), Some(i as u32));
        }
        assert_eq!(m.item_index("b-laptoq"), None);
        // Unsorted ids keep the order section.
        assert!(section_ids(&fixture().encode().unwrap()).contains(&sec::ITEM_ORDER));
    }

    #[test]
    fn narrow_attributes_read_back_and_a_huge_brand_list_stays_wide() {
        let data = fixture();
        let m = Model::load(data.encode().unwrap()).unwrap();
        assert!(matches!(m.attrs, Attrs::Narrow { .. }));
        for (i, it) in data.items.iter().enumerate() {
            let i = i as u32;
            assert_eq!(m.item_category(i), Some(it.category).filter(|&c| c != NONE));
            assert_eq!(m.item_brand_index(i), Some(it.brand).filter(|&b| b != NONE));
            assert_eq!(m.item_price(i), it.price);
            assert_eq!(m.item_in_stock(i), it.in_stock);
        }
        assert_eq!((m.item_price(99), m.item_in_stock(99)), (0.0, false));
        let mut many = ModelData {
            brands: (0..70_000).map(|b| format!("brand-{b}")).collect(),
            ..fixture()
        };
        many.items[1].brand = 69_999;
        let m = Model::load(many.encode().unwrap()).unwrap();
        assert!(matches!(m.attrs, Attrs::Wide(_)));
        assert_eq!(m.item_brand(1), "brand-69999");
        assert_eq!(m.item_brand_index(3), None);
    }

    #[test]
    fn regression_narrow_brand_out_of_range_fails_the_load() {
        let data = fixture();
        let mut bytes = data.encode().unwrap();
        let count = read_u32(&bytes, 12).unwrap() as usize;
        let at = (0..count)
            .map(|i| super::super::HEADER_LEN + i * 24)
            .find(|&e| read_u32(&bytes, e) == Some(sec::ITEM_ATTRS_N))
            .unwrap();
        let start = usize::try_from(u64::from_le_bytes(
            bytes[at + 8..at + 16].try_into().unwrap(),
        ))
        .unwrap();
        // Item 0's brand (the second column) now names brand 7 of 2.
        let n = data.items.len();
        bytes[start + n * 2..start + n * 2 + 2].copy_from_slice(&7u16.to_le_bytes());
        super::super::stamp_version(&mut bytes, "tampered").unwrap();
        let err = Model::load(bytes).unwrap_err();
        assert!(
            matches!(
                err,
                ArtifactError::Malformed {
                    id: sec::ITEM_ATTRS_N,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn bf16_columns_round_trip() {
        let values = [0.0f32, 1.0, 9.0, 1234.5, 1e-3];
        let bytes = Column::encode(&values);
        let col = Column::Bf16(0);
        for (i, &v) in values.iter().enumerate() {
            assert!((col.get(&bytes, i) - v).abs() <= v / 256.0, "{v}");
        }
        assert_eq!(col.get(&bytes, 99), 0.0);
    }
}
