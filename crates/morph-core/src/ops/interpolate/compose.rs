//! Pass 3: the in-between's pixels, fetched from A and B along the motion at
//! time t and blended by visibility (see the module docs of `interpolate`).

use rayon::prelude::*;

use super::{Cubic, Taps};
use crate::flow::FlowField;
use crate::image::Image;
use crate::ops::flow::FlowResult;

/// Absolute part of the agreement tolerance, in pixels (as the flow's
/// occlusion pass).
pub const AGREE_ABS: f32 = 0.5;
/// Relative part of the agreement tolerance, per pixel of motion.
pub const AGREE_REL: f32 = 0.05;
/// Total weight below which neither frame vouches for the motion.
pub const MIN_WEIGHT: f32 = 1e-3;

/// How well a frame's own vector `f` agrees with the motion `u`: 1 within
/// the tolerance, falling to 0 at twice it.
#[inline]
pub(crate) fn agree(f: [f32; 2], u: [f32; 2]) -> f32 {
    let e = ((f[0] - u[0]).powi(2) + (f[1] - u[1]).powi(2)).sqrt();
    let mag = (f[0] * f[0] + f[1] * f[1]).sqrt() + (u[0] * u[0] + u[1] * u[1]).sqrt();
    let tol = AGREE_ABS + AGREE_REL * mag;
    (1.0 - (e - tol) / tol).clamp(0.0, 1.0)
}

#[inline]
fn inside(x: f32, y: f32, w: usize, h: usize) -> bool {
    x >= -0.5 && y >= -0.5 && x < w as f32 - 0.5 && y < h as f32 - 0.5
}

/// Per output pixel, the weights of A and B and their taps.
#[derive(Clone, Copy)]
struct Fetch {
    wa: f32,
    wb: f32,
    /// Where to fetch from A.
    pa: [f32; 2],
    /// Where to fetch from B.
    pb: [f32; 2],
}

impl Fetch {
    fn cubic_a(&self, (w, h): (usize, usize)) -> Cubic {
        Cubic::new(self.pa[0], self.pa[1], w, h)
    }

    fn cubic_b(&self, (w, h): (usize, usize)) -> Cubic {
        Cubic::new(self.pb[0], self.pb[1], w, h)
    }
}

/// The blend of every pixel (pass 3's arithmetic).
fn fetch(
    flow: &FlowResult,
    u: [f32; 2],
    from_b: bool,
    (x, y): (usize, usize),
    t: f32,
    (w, h): (usize, usize),
) -> Fetch {
    let (xa, ya) = (x as f32 - t * u[0], y as f32 - t * u[1]);
    let s = 1.0 - t;
    let (xb, yb) = (x as f32 + s * u[0], y as f32 + s * u[1]);
    let ta = Taps::new(xa, ya, w, h);
    let tb = Taps::new(xb, yb, w, h);
    let vis_a = if inside(xa, ya, w, h) {
        let o = ta.apply(|k| flow.occlusion_forward[k]);
        (1.0 - o) * agree(ta.apply2(flow.forward.vectors()), u)
    } else {
        0.0
    };
    let vis_b = if inside(xb, yb, w, h) {
        let o = tb.apply(|k| flow.occlusion_backward[k]);
        let g = tb.apply2(flow.backward.vectors());
        (1.0 - o) * agree([-g[0], -g[1]], u)
    } else {
        0.0
    };
    let (mut wa, mut wb) = (s * vis_a, t * vis_b);
    if wa + wb < MIN_WEIGHT {
        (wa, wb) = if from_b { (0.0, 1.0) } else { (1.0, 0.0) };
    }
    let sum = wa + wb;
    Fetch {
        wa: wa / sum,
        wb: wb / sum,
        pa: [xa, ya],
        pb: [xb, yb],
    }
}

/// The in-between at time `t` from the motion `vectors` (filled, pass 2),
/// with `from_b` saying which frame each pixel's winning source came from.
/// Every channel of A and B (RGBA and the extra channels A has, matched by
/// name in B; a channel B lacks is taken from A alone) is blended with the
/// same weights. The result has A's windows, layout and metadata.
pub fn compose(
    a: &Image,
    b: &Image,
    flow: &FlowResult,
    vectors: &FlowField,
    from_b: &[bool],
    t: f32,
) -> Image {
    let (w, h) = (a.width() as usize, a.height() as usize);
    let at = |k: usize| {
        fetch(
            flow,
            vectors.vectors()[k],
            from_b[k],
            (k % w, k / w),
            t,
            (w, h),
        )
    };
    let (pa, pb) = (a.pixels(), b.pixels());
    let pixels: Vec<[f32; 4]> = (0..w * h)
        .into_par_iter()
        .with_min_len(w)
        .map(|k| {
            let f = at(k);
            // A frame with weight 0 is not fetched (for finite samples the
            // sum is the same: 0·x = 0 and 1·y + 0 = y).
            if f.wa == 0.0 {
                return f.cubic_b((w, h)).apply4(pb);
            }
            if f.wb == 0.0 {
                return f.cubic_a((w, h)).apply4(pa);
            }
            let ca = f.cubic_a((w, h)).apply4(pa);
            let cb = f.cubic_b((w, h)).apply4(pb);
            std::array::from_fn(|c| f.wa * ca[c] + f.wb * cb[c])
        })
        .collect();
    let mut out = a.with_pixels(pixels);
    // Extra channels (rare) recompute the weights rather than keep them.
    for ch in &mut out.extra {
        let da = &a.extra_channel(&ch.name).expect("copied from A").data;
        let db = b.extra_channel(&ch.name).map(|c| &c.data);
        ch.data
            .par_iter_mut()
            .with_min_len(w)
            .enumerate()
            .for_each(|(k, v)| {
                let f = at(k);
                let ca = f.cubic_a((w, h));
                *v = match db {
                    Some(db) => {
                        f.wa * ca.apply(|k| da[k]) + f.wb * f.cubic_b((w, h)).apply(|k| db[k])
                    }
                    None => ca.apply(|k| da[k]),
                };
            });
    }
    out
}
