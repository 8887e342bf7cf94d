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
#[derive(Clone, Copy, Default)]
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

/// Pixels per [`fetch_run`].
const LANES: usize = 8;

/// [`fetch`] for the pixels `x0..x0 + out.len()` (at most [`LANES`]) of row
/// `y`, with the same arithmetic in the same order, so the same bits: the
/// taps are gathered pixel by pixel, then the visibility and weight
/// arithmetic runs lane by lane over plain arrays, which the compiler turns
/// into SIMD (the square roots and divisions dominate [`fetch`]).
#[allow(clippy::too_many_arguments)]
fn fetch_run(
    flow: &FlowResult,
    u: &[[f32; 2]],
    from_b: &[bool],
    (x0, y): (usize, usize),
    t: f32,
    (w, h): (usize, usize),
    out: &mut [Fetch],
) {
    /// One frame's bilinear taps, lane by lane.
    #[derive(Default)]
    struct Side {
        pos: [[f32; LANES]; 2],
        inside: [bool; LANES],
        fx: [f32; LANES],
        fy: [f32; LANES],
        occ: [[f32; LANES]; 4],
        v0: [[f32; LANES]; 4],
        v1: [[f32; LANES]; 4],
    }
    impl Side {
        fn gather(
            &mut self,
            l: usize,
            (x, y): (f32, f32),
            occ: &[f32],
            v: &[[f32; 2]],
            wh: (usize, usize),
        ) {
            let taps = Taps::new(x, y, wh.0, wh.1);
            self.pos[0][l] = x;
            self.pos[1][l] = y;
            self.inside[l] = inside(x, y, wh.0, wh.1);
            self.fx[l] = taps.fx;
            self.fy[l] = taps.fy;
            for (j, &k) in taps.k.iter().enumerate() {
                self.occ[j][l] = occ[k];
                self.v0[j][l] = v[k][0];
                self.v1[j][l] = v[k][1];
            }
        }

        /// Visibility per lane against the motion `(u0, u1)`; `sign` −1
        /// negates the frame's own vectors (B's backward flow).
        #[inline(always)]
        fn visibility(&self, u0: &[f32; LANES], u1: &[f32; LANES], sign: f32) -> [f32; LANES] {
            let mut vis = [0.0f32; LANES];
            for l in 0..LANES {
                let lerp = |p: &[[f32; LANES]; 4]| {
                    let top = p[0][l] + self.fx[l] * (p[1][l] - p[0][l]);
                    let bottom = p[2][l] + self.fx[l] * (p[3][l] - p[2][l]);
                    top + self.fy[l] * (bottom - top)
                };
                let o = lerp(&self.occ);
                let f = [sign * lerp(&self.v0), sign * lerp(&self.v1)];
                let v = (1.0 - o) * agree(f, [u0[l], u1[l]]);
                vis[l] = if self.inside[l] { v } else { 0.0 };
            }
            vis
        }
    }

    let n = out.len();
    debug_assert!(n <= LANES);
    let s = 1.0 - t;
    let (mut sa, mut sb) = (Side::default(), Side::default());
    let (mut u0, mut u1) = ([0.0f32; LANES], [0.0f32; LANES]);
    for l in 0..n {
        let v = u[l];
        (u0[l], u1[l]) = (v[0], v[1]);
        let x = (x0 + l) as f32;
        let yf = y as f32;
        let a = (x - t * v[0], yf - t * v[1]);
        let b = (x + s * v[0], yf + s * v[1]);
        sa.gather(
            l,
            a,
            &flow.occlusion_forward,
            flow.forward.vectors(),
            (w, h),
        );
        sb.gather(
            l,
            b,
            &flow.occlusion_backward,
            flow.backward.vectors(),
            (w, h),
        );
    }
    let vis_a = sa.visibility(&u0, &u1, 1.0);
    let vis_b = sb.visibility(&u0, &u1, -1.0);
    for l in 0..n {
        let (mut wa, mut wb) = (s * vis_a[l], t * vis_b[l]);
        if wa + wb < MIN_WEIGHT {
            (wa, wb) = if from_b[l] { (0.0, 1.0) } else { (1.0, 0.0) };
        }
        let sum = wa + wb;
        out[l] = Fetch {
            wa: wa / sum,
            wb: wb / sum,
            pa: [sa.pos[0][l], sa.pos[1][l]],
            pb: [sb.pos[0][l], sb.pos[1][l]],
        };
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
    let at = |x: usize, y: usize| {
        let k = y * w + x;
        fetch(flow, vectors.vectors()[k], from_b[k], (x, y), t, (w, h))
    };
    let (pa, pb) = (a.pixels(), b.pixels());
    let mut pixels = vec![[0.0f32; 4]; w * h];
    // Rows in parallel, so each pixel's (x, y) comes without a division.
    pixels
        .par_chunks_mut(w.max(1))
        .enumerate()
        .for_each(|(y, row)| {
            let mut fetches = [Fetch::default(); LANES];
            for (run, outs) in row.chunks_mut(LANES).enumerate() {
                let x0 = run * LANES;
                let k = y * w + x0;
                let fetches = &mut fetches[..outs.len()];
                fetch_run(
                    flow,
                    &vectors.vectors()[k..k + outs.len()],
                    &from_b[k..k + outs.len()],
                    (x0, y),
                    t,
                    (w, h),
                    fetches,
                );
                for (out, f) in outs.iter_mut().zip(fetches.iter()) {
                    // A frame with weight 0 is not fetched (for finite samples
                    // the sum is the same: 0·x = 0 and 1·y + 0 = y).
                    *out = if f.wa == 0.0 {
                        f.cubic_b((w, h)).apply4(pb)
                    } else if f.wb == 0.0 {
                        f.cubic_a((w, h)).apply4(pa)
                    } else {
                        let ca = f.cubic_a((w, h)).apply4(pa);
                        let cb = f.cubic_b((w, h)).apply4(pb);
                        std::array::from_fn(|c| f.wa * ca[c] + f.wb * cb[c])
                    };
                }
            }
        });
    let mut out = a.with_pixels(pixels);
    // Extra channels (rare) recompute the weights rather than keep them.
    for ch in &mut out.extra {
        let da = &a.extra_channel(&ch.name).expect("copied from A").data;
        let db = b.extra_channel(&ch.name).map(|c| &c.data);
        ch.data
            .par_chunks_mut(w.max(1))
            .enumerate()
            .for_each(|(y, row)| {
                for (x, v) in row.iter_mut().enumerate() {
                    let f = at(x, y);
                    let ca = f.cubic_a((w, h));
                    *v = match db {
                        Some(db) => {
                            f.wa * ca.apply(|k| da[k]) + f.wb * f.cubic_b((w, h)).apply(|k| db[k])
                        }
                        None => ca.apply(|k| da[k]),
                    };
                }
            });
    }
    out
}
