//! Pass 1: forward splatting of both flows to time t with a z-buffer keyed
//! by occlusion (see the module docs of `interpolate`).

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::ops::flow::FlowResult;
use crate::ops::flow::plane::floor_f32;

/// No source reached the pixel.
pub(crate) const EMPTY: u64 = u64::MAX;

/// The motion splatted to time t.
#[derive(Clone, Debug, PartialEq)]
pub struct Splat {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Per pixel, the A → B motion of the winning source (zero where none
    /// came).
    pub vectors: Vec<[f32; 2]>,
    /// Per pixel, whether any source reached it.
    pub reached: Vec<bool>,
    /// Per pixel, whether the winner was a pixel of B.
    pub from_b: Vec<bool>,
}

/// The z-buffer cost of a source with occlusion `o`: `round(255·o)`.
#[inline]
pub fn cost(o: f32) -> u32 {
    // NaN (never produced by the flow) counts as occluded.
    let o = if o.is_nan() { 1.0 } else { o.clamp(0.0, 1.0) };
    // `round` (halves away from zero) without the libm call: x ≥ 0, and
    // x − trunc(x) is exact.
    let x = o * 255.0;
    let r = x as u32;
    r + u32::from(x - r as f32 >= 0.5)
}

/// Splats `flow` to time `t` (see the module docs, pass 1).
pub fn splat(flow: &FlowResult, t: f32) -> Splat {
    let (w, h) = (
        flow.forward.width() as usize,
        flow.forward.height() as usize,
    );
    let n = w * h;
    let keys: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(EMPTY)).collect();
    // Rank offsets: the frame nearer in time first.
    let b_first = t > 0.5;
    let (rank_a, rank_b) = if b_first { (n, 0) } else { (0, n) };
    let sides = [
        (flow.forward.vectors(), &flow.occlusion_forward, t, rank_a),
        (
            flow.backward.vectors(),
            &flow.occlusion_backward,
            1.0 - t,
            rank_b,
        ),
    ];
    for (vectors, occlusion, s, rank) in sides {
        (0..h).into_par_iter().for_each(|y| {
            for x in 0..w {
                let k = y * w + x;
                let v = vectors[k];
                let key = ((cost(occlusion[k]) as u64) << 32) | (rank + k) as u64;
                let tx = x as f32 + s * v[0];
                let ty = y as f32 + s * v[1];
                for_each_target(tx, ty, w, h, |target| {
                    // Most candidates lose (ties go to the lower rank, which
                    // came first): a plain load spares them the atomic
                    // read-modify-write. The minimum is the same.
                    let slot = &keys[target];
                    if key < slot.load(Ordering::Relaxed) {
                        slot.fetch_min(key, Ordering::Relaxed);
                    }
                });
            }
        });
    }
    let mut out = Splat {
        width: w,
        height: h,
        vectors: vec![[0.0; 2]; n],
        reached: vec![false; n],
        from_b: vec![false; n],
    };
    out.vectors
        .par_iter_mut()
        .zip(out.reached.par_iter_mut())
        .zip(out.from_b.par_iter_mut())
        .zip(keys.par_iter())
        .for_each(|(((v, reached), from_b), key)| {
            let key = key.load(Ordering::Relaxed);
            if key == EMPTY {
                return;
            }
            let r = (key & 0xffff_ffff) as usize;
            // Ranks 0..n are the nearer frame's pixels, n..2n the other's.
            let is_b = (r < n) == b_first;
            let k = if r < n { r } else { r - n };
            *reached = true;
            *from_b = is_b;
            *v = if is_b {
                let g = flow.backward.vectors()[k];
                [-g[0], -g[1]]
            } else {
                flow.forward.vectors()[k]
            };
        });
    out
}

/// Calls `f` with the index of each pixel of the 2×2 block around `(x, y)`
/// (pixel centres at integers) that lies inside the frame.
#[inline]
pub(crate) fn for_each_target(x: f32, y: f32, w: usize, h: usize, mut f: impl FnMut(usize)) {
    // Far outside (or NaN): nothing to reach; also keeps the casts in range.
    if !(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32) {
        return;
    }
    let (x0, y0) = (floor_f32(x) as isize, floor_f32(y) as isize);
    for yy in [y0, y0 + 1] {
        if yy < 0 || yy >= h as isize {
            continue;
        }
        for xx in [x0, x0 + 1] {
            if xx < 0 || xx >= w as isize {
                continue;
            }
            f(yy as usize * w + xx as usize);
        }
    }
}
