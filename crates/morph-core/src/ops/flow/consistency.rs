//! Pass 9: occlusion from forward–backward consistency (Sundaram, Brox &
//! Keutzer, ECCV 2010, made soft).
//!
//! A pixel of A whose forward vector is not undone by the backward vector
//! where it lands, or that lands outside B, has no counterpart in B.

use rayon::prelude::*;

use super::plane::sample_vec2;
use crate::flow::FlowField;

/// Absolute part of the consistency tolerance, in full-resolution pixels.
pub const CONSISTENCY_ABS: f32 = 0.5;
/// Relative part of the tolerance, per pixel of motion.
pub const CONSISTENCY_REL: f32 = 0.05;

/// Occlusion of every pixel of the frame `forward` starts from, 0 (visible)
/// ..= 1 (occluded).
///
/// Per pixel `x` (one invocation each): `p = x + F(x)`; if `p` lies outside
/// `[−0.5, W − 0.5) × [−0.5, H − 0.5)` the pixel leaves the frame and is 1;
/// else `Bp` = bilinear sample of `backward` at `p`, `e = |F(x) + Bp|`,
/// `tol = 0.5 + 0.05·(|F(x)| + |Bp|)`, and the occlusion is
/// `clamp((e − tol)/tol, 0, 1)`.
pub(crate) fn occlusion(forward: &FlowField, backward: &FlowField) -> Vec<f32> {
    let (w, h) = (forward.width() as usize, forward.height() as usize);
    let mut out = vec![0.0f32; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, o) in row.iter_mut().enumerate() {
            let f = forward.vectors()[y * w + x];
            let (px, py) = (x as f32 + f[0], y as f32 + f[1]);
            if !(px >= -0.5 && py >= -0.5 && px < w as f32 - 0.5 && py < h as f32 - 0.5) {
                *o = 1.0;
                continue;
            }
            let b = sample_vec2(backward.vectors(), w, h, px, py);
            let (ex, ey) = (f[0] + b[0], f[1] + b[1]);
            let e = (ex * ex + ey * ey).sqrt();
            let mag = (f[0] * f[0] + f[1] * f[1]).sqrt() + (b[0] * b[0] + b[1] * b[1]).sqrt();
            let tol = CONSISTENCY_ABS + CONSISTENCY_REL * mag;
            *o = ((e - tol) / tol).clamp(0.0, 1.0);
        }
    });
    out
}
