//! Pass 3: the image pyramid (Burt & Adelson 1983, with a 4-tap binomial
//! kernel), per-level local contrast normalisation and Sobel gradients.
//!
//! The pyramid is built on the range-compressed luma at the analysis
//! resolution. Each level is then normalised on its own and differentiated;
//! the raw levels are not kept.

use rayon::prelude::*;

use super::plane::{Plane, padded_row};

/// Upper bound on the pyramid depth (the analysis size decides first).
pub(crate) const MAX_LEVELS: usize = 12;

/// One pyramid level of one frame, everything a search or refinement pass
/// reads from it.
#[derive(Clone, Debug)]
pub(crate) struct Level {
    /// Locally normalised luma ([`normalize`]).
    pub image: Plane,
    /// Horizontal derivative of `image` ([`gradients`]).
    pub gx: Plane,
    /// Vertical derivative of `image`.
    pub gy: Plane,
    /// Smoothness weight from the raw luma's edges ([`edge_weights`]).
    pub edge: Plane,
}

impl Level {
    /// Normalises `raw`, takes the gradients of the result and the edge
    /// weights of `raw` itself.
    pub fn new(raw: &Plane, radius: usize, epsilon: f32, edge_sigma: f32) -> Self {
        let image = normalize(raw, radius, epsilon);
        let (gx, gy) = gradients(&image);
        let edge = edge_weights(raw, edge_sigma);
        Level {
            image,
            gx,
            gy,
            edge,
        }
    }
}

/// How many levels a pyramid over `width × height` gets: the analysis level,
/// then halvings while the next level's shorter side is still at least
/// `min_side` pixels (at most [`MAX_LEVELS`]). With `min_side = patch`, the
/// coarsest level is 1–2 patches across its shorter side, so a patch's
/// search range there covers a motion of about half the picture's height.
pub(crate) fn level_count(width: usize, height: usize, min_side: usize) -> usize {
    let (mut w, mut h) = (width, height);
    let mut levels = 1;
    while levels < MAX_LEVELS && w.div_ceil(2).min(h.div_ceil(2)) >= min_side.max(2) {
        w = w.div_ceil(2);
        h = h.div_ceil(2);
        levels += 1;
    }
    levels
}

/// Binomial kernel `[1, 3, 3, 1] / 8` of the 2× reduction.
pub const REDUCE_TAPS: [f32; 4] = [0.125, 0.375, 0.375, 0.125];

/// Halves a plane: output `ceil(w/2) × ceil(h/2)`, output pixel `i` centred
/// between input pixels `2i` and `2i + 1`, filtered with `[1 3 3 1]/8` over
/// inputs `2i − 1 ..= 2i + 2` (clamp-to-edge), first along rows, then along
/// columns. A vector at level `l + 1` is half as long as at level `l`.
pub(crate) fn halve(src: &Plane) -> Plane {
    let w = src.width.div_ceil(2);
    let h = src.height.div_ceil(2);
    // Horizontal pass: w × src.height.
    let mut tmp = Plane::zeros(w, src.height);
    tmp.data
        .par_chunks_mut(w)
        .enumerate()
        .for_each_init(Vec::new, |pad, (y, row)| {
            // pad[j] = src(clamp(j − 1)), so input 2i − 1 + k is pad[2i + k].
            padded_row(src.row(y), 1, 3, pad);
            for (i, o) in row.iter_mut().enumerate() {
                let p = &pad[2 * i..2 * i + 4];
                *o = REDUCE_TAPS[0] * p[0]
                    + REDUCE_TAPS[1] * p[1]
                    + REDUCE_TAPS[2] * p[2]
                    + REDUCE_TAPS[3] * p[3];
            }
        });
    // Vertical pass: w × h.
    let mut out = Plane::zeros(w, h);
    out.data.par_chunks_mut(w).enumerate().for_each(|(j, row)| {
        let y = 2 * j as isize;
        let rows = [
            tmp.row_clamped(y - 1),
            tmp.row_clamped(y),
            tmp.row_clamped(y + 1),
            tmp.row_clamped(y + 2),
        ];
        for (i, o) in row.iter_mut().enumerate() {
            *o = REDUCE_TAPS[0] * rows[0][i]
                + REDUCE_TAPS[1] * rows[1][i]
                + REDUCE_TAPS[2] * rows[2][i]
                + REDUCE_TAPS[3] * rows[3][i];
        }
    });
    out
}

/// Local contrast normalisation: `(I − μ) / sqrt(σ² + ε²)` with the mean `μ`
/// and variance `σ² = E[(I − μ)²]` over the `(2r+1)²` box around each pixel
/// (clamp-to-edge): `μ` from box sums taken along rows first (in tap order
/// `−r..=r`), then columns; `σ²` summed directly over the box, each row's
/// squares in tap order, then the rows.
///
/// A change of brightness `a·I + b` that is smooth over the box leaves the
/// result unchanged wherever `σ ≫ ε`, which is what makes the flow robust to
/// exposure and lighting changes; `ε` keeps flat, noisy areas from being
/// amplified into false texture.
///
/// Why the variance is not `E[I²] − μ²` (one more pass of box sums, 25
/// fewer multiply-adds a pixel): where the box is nearly flat the
/// subtraction cancels all but a few bits, and the result divides by
/// `sqrt(σ² + ε²)` (up to `1/ε = 100` times): an ulp of `E[I²]` becomes
/// ~2·10⁻⁴ of `N`. A GPU that fuses the multiply-adds (NVIDIA's does) then
/// parts from this reference by that much, and the flow's discrete choices
/// (patch search, tie-breaks) amplify it; summed directly, both agree within
/// ~10⁻⁶ (measured on an H100).
pub(crate) fn normalize(src: &Plane, radius: usize, epsilon: f32) -> Plane {
    let (w, h) = (src.width, src.height);
    let taps = 2 * radius + 1;
    let n = (taps * taps) as f32;
    // Horizontal sums of I.
    let mut s1 = Plane::zeros(w, h);
    s1.data
        .par_chunks_mut(w)
        .enumerate()
        .for_each_init(Vec::new, |pad, (y, r1)| {
            padded_row(src.row(y), radius, radius, pad);
            for k in 0..taps {
                for (o, p) in r1.iter_mut().zip(&pad[k..k + w]) {
                    *o += p;
                }
            }
        });
    let eps2 = epsilon * epsilon;
    let inv_n = 1.0 / n;
    let mut out = Plane::zeros(w, h);
    out.data.par_chunks_mut(w).enumerate().for_each_init(
        || (vec![0.0f32; w], vec![0.0f32; w], Vec::new()),
        |(mean, var, pad), (y, row)| {
            mean.fill(0.0);
            var.fill(0.0);
            for k in 0..taps {
                let yy = y as isize + k as isize - radius as isize;
                for (m, q) in mean.iter_mut().zip(s1.row_clamped(yy)) {
                    *m += q;
                }
            }
            for m in mean.iter_mut() {
                *m *= inv_n;
            }
            for k in 0..taps {
                let yy = y as isize + k as isize - radius as isize;
                padded_row(src.row_clamped(yy), radius, radius, pad);
                add_row_squares(var, mean, pad, taps);
            }
            for (((o, &p), m), v) in row
                .iter_mut()
                .zip(src.row(y))
                .zip(mean.iter())
                .zip(var.iter())
            {
                *o = (p - m) / (v * inv_n + eps2).sqrt();
            }
        },
    );
    out
}

/// `var[x] += Σ_dx (pad[x + dx] − mean[x])²` over `dx = 0..taps`, the row's
/// terms summed first (in tap order) and then added, as the GPU's
/// `normalize` does; eight pixels at a time so the row sum stays in
/// registers.
#[inline(always)]
fn add_row_squares(var: &mut [f32], mean: &[f32], pad: &[f32], taps: usize) {
    const LANES: usize = 8;
    let w = var.len();
    let body = w - w % LANES;
    for ((v, m), x0) in var[..body]
        .chunks_exact_mut(LANES)
        .zip(mean[..body].chunks_exact(LANES))
        .zip((0..body).step_by(LANES))
    {
        let mut q = [0.0f32; LANES];
        for dx in 0..taps {
            let p = &pad[x0 + dx..x0 + dx + LANES];
            for l in 0..LANES {
                let d = p[l] - m[l];
                q[l] += d * d;
            }
        }
        for l in 0..LANES {
            v[l] += q[l];
        }
    }
    for x in body..w {
        let mut q = 0.0f32;
        for p in &pad[x..x + taps] {
            let d = p - mean[x];
            q += d * d;
        }
        var[x] += q;
    }
}

/// Sobel derivatives divided by 8 (so a ramp of slope 1 gives 1), clamp-to-
/// edge: `gx = Σ_dy k(dy)·(I(x+1, y+dy) − I(x−1, y+dy)) / 8` with
/// `k = [1, 2, 1]`, and the same across rows for `gy`.
pub(crate) fn gradients(src: &Plane) -> (Plane, Plane) {
    let (w, h) = (src.width, src.height);
    let mut gx = Plane::zeros(w, h);
    let mut gy = Plane::zeros(w, h);
    gx.data
        .par_chunks_mut(w)
        .zip(gy.data.par_chunks_mut(w))
        .enumerate()
        .for_each_init(SobelRows::default, |rows, (y, (rx, ry))| {
            rows.run(src, y, rx, ry)
        });
    (gx, gy)
}

/// Edge weights of the refinement's smoothness term: `1/(1 + |∇L|²/σ²)`
/// with `∇L` the [`gradients`] of the raw (not normalised) luma of the
/// level, so smoothing is weak across strong picture edges, where motion
/// boundaries sit, and full in flat or weakly textured areas.
pub(crate) fn edge_weights(raw: &Plane, sigma: f32) -> Plane {
    let w = raw.width;
    let mut out = Plane::zeros(w, raw.height);
    let inv = 1.0 / (sigma * sigma);
    out.data.par_chunks_mut(w).enumerate().for_each_init(
        || (SobelRows::default(), vec![0.0f32; w], vec![0.0f32; w]),
        |(rows, gx, gy), (y, row)| {
            rows.run(raw, y, gx, gy);
            for ((o, a), b) in row.iter_mut().zip(gx.iter()).zip(gy.iter()) {
                *o = 1.0 / (1.0 + (a * a + b * b) * inv);
            }
        },
    );
    out
}

/// Scratch of [`gradients`]: the three input rows around `y`, padded by one
/// sample each side (clamp-to-edge), so input `x + d` is `pad[x + 1 + d]`.
#[derive(Default)]
struct SobelRows {
    up: Vec<f32>,
    mid: Vec<f32>,
    down: Vec<f32>,
}

impl SobelRows {
    /// Sobel/8 derivatives of row `y` of `src` into `gx`, `gy`.
    fn run(&mut self, src: &Plane, y: usize, gx: &mut [f32], gy: &mut [f32]) {
        let y = y as isize;
        padded_row(src.row_clamped(y - 1), 1, 1, &mut self.up);
        padded_row(src.row_clamped(y), 1, 1, &mut self.mid);
        padded_row(src.row_clamped(y + 1), 1, 1, &mut self.down);
        let (up, mid, down) = (&self.up, &self.mid, &self.down);
        for x in 0..src.width {
            gx[x] = ((up[x + 2] - up[x]) + 2.0 * (mid[x + 2] - mid[x]) + (down[x + 2] - down[x]))
                * 0.125;
            gy[x] =
                ((down[x] - up[x]) + 2.0 * (down[x + 1] - up[x + 1]) + (down[x + 2] - up[x + 2]))
                    * 0.125;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_count_follows_the_size() {
        assert_eq!(level_count(960, 540, 16), 6);
        assert_eq!(level_count(1, 1, 16), 1);
        assert_eq!(level_count(7, 5, 16), 1);
        assert_eq!(level_count(64, 32, 16), 2);
    }

    #[test]
    fn halve_keeps_a_ramp_aligned() {
        // A ramp I(x) = x halves to I'(i) = 2i + 0.5 away from the edges:
        // output pixel i is centred between inputs 2i and 2i+1.
        let src = Plane::from_vec(8, 1, (0..8).map(|x| x as f32).collect());
        let out = halve(&src);
        assert_eq!(out.width, 4);
        assert!((out.data[1] - 2.5).abs() < 1e-6 && (out.data[2] - 4.5).abs() < 1e-6);
    }

    #[test]
    fn normalisation_cancels_gain_and_offset() {
        let src = Plane::from_vec(
            16,
            16,
            (0..256).map(|i| ((i * 37 % 11) as f32) * 0.1).collect(),
        );
        let bright = Plane::from_vec(16, 16, src.data.iter().map(|v| 1.3 * v + 0.2).collect());
        let (a, b) = (normalize(&src, 2, 1e-4), normalize(&bright, 2, 1e-4));
        for (x, y) in a.data.iter().zip(&b.data) {
            assert!((x - y).abs() < 1e-2, "{x} vs {y}");
        }
    }

    #[test]
    fn sobel_of_a_ramp_is_its_slope() {
        let src = Plane::from_vec(
            5,
            5,
            (0..25)
                .map(|i| (i % 5) as f32 * 2.0 + (i / 5) as f32)
                .collect(),
        );
        let (gx, gy) = gradients(&src);
        assert!((gx.data[12] - 2.0).abs() < 1e-6 && (gy.data[12] - 1.0).abs() < 1e-6);
    }
}
