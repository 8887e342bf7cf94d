//! Range compression into the model's 0..1 domain and its exact inverse.
//!
//! Interpolation models are trained on display-referred 0..1 pictures. Scene-
//! linear float input (EXR, float TIFF) and any input with values above 1 is
//! mapped into that range first and mapped back afterwards (SPEC §1):
//!
//! 1. scene-linear input (source format `F16`/`F32`, and a model whose
//!    sidecar does not say `SupportsSceneLinear`) goes through the same curve
//!    as the flow estimator's range-compressed luma
//!    (`morph_core::ops::flow::range_compressed_luma`), applied per channel:
//!    `12.92·v` up to 0.0031308, `1.055·v^(1/2.4) − 0.055` up to 1, and
//!    `1 + (1.055/2.4)·ln v` above 1 (C¹ at 1, so a highlight at 64 lands near
//!    2.8). Unlike the luma curve, the linear toe is not floored, so the
//!    curve is strictly increasing on all of ℝ and has an exact inverse;
//! 2. the result (or the code values as they are, for integer input) is
//!    divided by `s = max(1, largest value of the two frames' RGB)`, so the
//!    model never sees a value above 1;
//! 3. after the model, values are multiplied by `s` and, for scene-linear
//!    input, sent through the inverse curve.
//!
//! Steps 1–2 followed by 3 give back the input to f32 rounding (tested), so
//! values above 1 and negative values survive; the model only ever moves and
//! mixes them.

/// Slope of the logarithmic shoulder per natural-log unit (sRGB's slope at 1).
const SHOULDER_SLOPE: f32 = 1.055 / 2.4;
/// End of sRGB's linear toe, in linear and in encoded units.
const TOE_LINEAR: f32 = 0.003_130_8;
const TOE_ENCODED: f32 = 12.92 * TOE_LINEAR;

/// The forward curve (see the module docs).
#[inline]
pub fn compress(v: f32) -> f32 {
    if v <= TOE_LINEAR {
        12.92 * v
    } else if v <= 1.0 {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    } else {
        1.0 + SHOULDER_SLOPE * v.ln()
    }
}

/// The exact inverse of [`compress`].
#[inline]
pub fn expand(c: f32) -> f32 {
    if c <= TOE_ENCODED {
        c / 12.92
    } else if c <= 1.0 {
        ((c + 0.055) / 1.055).powf(2.4)
    } else {
        ((c - 1.0) / SHOULDER_SLOPE).exp()
    }
}

/// How one frame pair is mapped into the model's domain and back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RangeMap {
    /// Whether the curve is applied (scene-linear input, model not linear-aware).
    pub curve: bool,
    /// The divisor after the curve, `max(1, largest value)`.
    pub scale: f32,
}

impl RangeMap {
    /// The identity map (display-referred input within 0..1).
    pub const IDENTITY: RangeMap = RangeMap {
        curve: false,
        scale: 1.0,
    };

    /// The map for planes whose samples are `values` (all of both frames).
    pub fn for_values<'a>(curve: bool, values: impl Iterator<Item = &'a f32>) -> RangeMap {
        let mut max = 1.0f32;
        for &v in values {
            let c = if curve { compress(v) } else { v };
            if c > max {
                max = c;
            }
        }
        RangeMap { curve, scale: max }
    }

    /// Into the model's domain.
    #[inline]
    pub fn forward(&self, v: f32) -> f32 {
        let c = if self.curve { compress(v) } else { v };
        c / self.scale
    }

    /// Back from the model's domain.
    #[inline]
    pub fn inverse(&self, m: f32) -> f32 {
        let c = m * self.scale;
        if self.curve { expand(c) } else { c }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_round_trips_exactly() {
        for &v in &[
            -5.0f32,
            -0.01,
            0.0,
            0.001,
            0.003_130_8,
            0.01,
            0.18,
            0.5,
            0.999,
            1.0,
            1.001,
            4.0,
            64.0,
            1000.0,
        ] {
            let back = expand(compress(v));
            assert!(
                (back - v).abs() <= 2e-6 * v.abs().max(1.0),
                "{v} -> {} -> {back}",
                compress(v)
            );
        }
    }

    #[test]
    fn curve_is_monotone_and_continuous() {
        let mut prev = compress(-1.0);
        let mut v = -1.0f32;
        while v < 50.0 {
            let c = compress(v);
            assert!(c > prev || v == -1.0, "not increasing at {v}");
            prev = c;
            v += if v < 2.0 { 1e-3 } else { 0.05 };
        }
        assert!((compress(1.0) - 1.0).abs() < 1e-6);
        assert!((compress(1.0001) - 1.0).abs() < 1e-4);
        // A highlight at 64 lands near 2.8, as the module docs say.
        assert!((compress(64.0) - 2.828).abs() < 0.01);
    }

    #[test]
    fn range_map_keeps_model_input_within_one_and_inverts() {
        let values = [0.0f32, 0.5, 3.0, 64.0, -0.2];
        let map = RangeMap::for_values(true, values.iter());
        for v in values {
            let m = map.forward(v);
            assert!(m <= 1.0 + 1e-6, "{v} -> {m}");
            assert!((map.inverse(m) - v).abs() <= 1e-4 * v.abs().max(1.0), "{v}");
        }
        let plain = RangeMap::for_values(false, [0.2f32, 0.9].iter());
        assert_eq!(plain, RangeMap::IDENTITY);
        let hot = RangeMap::for_values(false, [0.2f32, 2.5].iter());
        assert_eq!(hot.scale, 2.5);
        assert_eq!(hot.inverse(hot.forward(2.5)), 2.5);
    }
}
