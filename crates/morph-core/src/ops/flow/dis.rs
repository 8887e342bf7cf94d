//! Passes 4 and 5 of each level: Dense Inverse Search (Kroeger, Timofte, Dai
//! & Van Gool, "Fast Optical Flow using Dense Inverse Search", ECCV 2016).
//!
//! - [`inverse_search`]: one translation per square patch on a regular grid,
//!   found by inverse-compositional Gauss–Newton (Baker & Matthews 2004) on
//!   the mean-normalised SSD, started from the coarser level's flow;
//! - [`densify`]: every pixel takes the average of the patches covering it,
//!   each weighted by how well it explains that pixel.
//!
//! Both are gathers with a fixed amount of work per patch or pixel, written
//! in the order a compute shader would run them (one invocation per patch,
//! then one per pixel).

use rayon::prelude::*;

use super::plane::{Plane, floor_f32};
use super::pyramid::Level;
use crate::flow::FlowField;

/// Largest supported patch side (the per-patch scratch lives on the stack).
pub(crate) const MAX_PATCH: usize = 16;

/// Tikhonov term added to the diagonal of each patch's Hessian, per pixel of
/// the patch (in normalised-luma² per px²): keeps a textureless patch from
/// taking huge steps; it then stays where it started.
pub const HESSIAN_REGULARIZATION: f32 = 1e-3;

/// The grid of patches of one level: `nx × ny` patches of `patch × patch`
/// pixels, one every `stride` pixels; the last column and row are moved in
/// so that they end at the image edge.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PatchGrid {
    /// Level width.
    pub width: usize,
    /// Level height.
    pub height: usize,
    /// Patch side.
    pub patch: usize,
    /// Distance between patch origins.
    pub stride: usize,
    /// Patches per row.
    pub nx: usize,
    /// Patch rows.
    pub ny: usize,
}

impl PatchGrid {
    /// The grid over a `width × height` level.
    pub fn new(width: usize, height: usize, patch: usize, stride: usize) -> Self {
        let count = |len: usize| {
            if len > patch {
                (len - patch).div_ceil(stride) + 1
            } else {
                1
            }
        };
        PatchGrid {
            width,
            height,
            patch,
            stride,
            nx: count(width),
            ny: count(height),
        }
    }

    /// Origin (left column or top row) of patch `i` along a side of length
    /// `len`: `min(i·stride, max(len − patch, 0))`.
    #[inline]
    fn origin(&self, i: usize, len: usize) -> usize {
        (i * self.stride).min(len.saturating_sub(self.patch))
    }

    /// Top-left pixel of patch `(i, j)`.
    #[inline]
    pub fn origin_xy(&self, i: usize, j: usize) -> (usize, usize) {
        (self.origin(i, self.width), self.origin(j, self.height))
    }

    /// The patches `lo ..= hi` along one side (count `n`) whose span
    /// `[origin, origin + patch)` contains `x`; contiguous because origins
    /// never decrease.
    #[inline]
    fn covering(&self, x: usize, len: usize, n: usize) -> (usize, usize) {
        let lo = if x < self.patch {
            0
        } else {
            (x + 1 - self.patch).div_ceil(self.stride)
        }
        .min(n - 1);
        let hi = if x >= self.origin(n - 1, len) {
            n - 1
        } else {
            x / self.stride
        };
        (lo, hi)
    }
}

/// Template of one patch: luma and mean-free gradients of the first frame,
/// and the inverse of the Gauss–Newton Hessian.
struct Template {
    value: [f32; MAX_PATCH * MAX_PATCH],
    gx: [f32; MAX_PATCH * MAX_PATCH],
    gy: [f32; MAX_PATCH * MAX_PATCH],
    /// Inverse Hessian `[h11, h12, h22]` (symmetric).
    inv_h: [f32; 3],
}

impl Template {
    fn gather(l0: &Level, x0: usize, y0: usize, p: usize) -> Self {
        let mut t = Template {
            value: [0.0; MAX_PATCH * MAX_PATCH],
            gx: [0.0; MAX_PATCH * MAX_PATCH],
            gy: [0.0; MAX_PATCH * MAX_PATCH],
            inv_h: [0.0; 3],
        };
        let (mut mx, mut my) = (0.0f32, 0.0f32);
        let inside = x0 + p <= l0.image.width && y0 + p <= l0.image.height;
        for r in 0..p {
            if inside {
                let b = (y0 + r) * l0.image.width + x0;
                t.value[r * p..r * p + p].copy_from_slice(&l0.image.data[b..b + p]);
                t.gx[r * p..r * p + p].copy_from_slice(&l0.gx.data[b..b + p]);
                t.gy[r * p..r * p + p].copy_from_slice(&l0.gy.data[b..b + p]);
            } else {
                for c in 0..p {
                    let (x, y) = ((x0 + c) as isize, (y0 + r) as isize);
                    let k = r * p + c;
                    t.value[k] = l0.image.at(x, y);
                    t.gx[k] = l0.gx.at(x, y);
                    t.gy[k] = l0.gy.at(x, y);
                }
            }
        }
        for k in 0..p * p {
            mx += t.gx[k];
            my += t.gy[k];
        }
        let n = (p * p) as f32;
        let (mx, my) = (mx / n, my / n);
        let (mut h11, mut h12, mut h22) = (0.0f32, 0.0f32, 0.0f32);
        for k in 0..p * p {
            t.gx[k] -= mx;
            t.gy[k] -= my;
            h11 += t.gx[k] * t.gx[k];
            h12 += t.gx[k] * t.gy[k];
            h22 += t.gy[k] * t.gy[k];
        }
        let reg = HESSIAN_REGULARIZATION * n;
        h11 += reg;
        h22 += reg;
        let det = h11 * h22 - h12 * h12;
        t.inv_h = [h22 / det, -h12 / det, h11 / det];
        t
    }
}

/// Mean-normalised SSD between the template and the second frame shifted by
/// `u`, and the Gauss–Newton right-hand side `b = Σ d·(∇T − mean ∇T)` with
/// `d = I1(x + u) − T(x)`.
///
/// Every pixel of the patch shares the fractional part of `u`, so one pair
/// of bilinear weights serves the whole patch. When the patch and its
/// one-pixel apron lie inside the frame the rows are read as slices (the
/// CPU's fast path); otherwise each tap is clamped to the edge. Both give
/// exactly the [`Plane::sample`] rule. Sums run in four lanes (column
/// `mod 4`, rows in order) added as `(l0 + l1) + (l2 + l3)` at the end.
#[inline]
fn evaluate(
    i1: &Plane,
    t: &Template,
    x0: usize,
    y0: usize,
    p: usize,
    u: [f32; 2],
) -> (f32, [f32; 2]) {
    match p {
        4 => evaluate_n::<4>(i1, t, x0, y0, u),
        8 => evaluate_n::<8>(i1, t, x0, y0, u),
        12 => evaluate_n::<12>(i1, t, x0, y0, u),
        _ => evaluate_n::<16>(i1, t, x0, y0, u),
    }
}

#[inline(never)]
fn evaluate_n<const P: usize>(
    i1: &Plane,
    t: &Template,
    x0: usize,
    y0: usize,
    u: [f32; 2],
) -> (f32, [f32; 2]) {
    let ux = u[0].clamp(-(i1.width as f32) - 1.0, i1.width as f32 + 1.0);
    let uy = u[1].clamp(-(i1.height as f32) - 1.0, i1.height as f32 + 1.0);
    let (flx, fly) = (floor_f32(ux), floor_f32(uy));
    let (fx, fy) = (ux - flx, uy - fly);
    let ix0 = x0 as isize + flx as isize;
    let iy0 = y0 as isize + fly as isize;
    let w = i1.width;
    // Four independent lanes (column mod 4) so the row loop vectorises.
    let mut sd = [0.0f32; 4];
    let mut sd2 = [0.0f32; 4];
    let mut sx = [0.0f32; 4];
    let mut sy = [0.0f32; 4];
    let inside = ix0 >= 0 && iy0 >= 0 && ix0 as usize + P < w && iy0 as usize + P < i1.height;
    if inside {
        let (ix0, iy0) = (ix0 as usize, iy0 as usize);
        for r in 0..P {
            let b0 = (iy0 + r) * w + ix0;
            let row0: &[f32; P] = i1.data[b0..b0 + P].try_into().unwrap();
            let row0n: &[f32; P] = i1.data[b0 + 1..b0 + 1 + P].try_into().unwrap();
            let row1: &[f32; P] = i1.data[b0 + w..b0 + w + P].try_into().unwrap();
            let row1n: &[f32; P] = i1.data[b0 + w + 1..b0 + w + 1 + P].try_into().unwrap();
            let tv: &[f32; P] = t.value[r * P..r * P + P].try_into().unwrap();
            let tx: &[f32; P] = t.gx[r * P..r * P + P].try_into().unwrap();
            let ty: &[f32; P] = t.gy[r * P..r * P + P].try_into().unwrap();
            for c4 in (0..P).step_by(4) {
                for l in 0..4 {
                    let c = c4 + l;
                    let top = row0[c] + fx * (row0n[c] - row0[c]);
                    let bottom = row1[c] + fx * (row1n[c] - row1[c]);
                    let d = top + fy * (bottom - top) - tv[c];
                    sd[l] += d;
                    sd2[l] += d * d;
                    sx[l] += d * tx[c];
                    sy[l] += d * ty[c];
                }
            }
        }
    } else {
        for r in 0..P {
            for c in 0..P {
                let (x, y) = (ix0 + c as isize, iy0 + r as isize);
                let (a, b) = (i1.at(x, y), i1.at(x + 1, y));
                let (cc, dd) = (i1.at(x, y + 1), i1.at(x + 1, y + 1));
                let top = a + fx * (b - a);
                let bottom = cc + fx * (dd - cc);
                let k = r * P + c;
                let d = top + fy * (bottom - top) - t.value[k];
                let l = c % 4;
                sd[l] += d;
                sd2[l] += d * d;
                sx[l] += d * t.gx[k];
                sy[l] += d * t.gy[k];
            }
        }
    }
    let sum = |a: [f32; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    let (sd, sd2) = (sum(sd), sum(sd2));
    let ssd = sd2 - sd * sd / (P * P) as f32;
    (ssd, [sum(sx), sum(sy)])
}

/// Searches every patch of the grid and returns one vector per patch,
/// row-major (`ny × nx`).
///
/// Per patch `(i, j)` with origin `(x0, y0)` (one GPU invocation each):
/// 1. gather the template from `l0` (clamp-to-edge): values `T`, gradients
///    minus their patch mean, Hessian `H = Σ ∇T∇Tᵀ + 1e−3·patch²·I`, and
///    invert it;
/// 2. centre `c = (min(x0 + patch/2, W−1), min(y0 + patch/2, H−1))`,
///    start `u₀ = init(c)`;
/// 3. `iterations` Gauss–Newton steps `u ← u − H⁻¹·b(u)`, evaluating the
///    mean-normalised SSD at every visited `u` (the start included) and at
///    the last one after the final step; the lowest-SSD `u` wins (a tie
///    keeps the earlier one);
/// 4. `u₀` is kept instead if the winner moved more than `patch` pixels
///    from `u₀` (Kroeger et al.'s outlier rule), or if `c + winner` lies
///    more than `patch/2` pixels outside `[0, W−1] × [0, H−1]` (content
///    leaving the frame has nothing to match; the coarser level's estimate
///    is better there).
pub(crate) fn inverse_search(
    l0: &Level,
    i1: &Plane,
    init: &FlowField,
    grid: &PatchGrid,
    iterations: usize,
) -> Vec<[f32; 2]> {
    let p = grid.patch;
    let mut out = vec![[0.0f32; 2]; grid.nx * grid.ny];
    out.par_chunks_mut(grid.nx)
        .enumerate()
        .for_each(|(j, row)| {
            for (i, o) in row.iter_mut().enumerate() {
                let (x0, y0) = grid.origin_xy(i, j);
                let t = Template::gather(l0, x0, y0, p);
                let cx = (x0 + p / 2).min(grid.width - 1) as u32;
                let cy = (y0 + p / 2).min(grid.height - 1) as u32;
                let u0 = init.at(cx, cy);
                let mut u = u0;
                let mut best = u0;
                let mut best_ssd = f32::INFINITY;
                for step in 0..=iterations {
                    let (ssd, b) = evaluate(i1, &t, x0, y0, p, u);
                    if ssd < best_ssd {
                        best_ssd = ssd;
                        best = u;
                    }
                    if step == iterations {
                        break;
                    }
                    let du = t.inv_h[0] * b[0] + t.inv_h[1] * b[1];
                    let dv = t.inv_h[1] * b[0] + t.inv_h[2] * b[1];
                    u = [u[0] - du, u[1] - dv];
                }
                let (dx, dy) = (best[0] - u0[0], best[1] - u0[1]);
                // Where the patch centre lands outside the second frame there is
                // nothing to match (content leaving the picture): keep u₀.
                let (tx, ty) = (cx as f32 + best[0], cy as f32 + best[1]);
                let m = (p / 2) as f32;
                let leaves = !(tx >= -m
                    && ty >= -m
                    && tx <= (grid.width - 1) as f32 + m
                    && ty <= (grid.height - 1) as f32 + m);
                *o = if leaves || dx * dx + dy * dy > (p * p) as f32 {
                    u0
                } else {
                    best
                };
            }
        });
    out
}

/// Dense flow from the patch vectors: pixel `x` averages the vectors `u_k`
/// of the patches covering it with weights `1 / max(|I1(x + u_k) − I0(x)|,
/// τ)` (Kroeger et al.'s eq. 3), so a patch straddling a motion boundary
/// counts only where it fits. `I1(x + u)` is the bilinear sample with taps
/// at `x + ⌊u⌋` and `x + ⌊u⌋ + 1` (clamped to the frame) and weight
/// `u − ⌊u⌋`, the same split [`inverse_search`] uses. Sums run over the
/// covering patches in row-major patch order.
pub(crate) fn densify(
    grid: &PatchGrid,
    patches: &[[f32; 2]],
    i0: &Plane,
    i1: &Plane,
    tau: f32,
) -> FlowField {
    let (w, h) = (grid.width, grid.height);
    let columns: Vec<(usize, usize)> = (0..w).map(|x| grid.covering(x, w, grid.nx)).collect();
    // Per patch: integer part of the vector (clamped so the index math stays
    // in range; beyond one pixel outside every tap is the edge anyway) and
    // fraction.
    let split: Vec<(isize, isize, f32, f32)> = patches
        .iter()
        .map(|u| {
            let ux = u[0].clamp(-(w as f32) - 1.0, w as f32 + 1.0);
            let uy = u[1].clamp(-(h as f32) - 1.0, h as f32 + 1.0);
            let (fx, fy) = (floor_f32(ux), floor_f32(uy));
            (fx as isize, fy as isize, ux - fx, uy - fy)
        })
        .collect();
    let mut flow = FlowField::zeros(w as u32, h as u32);
    flow.vectors_mut()
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, row)| {
            let (jlo, jhi) = grid.covering(y, h, grid.ny);
            let i0row = i0.row(y);
            for (x, o) in row.iter_mut().enumerate() {
                let (ilo, ihi) = columns[x];
                let v0 = i0row[x];
                let (mut su, mut sv, mut sw) = (0.0f32, 0.0f32, 0.0f32);
                for j in jlo..=jhi {
                    for i in ilo..=ihi {
                        let k = j * grid.nx + i;
                        let (ox, oy, fx, fy) = split[k];
                        let (ix, iy) = (x as isize + ox, y as isize + oy);
                        let (a, b, c, d) = if ix >= 0
                            && iy >= 0
                            && ((ix + 1) as usize) < w
                            && ((iy + 1) as usize) < h
                        {
                            let m = iy as usize * w + ix as usize;
                            (
                                i1.data[m],
                                i1.data[m + 1],
                                i1.data[m + w],
                                i1.data[m + w + 1],
                            )
                        } else {
                            (
                                i1.at(ix, iy),
                                i1.at(ix + 1, iy),
                                i1.at(ix, iy + 1),
                                i1.at(ix + 1, iy + 1),
                            )
                        };
                        let top = a + fx * (b - a);
                        let bottom = c + fx * (d - c);
                        let diff = top + fy * (bottom - top) - v0;
                        let wgt = 1.0 / diff.abs().max(tau);
                        let u = patches[k];
                        su += wgt * u[0];
                        sv += wgt * u[1];
                        sw += wgt;
                    }
                }
                *o = [su / sw, sv / sw];
            }
        });
    flow
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Rng;

    fn random_plane(w: usize, h: usize, seed: u64) -> Plane {
        let mut rng = Rng::new(seed);
        Plane::from_vec(w, h, (0..w * h).map(|_| rng.range(-1.0, 1.0)).collect())
    }

    #[test]
    fn fast_paths_match_the_plain_bilinear_rule() {
        let raw = random_plane(40, 30, 1);
        let l0 = Level::new(&raw, 2, 0.01, 0.1);
        let i1 = random_plane(40, 30, 2);
        let mut rng = Rng::new(3);
        for p in [4usize, 8, 12, 16] {
            for _ in 0..40 {
                let (x0, y0) = (
                    (rng.next_f32() * 30.0) as usize,
                    (rng.next_f32() * 20.0) as usize,
                );
                let (x0, y0) = (x0.min(40 - p), y0.min(30 - p));
                // Inside, across the edge and far outside.
                let u = [rng.range(-45.0, 45.0), rng.range(-35.0, 35.0)];
                let t = Template::gather(&l0, x0, y0, p);
                let (ssd, b) = evaluate(&i1, &t, x0, y0, p, u);
                let (mut sd, mut sd2, mut bx, mut by) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
                for r in 0..p {
                    for c in 0..p {
                        let k = r * p + c;
                        let d = (i1.sample((x0 + c) as f32 + u[0], (y0 + r) as f32 + u[1])
                            - t.value[k]) as f64;
                        sd += d;
                        sd2 += d * d;
                        bx += d * t.gx[k] as f64;
                        by += d * t.gy[k] as f64;
                    }
                }
                let ssd_ref = sd2 - sd * sd / (p * p) as f64;
                let close = |a: f32, e: f64| (a as f64 - e).abs() <= 1e-3 * (1.0 + e.abs());
                assert!(
                    close(ssd, ssd_ref) && close(b[0], bx) && close(b[1], by),
                    "p {p} u {u:?}"
                );
            }
        }
        // Densify against the same rule.
        let grid = PatchGrid::new(40, 30, 8, 4);
        let patches: Vec<[f32; 2]> = (0..grid.nx * grid.ny)
            .map(|_| [rng.range(-5.0, 5.0), rng.range(-5.0, 5.0)])
            .collect();
        let dense = densify(&grid, &patches, &raw, &i1, 0.1);
        for y in 0..30 {
            for x in 0..40 {
                let (ilo, ihi) = grid.covering(x, 40, grid.nx);
                let (jlo, jhi) = grid.covering(y, 30, grid.ny);
                let (mut su, mut sv, mut sw) = (0.0f32, 0.0f32, 0.0f32);
                for j in jlo..=jhi {
                    for i in ilo..=ihi {
                        let u = patches[j * grid.nx + i];
                        let d = i1.sample(x as f32 + u[0], y as f32 + u[1]) - raw.data[y * 40 + x];
                        let wgt = 1.0 / d.abs().max(0.1);
                        su += wgt * u[0];
                        sv += wgt * u[1];
                        sw += wgt;
                    }
                }
                let got = dense.at(x as u32, y as u32);
                assert!(
                    (got[0] - su / sw).abs() < 1e-3 && (got[1] - sv / sw).abs() < 1e-3,
                    "({x}, {y})"
                );
            }
        }
    }

    #[test]
    fn covering_matches_brute_force() {
        for (len, patch, stride) in [
            (1, 8, 4),
            (7, 8, 4),
            (8, 8, 4),
            (10, 8, 4),
            (37, 8, 3),
            (64, 12, 4),
            (33, 4, 4),
        ] {
            let g = PatchGrid::new(len, 1, patch, stride);
            for x in 0..len {
                let brute: Vec<usize> = (0..g.nx)
                    .filter(|&i| {
                        let o = g.origin(i, len);
                        o <= x && x < o + patch
                    })
                    .collect();
                let (lo, hi) = g.covering(x, len, g.nx);
                assert_eq!(
                    brute,
                    (lo..=hi).collect::<Vec<_>>(),
                    "len {len} patch {patch} stride {stride} x {x}"
                );
            }
            // The last patch ends at the edge (or covers the whole side).
            assert!(g.origin(g.nx - 1, len) + patch >= len);
        }
    }
}
