//! Pass 6 of each level: variational refinement (Brox, Bruhn, Papenberg &
//! Weickert, ECCV 2004, in the linearised form DeepFlow and Kroeger et al.
//! use), solved by red–black successive over-relaxation.
//!
//! Starting from the flow `w₀ = (u₀, v₀)` the dense search left, the flow
//! `w = (u, v)` minimises
//!
//! ```text
//! E(w) = Σ_x  ψ_d(ρ(x)²)  +  α·e(x)·ψ_s(|∇u|² + |∇v|²),
//! ρ = Iz + Ix·(u − u₀) + Iy·(v − v₀)   (brightness constancy, linearised at w₀)
//! ```
//!
//! with Charbonnier penalisers `ψ(s²) = sqrt(s² + ε²)`, on the locally
//! normalised luma of the level (so the data term already ignores smooth
//! brightness changes), and `e(x)` the level's edge weight (smoothing is
//! weaker across edges of the picture, where motion boundaries sit). The
//! second frame is warped once per level; then `outer` fixed-point
//! iterations each freeze the robust weights and run `inner` red–black SOR
//! sweeps on the resulting linear system.
//!
//! The CPU stores each per-pixel quantity as two checkerboard halves
//! ([`Checker`]) so that a sweep reads one half and writes the other with
//! contiguous rows; the GPU can keep plain row-major textures and branch on
//! `(x + y) mod 2`. The arithmetic is the same.

use rayon::prelude::*;

use super::plane::{Plane, floor_f32};
use super::pyramid::Level;
use crate::flow::FlowField;

/// Charbonnier ε of the data term (normalised-luma units).
pub const DATA_EPSILON: f32 = 0.05;
/// Charbonnier ε of the smoothness term (px/px). Much smaller flow
/// gradients count as flat; much larger ones as a motion edge.
pub const SMOOTH_EPSILON: f32 = 0.05;
/// Over-relaxation factor of the SOR sweeps.
pub const OMEGA: f32 = 1.6;

/// Weights of the refinement energy and its iteration counts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RefineParams {
    /// Smoothness weight α (the data weight is 1).
    pub alpha: f32,
    /// Fixed-point (outer) iterations.
    pub outer: usize,
    /// Red–black SOR sweeps per fixed-point iteration.
    pub inner: usize,
}

/// A `w × h` field stored as two checkerboard halves, so a red–black sweep
/// reads one half and writes the other with contiguous, vectorisable rows.
///
/// Half `c` (0 = red, `(x + y)` even; 1 = black) holds, in row `y` at slot
/// `k`, pixel `x = 2k + p` with `p = (y + c) mod 2`. Each half is stored
/// with one padding slot at both ends of a row and one padding row above and
/// below (row `y`, slot `k` at index `(y + 1)·stride + k + 1`); padding and
/// slots past the last column hold zeros and never carry weight. For a
/// pixel of half `c` at slot `k` of row `y`, its neighbours in the other
/// half are: left at slot `k + p − 1`, right at `k + p` (same row), up and
/// down at slot `k` of rows `y − 1` and `y + 1`.
#[derive(Clone, Copy, Debug)]
struct Checker {
    width: usize,
    height: usize,
    /// Slots per stored row, padding included.
    stride: usize,
}

impl Checker {
    fn new(width: usize, height: usize) -> Self {
        Checker {
            width,
            height,
            stride: width.div_ceil(2) + 2,
        }
    }

    /// Storage length of one half.
    fn len(&self) -> usize {
        self.stride * (self.height + 2)
    }

    /// Slots per row without padding.
    fn slots(&self) -> usize {
        self.stride - 2
    }

    /// `p = (y + c) mod 2`: pixel `x` of slot `k` is `2k + p`.
    fn parity(y: usize, colour: usize) -> usize {
        (y + colour) % 2
    }

    /// Index range of row `y`'s slots (without padding) in a half.
    fn row(&self, y: usize) -> std::ops::Range<usize> {
        let b = (y + 1) * self.stride + 1;
        b..b + self.slots()
    }

    /// The same range moved by `d` slots.
    fn shifted(r: &std::ops::Range<usize>, d: isize) -> std::ops::Range<usize> {
        (r.start as isize + d) as usize..(r.end as isize + d) as usize
    }

    /// Iterates over the stored rows `0..height` of a half, mutably, in
    /// parallel, with `(y, row)`.
    fn rows_mut<'a>(
        &self,
        half: &'a mut [f32],
    ) -> impl IndexedParallelIterator<Item = (usize, &'a mut [f32])> {
        half.par_chunks_mut(self.stride)
            .enumerate()
            .skip(1)
            .take(self.height)
            .map(|(yy, row)| (yy - 1, row))
    }
}

/// Everything per pixel the sweeps need, as checkerboard halves.
struct Fields {
    /// `Ix`, `Iy` and `Iz' = Iz − Ix·u₀ − Iy·v₀`, so `ρ = Ix·u + Iy·v + Iz'`;
    /// all three 0 where there is no data.
    ix: [Vec<f32>; 2],
    iy: [Vec<f32>; 2],
    iz: [Vec<f32>; 2],
    /// `α·e(x)`: the smoothness weight before the robust factor.
    alpha: [Vec<f32>; 2],
    /// The unknown flow.
    u: [Vec<f32>; 2],
    v: [Vec<f32>; 2],
    /// Robust data weight `a = ψ_d'` of the current fixed-point iteration.
    a: [Vec<f32>; 2],
    /// Robust smoothness weight `s = α·e·ψ_s'` of the current iteration.
    s: [Vec<f32>; 2],
}

/// Warp pass (one invocation per pixel): `p = x + w₀(x)`; if
/// `0 ≤ p.x ≤ W−1` and `0 ≤ p.y ≤ H−1`: `Ix = (I0x(x) + I1x(p))/2`,
/// `Iy = (I0y(x) + I1y(p))/2`, `Iz = I1(p) − I0(x)` (bilinear samples), else
/// (the pixel leaves the frame: no data) all three are 0. Stored: `Ix`,
/// `Iy`, `Iz' = Iz − Ix·u₀ − Iy·v₀`, `α·e(x)`, and `w = w₀`.
fn warp(l0: &Level, l1: &Level, flow: &FlowField, alpha: f32, ck: &Checker) -> Fields {
    let (w, h) = (ck.width, ck.height);
    let n = ck.slots();
    let half = |c: usize| {
        let mut out: [Vec<f32>; 6] = std::array::from_fn(|_| vec![0.0f32; ck.len()]);
        let [ix, iy, iz, al, u, v] = &mut out;
        ck.rows_mut(ix)
            .zip(ck.rows_mut(iy))
            .zip(ck.rows_mut(iz))
            .zip(ck.rows_mut(al))
            .zip(ck.rows_mut(u))
            .zip(ck.rows_mut(v))
            .for_each(
                |((((((y, rx), (_, ry)), (_, rz)), (_, ra)), (_, ru)), (_, rv))| {
                    let p = Checker::parity(y, c);
                    let (wl, hl) = (w as f32 - 1.0, h as f32 - 1.0);
                    for k in 0..n {
                        let x = 2 * k + p;
                        if x >= w {
                            break;
                        }
                        let i = y * w + x;
                        let f = flow.vectors()[i];
                        ru[k + 1] = f[0];
                        rv[k + 1] = f[1];
                        ra[k + 1] = alpha * l0.edge.data[i];
                        let (px, py) = (x as f32 + f[0], y as f32 + f[1]);
                        if px >= 0.0 && py >= 0.0 && px <= wl && py <= hl {
                            // In range, so only the +1 taps need clamping.
                            let (fx0, fy0) = (floor_f32(px), floor_f32(py));
                            let (fx, fy) = (px - fx0, py - fy0);
                            let (ix0, iy0) = (fx0 as usize, fy0 as usize);
                            let (ix1, iy1) = ((ix0 + 1).min(w - 1), (iy0 + 1).min(h - 1));
                            let m = [iy0 * w + ix0, iy0 * w + ix1, iy1 * w + ix0, iy1 * w + ix1];
                            let bilinear = |pl: &Plane| {
                                let d = &pl.data;
                                let top = d[m[0]] + fx * (d[m[1]] - d[m[0]]);
                                let bottom = d[m[2]] + fx * (d[m[3]] - d[m[2]]);
                                top + fy * (bottom - top)
                            };
                            let gx = 0.5 * (l0.gx.data[i] + bilinear(&l1.gx));
                            let gy = 0.5 * (l0.gy.data[i] + bilinear(&l1.gy));
                            let gz = bilinear(&l1.image) - l0.image.data[i];
                            rx[k + 1] = gx;
                            ry[k + 1] = gy;
                            rz[k + 1] = gz - gx * f[0] - gy * f[1];
                        }
                    }
                },
            );
        out
    };
    let ([ix0, iy0, iz0, al0, u0, v0], [ix1, iy1, iz1, al1, u1, v1]) = (half(0), half(1));
    Fields {
        ix: [ix0, ix1],
        iy: [iy0, iy1],
        iz: [iz0, iz1],
        alpha: [al0, al1],
        u: [u0, u1],
        v: [v0, v1],
        a: [vec![0.0; ck.len()], vec![0.0; ck.len()]],
        s: [vec![0.0; ck.len()], vec![0.0; ck.len()]],
    }
}

/// Per parity `p`, 1.0 for the slots whose pixel has a right neighbour
/// (`2k + p + 1 < w`), else 0.
fn right_masks(ck: &Checker) -> [Vec<f32>; 2] {
    std::array::from_fn(|p| {
        (0..ck.slots())
            .map(|k| if 2 * k + p + 1 < ck.width { 1.0 } else { 0.0 })
            .collect()
    })
}

/// Refines `flow` in place (see the module docs). All passes are one
/// invocation per pixel.
///
/// After the warp pass, each of the `outer` fixed-point iterations runs:
/// 1. weights, for every pixel from the current `w`:
///    `a = 1/sqrt(ρ² + ε_d²)` with `ρ = Ix·u + Iy·v + Iz'`, and
///    `s = α·e(x)/sqrt(ux² + uy² + vx² + vy² + ε_s²)` with forward
///    differences (`ux = u(x+1, y) − u(x, y)`, taken as 0 at the last column;
///    likewise `uy` at the last row);
/// 2. `inner` times a red pass (pixels with `x + y` even) then a black pass,
///    each pixel reading only the other colour. With the edge weights
///    `s_r = s(x)·[x+1 < W]`, `s_l = s(x−1)`, `s_d = s(x)·[y+1 < H]`,
///    `s_u = s(x, y−1)` (0 for a missing neighbour), `S = s_l + s_r + s_u +
///    s_d`, `N_u = Σ s_n·u_n`, `N_v = Σ s_n·v_n`:
///    `u ← (1−ω)·u + ω·(N_u − a·Ix·(Iy·v + Iz')) / (a·Ix² + S)`, then
///    `v ← (1−ω)·v + ω·(N_v − a·Iy·(Ix·u + Iz')) / (a·Iy² + S)` with the new
///    `u`; where a denominator is 0 (no data, no neighbours) the value stays.
///
/// The refined flow is `w` after the last sweep.
pub(crate) fn refine(l0: &Level, l1: &Level, flow: &mut FlowField, params: &RefineParams) {
    let (w, h) = (l0.image.width, l0.image.height);
    if params.outer == 0 || params.inner == 0 {
        return;
    }
    let ck = Checker::new(w, h);
    let mut f = warp(l0, l1, flow, params.alpha, &ck);
    let masks = right_masks(&ck);
    for _ in 0..params.outer {
        for c in 0..2 {
            weights(&ck, c, &mut f, &masks);
        }
        for _ in 0..params.inner {
            for c in 0..2 {
                sweep(&ck, c, &mut f, &masks);
            }
        }
    }
    // Merge the halves back into the field.
    flow.vectors_mut()
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                let c = (x + y) % 2;
                let k = (y + 1) * ck.stride + 1 + x / 2;
                *o = [f.u[c][k], f.v[c][k]];
            }
        });
}

/// Step 1 of [`refine`] for the pixels of colour `c`.
fn weights(ck: &Checker, c: usize, f: &mut Fields, masks: &[Vec<f32>; 2]) {
    let (h, n, o) = (ck.height, ck.slots(), 1 - c);
    let eps_s = SMOOTH_EPSILON * SMOOTH_EPSILON;
    let eps_d = DATA_EPSILON * DATA_EPSILON;
    let Fields {
        ix,
        iy,
        iz,
        alpha,
        u,
        v,
        a,
        s,
    } = f;
    let (u, v) = (&*u, &*v);
    ck.rows_mut(&mut a[c])
        .zip(ck.rows_mut(&mut s[c]))
        .for_each(|((y, ra), (_, rs))| {
            let p = Checker::parity(y, c);
            let r = ck.row(y);
            let my = if y + 1 < h { 1.0f32 } else { 0.0 };
            let mx = &masks[p][..n];
            let (cu, cv) = (&u[c][r.clone()], &v[c][r.clone()]);
            let right = Checker::shifted(&r, p as isize);
            let down = Checker::shifted(&r, ck.stride as isize);
            let (ur, vr) = (&u[o][right.clone()], &v[o][right]);
            let (ud, vd) = (&u[o][down.clone()], &v[o][down]);
            let (gx, gy, gz) = (&ix[c][r.clone()], &iy[c][r.clone()], &iz[c][r.clone()]);
            let al = &alpha[c][r];
            let (ra, rs) = (&mut ra[1..1 + n], &mut rs[1..1 + n]);
            for k in 0..n {
                let (ux, vx) = ((ur[k] - cu[k]) * mx[k], (vr[k] - cv[k]) * mx[k]);
                let (uy, vy) = ((ud[k] - cu[k]) * my, (vd[k] - cv[k]) * my);
                rs[k] = al[k] / (ux * ux + uy * uy + vx * vx + vy * vy + eps_s).sqrt();
                let rho = gx[k] * cu[k] + gy[k] * cv[k] + gz[k];
                ra[k] = 1.0 / (rho * rho + eps_d).sqrt();
            }
        });
}

/// One red or black pass of step 2 of [`refine`] (pixels of colour `c`).
fn sweep(ck: &Checker, c: usize, f: &mut Fields, masks: &[Vec<f32>; 2]) {
    let (h, n, o) = (ck.height, ck.slots(), 1 - c);
    let Fields {
        ix,
        iy,
        iz,
        u,
        v,
        a,
        s,
        ..
    } = f;
    let [u_red, u_black] = u;
    let [v_red, v_black] = v;
    let (own_u, other_u) = if c == 0 {
        (u_red, &*u_black)
    } else {
        (u_black, &*u_red)
    };
    let (own_v, other_v) = if c == 0 {
        (v_red, &*v_black)
    } else {
        (v_black, &*v_red)
    };
    ck.rows_mut(own_u)
        .zip(ck.rows_mut(own_v))
        .for_each(|((y, ru), (_, rv))| {
            let p = Checker::parity(y, c);
            let r = ck.row(y);
            let my = if y + 1 < h { 1.0f32 } else { 0.0 };
            let mx = &masks[p][..n];
            let left = Checker::shifted(&r, p as isize - 1);
            let right = Checker::shifted(&r, p as isize);
            let up = Checker::shifted(&r, -(ck.stride as isize));
            let down = Checker::shifted(&r, ck.stride as isize);
            let (ul, ur, uu, ud) = (
                &other_u[left.clone()],
                &other_u[right.clone()],
                &other_u[up.clone()],
                &other_u[down.clone()],
            );
            let (vl, vr, vu, vd) = (
                &other_v[left.clone()],
                &other_v[right],
                &other_v[up.clone()],
                &other_v[down],
            );
            let (sl, su, so) = (&s[o][left], &s[o][up], &s[c][r.clone()]);
            let (gx, gy, gz, aa) = (
                &ix[c][r.clone()],
                &iy[c][r.clone()],
                &iz[c][r.clone()],
                &a[c][r],
            );
            let (ru, rv) = (&mut ru[1..1 + n], &mut rv[1..1 + n]);
            for k in 0..n {
                let (s_r, s_d) = (so[k] * mx[k], so[k] * my);
                let sum = sl[k] + s_r + su[k] + s_d;
                let nu = sl[k] * ul[k] + s_r * ur[k] + su[k] * uu[k] + s_d * ud[k];
                let nv = sl[k] * vl[k] + s_r * vr[k] + su[k] * vu[k] + s_d * vd[k];
                let (ax, ay) = (aa[k] * gx[k], aa[k] * gy[k]);
                // Branch-free form of "(1−ω)·u + ω·num/den, or u if den = 0",
                // so the row loop vectorises.
                let den_u = ax * gx[k] + sum;
                let keep_u = if den_u > 0.0 { OMEGA } else { 0.0 };
                let target_u = (nu - ax * (gy[k] * rv[k] + gz[k])) / den_u.max(f32::MIN_POSITIVE);
                let new_u = ru[k] + keep_u * (target_u - ru[k]);
                let den_v = ay * gy[k] + sum;
                let keep_v = if den_v > 0.0 { OMEGA } else { 0.0 };
                let target_v = (nv - ay * (gx[k] * new_u + gz[k])) / den_v.max(f32::MIN_POSITIVE);
                let new_v = rv[k] + keep_v * (target_v - rv[k]);
                ru[k] = new_u;
                rv[k] = new_v;
            }
        });
}
