//! bfloat16: the 16-bit floats artifact format v7 stores per-item scales and popularity in.
//!
//! A bf16 is the top half of an `f32` (same exponent range, 8 significant bits), so it converts
//! by shifting and holds every magnitude an `f32` does. Values the trainer chooses itself (the
//! int8 factor scales) are picked on the bf16 grid ([`up`]) and so are stored exactly.

/// The bf16 nearest to `x` (ties to even); NaN stays NaN.
pub fn to_bits(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return 0x7FC0;
    }
    let round = 0x7FFF + ((b >> 16) & 1);
    // Finite values round within the f32 range except the largest, which round to infinity as
    // f32 → bf16 conversion does.
    let [_, _, lo, hi] = b.wrapping_add(round).to_le_bytes();
    u16::from_le_bytes([lo, hi])
}

/// The `f32` a bf16 stands for (exact).
pub fn from_bits(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// The smallest bf16 value at or above a finite, non-negative `x`.
pub fn up(x: f32) -> f32 {
    let b = x.to_bits();
    if !x.is_finite() || x <= 0.0 || b & 0xFFFF == 0 {
        return x;
    }
    f32::from_bits((b | 0xFFFF).wrapping_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rounds_to_nearest() {
        for x in [0.0f32, 1.0, -2.5, 0.007_812_5, 3.0e38, f32::MIN_POSITIVE] {
            let h = from_bits(to_bits(x));
            assert!((h - x).abs() <= x.abs() / 256.0, "{x} -> {h}");
        }
        assert_eq!(
            from_bits(to_bits(1.0 + 1.0 / 256.0)),
            1.0,
            "a tie goes to even"
        );
        assert_eq!(from_bits(to_bits(1.0 + 3.0 / 256.0)), 1.0 + 1.0 / 64.0);
        assert_eq!(from_bits(to_bits(1.0 + 3.0 / 512.0)), 1.0 + 1.0 / 128.0);
        assert!(from_bits(to_bits(f32::NAN)).is_nan());
        assert_eq!(from_bits(to_bits(f32::INFINITY)), f32::INFINITY);
    }

    #[test]
    fn up_is_on_the_grid_and_not_below() {
        for x in [1.0f32, 1.001, 0.123_456, 7.9e-3, 255.0 / 127.0] {
            let u = up(x);
            assert!(u >= x && u - x <= x / 128.0, "{x} -> {u}");
            assert_eq!(from_bits(to_bits(u)), u, "{x} -> {u} is a bf16");
        }
        assert_eq!(up(0.0), 0.0);
    }
}
