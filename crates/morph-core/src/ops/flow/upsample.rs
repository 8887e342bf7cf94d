//! Flow upsampling: plain bilinear between pyramid levels, and the final
//! edge-aware step from the analysis resolution to the full image, a joint
//! bilateral upsampling (Kopf, Cohen, Lischinski & Uyttendaele, SIGGRAPH
//! 2007) guided by the full-resolution luma and applied only where the flow
//! has a discontinuity.

use rayon::prelude::*;

use super::plane::{Plane, Taps, floor_f32};
use crate::flow::FlowField;

/// Flow spread (analysis pixels) below which the upsampled vector is plain
/// bilinear: smooth motion (pans, zooms, rotations) stays exact.
pub const SPREAD_LOW: f32 = 0.25;
/// Flow spread (analysis pixels) at and above which the joint bilateral
/// estimate is used alone.
pub const SPREAD_HIGH: f32 = 1.0;
/// Spatial σ of the joint bilateral weights, in analysis pixels.
pub const SIGMA_SPACE: f32 = 1.0;
/// Range σ of the joint bilateral weights, in range-compressed luma.
pub const SIGMA_RANGE: f32 = 0.05;

/// Bilinear upsampling of a flow field to `width × height` with vectors
/// multiplied by `scale`: output pixel `(x, y)` samples the input at
/// `((x + 0.5)/scale − 0.5, (y + 0.5)/scale − 0.5)` ([`Plane::sample`]'s
/// rule). Used between pyramid levels with `scale = 2`.
pub(crate) fn upsample_bilinear(
    flow: &FlowField,
    width: usize,
    height: usize,
    scale: f32,
) -> FlowField {
    let (sw, sh) = (flow.width() as usize, flow.height() as usize);
    let vecs = flow.vectors();
    let xt = Taps::upsampling(width, sw, scale);
    let yt = Taps::upsampling(height, sh, scale);
    let mut out = FlowField::zeros(width as u32, height as u32);
    out.vectors_mut()
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(y, row)| {
            let ty = yt[y];
            let (r0, r1) = (&vecs[ty.i0 * sw..][..sw], &vecs[ty.i1 * sw..][..sw]);
            for (o, tx) in row.iter_mut().zip(&xt) {
                let v = lerp2(r0[tx.i0], r0[tx.i1], r1[tx.i0], r1[tx.i1], tx.frac, ty.frac);
                *o = [v[0] * scale, v[1] * scale];
            }
        });
    out
}

/// `lerp(lerp(a, b, fx), lerp(c, d, fx), fy)` per component.
#[inline]
fn lerp2(a: [f32; 2], b: [f32; 2], c: [f32; 2], d: [f32; 2], fx: f32, fy: f32) -> [f32; 2] {
    let mut out = [0.0; 2];
    for k in 0..2 {
        let top = a[k] + fx * (b[k] - a[k]);
        let bottom = c[k] + fx * (d[k] - c[k]);
        out[k] = top + fy * (bottom - top);
    }
    out
}

/// Edge-aware upsampling by the integer analysis `factor` `f` (pass 8).
///
/// First, per analysis pixel `(i, j)` (one invocation each): the cell of the
/// four vectors `w_q` at `(i, j)`, `(i+1, j)`, `(i, j+1)`, `(i+1, j+1)`
/// (clamped to the level) has `spread = max_q |w_q − mean|` and
/// `β(i, j) = clamp((spread − 0.25)/(1 − 0.25), 0, 1)`: 0 where the motion
/// is smooth, 1 across a motion edge.
///
/// Then per full-resolution pixel `(x, y)` (one invocation each), with
/// `p = ((x + 0.5)/f − 0.5, (y + 0.5)/f − 0.5)` in analysis pixels:
/// 1. `b` = the bilinear flow at `p` (module `plane`'s rule), whose first
///    tap is `(i₀, j₀) = (clamp(floor(p.x)), clamp(floor(p.y)))`;
/// 2. if `β = β(i₀, j₀) > 0`: the joint bilateral estimate
///    `J = Σ k_q·w_q / Σ k_q` over the 4×4 analysis pixels `q` from
///    `floor(p) − 1` to `floor(p) + 2` (positions clamped to the level,
///    distances measured to the unclamped `q`), with
///    `k_q = exp(−|q − p|²/(2σ_s²) − (G(x, y) − g(q))²/(2σ_r²))`, `G` the
///    full-resolution luma and `g` the analysis-resolution luma, and
///    `b ← b + β·(J − b)` (unless `Σ k_q ≤ 1e−30`: then `b` stays);
/// 3. the vector is `f·b`.
pub(crate) fn upsample_edge_aware(
    flow: &FlowField,
    guide_lo: &Plane,
    guide_hi: &Plane,
    factor: usize,
) -> FlowField {
    let (width, height) = (guide_hi.width, guide_hi.height);
    if factor == 1 {
        return flow.clone();
    }
    let (sw, sh) = (flow.width() as usize, flow.height() as usize);
    let vecs = flow.vectors();
    let beta = spread_weights(flow);
    let f = factor as f32;
    let xt = Taps::upsampling(width, sw, f);
    let yt = Taps::upsampling(height, sh, f);
    let mut out = FlowField::zeros(width as u32, height as u32);
    out.vectors_mut()
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(y, row)| {
            let ty = yt[y];
            let (r0, r1) = (&vecs[ty.i0 * sw..][..sw], &vecs[ty.i1 * sw..][..sw]);
            let brow = &beta[ty.i0 * sw..][..sw];
            for (x, (o, tx)) in row.iter_mut().zip(&xt).enumerate() {
                let mut b = lerp2(r0[tx.i0], r0[tx.i1], r1[tx.i0], r1[tx.i1], tx.frac, ty.frac);
                let beta = brow[tx.i0];
                if beta > 0.0 {
                    let px = (x as f32 + 0.5) / f - 0.5;
                    let py = (y as f32 + 0.5) / f - 0.5;
                    let g = guide_hi.data[y * width + x];
                    if let Some(j) = joint_bilateral(vecs, sw, sh, guide_lo, g, px, py) {
                        b[0] += beta * (j[0] - b[0]);
                        b[1] += beta * (j[1] - b[1]);
                    }
                }
                *o = [b[0] * f, b[1] * f];
            }
        });
    out
}

/// The per-cell blend weights `β` of [`upsample_edge_aware`].
fn spread_weights(flow: &FlowField) -> Vec<f32> {
    let (sw, sh) = (flow.width() as usize, flow.height() as usize);
    let vecs = flow.vectors();
    let mut beta = vec![0.0f32; sw * sh];
    beta.par_chunks_mut(sw).enumerate().for_each(|(j, row)| {
        let (j1, i_last) = ((j + 1).min(sh - 1), sw - 1);
        for (i, o) in row.iter_mut().enumerate() {
            let i1 = (i + 1).min(i_last);
            let q = [
                vecs[j * sw + i],
                vecs[j * sw + i1],
                vecs[j1 * sw + i],
                vecs[j1 * sw + i1],
            ];
            let mean = [
                0.25 * (q[0][0] + q[1][0] + q[2][0] + q[3][0]),
                0.25 * (q[0][1] + q[1][1] + q[2][1] + q[3][1]),
            ];
            let spread2 = q
                .iter()
                .map(|q| (q[0] - mean[0]).powi(2) + (q[1] - mean[1]).powi(2))
                .fold(0.0f32, f32::max);
            *o = ((spread2.sqrt() - SPREAD_LOW) / (SPREAD_HIGH - SPREAD_LOW)).clamp(0.0, 1.0);
        }
    });
    beta
}

/// Step 3 of [`upsample_edge_aware`]: the joint bilateral average around
/// analysis position `(px, py)` for a full-resolution pixel of luma `g`.
fn joint_bilateral(
    vecs: &[[f32; 2]],
    sw: usize,
    sh: usize,
    guide_lo: &Plane,
    g: f32,
    px: f32,
    py: f32,
) -> Option<[f32; 2]> {
    let inv_2ss = 1.0 / (2.0 * SIGMA_SPACE * SIGMA_SPACE);
    let inv_2sr = 1.0 / (2.0 * SIGMA_RANGE * SIGMA_RANGE);
    let x0 = floor_f32(px.clamp(-1.0, sw as f32)) as isize;
    let y0 = floor_f32(py.clamp(-1.0, sh as f32)) as isize;
    let (mut su, mut sv, mut sk) = (0.0f32, 0.0f32, 0.0f32);
    for dy in -1..=2 {
        let qy = y0 + dy;
        let my = qy.clamp(0, sh as isize - 1) as usize;
        for dx in -1..=2 {
            let qx = x0 + dx;
            let m = my * sw + qx.clamp(0, sw as isize - 1) as usize;
            let ds = (qx as f32 - px).powi(2) + (qy as f32 - py).powi(2);
            let dr = g - guide_lo.data[m];
            let k = (-ds * inv_2ss - dr * dr * inv_2sr).exp();
            su += k * vecs[m][0];
            sv += k * vecs[m][1];
            sk += k;
        }
    }
    // Only when the range term underflows at all 16 taps (a guide far from
    // every analysis pixel) is there no estimate; the bilinear one stays.
    (sk > 1e-30).then(|| [su / sk, sv / sk])
}
