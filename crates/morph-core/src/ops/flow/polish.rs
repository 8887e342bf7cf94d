//! Pass 8b: a Lucas–Kanade polish of the flow at the input's resolution.
//!
//! The pyramid (passes 4–7) works at the analysis resolution, so at 1/4 a
//! vector is only as precise as a quarter-resolution match, upsampled
//! (pass 8). One Lucas–Kanade step (Lucas & Kanade 1981, in the
//! inverse-compositional form of Baker & Matthews 2004) against the
//! full-resolution luma recovers most of the sub-pixel precision for little
//! cost: on the interpolation triplets of `benches/interp_compare.py` (720p,
//! 7 cases, dev VM) the in-between gains +0.7 dB at 1/4 (43.34 → 44.03 dB
//! mean), and on the flow fixtures the end-point error drops at every
//! quality from 1/2 down (160×128 fixtures: 1/2 0.113 → 0.106 px, 1/4
//! 0.248 → 0.201 px, 1/8 0.298 → 0.203 px; at full quality, where the
//! pyramid already ends at the input's resolution, 0.071 → 0.081 px).
//!
//! # Arithmetic (specification for the WGSL port)
//!
//! The step works on the frames' full-resolution lumas (pass 1's `G`)
//! **locally normalised** as the pyramid levels are (pass 3's `N`, 5×5 box,
//! ε 0.01), so a gain or offset between the frames does not bias it. Per
//! iteration, with `A` and `B` those planes and `u` the flow from the
//! previous iteration (every pixel reads the old flow: a Jacobi step),
//! reads clamped to the edge:
//!
//! 1. **Terms**, per pixel: `gx = ½·(A(x+1, y) − A(x−1, y))`,
//!    `gy = ½·(A(x, y+1) − A(x, y−1))`, `e = B(x + u) − A(x)` with `B`
//!    sampled Catmull-Rom bicubic (clamp to edge, rows first: a bilinear `B` is
//!    blurred at half-pixel offsets and pulls the step toward whole
//!    pixels); the five terms `gx², gx·gy, gy², gx·e, gy·e`.
//! 2. **Window sums** `S[·]` over the `(2r + 1)²` box (`r` =
//!    [`POLISH_RADIUS`]), each term's rows first — `row = Σ_{dx = −r..=r}`
//!    left to right, starting from 0 — then `Σ_{dy = −r..=r}` of the row
//!    sums top to bottom, starting from 0.
//! 3. **Step**, per pixel: `a11 = S[gx²] + λ`, `a22 = S[gy²] + λ`, `det =
//!    a11·a22 − S[gx·gy]²`, `du = −(a22·S[gx·e] − S[gx·gy]·S[gy·e])/det`,
//!    `dv = −(a11·S[gy·e] − S[gx·gy]·S[gx·e])/det`. If `det >`
//!    [`POLISH_MIN_DET`] and both are finite, each is clamped to
//!    `±`[`POLISH_MAX_STEP`] and added to the vector; otherwise (a
//!    singular or NaN window, or one holding a NaN vector) the vector is
//!    kept.
//!
//! λ ([`POLISH_LAMBDA`]) keeps flat or one-directional windows (the
//! aperture problem) from taking large steps along the unconstrained
//! direction, and the step clamp keeps occluded pixels (whose `e` no step
//! explains) from drifting. More than one iteration is not better on our
//! data (the fixed point of a sampled `B` is slightly biased), hence the
//! default of 1.

use rayon::prelude::*;

#[cfg(test)]
use super::plane::floor_f32;
use super::plane::{Plane, floor_small};
use crate::flow::FlowField;

/// Box radius `r` of the window: 5 × 5 pixels.
pub const POLISH_RADIUS: usize = 2;
/// Tikhonov weight λ added to the window's structure tensor (squared
/// normalised luma per pixel, summed over the window; a window of strong
/// texture sums to ~10).
pub const POLISH_LAMBDA: f32 = 3.0;
/// The largest change of either component per iteration, in pixels.
pub const POLISH_MAX_STEP: f32 = 0.5;
/// Determinant at or below which a window is left alone.
pub const POLISH_MIN_DET: f32 = 1e-12;

/// Terms per pixel (pass 8b step 1).
const TERMS: usize = 5;
/// Output rows per parallel task (each also computes `2r` rows of halo).
const BAND: usize = 48;
/// Pixels whose cubic weights are computed together (vectorised).
const LANES: usize = 8;

/// Runs `iterations` polish steps on `flow` (A → B, input pixels; `a` and
/// `b` the frames' locally normalised lumas at the flow's size).
pub(crate) fn polish(flow: &mut FlowField, a: &Plane, b: &Plane, iterations: usize) {
    for _ in 0..iterations {
        *flow = polish_once(flow, a, b);
    }
}

/// One step (see the module docs): each band of output rows computes the
/// terms and row sums of the rows its windows need, then the column sums
/// and the step.
fn polish_once(flow: &FlowField, a: &Plane, b: &Plane) -> FlowField {
    let (w, h) = (a.width, a.height);
    let r = POLISH_RADIUS;
    let old = flow.vectors();
    let mut out = flow.clone();
    out.vectors_mut()
        .par_chunks_mut(BAND * w)
        .enumerate()
        .for_each(|(band, rows)| {
            let y0 = band * BAND;
            let y1 = y0 + rows.len() / w;
            // Rows the windows reach (clamped to the frame).
            let first = y0.saturating_sub(r);
            let last = (y1 - 1 + r).min(h - 1);
            let count = last - first + 1;
            // Row sums, term-major per row: sums[(row · TERMS + t) · w + x].
            let mut sums = vec![0.0f32; count * TERMS * w];
            let mut terms = vec![0.0f32; TERMS * w];
            let mut e = vec![0.0f32; w];
            for (i, y) in (first..=last).enumerate() {
                terms_row(a, b, old, y, &mut e, &mut terms);
                let out = &mut sums[i * TERMS * w..(i + 1) * TERMS * w];
                for (src, dst) in terms.chunks_exact(w).zip(out.chunks_exact_mut(w)) {
                    row_sums(src, dst, r);
                }
            }
            // Column sums of each term over the row, then the step.
            let mut cols = vec![0.0f32; TERMS * w];
            for (oy, out_row) in rows.chunks_exact_mut(w).enumerate() {
                let y = y0 + oy;
                for (t, col) in cols.chunks_exact_mut(w).enumerate() {
                    col.fill(0.0);
                    for d in 0..=2 * r {
                        let i = (y + d).saturating_sub(r).min(h - 1) - first;
                        let src = &sums[(i * TERMS + t) * w..][..w];
                        for (c, v) in col.iter_mut().zip(src) {
                            *c += v;
                        }
                    }
                }
                let col = |t: usize| &cols[t * w..(t + 1) * w];
                let (sxx, sxy, syy, sxe, sye) = (col(0), col(1), col(2), col(3), col(4));
                for (x, v) in out_row.iter_mut().enumerate() {
                    *v = step(*v, [sxx[x], sxy[x], syy[x], sxe[x], sye[x]]);
                }
            }
        });
    out
}

/// Step 1 for row `y`: `e` per pixel, then the five terms, term-major
/// (`out[t · w + x]`).
fn terms_row(a: &Plane, b: &Plane, flow: &[[f32; 2]], y: usize, e: &mut [f32], out: &mut [f32]) {
    let w = a.width;
    let row = a.row(y);
    let up = a.row_clamped(y as isize - 1);
    let down = a.row_clamped(y as isize + 1);
    let fy = y as f32;
    // e: the gather, weights for LANES pixels at a time.
    let vectors = &flow[y * w..(y + 1) * w];
    for (run, (es, us)) in e.chunks_mut(LANES).zip(vectors.chunks(LANES)).enumerate() {
        let mut pos = [[0.0f32; 2]; LANES];
        for (l, u) in us.iter().enumerate() {
            pos[l] = [(run * LANES + l) as f32 + u[0], fy + u[1]];
        }
        let weights = CubicLanes::new(&pos, b.width, b.height);
        for (l, ev) in es.iter_mut().enumerate() {
            *ev = weights.sample(b, l) - row[run * LANES + l];
        }
    }
    let (gxx, rest) = out.split_at_mut(w);
    let (gxy, rest) = rest.split_at_mut(w);
    let (gyy, rest) = rest.split_at_mut(w);
    let (gxe, gye) = rest.split_at_mut(w);
    for x in 0..w {
        let gx = 0.5 * (row[(x + 1).min(w - 1)] - row[x.saturating_sub(1)]);
        let gy = 0.5 * (down[x] - up[x]);
        gxx[x] = gx * gx;
        gxy[x] = gx * gy;
        gyy[x] = gy * gy;
        gxe[x] = gx * e[x];
        gye[x] = gy * e[x];
    }
}

/// Catmull-Rom weights of the taps at `−1, 0, 1, 2` for a fraction `f`.
#[inline(always)]
pub(crate) fn catmull_rom(f: f32) -> [f32; 4] {
    let f2 = f * f;
    let f3 = f2 * f;
    [
        0.5 * (-f3 + 2.0 * f2 - f),
        0.5 * (3.0 * f3 - 5.0 * f2 + 2.0),
        0.5 * (-3.0 * f3 + 4.0 * f2 + f),
        0.5 * (f3 - f2),
    ]
}

/// The taps and Catmull-Rom weights of [`LANES`] samples, computed lane by
/// lane over plain arrays (vectorised); [`CubicLanes::sample`] then reads
/// each lane's sixteen taps. Same arithmetic as [`sample_cubic`].
struct CubicLanes {
    ix: [isize; LANES],
    iy: [isize; LANES],
    wx: [[f32; 4]; LANES],
    wy: [[f32; 4]; LANES],
}

impl CubicLanes {
    #[inline(always)]
    fn new(pos: &[[f32; 2]; LANES], w: usize, h: usize) -> Self {
        let mut c = CubicLanes {
            ix: [0; LANES],
            iy: [0; LANES],
            wx: [[0.0; 4]; LANES],
            wy: [[0.0; 4]; LANES],
        };
        for (l, p) in pos.iter().enumerate() {
            let x = p[0].clamp(-2.0, w as f32 + 1.0);
            let y = p[1].clamp(-2.0, h as f32 + 1.0);
            // Clamped, so within floor_small's range.
            let ((x0, ix), (y0, iy)) = (floor_small(x), floor_small(y));
            c.wx[l] = catmull_rom(x - x0);
            c.wy[l] = catmull_rom(y - y0);
            c.ix[l] = ix as isize;
            c.iy[l] = iy as isize;
        }
        c
    }

    /// Lane `l`'s sample of `p` (rows first, then the row sums).
    #[inline(always)]
    fn sample(&self, p: &Plane, l: usize) -> f32 {
        cubic_taps(p, self.ix[l], self.iy[l], &self.wx[l], &self.wy[l])
    }
}

/// Catmull-Rom bicubic sample of `p` at index coordinates, clamp to edge:
/// rows first (each row's four taps weighted left to right from 0), then
/// the four row sums top to bottom from 0. The plain form of
/// [`CubicLanes`], for the tests.
#[cfg(test)]
pub(crate) fn sample_cubic(p: &Plane, x: f32, y: f32) -> f32 {
    let x = x.clamp(-2.0, p.width as f32 + 1.0);
    let y = y.clamp(-2.0, p.height as f32 + 1.0);
    let (x0, y0) = (floor_f32(x), floor_f32(y));
    let (wx, wy) = (catmull_rom(x - x0), catmull_rom(y - y0));
    cubic_taps(p, x0 as isize, y0 as isize, &wx, &wy)
}

/// The weighted sum of the 4×4 taps from `(ix − 1, iy − 1)`, clamped to
/// the plane.
#[inline(always)]
fn cubic_taps(p: &Plane, ix: isize, iy: isize, wx: &[f32; 4], wy: &[f32; 4]) -> f32 {
    let (w, h) = (p.width as isize, p.height as isize);
    let mut acc = 0.0f32;
    if ix >= 1 && iy >= 1 && ix + 2 < w && iy + 2 < h {
        // Inside: four consecutive taps per row, no clamping.
        let base = (iy - 1) as usize * p.width + (ix - 1) as usize;
        let rows: [&[f32]; 4] = std::array::from_fn(|j| &p.data[base + j * p.width..][..4]);
        // The four rows side by side (the same sums, in the same order).
        let mut r = [0.0f32; 4];
        for (i, wxi) in wx.iter().enumerate() {
            for j in 0..4 {
                r[j] += wxi * rows[j][i];
            }
        }
        for (j, wyj) in wy.iter().enumerate() {
            acc += wyj * r[j];
        }
        return acc;
    }
    for (j, wyj) in wy.iter().enumerate() {
        let row = p.row_clamped(iy - 1 + j as isize);
        let mut r = 0.0f32;
        for (i, wxi) in wx.iter().enumerate() {
            let c = (ix - 1 + i as isize).clamp(0, w - 1) as usize;
            r += wxi * row[c];
        }
        acc += wyj * r;
    }
    acc
}

/// Step 2's row sums of one term: `out[x] = Σ_{dx=−r..=r} v[clamp(x+dx)]`,
/// left to right from 0.
fn row_sums(v: &[f32], out: &mut [f32], r: usize) {
    let w = v.len();
    let taps = 2 * r + 1;
    let at = |x: usize, d: usize| v[(x + d).saturating_sub(r).min(w - 1)];
    let clamped = |x: usize, o: &mut f32| {
        let mut acc = 0.0f32;
        for d in 0..taps {
            acc += at(x, d);
        }
        *o = acc;
    };
    if w < taps {
        for (x, o) in out.iter_mut().enumerate() {
            clamped(x, o);
        }
        return;
    }
    // Away from the edges the window is `v[x − r..=x + r]`: the sums in
    // the same order, a shifted slice at a time (vectorised).
    let inner = &mut out[r..w - r];
    inner.fill(0.0);
    for d in 0..taps {
        for (o, val) in inner.iter_mut().zip(&v[d..]) {
            *o += val;
        }
    }
    for x in (0..r).chain(w - r..w) {
        clamped(x, &mut out[x]);
    }
}

/// Step 3: the vector `v` moved by the window's Lucas–Kanade step, from the
/// window sums `[S[gx²], S[gx·gy], S[gy²], S[gx·e], S[gy·e]]`.
#[inline(always)]
fn step(v: [f32; 2], [sxx, sxy, syy, sxe, sye]: [f32; TERMS]) -> [f32; 2] {
    let a11 = sxx + POLISH_LAMBDA;
    let a22 = syy + POLISH_LAMBDA;
    let det = a11 * a22 - sxy * sxy;
    let du = -(a22 * sxe - sxy * sye) / det;
    let dv = -(a11 * sye - sxy * sxe) / det;
    // A singular (or NaN) window, or one holding a non-finite vector (its
    // `e` is NaN), takes no step. (A select, not a branch: the loop over a
    // row vectorises.)
    let take = det > POLISH_MIN_DET && du.abs() <= f32::MAX && dv.abs() <= f32::MAX;
    let m = POLISH_MAX_STEP;
    let stepped = [v[0] + du.max(-m).min(m), v[1] + dv.max(-m).min(m)];
    if take { stepped } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::flow::fixtures::{FlowPair, translation_pair};
    use crate::test_support::Rng;

    /// The locally normalised luma of an image, as the pipeline feeds
    /// pass 8b.
    fn normalized(image: &crate::image::Image) -> Plane {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let luma = Plane::from_vec(w, h, crate::ops::flow::range_compressed_luma(image));
        crate::ops::flow::pyramid::normalize(&luma, 2, 0.01)
    }

    /// A photo pair shifted by `truth` (the flow fixtures'), normalised.
    fn photo_pair(w: usize, h: usize, truth: [f32; 2]) -> (Plane, Plane, FlowPair) {
        let pair = translation_pair(w, h, truth[0], truth[1]);
        (normalized(&pair.a), normalized(&pair.b), pair)
    }

    fn mean_error(flow: &FlowField, truth: [f32; 2], border: usize) -> f32 {
        let (w, h) = (flow.width() as usize, flow.height() as usize);
        let mut sum = 0.0;
        let mut count = 0;
        for y in border..h - border {
            for x in border..w - border {
                let v = flow.vectors()[y * w + x];
                sum += ((v[0] - truth[0]).powi(2) + (v[1] - truth[1]).powi(2)).sqrt();
                count += 1;
            }
        }
        sum / count as f32
    }

    /// A flow 0.36 px off on a photo shifted by a known sub-pixel amount
    /// moves toward the truth, and further with a second step.
    #[test]
    fn a_step_recovers_sub_pixel_motion() {
        let (w, h) = (96, 64);
        let truth = [2.35, -1.6];
        let (a, b, _) = photo_pair(w, h, truth);
        let start = [truth[0] - 0.3, truth[1] + 0.2];
        let mut flow = FlowField::from_vectors(w as u32, h as u32, vec![start; w * h]).unwrap();
        let before = mean_error(&flow, truth, 6);
        polish(&mut flow, &a, &b, 1);
        let one = mean_error(&flow, truth, 6);
        polish(&mut flow, &a, &b, 1);
        let two = mean_error(&flow, truth, 6);
        assert!(before > 0.35, "{before}");
        assert!(one < 0.75 * before, "one step: {before} -> {one}");
        // λ damps each step: a second one gets closer still.
        assert!(two < one, "two steps: {one} -> {two}");
    }

    /// A gain and an offset between the frames (a brightness change) do
    /// not change the step much: the planes are locally normalised.
    #[test]
    fn a_brightness_change_between_the_frames_barely_changes_the_step() {
        let (w, h) = (64, 48);
        let truth = [1.5, 0.75];
        let (a, b, mut pair) = photo_pair(w, h, truth);
        for p in pair.b.pixels_mut() {
            for c in &mut p[..3] {
                *c = 1.3 * *c + 0.1;
            }
        }
        let brighter = normalized(&pair.b);
        let start = [1.2, 0.95];
        let flow = FlowField::from_vectors(w as u32, h as u32, vec![start; w * h]).unwrap();
        let (mut plain, mut lit) = (flow.clone(), flow);
        polish(&mut plain, &a, &b, 1);
        polish(&mut lit, &a, &brighter, 1);
        let moved = mean_error(&plain, start, 4);
        let (p, l) = (mean_error(&plain, truth, 4), mean_error(&lit, truth, 4));
        assert!(moved > 0.1, "the step moves the flow: {moved}");
        // From 0.36 px off: both closer, and within 0.02 px of each other.
        assert!(p < 0.3 && l < 0.3, "errors {p} (plain), {l} (brighter)");
        assert!((p - l).abs() < 0.02, "errors {p} (plain), {l} (brighter)");
    }

    /// Steps are clamped, flat windows keep their vectors, and a NaN vector
    /// neither spreads nor panics.
    #[test]
    fn steps_are_bounded_and_flat_or_broken_windows_are_kept() {
        let (w, h) = (40, 30);
        let mut rng = Rng::new(3);
        let a = Plane::from_vec(w, h, (0..w * h).map(|_| rng.next_f32()).collect());
        let b = Plane::from_vec(w, h, (0..w * h).map(|_| rng.next_f32()).collect());
        let start = [0.25, -0.5];
        let mut flow = FlowField::from_vectors(w as u32, h as u32, vec![start; w * h]).unwrap();
        polish(&mut flow, &a, &b, 1);
        for v in flow.vectors() {
            assert!((v[0] - start[0]).abs() <= POLISH_MAX_STEP);
            assert!((v[1] - start[1]).abs() <= POLISH_MAX_STEP);
        }
        let flat = Plane::from_vec(w, h, vec![0.5; w * h]);
        let mut flow = FlowField::from_vectors(w as u32, h as u32, vec![start; w * h]).unwrap();
        polish(&mut flow, &flat, &b, 1);
        // λ only: no gradient, no step.
        assert!(flow.vectors().iter().all(|v| *v == start));
        let mut vectors = vec![start; w * h];
        vectors[5 * w + 7] = [f32::NAN, 0.0];
        let mut flow = FlowField::from_vectors(w as u32, h as u32, vectors).unwrap();
        polish(&mut flow, &a, &b, 1);
        for (k, v) in flow.vectors().iter().enumerate() {
            if k != 5 * w + 7 {
                assert!(v[0].is_finite() && v[1].is_finite(), "pixel {k}: {v:?}");
            }
        }
    }

    /// The banded implementation equals a plain per-pixel evaluation of the
    /// module docs' arithmetic, at the edges too.
    #[test]
    fn banded_sums_match_the_plain_definition() {
        let (w, h) = (37, 41); // bands of 16 rows with a partial last one
        let mut rng = Rng::new(9);
        let a = Plane::from_vec(w, h, (0..w * h).map(|_| rng.next_f32()).collect());
        let b = Plane::from_vec(w, h, (0..w * h).map(|_| rng.next_f32()).collect());
        let vectors: Vec<[f32; 2]> = (0..w * h)
            .map(|_| [rng.next_f32() * 6.0 - 3.0, rng.next_f32() * 6.0 - 3.0])
            .collect();
        let flow = FlowField::from_vectors(w as u32, h as u32, vectors.clone()).unwrap();
        let got = polish_once(&flow, &a, &b);
        let r = POLISH_RADIUS as isize;
        let clamp = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
        let term = |x: usize, y: usize| -> [f32; TERMS] {
            let (xi, yi) = (x as isize, y as isize);
            let gx = 0.5 * (a.at(xi + 1, yi) - a.at(xi - 1, yi));
            let gy = 0.5 * (a.at(xi, yi + 1) - a.at(xi, yi - 1));
            let u = vectors[y * w + x];
            let e = sample_cubic(&b, x as f32 + u[0], y as f32 + u[1]) - a.at(xi, yi);
            [gx * gx, gx * gy, gy * gy, gx * e, gy * e]
        };
        for y in 0..h {
            for x in 0..w {
                let mut s = [0.0f32; TERMS];
                for (t, st) in s.iter_mut().enumerate() {
                    let mut acc = 0.0f32;
                    for dy in -r..=r {
                        let mut row = 0.0f32;
                        for dx in -r..=r {
                            row += term(clamp(x as isize + dx, w), clamp(y as isize + dy, h))[t];
                        }
                        acc += row;
                    }
                    *st = acc;
                }
                let want = step(vectors[y * w + x], s);
                assert_eq!(got.vectors()[y * w + x], want, "pixel ({x}, {y})");
            }
        }
    }
}
