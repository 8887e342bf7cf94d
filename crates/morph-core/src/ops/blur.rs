//! Separable box and Gaussian blurs whose cost per pixel does not depend on
//! the radius (SPEC §4), the two filters the Frequency node separates bands
//! with.
//!
//! Both blur the RGB channels and pass alpha (and extra channels) through. A
//! radius is per axis, in pixels; radius 0 leaves that axis alone. Edges are
//! clamped: the line is extended with copies of its first and last samples.
//!
//! # Box: running sums
//!
//! For `r = n + f` (`n` whole, `0 ≤ f < 1`) the output is
//! `(Σ_{k=-n..=n} x[i+k] + f·(x[i-n-1] + x[i+n+1])) / (2r + 1)`, indices
//! clamped to the line. [`box_line`] keeps the window sum `S` and slides it one
//! sample per step (add the sample entering, subtract the one leaving), so a
//! pixel costs the same at any radius.
//!
//! # Gaussian: a parallel-form recursive filter
//!
//! σ = r/3. The kernel `exp(-n²/2σ²)` is approximated by a sum of damped
//! complex exponentials, `h(n) = Σ_k 2·Re(a_k·β_k^|n|)` with
//! `β_k = exp(-λ_k/σ)`: the form of Deriche, *Recursively implementing the
//! Gaussian and its derivatives* (INRIA RR-1893, 1993), here with three pole
//! pairs instead of his two and the constants `a_k`, `λ_k` refit for the
//! smallest maximum error (see [`GAUSSIAN_FIT`]). Because the filter is a sum
//! (the anticausal half filters the input, not the causal half's output),
//! clamp-to-edge is exact: each recursion starts in the steady state it would
//! reach after an infinite run of the edge sample, so the result equals the
//! infinite convolution of `h` with the clamped line; there is no
//! Triggs–Sdika matrix to solve, as a cascade (Young–van Vliet) form would
//! need. Every pole runs as its own complex first-order recursion rather than
//! as one high-order real polynomial, which keeps f32 accurate for poles close
//! to 1 (σ ≈ 333 at radius 1000). The exact per-line arithmetic, which
//! `shaders/` reproduces one thread per row or column with the f32 values
//! of [`gaussian_coefficients`] (computed here, uploaded, never recomputed on
//! the device), is spelled out on [`gaussian_line`].
//!
//! Accuracy against a direct convolution with the sampled, normalised
//! Gaussian (σ = r/3, clamped edges): at most 1.31e-5 of the signal's range
//! per axis for any σ from the fit alone, and 5.8e-6 measured worst on
//! white noise in [0, 1) (r = 1), under 1.5e-6 for σ ≥ 2. Rounding in f32
//! grows with σ as 1/(1 − |β|): a constant comes back within 4e-6 relative
//! at σ = 333.
//!
//! # Order of work
//!
//! Vertical pass first, then horizontal (the GPU twin must keep that order to
//! round the same way), RGB only: the first pass reads the image and writes
//! a new buffer with the image's alpha, the second works in place on it.
//! The vertical pass takes strips of [`COLUMN_STRIP`] columns; a strip's RGB
//! is packed row by row into a buffer that stays in cache and filtered as
//! `3·columns` lines side by side walking down the rows, so every step is
//! one contiguous run of floats and the recursions vectorise. The horizontal
//! pass takes [`ROW_GROUP`] rows at a time, interleaves them pixel by pixel
//! and filters them the same way along x. Both passes are parallel (rayon)
//! over strips and groups, with per-thread buffers (nothing is allocated per
//! line). Every float of a strip is one line channel, computed with exactly
//! the operations of [`gaussian_line`] / [`box_line`], bit for bit.
//!
//! Subnormals are not flushed (the CPU has no safe way to); measured, a
//! bright-to-black image costs no more than noise.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::image::Image;
use crate::params::{BlurFilter, BlurSize};

/// One RGBA pixel.
type Px = [f32; 4];

/// Columns per strip in the vertical pass: 96 floats per row step, and a
/// 1080-row strip (415 KB) stays in L2 for both sweeps.
pub const COLUMN_STRIP: usize = 32;

/// Rows filtered together in the horizontal pass (24 lines side by side).
pub const ROW_GROUP: usize = 8;

/// Number of complex pole pairs of the recursive Gaussian.
pub const GAUSSIAN_POLES: usize = 3;

/// The fitted constants `(a_k, λ_k)` of the recursive Gaussian, as
/// `[Re a, Im a, Re λ, Im λ]` per pole pair: `exp(-x²/2) ≈
/// Σ_k 2·Re(a_k·exp(-λ_k·x))` for `x ≥ 0` (σ = 1).
///
/// Fitted for this crate: least squares on 3000 points of `x ∈ [0, 16]`,
/// then Lawson reweighting towards minimax. The continuous fit is within
/// 1.95e-6 of the peak everywhere; sampled and normalised, the kernel's L1
/// error against the sampled normalised Gaussian is ≤ 1.31e-5 for every σ
/// (worst near σ = 0.46). Deriche's published two-pair fit is within 5.2e-4
/// (L1 up to 8.8e-4).
pub const GAUSSIAN_FIT: [[f64; 4]; GAUSSIAN_POLES] = [
    [
        0.07187405378491923,
        -0.029931698207287596,
        2.04022484272267,
        2.847951260167119,
    ],
    [
        -1.1122689519051852,
        -0.3619775239383614,
        2.11858652472937,
        1.6091598569722512,
    ],
    [
        1.5403939290218904,
        3.3861350168433124,
        2.1529067266746007,
        0.5240038975743472,
    ],
];

/// The f32 coefficients of the recursive Gaussian for one σ, exactly as the
/// per-line recursion ([`gaussian_line`]) and its GPU twin use them.
///
/// Each field is four lanes, one per pole pair; lanes from
/// [`GAUSSIAN_POLES`] on are zero and unused (they make the struct map onto
/// WGSL `vec4<f32>`s). `#[repr(C)]`, f32 only.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianCoefficients {
    /// Real part of each pole `β_k = exp(-λ_k/σ)`.
    pub pole_re: [f32; 4],
    /// Imaginary part of each pole.
    pub pole_im: [f32; 4],
    /// Real part of each input gain `g_k = 2·a_k / Σ_n h(n)` (normalised so
    /// the whole kernel sums to 1, the factor 2 of the conjugate pole folded
    /// in).
    pub gain_re: [f32; 4],
    /// Imaginary part of each input gain.
    pub gain_im: [f32; 4],
    /// Real part of each recursion's steady state per unit input,
    /// `g_k / (1 − β_k)`: a recursion starts at `init_k · edge sample`.
    pub init_re: [f32; 4],
    /// Imaginary part of each steady state per unit input.
    pub init_im: [f32; 4],
    /// The centre tap, counted by both the causal and the anticausal sweep
    /// and so subtracted once: `2·Σ_k Re(init_k) − 1`, which makes the DC
    /// gain of the f32 filter 1 (≈ `h(0)`).
    pub centre: f32,
    /// The σ these were made for, in pixels.
    pub sigma: f32,
}

/// Coefficients of the recursive Gaussian with standard deviation `sigma`
/// pixels (`sigma > 0`; the Frequency node uses σ = radius / 3).
///
/// Worked out in f64 and rounded once: the poles are rounded to f32 first
/// and the gains, steady states and centre tap are computed from the rounded
/// poles, so that the f32 filter has unit DC gain to f32 precision. Poles
/// smaller than 1e-20 in magnitude are flushed to zero (tiny σ).
///
/// # Panics
/// If `sigma` is not finite and positive.
pub fn gaussian_coefficients(sigma: f32) -> GaussianCoefficients {
    assert!(
        sigma.is_finite() && sigma > 0.0,
        "gaussian sigma must be finite and > 0, got {sigma}"
    );
    let s = sigma as f64;
    let mut c = GaussianCoefficients {
        pole_re: [0.0; 4],
        pole_im: [0.0; 4],
        gain_re: [0.0; 4],
        gain_im: [0.0; 4],
        init_re: [0.0; 4],
        init_im: [0.0; 4],
        centre: 0.0,
        sigma,
    };
    // Poles, rounded to f32 and used as rounded from here on.
    let mut poles = [(0.0f64, 0.0f64); GAUSSIAN_POLES];
    for (k, [_, _, lr, li]) in GAUSSIAN_FIT.iter().enumerate() {
        let m = (-lr / s).exp();
        let (re, im) = if m < 1e-20 {
            (0.0, 0.0)
        } else {
            (m * (li / s).cos(), -m * (li / s).sin())
        };
        c.pole_re[k] = re as f32;
        c.pole_im[k] = im as f32;
        poles[k] = (c.pole_re[k] as f64, c.pole_im[k] as f64);
    }
    // Σ_n h(n) over all integers n = Σ_k 4·Re(a_k/(1−β_k)) − 2·Re(a_k).
    let mut sum = 0.0;
    for (k, [ar, ai, _, _]) in GAUSSIAN_FIT.iter().enumerate() {
        let (qr, _) = cdiv((*ar, *ai), (1.0 - poles[k].0, -poles[k].1));
        sum += 4.0 * qr - 2.0 * ar;
    }
    let mut init_sum = 0.0;
    for (k, [ar, ai, _, _]) in GAUSSIAN_FIT.iter().enumerate() {
        c.gain_re[k] = (2.0 * ar / sum) as f32;
        c.gain_im[k] = (2.0 * ai / sum) as f32;
        let g = (c.gain_re[k] as f64, c.gain_im[k] as f64);
        let (ir, ii) = cdiv(g, (1.0 - poles[k].0, -poles[k].1));
        c.init_re[k] = ir as f32;
        c.init_im[k] = ii as f32;
        init_sum += c.init_re[k] as f64;
    }
    c.centre = (2.0 * init_sum - 1.0) as f32;
    c
}

/// Complex division in f64.
fn cdiv((ar, ai): (f64, f64), (br, bi): (f64, f64)) -> (f64, f64) {
    let d = br * br + bi * bi;
    ((ar * br + ai * bi) / d, (ai * br - ar * bi) / d)
}

#[inline(always)]
fn add(a: Px, b: Px) -> Px {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
}

#[inline(always)]
fn sub(a: Px, b: Px) -> Px {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]]
}

#[inline(always)]
fn scale(a: Px, s: f32) -> Px {
    [a[0] * s, a[1] * s, a[2] * s, a[3] * s]
}

/// The complex states of one line's recursions, one per pole, each lane a
/// channel.
#[derive(Clone, Copy, Debug, Default)]
struct PoleState {
    re: [Px; GAUSSIAN_POLES],
    im: [Px; GAUSSIAN_POLES],
}

impl PoleState {
    /// The steady state for a constant input `x` (clamp-to-edge start).
    #[inline(always)]
    fn steady(c: &GaussianCoefficients, x: Px) -> Self {
        let mut s = PoleState::default();
        for k in 0..GAUSSIAN_POLES {
            s.re[k] = scale(x, c.init_re[k]);
            s.im[k] = scale(x, c.init_im[k]);
        }
        s
    }

    /// One step `s_k ← β_k·s_k + g_k·x`; returns `Σ_k Re s_k`.
    #[inline(always)]
    fn step(&mut self, c: &GaussianCoefficients, x: Px) -> Px {
        for k in 0..GAUSSIAN_POLES {
            let (re, im) = (self.re[k], self.im[k]);
            self.re[k] = add(
                sub(scale(re, c.pole_re[k]), scale(im, c.pole_im[k])),
                scale(x, c.gain_re[k]),
            );
            self.im[k] = add(
                add(scale(im, c.pole_re[k]), scale(re, c.pole_im[k])),
                scale(x, c.gain_im[k]),
            );
        }
        let mut y = self.re[0];
        for k in 1..GAUSSIAN_POLES {
            y = add(y, self.re[k]);
        }
        y
    }
}

/// Gaussian-filters one line of pixels with clamped edges: the reference
/// recursion, which the strips of [`gaussian_blur`] and the GPU twin (one
/// thread per row or column) run with the same f32 operations in the same
/// order. All four lanes are filtered; callers put alpha back.
///
/// With `N = src.len()`, per lane and for each pole `k` (complex `s_k`,
/// `u_k`, products written out as below, evaluated left to right):
///
/// ```text
/// causal:      s_k = init_k · x[0]
///              for n in 0..N:
///                  s_k = (β_k·s_k) + g_k·x[n]        re: (βr·sr − βi·si) + gr·x
///                                                     im: (βr·si + βi·sr) + gi·x
///                  dst[n] = (Re s_0 + Re s_1) + Re s_2
/// anticausal:  u_k = init_k · x[N−1]
///              for n in (0..N).rev():
///                  u_k = (β_k·u_k) + g_k·x[n]        (same arithmetic)
///                  dst[n] = (dst[n] + ((Re u_0 + Re u_1) + Re u_2)) − centre·x[n]
/// ```
///
/// Starting each sweep at its steady state for the edge sample is exact
/// clamp-to-edge extension. A non-finite sample spreads along the rest of
/// the line.
///
/// # Panics
/// If `dst` is shorter than `src`.
pub fn gaussian_line(c: &GaussianCoefficients, src: &[[f32; 4]], dst: &mut [[f32; 4]]) {
    let n = src.len();
    if n == 0 {
        return;
    }
    let dst = &mut dst[..n];
    let mut s = PoleState::steady(c, src[0]);
    for (x, y) in src.iter().zip(dst.iter_mut()) {
        *y = s.step(c, *x);
    }
    let mut u = PoleState::steady(c, src[n - 1]);
    for (x, y) in src.iter().zip(dst.iter_mut()).rev() {
        let t = u.step(c, *x);
        *y = sub(add(*y, t), scale(*x, c.centre));
    }
}

/// The split of a box radius `r = n + f` into whole taps and end-tap weight,
/// as [`box_line`] and its GPU twin use it. `#[repr(C)]`, 32-bit fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxCoefficients {
    /// `n = ⌊r⌋`: the window has `2n + 1` full taps.
    pub whole: u32,
    /// `f = r − n`: the weight of the two end taps at `±(n + 1)`.
    pub frac: f32,
    /// `1 / (2r + 1)`, computed in f32.
    pub inv: f32,
}

/// The [`BoxCoefficients`] of a box of radius `radius` pixels.
///
/// # Panics
/// If `radius` is negative or not finite.
pub fn box_coefficients(radius: f32) -> BoxCoefficients {
    assert!(
        radius.is_finite() && radius >= 0.0,
        "box radius must be finite and >= 0, got {radius}"
    );
    let whole = radius.floor();
    BoxCoefficients {
        whole: whole as u32,
        frac: radius - whole,
        inv: 1.0 / (2.0 * radius + 1.0),
    }
}

impl BoxCoefficients {
    /// `n` as an index.
    #[inline(always)]
    fn n(&self) -> usize {
        self.whole as usize
    }

    /// `S = n·x[0] + Σ_{k=0..=m} x[k] + (n − m)·x[N−1]`, the window sum at
    /// sample 0 with clamped indices, in O(min(n, N)) steps.
    #[inline(always)]
    fn initial_sum(&self, len: usize, x: impl Fn(usize) -> Px) -> Px {
        let m = self.n().min(len - 1);
        let mut s = scale(x(0), self.whole as f32);
        for k in 0..=m {
            s = add(s, x(k));
        }
        add(s, scale(x(len - 1), (self.n() - m) as f32))
    }

    /// Clamped indices of the two end taps (`i−n−1`, `i+n+1`) and of the
    /// sample leaving the window (`i−n`) at step `i`.
    #[inline(always)]
    fn indices(&self, i: usize, len: usize) -> (usize, usize, usize) {
        let last = len - 1;
        let lo = i.saturating_sub(self.n() + 1);
        let hi = (i + self.n() + 1).min(last);
        let leave = i.saturating_sub(self.n());
        (lo, hi, leave)
    }
}

/// Box-filters one line of pixels with clamped edges over `2r + 1` samples
/// (a fractional radius weighting the two end taps), with the running sum
/// that [`box_blur`] and the GPU twin use. All four lanes are filtered;
/// callers put alpha back.
///
/// With `N = src.len()`, `n`, `f`, `inv` from `c` ([`box_coefficients`]) and
/// `c(i) = clamp(i, 0, N−1)`, per lane, evaluated left to right:
///
/// ```text
/// m = min(n, N−1)
/// S = n·x[0];  for k in 0..=m { S = S + x[k] };  S = S + (n − m)·x[N−1]
/// for i in 0..N:
///     dst[i] = (S + (x[c(i−n−1)] + x[c(i+n+1)])·f) · inv
///     S = (S + x[c(i+n+1)]) − x[c(i−n)]
/// ```
///
/// The first sum costs O(min(n, N)), every output O(1). A non-finite sample
/// spreads along the rest of the line.
///
/// # Panics
/// If `dst` is shorter than `src`.
pub fn box_line(c: &BoxCoefficients, src: &[[f32; 4]], dst: &mut [[f32; 4]]) {
    let n = src.len();
    if n == 0 {
        return;
    }
    let dst = &mut dst[..n];
    let mut s = c.initial_sum(n, |k| src[k]);
    for (i, y) in dst.iter_mut().enumerate() {
        let (lo, hi, leave) = c.indices(i, n);
        *y = scale(add(s, scale(add(src[lo], src[hi]), c.frac)), c.inv);
        s = sub(add(s, src[hi]), src[leave]);
    }
}

/// Floats per pixel in the passes' working layout: R, G, B (alpha is not
/// filtered, so it is not carried).
const CHANNELS: usize = 3;

/// A 1-D filter for one axis, ready to run on many lines at once.
#[derive(Clone, Copy, Debug)]
enum LineFilter {
    Box(BoxCoefficients),
    Gaussian(GaussianCoefficients),
}

/// Per-thread buffers, reused from strip to strip and from call to call
/// (nothing is allocated per line, and a frame's buffers do not page-fault
/// afresh every call).
#[derive(Default)]
struct Scratch {
    /// The RGB of the lines being filtered, step-major.
    lines_in: Vec<[f32; CHANNELS]>,
    /// Their filtered values, same layout.
    lines_out: Vec<[f32; CHANNELS]>,
    /// Recursion states: `Re s_k`, `Im s_k` for k = 0, 1, 2 (Gaussian) or
    /// the running sums (box, first vector only).
    state: [Vec<f32>; 2 * GAUSSIAN_POLES],
}

thread_local! {
    /// This thread's [`Scratch`] (rayon's workers live as long as the pool).
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl LineFilter {
    /// The filter for one axis, or `None` when the radius is 0 (no blur).
    fn new(filter: BlurFilter, radius: f32) -> Option<Self> {
        assert!(
            radius.is_finite() && radius >= 0.0,
            "blur radius must be finite and >= 0, got {radius}"
        );
        match filter {
            _ if radius == 0.0 => None,
            BlurFilter::Box => Some(LineFilter::Box(box_coefficients(radius))),
            // A radius so small that σ underflows is no blur either.
            BlurFilter::Gaussian if radius / 3.0 == 0.0 => None,
            BlurFilter::Gaussian => Some(LineFilter::Gaussian(gaussian_coefficients(radius / 3.0))),
        }
    }

    /// Filters `n` independent lines laid side by side: sample `i` of line
    /// `t` is `src[i·n + t]`, its result goes to `dst[i·n + t]`. Line by line
    /// the arithmetic is exactly [`gaussian_line`] / [`box_line`] on one
    /// channel.
    fn run(
        &self,
        n: usize,
        src: &[f32],
        dst: &mut [f32],
        state: &mut [Vec<f32>; 2 * GAUSSIAN_POLES],
    ) {
        if n == 0 || src.is_empty() {
            return;
        }
        for v in state.iter_mut() {
            v.clear();
            v.resize(n, 0.0);
        }
        let [r0, i0, r1, i1, r2, i2] = state;
        match self {
            LineFilter::Gaussian(c) => gaussian_lines(c, n, src, dst, r0, i0, r1, i1, r2, i2),
            LineFilter::Box(taps) => box_lines(taps, n, src, dst, r0),
        }
    }
}

// The kernels below run on flat f32 runs, every float its own line, with the
// same operations per float as the per-pixel line functions; laid out so the
// compiler vectorises them with plain contiguous loads. Each state vector is
// its own argument so that the compiler knows they do not overlap.
const _: () = assert!(
    GAUSSIAN_POLES == 3,
    "gaussian_lines is written for three poles"
);

/// Starts the recursions of every line at their steady state for `x`.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "one slice per state vector, so they are known not to alias"
)]
fn gaussian_start(
    c: &GaussianCoefficients,
    x: &[f32],
    r0: &mut [f32],
    i0: &mut [f32],
    r1: &mut [f32],
    i1: &mut [f32],
    r2: &mut [f32],
    i2: &mut [f32],
) {
    let n = x.len();
    let (r0, i0, r1, i1, r2, i2) = (
        &mut r0[..n],
        &mut i0[..n],
        &mut r1[..n],
        &mut i1[..n],
        &mut r2[..n],
        &mut i2[..n],
    );
    for t in 0..n {
        r0[t] = x[t] * c.init_re[0];
        i0[t] = x[t] * c.init_im[0];
        r1[t] = x[t] * c.init_re[1];
        i1[t] = x[t] * c.init_im[1];
        r2[t] = x[t] * c.init_re[2];
        i2[t] = x[t] * c.init_im[2];
    }
}

/// One step of every line's recursions: `s_k ← β_k·s_k + g_k·x`; then
/// `y = Σ Re s_k` (causal, `ANTI = false`) or
/// `y = (y + Σ Re s_k) − centre·x` (anticausal, `ANTI = true`).
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "one slice per state vector, so they are known not to alias"
)]
fn gaussian_step<const ANTI: bool>(
    c: &GaussianCoefficients,
    x: &[f32],
    y: &mut [f32],
    r0: &mut [f32],
    i0: &mut [f32],
    r1: &mut [f32],
    i1: &mut [f32],
    r2: &mut [f32],
    i2: &mut [f32],
) {
    let n = x.len();
    let (y, r0, i0, r1, i1, r2, i2) = (
        &mut y[..n],
        &mut r0[..n],
        &mut i0[..n],
        &mut r1[..n],
        &mut i1[..n],
        &mut r2[..n],
        &mut i2[..n],
    );
    let (pr, pi, gr, gi) = (c.pole_re, c.pole_im, c.gain_re, c.gain_im);
    for t in 0..n {
        let xv = x[t];
        let (a, b) = (r0[t], i0[t]);
        let a0 = (a * pr[0] - b * pi[0]) + xv * gr[0];
        i0[t] = (b * pr[0] + a * pi[0]) + xv * gi[0];
        r0[t] = a0;
        let (a, b) = (r1[t], i1[t]);
        let a1 = (a * pr[1] - b * pi[1]) + xv * gr[1];
        i1[t] = (b * pr[1] + a * pi[1]) + xv * gi[1];
        r1[t] = a1;
        let (a, b) = (r2[t], i2[t]);
        let a2 = (a * pr[2] - b * pi[2]) + xv * gr[2];
        i2[t] = (b * pr[2] + a * pi[2]) + xv * gi[2];
        r2[t] = a2;
        let sum = (a0 + a1) + a2;
        y[t] = if ANTI {
            (y[t] + sum) - xv * c.centre
        } else {
            sum
        };
    }
}

/// [`gaussian_line`] on `n` interleaved lines (see [`LineFilter::run`]).
#[inline(never)]
#[expect(
    clippy::too_many_arguments,
    reason = "one slice per state vector, so they are known not to alias"
)]
fn gaussian_lines(
    c: &GaussianCoefficients,
    n: usize,
    src: &[f32],
    dst: &mut [f32],
    r0: &mut [f32],
    i0: &mut [f32],
    r1: &mut [f32],
    i1: &mut [f32],
    r2: &mut [f32],
    i2: &mut [f32],
) {
    let dst = &mut dst[..src.len()];
    gaussian_start(c, &src[..n], r0, i0, r1, i1, r2, i2);
    for (x, y) in src.chunks_exact(n).zip(dst.chunks_exact_mut(n)) {
        gaussian_step::<false>(c, x, y, r0, i0, r1, i1, r2, i2);
    }
    gaussian_start(c, &src[src.len() - n..], r0, i0, r1, i1, r2, i2);
    for (x, y) in src.chunks_exact(n).zip(dst.chunks_exact_mut(n)).rev() {
        gaussian_step::<true>(c, x, y, r0, i0, r1, i1, r2, i2);
    }
}

/// [`box_line`] on `n` interleaved lines (see [`LineFilter::run`]).
#[inline(never)]
fn box_lines(taps: &BoxCoefficients, n: usize, src: &[f32], dst: &mut [f32], sums: &mut [f32]) {
    let steps = src.len() / n;
    let dst = &mut dst[..src.len()];
    let sums = &mut sums[..n];
    let at = |i: usize| &src[i * n..][..n];
    let last = steps - 1;
    let m = taps.n().min(last);
    for (s, x) in sums.iter_mut().zip(at(0)) {
        *s = x * taps.whole as f32;
    }
    for k in 0..=m {
        for (s, x) in sums.iter_mut().zip(at(k)) {
            *s += x;
        }
    }
    for (s, x) in sums.iter_mut().zip(at(last)) {
        *s += x * (taps.n() - m) as f32;
    }
    for (i, y) in dst.chunks_exact_mut(n).enumerate() {
        let (lo, hi, leave) = taps.indices(i, steps);
        let (lo, hi, leave) = (at(lo), at(hi), at(leave));
        for t in 0..n {
            let s = sums[t];
            y[t] = (s + (lo[t] + hi[t]) * taps.frac) * taps.inv;
            sums[t] = (s + hi[t]) - leave[t];
        }
    }
}

/// Blurs the RGB of `image`: vertical pass (if any) then horizontal pass (if
/// any). The first pass reads `image` and writes a new buffer (alpha
/// copied), the second works in place on it.
fn separable(
    image: &Image,
    horizontal: Option<LineFilter>,
    vertical: Option<LineFilter>,
) -> Vec<Px> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let src = image.pixels();
    if w == 0 || h == 0 || (horizontal.is_none() && vertical.is_none()) {
        return src.to_vec();
    }
    let mut out = vec![[0.0; 4]; w * h];
    if let Some(filter) = vertical {
        vertical_pass(src, &mut out, w, h, filter);
    }
    if let Some(filter) = horizontal {
        let input = if vertical.is_some() { None } else { Some(src) };
        horizontal_pass(input, &mut out, w, filter);
    }
    out
}

/// Filters every column of `src` (RGB only) into `out` (alpha copied),
/// [`COLUMN_STRIP`] columns at a time, in parallel.
fn vertical_pass(src: &[Px], out: &mut [Px], w: usize, h: usize, filter: LineFilter) {
    // Each strip gets its own segment of every output row, so the strips can
    // be worked on in parallel.
    let mut strips: Vec<Vec<&mut [Px]>> = (0..w.div_ceil(COLUMN_STRIP))
        .map(|_| Vec::with_capacity(h))
        .collect();
    for row in out.chunks_exact_mut(w) {
        for (strip, segment) in strips.iter_mut().zip(row.chunks_mut(COLUMN_STRIP)) {
            strip.push(segment);
        }
    }
    strips
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut rows)| {
            let x0 = b * COLUMN_STRIP;
            SCRATCH.with_borrow_mut(|scratch| column_strip(scratch, filter, src, w, x0, &mut rows));
        });
}

/// One strip of the vertical pass: the RGB of columns `x0..x0 + bw` of `src`
/// is packed row by row (`bw·3` floats a row), filtered down the rows as
/// `bw·3` lines side by side, and unpacked into `rows` (the strip's segment
/// of every output row) with `src`'s alpha.
fn column_strip(
    scratch: &mut Scratch,
    filter: LineFilter,
    src: &[Px],
    w: usize,
    x0: usize,
    rows: &mut [&mut [Px]],
) {
    let bw = rows[0].len();
    let Scratch {
        lines_in,
        lines_out,
        state,
    } = scratch;
    lines_in.clear();
    for y in 0..rows.len() {
        lines_in.extend(src[y * w + x0..][..bw].iter().map(|p| [p[0], p[1], p[2]]));
    }
    lines_out.resize(lines_in.len(), [0.0; CHANNELS]);
    filter.run(
        bw * CHANNELS,
        lines_in.as_flattened(),
        lines_out.as_flattened_mut(),
        state,
    );
    for (y, (segment, filtered)) in rows.iter_mut().zip(lines_out.chunks_exact(bw)).enumerate() {
        let alpha = &src[y * w + x0..][..bw];
        for ((p, f), a) in segment.iter_mut().zip(filtered).zip(alpha) {
            *p = [f[0], f[1], f[2], a[3]];
        }
    }
}

/// Filters every row (RGB only) of `src` into `out` (alpha copied), or of
/// `out` in place when `src` is `None`, [`ROW_GROUP`] rows at a time, in
/// parallel.
fn horizontal_pass(src: Option<&[Px]>, out: &mut [Px], w: usize, filter: LineFilter) {
    out.par_chunks_mut(ROW_GROUP * w)
        .enumerate()
        .for_each(|(g, group)| {
            let input = src.map(|src| &src[g * ROW_GROUP * w..][..group.len()]);
            SCRATCH.with_borrow_mut(|scratch| row_group(scratch, filter, input, group, w));
        });
}

/// One group of the horizontal pass: the RGB of the rows of `input` (or of
/// `group` itself when `None`) is interleaved pixel by pixel
/// (`lines_in[x·rows + r]`), filtered along x as `rows·3` lines side by
/// side, and written into `group` (alpha from `input`, else kept).
fn row_group(
    scratch: &mut Scratch,
    filter: LineFilter,
    input: Option<&[Px]>,
    group: &mut [Px],
    w: usize,
) {
    let rows = group.len() / w;
    let Scratch {
        lines_in,
        lines_out,
        state,
    } = scratch;
    lines_in.resize(w * rows, [0.0; CHANNELS]);
    lines_out.resize(w * rows, [0.0; CHANNELS]);
    for (r, row) in input.unwrap_or(group).chunks_exact(w).enumerate() {
        for (d, p) in lines_in[r..].iter_mut().step_by(rows).zip(row) {
            *d = [p[0], p[1], p[2]];
        }
    }
    filter.run(
        rows * CHANNELS,
        lines_in.as_flattened(),
        lines_out.as_flattened_mut(),
        state,
    );
    for (r, row) in group.chunks_exact_mut(w).enumerate() {
        let filtered = lines_out[r..].iter().step_by(rows);
        match input {
            Some(input) => {
                for ((f, p), a) in filtered.zip(row).zip(&input[r * w..][..w]) {
                    *p = [f[0], f[1], f[2], a[3]];
                }
            }
            None => {
                for (f, p) in filtered.zip(row) {
                    *p = [f[0], f[1], f[2], p[3]];
                }
            }
        }
    }
}

/// The blurred pixels of `image` (RGB blurred, alpha kept), without building
/// an [`Image`].
pub(crate) fn blur_pixels(image: &Image, filter: BlurFilter, radius: BlurSize) -> Vec<Px> {
    separable(
        image,
        LineFilter::new(filter, radius.width),
        LineFilter::new(filter, radius.height),
    )
}

/// Box blur of the RGB channels over `2r+1` pixels per axis (fractional radii
/// weight the end taps), clamped edges; alpha, extra channels and metadata are
/// kept. See [`box_line`] for the exact arithmetic.
///
/// # Panics
/// If a radius is negative or not finite (validate with
/// [`crate::params::FrequencyParams::validate`]).
pub fn box_blur(image: &Image, radius: BlurSize) -> Image {
    blur(image, BlurFilter::Box, radius)
}

/// Gaussian blur of the RGB channels with σ = radius/3 per axis, clamped
/// edges; alpha, extra channels and metadata are kept. See [`gaussian_line`]
/// for the exact arithmetic.
///
/// # Panics
/// If a radius is negative or not finite.
pub fn gaussian_blur(image: &Image, radius: BlurSize) -> Image {
    blur(image, BlurFilter::Gaussian, radius)
}

/// Blurs the RGB channels with `filter`; alpha, extra channels and metadata
/// are kept. Radius 0 on an axis leaves it alone; both 0 is a copy.
///
/// Per axis with radius `r > 0` the lines are filtered with
/// [`box_line`]`(`[`box_coefficients`]`(r))` or
/// [`gaussian_line`]`(`[`gaussian_coefficients`]`(r / 3))` (skipped if
/// `r / 3` underflows to 0), columns first, then rows.
///
/// # Panics
/// If a radius is negative or not finite.
pub fn blur(image: &Image, filter: BlurFilter, radius: BlurSize) -> Image {
    image.with_pixels(blur_pixels(image, filter, radius))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::SampleFormat;
    use crate::test_support::{
        EDGE_SIZES, Tolerance, assert_images_close, pattern_image, random_image,
    };

    /// Largest |recursive − direct| Gaussian error we accept on samples in
    /// [0, 1). Since both kernels sum to 1, one axis is off by at most half
    /// the kernel's L1 error, which is ≤ 1.31e-5 over every σ (worst at
    /// σ ≈ 0.46); two axes give 1.31e-5, plus ~1e-6 of f32 rounding. The worst
    /// measured (white noise, r = 1) is 5.8e-6; smooth images and σ ≥ 2 stay
    /// under 1.5e-6.
    const GAUSSIAN_MAX_ERROR: f32 = 1.5e-5;

    /// Largest |running sum − direct average| box error we accept on
    /// samples in [0, 1) and lines up to 97 long: every step rounds the
    /// running sum twice, at most 2⁻²³ of the output each, so the error is
    /// bounded by N·1.2e-7 (1.2e-5 for N = 97) and grows like √N in
    /// practice; the worst measured here is 3.6e-6.
    const BOX_MAX_ERROR: f32 = 1e-5;

    /// `x[clamp(i, 0, n−1)]`.
    fn clamped(line: &[f64], i: i64) -> f64 {
        line[i.clamp(0, line.len() as i64 - 1) as usize]
    }

    /// Direct convolution of one line with the sampled, normalised Gaussian
    /// (σ = radius/3, taps to ±8σ), clamped edges, in f64.
    fn direct_gaussian_line(line: &[f64], radius: f64) -> Vec<f64> {
        let sigma = radius / 3.0;
        let half = (8.0 * sigma).ceil() as i64 + 1;
        let taps: Vec<f64> = (-half..=half)
            .map(|k| (-(k * k) as f64 / (2.0 * sigma * sigma)).exp())
            .collect();
        let norm: f64 = taps.iter().sum();
        (0..line.len() as i64)
            .map(|i| {
                (-half..=half)
                    .zip(&taps)
                    .map(|(k, t)| t * clamped(line, i + k))
                    .sum::<f64>()
                    / norm
            })
            .collect()
    }

    /// Direct window average over 2r+1 samples (end taps weighted by the
    /// fractional part), clamped edges, in f64.
    fn direct_box_line(line: &[f64], radius: f64) -> Vec<f64> {
        let n = radius.floor() as i64;
        let f = radius - n as f64;
        (0..line.len() as i64)
            .map(|i| {
                let full: f64 = (-n..=n).map(|k| clamped(line, i + k)).sum();
                (full + f * (clamped(line, i - n - 1) + clamped(line, i + n + 1)))
                    / (2.0 * radius + 1.0)
            })
            .collect()
    }

    /// Separable direct blur of RGB (alpha kept) in f64, by `line` per axis
    /// (radius 0 = untouched).
    fn direct_blur(image: &Image, radius: BlurSize, line: fn(&[f64], f64) -> Vec<f64>) -> Image {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut out = image.clone();
        for c in 0..3 {
            let mut plane: Vec<f64> = image.pixels().iter().map(|p| p[c] as f64).collect();
            if radius.height > 0.0 {
                for x in 0..w {
                    let col: Vec<f64> = (0..h).map(|y| plane[y * w + x]).collect();
                    for (y, v) in line(&col, radius.height as f64).into_iter().enumerate() {
                        plane[y * w + x] = v;
                    }
                }
            }
            if radius.width > 0.0 {
                for y in 0..h {
                    let row = line(&plane[y * w..(y + 1) * w], radius.width as f64);
                    plane[y * w..(y + 1) * w].copy_from_slice(&row);
                }
            }
            for (p, v) in out.pixels_mut().iter_mut().zip(&plane) {
                p[c] = *v as f32;
            }
        }
        out
    }

    fn direct(image: &Image, filter: BlurFilter, radius: BlurSize) -> Image {
        match filter {
            BlurFilter::Box => direct_blur(image, radius, direct_box_line),
            BlurFilter::Gaussian => direct_blur(image, radius, direct_gaussian_line),
        }
    }

    fn tolerance(filter: BlurFilter) -> Tolerance {
        let abs = match filter {
            BlurFilter::Box => BOX_MAX_ERROR,
            BlurFilter::Gaussian => GAUSSIAN_MAX_ERROR,
        };
        Tolerance { abs, rel: 0.0 }
    }

    /// Blurs with `filter` and checks against the direct f64 blur.
    #[track_caller]
    fn check(image: &Image, filter: BlurFilter, radius: BlurSize, what: &str) -> f32 {
        let got = blur(image, filter, radius);
        let want = direct(image, filter, radius);
        assert_images_close(
            &got,
            &want,
            tolerance(filter),
            &format!("{what}: {filter:?} {radius:?}"),
        );
        let err = got
            .as_flat()
            .iter()
            .zip(want.as_flat())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        eprintln!("{what}: {filter:?} {radius:?}: max error {err:e}");
        err
    }

    #[test]
    fn gaussian_matches_direct_convolution() {
        let mut worst = 0.0f32;
        for (i, r) in [0.3f32, 1.0, 1.5, 2.2, 5.0, 20.0, 60.0, 300.0, 1000.0]
            .into_iter()
            .enumerate()
        {
            for img in [
                random_image(97, 61, i as u64, 0.0, 1.0),
                pattern_image(97, 61, i as u64),
            ] {
                worst = worst.max(check(
                    &img,
                    BlurFilter::Gaussian,
                    BlurSize::uniform(r),
                    "97x61",
                ));
            }
        }
        // Long lines: f32 rounding in the recursion over 1920 steps.
        let row = random_image(1920, 1, 7, 0.0, 1.0);
        for r in [5.0f32, 50.0, 1000.0] {
            let radius = BlurSize {
                width: r,
                height: 0.0,
            };
            worst = worst.max(check(&row, BlurFilter::Gaussian, radius, "1920x1"));
        }
        eprintln!("gaussian: worst error {worst:e}");
    }

    #[test]
    fn box_matches_direct_average() {
        let mut worst = 0.0f32;
        for (i, r) in [0.25f32, 0.5, 1.0, 2.25, 7.7, 40.0, 150.5]
            .into_iter()
            .enumerate()
        {
            let img = random_image(97, 61, 10 + i as u64, 0.0, 1.0);
            worst = worst.max(check(&img, BlurFilter::Box, BlurSize::uniform(r), "97x61"));
        }
        eprintln!("box: worst error {worst:e}");
    }

    #[test]
    fn every_edge_size_matches_direct() {
        for (i, &(w, h)) in EDGE_SIZES.iter().enumerate() {
            let img = random_image(w, h, 20 + i as u64, 0.0, 1.0);
            check(
                &img,
                BlurFilter::Gaussian,
                BlurSize {
                    width: 4.5,
                    height: 7.0,
                },
                &format!("{w}x{h}"),
            );
            check(
                &img,
                BlurFilter::Box,
                BlurSize {
                    width: 2.5,
                    height: 1.0,
                },
                &format!("{w}x{h}"),
            );
        }
    }

    #[test]
    fn radii_are_per_axis() {
        let img = pattern_image(45, 38, 3);
        for filter in [BlurFilter::Box, BlurFilter::Gaussian] {
            for (rw, rh) in [(3.0, 11.0), (11.0, 3.0), (6.5, 0.0), (0.0, 6.5)] {
                check(
                    &img,
                    filter,
                    BlurSize {
                        width: rw,
                        height: rh,
                    },
                    "45x38",
                );
            }
            // One axis at 0 leaves the other axis's lines untouched: a
            // horizontal blur of an image constant down each column keeps it
            // constant down each column, and vice versa.
            let only_x = blur(
                &img,
                filter,
                BlurSize {
                    width: 9.0,
                    height: 0.0,
                },
            );
            let only_y = blur(
                &img,
                filter,
                BlurSize {
                    width: 0.0,
                    height: 9.0,
                },
            );
            assert_ne!(only_x, only_y);
        }
    }

    #[test]
    fn zero_radius_is_identity() {
        let mut img = random_image(33, 31, 4, -2.0, 5.0);
        img.set_extra_channel("Z", SampleFormat::F32, vec![3.0; 33 * 31]);
        for filter in [BlurFilter::Box, BlurFilter::Gaussian] {
            assert_eq!(blur(&img, filter, BlurSize::uniform(0.0)), img);
        }
        // A radius whose σ underflows to 0 is no blur either.
        let tiny = BlurSize::uniform(f32::from_bits(1));
        assert_eq!(blur(&img, BlurFilter::Gaussian, tiny), img);
    }

    #[test]
    fn alpha_extra_channels_and_metadata_pass_through() {
        let mut img = random_image(40, 21, 5, 0.0, 1.0);
        img.set_extra_channel(
            "depth.Z",
            SampleFormat::F16,
            (0..40 * 21).map(|i| i as f32).collect(),
        );
        img.metadata
            .attributes
            .insert("owner".into(), "test".into());
        for filter in [BlurFilter::Box, BlurFilter::Gaussian] {
            for r in [
                BlurSize::uniform(6.0),
                BlurSize {
                    width: 0.0,
                    height: 2.0,
                },
            ] {
                let out = blur(&img, filter, r);
                for (o, i) in out.pixels().iter().zip(img.pixels()) {
                    assert_eq!(o[3].to_bits(), i[3].to_bits(), "alpha");
                }
                assert_eq!(out.extra, img.extra);
                assert_eq!(out.metadata, img.metadata);
                assert_eq!(out.data_window, img.data_window);
            }
        }
    }

    #[test]
    fn radius_larger_than_the_image() {
        let img = random_image(7, 5, 6, 0.0, 1.0);
        for filter in [BlurFilter::Box, BlurFilter::Gaussian] {
            for r in [30.0, 1000.0] {
                let out = blur(&img, filter, BlurSize::uniform(r));
                assert!(out.as_flat().iter().all(|v| v.is_finite()));
                check(&img, filter, BlurSize::uniform(r), "7x5");
            }
        }
    }

    #[test]
    fn constant_stays_constant() {
        let img = Image::from_pixels(64, 48, vec![[0.7, -3.0, 1e4, 1.0]; 64 * 48]);
        for filter in [BlurFilter::Box, BlurFilter::Gaussian] {
            for r in [0.4f32, 3.0, 50.0, 1000.0] {
                let out = blur(&img, filter, BlurSize::uniform(r));
                for p in out.pixels() {
                    for (v, e) in p.iter().zip([0.7f32, -3.0, 1e4, 1.0]) {
                        // f32 rounding only: the box's running sum of up to
                        // 2001 samples; the Gaussian's recursions, whose
                        // rounding is amplified by 1/(1 − |β|) ≈ 160 for the
                        // poles of σ = 333 (measured 3.7e-6).
                        let rel = 1e-5;
                        assert!(
                            (v - e).abs() <= rel * e.abs(),
                            "{filter:?} r {r}: {v} vs {e}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn strips_match_the_line_functions_bit_for_bit() {
        let img = random_image(70, 37, 8, -1.0, 2.0);
        let (w, h) = (70, 37);
        for (filter, r) in [(BlurFilter::Gaussian, 7.5f32), (BlurFilter::Box, 3.25)] {
            let line = |src: &[Px], dst: &mut [Px]| match filter {
                BlurFilter::Gaussian => gaussian_line(&gaussian_coefficients(r / 3.0), src, dst),
                BlurFilter::Box => box_line(&box_coefficients(r), src, dst),
            };
            let rows = blur(
                &img,
                filter,
                BlurSize {
                    width: r,
                    height: 0.0,
                },
            );
            let cols = blur(
                &img,
                filter,
                BlurSize {
                    width: 0.0,
                    height: r,
                },
            );
            let mut out = vec![[0.0; 4]; w.max(h)];
            for y in 0..h {
                line(&img.pixels()[y * w..][..w], &mut out);
                for (x, want) in out[..w].iter().enumerate() {
                    let got = rows.pixel(x as u32, y as u32);
                    assert_eq!(got[..3], want[..3], "{filter:?} row {y} x {x}");
                }
            }
            for x in 0..w {
                let col: Vec<Px> = (0..h).map(|y| img.pixels()[y * w + x]).collect();
                line(&col, &mut out);
                for (y, want) in out[..h].iter().enumerate() {
                    let got = cols.pixel(x as u32, y as u32);
                    assert_eq!(got[..3], want[..3], "{filter:?} column {x} y {y}");
                }
            }
        }
    }

    #[test]
    fn coefficients_make_a_unit_kernel() {
        for sigma in [0.05f32, 0.5, 3.0, 40.0, 333.4] {
            let c = gaussian_coefficients(sigma);
            // Impulse response of the line filter, far from the edges.
            let n = (20.0 * sigma) as usize + 41;
            let mut src = vec![[0.0; 4]; n];
            src[n / 2] = [1.0; 4];
            let mut dst = vec![[0.0; 4]; n];
            gaussian_line(&c, &src, &mut dst);
            let sum: f32 = dst.iter().map(|p| p[0]).sum();
            assert!(
                (sum - 1.0).abs() < 1e-5,
                "sigma {sigma}: kernel sums to {sum}"
            );
            let peak = dst[n / 2][0];
            let expected = 1.0 / (2.0 * std::f32::consts::PI).sqrt() / sigma;
            if sigma >= 3.0 {
                assert!(
                    (peak / expected - 1.0).abs() < 1e-3,
                    "sigma {sigma}: peak {peak} vs {expected}"
                );
            }
            assert_eq!(c.pole_re[3], 0.0);
            assert_eq!(c.gain_re[3], 0.0);
        }
    }

    #[test]
    #[should_panic(expected = "blur radius must be finite and >= 0")]
    fn negative_radius_panics() {
        blur(
            &Image::new(3, 3),
            BlurFilter::Gaussian,
            BlurSize::uniform(-1.0),
        );
    }
}
