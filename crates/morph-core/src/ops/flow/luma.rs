//! Pass 1 and 2: range-compressed luma (SPEC §1) and the box downscale to the
//! analysis resolution (`motion_analysis_quality`).
//!
//! Flow is estimated on one channel that looks alike for display-referred
//! 8/16-bit code values and for scene-linear float with values far above 1:
//!
//! - luma `Y = 0.2126·R + 0.7152·G + 0.0722·B` (Rec. 709 weights) of the
//!   samples as stored;
//! - float input (`metadata.format` is `F16` or `F32`) is scene-linear and is
//!   range-compressed by [`compress_linear`]: the sRGB transfer curve up to
//!   1.0 and a logarithmic shoulder above it (C¹-continuous at 1), so a
//!   highlight at 64.0 lands near 2.8 instead of 64 and the mid-tones keep
//!   the contrast they have in an 8-bit picture;
//! - any other input (8/16-bit, DPX, or an in-memory image with no source
//!   format) is taken as code values and used as is;
//! - a NaN or infinite luma becomes 0 (our rule: flow analysis never fails
//!   on a bad sample, warping still sees the original values).

use rayon::prelude::*;

use super::plane::Plane;
use crate::image::Image;

/// Rec. 709 luma weights.
pub const LUMA_WEIGHTS: [f32; 3] = [0.2126, 0.7152, 0.0722];

/// Lowest scene-linear value kept on the curve's linear toe; anything more
/// negative is held there, so a stray −1000 cannot swamp a neighbourhood.
pub const LINEAR_FLOOR: f32 = -0.01;

/// Slope of the logarithmic shoulder per natural-log unit: the slope of the
/// sRGB curve at 1.0 (`1.055 / 2.4`), so the two pieces join smoothly.
pub const SHOULDER_SLOPE: f32 = 1.055 / 2.4;

/// Range compression of one scene-linear value:
/// `12.92·max(v, −0.01)` below 0.0031308, `1.055·v^(1/2.4) − 0.055` up to 1,
/// `1 + (1.055/2.4)·ln v` above 1.
#[inline]
pub(crate) fn compress_linear(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        12.92 * v.max(LINEAR_FLOOR)
    } else if v <= 1.0 {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    } else {
        1.0 + SHOULDER_SLOPE * v.ln()
    }
}

/// The range-compressed luma of `image` (SPEC §1), one value per pixel of
/// the data window, rows top-down.
///
/// Float input (`metadata.format` `F16`/`F32`) is scene-linear: its Rec. 709
/// luma goes through the sRGB curve up to 1.0 and a logarithmic shoulder
/// above (see the module docs), so linear EXR with values far above 1 gives
/// the same kind of signal as an 8-bit PNG. Any other input is taken as code
/// values and its luma used as is. A non-finite luma becomes 0.
pub fn range_compressed_luma(image: &Image) -> Vec<f32> {
    let linear = image.metadata.format.is_some_and(|f| f.is_float());
    let mut out = vec![0.0f32; image.pixels().len()];
    let width = (image.width() as usize).max(1);
    out.par_chunks_mut(width)
        .zip(image.pixels().par_chunks(width))
        .for_each(|(dst, src)| {
            for (o, p) in dst.iter_mut().zip(src) {
                let y = LUMA_WEIGHTS[0] * p[0] + LUMA_WEIGHTS[1] * p[1] + LUMA_WEIGHTS[2] * p[2];
                let y = if y.is_finite() { y } else { 0.0 };
                *o = if linear { compress_linear(y) } else { y };
            }
        });
    out
}

/// Box downscale by an integer `factor`: output pixel `(i, j)` is the mean of
/// the input pixels `[i·f, i·f + f) × [j·f, j·f + f)` that exist (summed
/// down each column of the block, then across the columns). The output
/// is `ceil(w / f) × ceil(h / f)`, so a flow vector at the analysis
/// resolution is `f` times shorter than at full resolution.
pub(crate) fn downscale_box(src: &Plane, factor: usize) -> Plane {
    if factor == 1 {
        return src.clone();
    }
    let w = src.width.div_ceil(factor);
    let h = src.height.div_ceil(factor);
    let mut out = Plane::zeros(w, h);
    out.data.par_chunks_mut(w).enumerate().for_each_init(
        || vec![0.0f32; src.width],
        |acc, (j, row)| {
            // Column sums of the block's rows (in row order), then the
            // sum of each block of columns (left to right).
            let y0 = j * factor;
            let y1 = (y0 + factor).min(src.height);
            acc.copy_from_slice(src.row(y0));
            for y in y0 + 1..y1 {
                for (a, v) in acc.iter_mut().zip(src.row(y)) {
                    *a += v;
                }
            }
            for (i, o) in row.iter_mut().enumerate() {
                let x0 = i * factor;
                let x1 = (x0 + factor).min(src.width);
                let mut sum = 0.0f32;
                for a in &acc[x0..x1] {
                    sum += a;
                }
                *o = sum / ((x1 - x0) * (y1 - y0)) as f32;
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::SampleFormat;

    #[test]
    fn curve_is_continuous_and_monotone() {
        let mut prev = compress_linear(-1.0);
        let mut v = -0.02f32;
        while v < 100.0 {
            let y = compress_linear(v);
            assert!(y >= prev - 1e-6, "not monotone at {v}");
            prev = y;
            v += if v < 1.5 { 1e-4 } else { 0.01 };
        }
        // C0 at both joins, and the shoulder's slope equals sRGB's at 1.
        assert!((compress_linear(0.003_130_8) - compress_linear(0.003_130_81)).abs() < 1e-5);
        assert!((compress_linear(1.0) - 1.0).abs() < 1e-6);
        let below = (compress_linear(1.0) - compress_linear(0.999)) / 0.001;
        let above = (compress_linear(1.001) - compress_linear(1.0)) / 0.001;
        assert!((below - above).abs() < 1e-2, "{below} vs {above}");
        assert!(compress_linear(64.0) < 3.0);
    }

    #[test]
    fn code_values_pass_through_and_linear_is_compressed() {
        let mut img =
            Image::from_pixels(2, 1, vec![[0.5, 0.5, 0.5, 1.0], [f32::NAN, 0.0, 0.0, 1.0]]);
        assert_eq!(range_compressed_luma(&img), vec![0.5, 0.0]);
        img.metadata.format = Some(SampleFormat::F16);
        let y = range_compressed_luma(&img);
        assert!((y[0] - compress_linear(0.5)).abs() < 1e-6 && y[1] == 0.0);
    }

    #[test]
    fn box_downscale_averages_partial_blocks() {
        let src = Plane::from_vec(3, 1, vec![1.0, 3.0, 10.0]);
        let out = downscale_box(&src, 2);
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.data, vec![2.0, 10.0]);
    }
}
