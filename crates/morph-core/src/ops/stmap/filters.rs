//! The STMap filters, each a function of one output pixel's sample position
//! (and, for the anisotropic and EWA filters, its Jacobian): what one shader
//! invocation does. They hand `(texel, weight)` taps to an `Accum` that sums
//! every channel of every source plane with the same weights.
//!
//! Conventions (source pixel `i` is centred at `i + 0.5`):
//! - **Repeat** works on integer texel indices, per axis, as a GPU sampler's
//!   address mode: `Off` → the texel is transparent black (zero in every
//!   channel, its weight still counts), `Mirrored` → period `2n` with the edge
//!   texel repeated (`-1 → 0`), `Tiled` → `i mod n`, `Last` → clamp.
//! - **Nearest**: texel `⌊u⌋, ⌊v⌋`.
//! - **Linear**: bilinear on the four texels around `(u − ½, v − ½)`.
//! - **Cubic** (Mitchell & Netravali 1988, *Reconstruction Filters in
//!   Computer Graphics*): 4×4 separable taps with
//!   `k(x) = ((12−9B−6C)|x|³ + (−18+12B+6C)|x|² + (6−2B)) / 6` for `|x| < 1`,
//!   `((−B−6C)|x|³ + (6B+30C)|x|² + (−12B−48C)|x| + (8B+24C)) / 6` for
//!   `1 ≤ |x| < 2`; Mitchell–Netravali `B = C = ⅓`, Catmull–Rom `B = 0, C = ½`.
//!   Catmull–Rom interpolates (weights 0, 1, 0, 0 at a centre, exactly in f32);
//!   Mitchell does not (⅟₁₈, ¹⁶⁄₁₈, ⅟₁₈: a slight blur). Negative lobes may
//!   overshoot; nothing is clamped.
//! - **Anisotropic**: a lattice of bilinear probes over the pixel footprint,
//!   the parallelogram `p + J·[−½, ½]²`: `n_x = ⌈|J·e_x| − 2⁻⁸⌉` probes along
//!   the first Jacobian column and `n_y` along the second, each clamped to
//!   1..=[`ANISO_MAX_PROBES`], equal weights — so a footprint long in one
//!   direction gets a line of probes along its major axis (hardware
//!   anisotropic filtering, EXT_texture_filter_anisotropic; Schilling,
//!   Knittel & Straßer 1996, *Texram*), and, with no mip pyramid to cover the
//!   minor axis, a minified minor axis gets extra rows instead of a coarser
//!   level. Where the footprint is at most one pixel both ways it is a single
//!   bilinear probe, which is why `Aniso + Linear` (bilinear wherever
//!   `σ₁ < 1`) gives the same pixels as `Anisotropic`: both names are kept for
//!   Flame's menu, as a sampler's anisotropic magnification filter is bilinear.
//!   Past the cap, probes spread evenly (spacing > 1 px): beyond 16× a minified
//!   axis aliases, gradually.
//! - **EWA** (Heckbert 1989, *Fundamentals of Texture Mapping and Image
//!   Warping*, §3.5.8; Greene & Heckbert 1986): a Gaussian over the footprint
//!   ellipse. Its axes are the Jacobian's singular vectors with radii
//!   `r_i = clamp(σ_i, 1, 16)` (`r₂ ≤ r₁`) — the image of a one-output-pixel
//!   circle, i.e. the footprint radius `ρ_i = ½σ_i` with the minor radius
//!   floored at **0.5 px** (SPEC §3) — and
//!   `q = (d·e₁ / r₁)² + (d·e₂ / r₂)²`,
//!   `w = (e^{−αq} − e^{−αQ}) / (1 − e^{−αQ})` for `q < Q`, with `α = 2` (PBRT's
//!   choice: a Gaussian of standard deviation `ρ_i`, minus its value at the
//!   cut-off so weights fall continuously to zero) and `Q = 0.98` (the cut-off
//!   sits 1% inside `r_i`, so the four neighbours of a centre, at exactly
//!   `r = 1` on the identity map, get no weight despite rounding in the finite
//!   differences). The sum is normalised by the weights (texels outside with
//!   `Repeat Off` count as zero-valued).
//!   Behaviour: on the identity map only the centre texel is inside, with
//!   weight 1 — EWA reproduces the input exactly. Where the map magnifies the
//!   radii are floored at 1 px (σ = 0.5 px): a smooth Gaussian interpolation,
//!   softer than bilinear, exact at centres; `EWA + Linear` uses bilinear
//!   there instead (wherever `σ₁ < 1`).
//!   **Cap and fallback**: `r₁` is capped at [`EWA_MAX_RADIUS`] (16 source px,
//!   a loop of at most 33 × 33 texels); a footprint larger than that is cut
//!   to the cap along that axis (the ellipse is shrunk, not prefiltered), so
//!   minification beyond 16× along an axis aliases along it — as a 32-px-wide
//!   Gaussian does, far less than Linear.

use crate::params::{RepeatMode, StMapFilter};

use super::footprint::Jacobian;
use super::framing::{Cell, floor_i32};

/// Most bilinear probes per Jacobian column for the anisotropic filter
/// (≤ 256 probes, 1024 texel reads per pixel).
pub const ANISO_MAX_PROBES: u32 = 16;

/// Tolerance in the anisotropic probe count `⌈len − 2⁻⁸⌉`: a footprint of
/// exactly one pixel (up to rounding in the finite differences) is one probe.
pub const ANISO_COUNT_SLACK: f32 = 1.0 / 256.0;

/// Cap on the EWA ellipse's radii, in source pixels (loop ≤ 33 × 33 texels).
pub const EWA_MAX_RADIUS: f32 = 16.0;

/// Gaussian sharpness α of the EWA weight `e^{−αq}` (PBRT's value).
pub const EWA_ALPHA: f32 = 2.0;

/// EWA cut-off `Q` on the normalised radius² `q`.
pub const EWA_CUTOFF: f32 = 0.98;

/// Mitchell–Netravali (B = C = ⅓) kernel as `[near, far]` polynomial
/// coefficients, already divided by 6 (see [`Cubic`]).
pub const MITCHELL: Cubic = Cubic::new(1.0 / 3.0, 1.0 / 3.0);

/// Catmull–Rom (B = 0, C = ½): every coefficient is a multiple of ½, exact in
/// f32, so the weights at a pixel centre are exactly (0, 1, 0, 0).
pub const CATMULL_ROM: Cubic = Cubic::new(0.0, 0.5);

/// A Mitchell–Netravali cubic in Horner form: `near(x) = (n3·x + n2)·x² + n0`
/// for `|x| < 1`, `far(x) = ((f3·x + f2)·x + f1)·x + f0` for `1 ≤ |x| < 2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cubic {
    /// `[n3, n2, n0]`.
    pub near: [f32; 3],
    /// `[f3, f2, f1, f0]`.
    pub far: [f32; 4],
}

impl Cubic {
    /// The kernel for parameters B, C.
    pub const fn new(b: f32, c: f32) -> Cubic {
        Cubic {
            near: [
                (12.0 - 9.0 * b - 6.0 * c) / 6.0,
                (-18.0 + 12.0 * b + 6.0 * c) / 6.0,
                (6.0 - 2.0 * b) / 6.0,
            ],
            far: [
                (-b - 6.0 * c) / 6.0,
                (6.0 * b + 30.0 * c) / 6.0,
                (-12.0 * b - 48.0 * c) / 6.0,
                (8.0 * b + 24.0 * c) / 6.0,
            ],
        }
    }

    #[inline(always)]
    fn near(&self, x: f32) -> f32 {
        (self.near[0] * x + self.near[1]) * x * x + self.near[2]
    }

    #[inline(always)]
    fn far(&self, x: f32) -> f32 {
        ((self.far[0] * x + self.far[1]) * x + self.far[2]) * x + self.far[3]
    }

    /// Weights of the taps at offsets −1, 0, 1, 2 from `⌊x − ½⌋` for a
    /// fraction `f` in [0, 1].
    #[inline(always)]
    pub fn weights(&self, f: f32) -> [f32; 4] {
        [
            self.far(1.0 + f),
            self.near(f),
            self.near(1.0 - f),
            self.far(2.0 - f),
        ]
    }
}

/// Maps a texel index through a repeat mode; `None` is transparent black.
#[inline(always)]
pub fn address(i: i32, n: i32, mode: RepeatMode) -> Option<i32> {
    match mode {
        RepeatMode::Off => (i >= 0 && i < n).then_some(i),
        RepeatMode::Tiled => Some(i.rem_euclid(n)),
        RepeatMode::Mirrored => {
            let m = i.rem_euclid(2 * n);
            Some(if m < n { m } else { 2 * n - 1 - m })
        }
        RepeatMode::Last => Some(i.clamp(0, n - 1)),
    }
}

/// The planes a filter reads: the Front (RGBA + extra channels) and the
/// optional Matte (RGBA + extra), all of the Front's size.
#[derive(Clone, Debug)]
pub(crate) struct Source<'a> {
    pub w: i32,
    pub h: i32,
    pub rgba: &'a [[f32; 4]],
    pub matte: Option<&'a [[f32; 4]]>,
    /// Front extra channels, then the Matte's.
    pub extra: Vec<&'a [f32]>,
    pub repeat_x: RepeatMode,
    pub repeat_y: RepeatMode,
}

/// Sums taps over every channel of the source. Every channel goes through
/// the same scalar formulas ([`lerp2`], [`cubic_sum`]) in the same order, so
/// an RGBA-only run and one with a matte and extra channels agree bit for bit.
pub(crate) trait Accum {
    /// Adds `w ×` texel `idx` (already addressed, inside the source).
    fn add(&mut self, src: &Source<'_>, idx: usize, w: f32);
    /// Adds `weight ×` the bilinear blend of texels `idx, idx+1, idx+stride,
    /// idx+stride+1` (all inside the source).
    fn add_bilinear(
        &mut self,
        src: &Source<'_>,
        idx: usize,
        stride: usize,
        f: [f32; 2],
        weight: f32,
    );
    /// Adds the separable 4×4 blend of the texels from `idx` (top-left, all
    /// inside the source).
    fn add_cubic(
        &mut self,
        src: &Source<'_>,
        idx: usize,
        stride: usize,
        wx: [f32; 4],
        wy: [f32; 4],
    );
    /// Multiplies everything summed so far by `k`.
    fn scale(&mut self, k: f32);
}

/// Bilinear blend in lerp form, `top + (bottom − top)·fy` with
/// `top = p00 + (p10 − p00)·fx`: three multiplies, exact at `f = 0`.
#[inline(always)]
pub(crate) fn lerp2(p: [f32; 4], fx: f32, fy: f32) -> f32 {
    let top = p[0] + (p[1] - p[0]) * fx;
    let bottom = p[2] + (p[3] - p[2]) * fx;
    top + (bottom - top) * fy
}

/// Separable cubic blend of a 4×4 block (rows top-down), rows first.
#[inline(always)]
pub(crate) fn cubic_sum(p: impl Fn(usize, usize) -> f32, wx: [f32; 4], wy: [f32; 4]) -> f32 {
    let mut acc = 0.0;
    for (b, wyb) in wy.iter().enumerate() {
        let row = wx[0] * p(b, 0) + wx[1] * p(b, 1) + wx[2] * p(b, 2) + wx[3] * p(b, 3);
        acc += wyb * row;
    }
    acc
}

#[inline(always)]
pub(super) fn bilinear4(
    plane: &[[f32; 4]],
    idx: usize,
    stride: usize,
    [fx, fy]: [f32; 2],
) -> [f32; 4] {
    let (a, b) = (&plane[idx..idx + 2], &plane[idx + stride..idx + stride + 2]);
    let (p00, p10, p01, p11) = (a[0], a[1], b[0], b[1]);
    let mut out = [0.0; 4];
    for c in 0..4 {
        // lerp2, lane by lane (written out so it vectorises)
        let top = p00[c] + (p10[c] - p00[c]) * fx;
        let bottom = p01[c] + (p11[c] - p01[c]) * fx;
        out[c] = top + (bottom - top) * fy;
    }
    out
}

#[inline(always)]
fn bilinear1(plane: &[f32], idx: usize, stride: usize, [fx, fy]: [f32; 2]) -> f32 {
    let (a, b) = (&plane[idx..idx + 2], &plane[idx + stride..idx + stride + 2]);
    lerp2([a[0], a[1], b[0], b[1]], fx, fy)
}

#[inline(always)]
pub(super) fn cubic4(
    plane: &[[f32; 4]],
    idx: usize,
    stride: usize,
    wx: [f32; 4],
    wy: [f32; 4],
) -> [f32; 4] {
    // cubic_sum, lane by lane (written out so it vectorises)
    let mut acc = [0.0; 4];
    for (b, wyb) in wy.iter().enumerate() {
        let r = &plane[idx + b * stride..idx + b * stride + 4];
        let mut row = [0.0; 4];
        for c in 0..4 {
            row[c] = wx[0] * r[0][c] + wx[1] * r[1][c] + wx[2] * r[2][c] + wx[3] * r[3][c];
        }
        for c in 0..4 {
            acc[c] += wyb * row[c];
        }
    }
    acc
}

#[inline(always)]
fn cubic1(plane: &[f32], idx: usize, stride: usize, wx: [f32; 4], wy: [f32; 4]) -> f32 {
    let rows: [&[f32]; 4] = std::array::from_fn(|b| &plane[idx + b * stride..idx + b * stride + 4]);
    cubic_sum(|b, a| rows[b][a], wx, wy)
}

/// `acc += w · p`, lane by lane.
#[inline(always)]
pub(super) fn axpy(acc: &mut [f32; 4], w: f32, p: [f32; 4]) {
    for (a, p) in acc.iter_mut().zip(p) {
        *a += w * p;
    }
}

/// `acc += p`, lane by lane.
#[inline(always)]
pub(super) fn add4(acc: &mut [f32; 4], p: [f32; 4]) {
    for (a, p) in acc.iter_mut().zip(p) {
        *a += p;
    }
}

/// Front RGBA only: the common case, kept lean.
pub(crate) struct RgbaAcc(pub [f32; 4]);

impl Accum for RgbaAcc {
    #[inline(always)]
    fn add(&mut self, src: &Source<'_>, idx: usize, w: f32) {
        axpy(&mut self.0, w, src.rgba[idx]);
    }

    #[inline(always)]
    fn add_bilinear(
        &mut self,
        src: &Source<'_>,
        idx: usize,
        stride: usize,
        f: [f32; 2],
        weight: f32,
    ) {
        axpy(&mut self.0, weight, bilinear4(src.rgba, idx, stride, f));
    }

    #[inline(always)]
    fn add_cubic(
        &mut self,
        src: &Source<'_>,
        idx: usize,
        stride: usize,
        wx: [f32; 4],
        wy: [f32; 4],
    ) {
        add4(&mut self.0, cubic4(src.rgba, idx, stride, wx, wy));
    }

    #[inline(always)]
    fn scale(&mut self, k: f32) {
        for v in &mut self.0 {
            *v *= k;
        }
    }
}

/// Front RGBA, Matte RGBA and every extra channel (summed straight into the
/// output row's cells, which start at zero).
pub(crate) struct FullAcc<'r> {
    pub rgba: [f32; 4],
    pub matte: [f32; 4],
    pub extra: &'r mut [f32],
}

impl Accum for FullAcc<'_> {
    #[inline(always)]
    fn add(&mut self, src: &Source<'_>, idx: usize, w: f32) {
        axpy(&mut self.rgba, w, src.rgba[idx]);
        if let Some(m) = src.matte {
            axpy(&mut self.matte, w, m[idx]);
        }
        for (acc, plane) in self.extra.iter_mut().zip(&src.extra) {
            *acc += w * plane[idx];
        }
    }

    #[inline(always)]
    fn add_bilinear(
        &mut self,
        src: &Source<'_>,
        idx: usize,
        stride: usize,
        f: [f32; 2],
        weight: f32,
    ) {
        axpy(&mut self.rgba, weight, bilinear4(src.rgba, idx, stride, f));
        if let Some(m) = src.matte {
            axpy(&mut self.matte, weight, bilinear4(m, idx, stride, f));
        }
        for (acc, plane) in self.extra.iter_mut().zip(&src.extra) {
            *acc += weight * bilinear1(plane, idx, stride, f);
        }
    }

    #[inline(always)]
    fn add_cubic(
        &mut self,
        src: &Source<'_>,
        idx: usize,
        stride: usize,
        wx: [f32; 4],
        wy: [f32; 4],
    ) {
        add4(&mut self.rgba, cubic4(src.rgba, idx, stride, wx, wy));
        if let Some(m) = src.matte {
            add4(&mut self.matte, cubic4(m, idx, stride, wx, wy));
        }
        for (acc, plane) in self.extra.iter_mut().zip(&src.extra) {
            *acc += cubic1(plane, idx, stride, wx, wy);
        }
    }

    #[inline(always)]
    fn scale(&mut self, k: f32) {
        for v in self.rgba.iter_mut().chain(&mut self.matte) {
            *v *= k;
        }
        for v in self.extra.iter_mut() {
            *v *= k;
        }
    }
}

/// One tap through the repeat modes; zero weights and transparent texels are
/// skipped.
#[inline(always)]
fn tap<A: Accum>(src: &Source<'_>, i: i32, j: i32, w: f32, acc: &mut A) {
    if w == 0.0 {
        return;
    }
    if let (Some(x), Some(y)) = (
        address(i, src.w, src.repeat_x),
        address(j, src.h, src.repeat_y),
    ) {
        acc.add(src, y as usize * src.w as usize + x as usize, w);
    }
}

/// Point sampling: the texel the position lies in, `⌊u⌋, ⌊v⌋` (raw position:
/// snapping never moves a pixel edge).
#[inline(always)]
pub(crate) fn nearest<A: Accum>(src: &Source<'_>, u: f32, v: f32, acc: &mut A) {
    let (i, j) = (floor_i32(u), floor_i32(v));
    if i >= 0 && j >= 0 && i < src.w && j < src.h {
        acc.add(src, j as usize * src.w as usize + i as usize, 1.0);
    } else {
        tap(src, i, j, 1.0, acc);
    }
}

/// Bilinear at a raw position (the anisotropic probes), taps scaled by
/// `weight`.
#[inline(always)]
pub(crate) fn bilinear_at<A: Accum>(src: &Source<'_>, u: f32, v: f32, weight: f32, acc: &mut A) {
    let (x, y) = (u - 0.5, v - 0.5);
    let (i, j) = (floor_i32(x), floor_i32(y));
    let cx = Cell { i, f: x - i as f32 };
    let cy = Cell {
        i: j,
        f: y - j as f32,
    };
    bilinear(src, cx, cy, weight, acc);
}

/// Bilinear between texels `i, i+1` (x) and `j, j+1` (y), taps scaled by
/// `weight`.
#[inline(always)]
pub(crate) fn bilinear<A: Accum>(src: &Source<'_>, cx: Cell, cy: Cell, weight: f32, acc: &mut A) {
    let (i, j, fx, fy) = (cx.i, cy.i, cx.f, cy.f);
    if i >= 0 && j >= 0 && i + 1 < src.w && j + 1 < src.h {
        let w = src.w as usize;
        acc.add_bilinear(src, j as usize * w + i as usize, w, [fx, fy], weight);
    } else {
        bilinear_edge(src, i, j, [fx, fy], weight, acc);
    }
}

/// Bilinear taps through the repeat modes (kept out of the hot loop), with
/// the weights `(1−fx)(1−fy), fx(1−fy), (1−fx)fy, fx·fy`.
#[inline(never)]
fn bilinear_edge<A: Accum>(
    src: &Source<'_>,
    i: i32,
    j: i32,
    [fx, fy]: [f32; 2],
    weight: f32,
    acc: &mut A,
) {
    let (gx, gy) = (1.0 - fx, 1.0 - fy);
    tap(src, i, j, gx * gy * weight, acc);
    tap(src, i + 1, j, fx * gy * weight, acc);
    tap(src, i, j + 1, gx * fy * weight, acc);
    tap(src, i + 1, j + 1, fx * fy * weight, acc);
}

/// 4×4 separable cubic, rows outer.
#[inline(always)]
pub(crate) fn cubic<A: Accum>(src: &Source<'_>, k: &Cubic, cx: Cell, cy: Cell, acc: &mut A) {
    let wx = k.weights(cx.f);
    let wy = k.weights(cy.f);
    let (i0, j0) = (cx.i - 1, cy.i - 1);
    if i0 >= 0 && j0 >= 0 && i0 + 3 < src.w && j0 + 3 < src.h {
        let w = src.w as usize;
        acc.add_cubic(src, j0 as usize * w + i0 as usize, w, wx, wy);
    } else {
        cubic_edge(src, i0, j0, wx, wy, acc);
    }
}

/// Cubic taps through the repeat modes (kept out of the hot loop).
#[inline(never)]
fn cubic_edge<A: Accum>(
    src: &Source<'_>,
    i0: i32,
    j0: i32,
    wx: [f32; 4],
    wy: [f32; 4],
    acc: &mut A,
) {
    for (b, wyb) in wy.iter().enumerate() {
        for (a, wxa) in wx.iter().enumerate() {
            tap(src, i0 + a as i32, j0 + b as i32, wxa * wyb, acc);
        }
    }
}

/// Probe count along one Jacobian column.
#[inline(always)]
pub fn aniso_probes(len: f32) -> u32 {
    if len.partial_cmp(&(1.0 + ANISO_COUNT_SLACK)) != Some(std::cmp::Ordering::Greater) {
        return 1; // NaN included
    }
    let l = len.min(ANISO_MAX_PROBES as f32);
    (-floor_i32(ANISO_COUNT_SLACK - l)) as u32 // ⌈l − slack⌉
}

/// Anisotropic: `n_x × n_y` bilinear probes over the footprint parallelogram.
#[inline(always)]
pub(crate) fn anisotropic<A: Accum>(
    src: &Source<'_>,
    j: &Jacobian,
    cx: Cell,
    cy: Cell,
    acc: &mut A,
) {
    let nx = aniso_probes(j.column_x_len());
    let ny = aniso_probes(j.column_y_len());
    if nx * ny == 1 {
        // One probe: exactly the bilinear filter.
        return bilinear(src, cx, cy, 1.0, acc);
    }
    let (u, v) = (cx.pos(), cy.pos());
    let weight = 1.0 / (nx * ny) as f32;
    for b in 0..ny {
        let fb = (b as f32 + 0.5) / ny as f32 - 0.5;
        for a in 0..nx {
            let fa = (a as f32 + 0.5) / nx as f32 - 0.5;
            let pu = u + j.du_dx * fa + j.du_dy * fb;
            let pv = v + j.dv_dx * fa + j.dv_dy * fb;
            bilinear_at(src, pu, pv, weight, acc);
        }
    }
}

/// The EWA weight's constants `(e^{−αQ}, 1 / (1 − e^{−αQ}))`, computed once
/// here and handed to the GPU as they are, so both backends weigh alike. With
/// these values the weight at the centre, `(1 − edge) · norm`, is exactly 1
/// in f32 (tested), which makes EWA exact on the identity map.
pub fn ewa_edge_norm() -> (f32, f32) {
    let edge = (-EWA_ALPHA * EWA_CUTOFF).exp();
    (edge, 1.0 / (1.0 - edge))
}

/// Elliptical weighted average with a truncated Gaussian (see module docs).
#[inline(always)]
pub(crate) fn ewa<A: Accum>(src: &Source<'_>, j: &Jacobian, u: f32, v: f32, acc: &mut A) {
    let sv = j.singular();
    let r1 = sv.major.clamp(1.0, EWA_MAX_RADIUS);
    let r2 = sv.minor.clamp(1.0, r1);
    let [e1x, e1y] = sv.axis;
    let (e2x, e2y) = (-e1y, e1x);
    let (k1, k2) = (1.0 / (r1 * r1), 1.0 / (r2 * r2));
    // q = A·dx² + B·dx·dy + C·dy²
    let qa = e1x * e1x * k1 + e2x * e2x * k2;
    let qb = 2.0 * (e1x * e1y * k1 + e2x * e2y * k2);
    let qc = e1y * e1y * k1 + e2y * e2y * k2;
    // Half-extents of the ellipse's bounding box (≤ r1 ≤ 16).
    let hx = (r1 * r1 * e1x * e1x + r2 * r2 * e2x * e2x).sqrt();
    let hy = (r1 * r1 * e1y * e1y + r2 * r2 * e2y * e2y).sqrt();
    // ⌈a⌉ = −⌊−a⌋
    let (i_lo, i_hi) = (-floor_i32(hx - u + 0.5), floor_i32(u - 0.5 + hx));
    let (j_lo, j_hi) = (-floor_i32(hy - v + 0.5), floor_i32(v - 0.5 + hy));
    let (edge, norm) = ewa_edge_norm();
    let mut wsum = 0.0f32;
    for jj in j_lo..=j_hi {
        let dy = jj as f32 + 0.5 - v;
        for ii in i_lo..=i_hi {
            let dx = ii as f32 + 0.5 - u;
            let q = (qa * dx + qb * dy) * dx + qc * dy * dy;
            if q < EWA_CUTOFF {
                let w = ((-EWA_ALPHA * q).exp() - edge) * norm;
                wsum += w;
                tap(src, ii, jj, w, acc);
            }
        }
    }
    if wsum > 0.0 && wsum != 1.0 {
        acc.scale(1.0 / wsum);
    }
}

/// Whether a `+ Linear` filter falls back to bilinear: the footprint's major
/// axis is under one source pixel (the map magnifies).
#[inline(always)]
pub fn magnifies(j: &Jacobian) -> bool {
    j.singular().major < 1.0
}

/// Whether the filter needs the Jacobian.
pub fn needs_footprint(filter: StMapFilter) -> bool {
    matches!(
        filter,
        StMapFilter::Anisotropic
            | StMapFilter::AnisoLinear
            | StMapFilter::Ewa
            | StMapFilter::EwaLinear
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_weights_partition_unity_and_interpolate() {
        assert_eq!(CATMULL_ROM.weights(0.0), [0.0, 1.0, 0.0, 0.0]);
        let m = MITCHELL.weights(0.0);
        for (a, b) in m.iter().zip([1.0 / 18.0, 16.0 / 18.0, 1.0 / 18.0, 0.0]) {
            assert!((a - b).abs() < 1e-6, "{m:?}");
        }
        for k in [MITCHELL, CATMULL_ROM] {
            for i in 0..=100 {
                let w = k.weights(i as f32 / 100.0 * 0.999);
                assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{w:?}");
            }
        }
        // Catmull-Rom at ½ is (-1, 9, 9, -1)/16.
        assert_eq!(CATMULL_ROM.weights(0.5), [-0.0625, 0.5625, 0.5625, -0.0625]);
    }

    #[test]
    fn address_modes() {
        let f = |m| (-5..9).map(|i| address(i, 4, m)).collect::<Vec<_>>();
        let s = |v: &[i32]| v.iter().map(|&i| Some(i)).collect::<Vec<_>>();
        assert_eq!(
            f(RepeatMode::Tiled),
            s(&[3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0])
        );
        assert_eq!(
            f(RepeatMode::Mirrored),
            s(&[3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0])
        );
        assert_eq!(
            f(RepeatMode::Last),
            s(&[0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3])
        );
        let off = f(RepeatMode::Off);
        assert_eq!(off[5..9], s(&[0, 1, 2, 3])[..]);
        assert!(off[..5].iter().chain(&off[9..]).all(Option::is_none));
    }

    #[test]
    fn ewa_centre_weight_is_exactly_one() {
        let (edge, norm) = ewa_edge_norm();
        assert_eq!((1.0 - edge) * norm, 1.0);
    }

    #[test]
    fn probe_counts() {
        assert_eq!(aniso_probes(0.0), 1);
        assert_eq!(aniso_probes(1.0001), 1);
        assert_eq!(aniso_probes(1.01), 2);
        assert_eq!(aniso_probes(8.0), 8);
        assert_eq!(aniso_probes(1000.0), ANISO_MAX_PROBES);
        assert_eq!(aniso_probes(f32::NAN), 1);
    }
}
