//! Frame interpolation, the CPU reference (issue #5): a new frame at any
//! time `t ∈ [0, 1]` between A (t = 0) and B (t = 1) from the flow both
//! ways and its occlusion maps, after Baker, Scharstein, Lewis, Roth, Black
//! & Szeliski, "A Database and Evaluation Methodology for Optical Flow"
//! (IJCV 2011, §3.3: the interpolation algorithm), extended with splats
//! from both frames and consistency-weighted blending.
//!
//! # The passes (specification for the WGSL port)
//!
//! Once per pair, [`analyse_pair`] replaces the vectors of occluded pixels
//! by their background's ([`fill_occluded`]; pass 0, see its module).
//!
//! Index coordinates put the centre of pixel `(i, j)` at `(i, j)`; `N =
//! W·H`; `F` is the forward flow (A → B), `G` the backward flow (B → A),
//! `Oa`/`Ob` their occlusion maps (0 visible ..= 1 occluded).
//!
//! 1. **Splat** ([`splat`], one invocation per source pixel, `2N` of
//!    them): source `k < N` is pixel `k` of A, carrying motion `v = F[k]`
//!    to `p + t·v`; source `N + k` is pixel `k` of B, carrying `v = −G[k]`
//!    to `p + (1 − t)·G[k]`. Each lands on the four pixels around its
//!    target (`floor` and `floor + 1` on each axis, those inside the frame)
//!    with the key `(cost, rank)`, where `cost = round(255·clamp(O, 0, 1))`
//!    of its own occlusion and `rank` orders the frame nearer in time first
//!    (`t ≤ ½`: A's sources `0..N` then B's `N..2N`; else B's first), index
//!    order within a frame. Each output pixel keeps the source with the
//!    smallest key (`atomicMin`): visible surfaces beat ones about to be
//!    covered, and ties go to the nearer frame. On the GPU the key does not
//!    fit 32 bits, so it is two `atomicMin` passes (cost, then rank among
//!    the sources with the minimum cost).
//! 2. **Fill** ([`fill`]): pixels no source reached take their vector from
//!    a push–pull pyramid (mean of the reached children going down,
//!    parent's value going up), so no hole is left.
//! 3. **Compose** ([`compose`], one invocation per output pixel `x` with
//!    motion `u`): `pa = x − t·u` in A and `pb = x + (1 − t)·u` in B.
//!    Visibility in A: 0 if `pa` lies outside `[−½, W − ½) × [−½, H − ½)`,
//!    else `(1 − Oa(pa))·agree(F(pa), u)` with bilinear samples and
//!    `agree(f, u) = clamp(1 − (|f − u| − τ)/τ, 0, 1)`, `τ = ½ + 0.05·(|f| +
//!    |u|)` (the consistency tolerance of the flow's occlusion pass); in B
//!    the same with `−G(pb)` and `Ob`. Weights `wa = (1 − t)·visA`, `wb =
//!    t·visB`; if `wa + wb < 10⁻³` (neither frame vouches for the motion)
//!    the frame the winning source came from gets weight 1. The output is
//!    `(wa·A(pa) + wb·B(pb))/(wa + wb)` over every channel (RGBA and the
//!    extra channels), so alpha and extra layers move with the colour.
//!    Colour fetches are bicubic (Keys, a = −0.75, the 4×4 taps clamped to
//!    the frame; rows first, then the column of row sums) clamped to the
//!    minimum and maximum of their sixteen taps, so they never ring.
//!
//! `t = 0` and `t = 1` return A and B unchanged (exact copies).
//!
//! # Scene cuts
//!
//! [`analyse_pair`] scores a pair once: the correlation of A's
//! range-compressed luma with B's warped back along the forward flow (over
//! the pixels visible in both), and the fraction of A that is occluded.
//! Correlation below [`CUT_CORRELATION`] or occlusion above
//! [`CUT_OCCLUDED`] marks a **cut**; the [`CutRule`] then decides: the
//! default, `Nearest`, outputs A for `t < ½` and B from `t ≥ ½` (a clean
//! cut, as a retime of an edited sequence must keep it), `Dissolve`
//! cross-fades, `Warp` ignores the detection.

mod compose;
mod fill;
mod occluded;
mod splat;
#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::flow::FlowField;
use crate::image::Image;
use crate::ops::flow::plane::floor_f32;
use crate::ops::flow::{FlowResult, range_compressed_luma};

pub use compose::{AGREE_ABS, AGREE_REL, MIN_WEIGHT, compose};
pub use fill::fill;
pub use occluded::fill_occluded;
pub use splat::{Splat, splat};

/// Correlation (of A's luma and B's warped back) below which a pair is a
/// scene cut.
pub const CUT_CORRELATION: f32 = 0.5;
/// Fraction of A occluded in B above which a pair is a scene cut.
pub const CUT_OCCLUDED: f32 = 0.6;

/// What to do when a pair is detected as a scene cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CutRule {
    /// The nearest frame: A for `t < ½`, B from `t ≥ ½` (default).
    #[default]
    Nearest,
    /// A cross-fade `(1 − t)·A + t·B`.
    Dissolve,
    /// Warp anyway (detection ignored).
    Warp,
}

impl CutRule {
    /// Parses `nearest`, `dissolve` or `warp`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "nearest" => Ok(CutRule::Nearest),
            "dissolve" => Ok(CutRule::Dissolve),
            "warp" => Ok(CutRule::Warp),
            _ => Err(Error::parameter("cut_rule", s, "nearest, dissolve or warp")),
        }
    }
}

/// How well A and B correspond, measured once per pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CutScore {
    /// Pearson correlation of A's range-compressed luma with B's sampled
    /// along the forward flow, over the pixels visible in both (−1 ..= 1;
    /// 1 for a flat pair). Both scores use every other row and column.
    pub correlation: f32,
    /// Fraction of A's pixels occluded in B (occlusion > ½).
    pub occluded: f32,
}

impl CutScore {
    /// True when the pair looks like a scene cut.
    pub fn is_cut(&self) -> bool {
        self.correlation < CUT_CORRELATION || self.occluded > CUT_OCCLUDED
    }
}

/// The motion between a pair, computed once and used for every time
/// between them.
#[derive(Clone, Debug)]
pub struct PairMotion {
    /// Flow both ways with occlusion.
    pub flow: FlowResult,
    /// The scene-cut score.
    pub cut: CutScore,
}

/// How an in-between was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Warped along the vectors.
    Warped,
    /// A copy of A (t = 0, or a cut before ½).
    A,
    /// A copy of B (t = 1, or a cut from ½).
    B,
    /// A cross-fade at a cut (`CutRule::Dissolve`).
    Dissolve,
}

/// An in-between frame and the motion at its time.
#[derive(Clone, Debug)]
pub struct Interpolated {
    /// The frame at time t (A's windows and metadata).
    pub image: Image,
    /// Per output pixel, the A → B motion (pixels per pair interval) of the
    /// surface seen there: what motion blur follows.
    pub vectors: FlowField,
    /// How the frame was made.
    pub source: Source,
}

/// Prepares a pair's motion for interpolation: the vectors of occluded
/// pixels replaced by their background's ([`fill_occluded`], pass 0), and
/// the scene-cut score ([`cut_score`]).
///
/// # Errors
/// If the frames and the flow differ in size.
pub fn analyse_pair(a: &Image, b: &Image, mut flow: FlowResult) -> Result<PairMotion> {
    check_sizes(a, b, &flow)?;
    let (la, lb) = rayon::join(|| range_compressed_luma(a), || range_compressed_luma(b));
    let ((forward, occ_f), (backward, occ_b)) = rayon::join(
        || fill_occluded(&flow.forward, &flow.occlusion_forward, &la, &lb),
        || fill_occluded(&flow.backward, &flow.occlusion_backward, &lb, &la),
    );
    (flow.forward, flow.backward) = (forward, backward);
    (flow.occlusion_forward, flow.occlusion_backward) = (occ_f, occ_b);
    let cut = score(&la, &lb, &flow, (a.width() as usize, a.height() as usize));
    Ok(PairMotion { flow, cut })
}

/// The scene-cut score of a pair whose flow has been through pass 0 (what
/// [`analyse_pair`] computes after [`fill_occluded`]; a backend that runs
/// pass 0 elsewhere, as the GPU does, scores its result with this).
///
/// # Errors
/// If the frames and the flow differ in size.
pub fn cut_score(a: &Image, b: &Image, flow: &FlowResult) -> Result<CutScore> {
    check_sizes(a, b, flow)?;
    let (la, lb) = rayon::join(|| range_compressed_luma(a), || range_compressed_luma(b));
    Ok(score(
        &la,
        &lb,
        flow,
        (a.width() as usize, a.height() as usize),
    ))
}

/// The correlation of A's luma with B's warped back along the forward flow
/// over the pixels visible in both, and the fraction of A occluded, both
/// over every other row and column.
fn score(la: &[f32], lb: &[f32], flow: &FlowResult, (w, h): (usize, usize)) -> CutScore {
    // Sums per row (f64), then in row order: the same on any thread count.
    // Every other row and column: a global score needs no more.
    let rows: Vec<[f64; 7]> = (0..h)
        .into_par_iter()
        .step_by(2)
        .map(|y| {
            let mut s = [0.0f64; 7];
            for x in (0..w).step_by(2) {
                let k = y * w + x;
                let o = flow.occlusion_forward[k];
                if o > 0.5 {
                    s[6] += 1.0;
                    continue;
                }
                let f = flow.forward.vectors()[k];
                let vb = sample_plane(lb, w, h, x as f32 + f[0], y as f32 + f[1]) as f64;
                let va = la[k] as f64;
                s[0] += 1.0;
                s[1] += va;
                s[2] += vb;
                s[3] += va * va;
                s[4] += vb * vb;
                s[5] += va * vb;
            }
            s
        })
        .collect();
    let mut s = [0.0f64; 7];
    for r in &rows {
        for i in 0..7 {
            s[i] += r[i];
        }
    }
    let n = s[0];
    let correlation = if n < 1.0 {
        0.0
    } else {
        let (ma, mb) = (s[1] / n, s[2] / n);
        let va = (s[3] / n - ma * ma).max(0.0);
        let vb = (s[4] / n - mb * mb).max(0.0);
        let cov = s[5] / n - ma * mb;
        // A flat pair (no contrast in either) corresponds trivially.
        if va < 1e-10 && vb < 1e-10 {
            1.0
        } else {
            (cov / (va * vb).sqrt().max(1e-10)).clamp(-1.0, 1.0)
        }
    };
    CutScore {
        correlation: correlation as f32,
        occluded: (s[6] / (w.div_ceil(2) * h.div_ceil(2)) as f64) as f32,
    }
}

/// The frame at time `t` between `a` (0) and `b` (1), from their motion.
///
/// # Errors
/// `t` outside `[0, 1]` or not finite; frames or flow of different sizes.
pub fn interpolate(
    a: &Image,
    b: &Image,
    motion: &PairMotion,
    t: f32,
    cut_rule: CutRule,
) -> Result<Interpolated> {
    check_time(t)?;
    check_sizes(a, b, &motion.flow)?;
    let (w, h) = (a.width(), a.height());
    let copy = |image: &Image, source, vectors: FlowField| Interpolated {
        image: with_layout_of(a, image.clone()),
        vectors,
        source,
    };
    if t == 0.0 {
        return Ok(copy(a, Source::A, motion.flow.forward.clone()));
    }
    if t == 1.0 {
        let mut v = motion.flow.backward.clone();
        v.vectors_mut().iter_mut().for_each(|p| *p = [-p[0], -p[1]]);
        return Ok(copy(b, Source::B, v));
    }
    if cut_rule != CutRule::Warp && motion.cut.is_cut() {
        let still = FlowField::zeros(w, h);
        return Ok(match cut_rule {
            CutRule::Dissolve => Interpolated {
                image: dissolve(a, b, t),
                vectors: still,
                source: Source::Dissolve,
            },
            _ if t < 0.5 => copy(a, Source::A, still),
            _ => copy(b, Source::B, still),
        });
    }
    let splatted = splat(&motion.flow, t);
    let vectors = fill(&splatted);
    let image = compose(a, b, &motion.flow, &vectors, &splatted.from_b, t);
    Ok(Interpolated {
        image,
        vectors,
        source: Source::Warped,
    })
}

/// `(1 − t)·A + t·B` over every channel.
pub fn dissolve(a: &Image, b: &Image, t: f32) -> Image {
    let s = 1.0 - t;
    let pixels = a
        .pixels()
        .par_iter()
        .zip(b.pixels().par_iter())
        .map(|(p, q)| std::array::from_fn(|c| s * p[c] + t * q[c]))
        .collect();
    let mut out = a.with_pixels(pixels);
    for ch in &mut out.extra {
        if let Some(other) = b.extra_channel(&ch.name) {
            ch.data
                .par_iter_mut()
                .zip(other.data.par_iter())
                .for_each(|(v, o)| *v = s * *v + t * o);
        }
    }
    out
}

/// `image` with A's windows, channel layout and metadata (B's pixels copied
/// at t = 1 keep the output's layout consistent over a sequence).
fn with_layout_of(a: &Image, mut image: Image) -> Image {
    image.base = a.base;
    image.data_window = a.data_window;
    image.display_window = a.display_window;
    image.metadata = a.metadata.clone();
    image
}

/// Rejects `t` outside `[0, 1]`.
pub fn check_time(t: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&t) {
        return Err(Error::parameter("time", t, "a number in 0..=1"));
    }
    Ok(())
}

/// Whether [`interpolate`] warps at time `t` (pass 1–3) rather than
/// returning a copy of A or B (`t` = 0 or 1) or applying `cut_rule` to a
/// detected scene cut. Other backends use it to run only the warp on their
/// device and the rest exactly as here.
pub fn warps(motion: &PairMotion, t: f32, cut_rule: CutRule) -> bool {
    t != 0.0 && t != 1.0 && (cut_rule == CutRule::Warp || !motion.cut.is_cut())
}

/// Rejects frames of different sizes and flow that is not at their size
/// (the checks of [`interpolate`]).
///
/// # Errors
/// [`Error::SizeMismatch`] naming the Back input or the motion vectors.
pub fn check_sizes(a: &Image, b: &Image, flow: &FlowResult) -> Result<()> {
    a.check_same_size(b, "Back input")?;
    if flow.forward.size() != a.size() || flow.backward.size() != a.size() {
        return Err(Error::SizeMismatch {
            what: "motion vectors".to_owned(),
            actual: flow.forward.size(),
            expected: a.size(),
        });
    }
    Ok(())
}

/// Bilinear sample of a plane, clamp to edge (the flow module's rule).
#[inline]
pub(crate) fn sample_plane(data: &[f32], w: usize, h: usize, x: f32, y: f32) -> f32 {
    let taps = Taps::new(x, y, w, h);
    taps.apply(|k| data[k])
}

/// The four clamped taps and weights of a bilinear sample.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Taps {
    k: [usize; 4],
    fx: f32,
    fy: f32,
}

impl Taps {
    /// Taps at `(x, y)` (pixel centres at integers), clamped to the frame.
    #[inline(always)]
    pub(crate) fn new(x: f32, y: f32, w: usize, h: usize) -> Self {
        let x = x.clamp(-1.0, w as f32);
        let y = y.clamp(-1.0, h as f32);
        let (x0, y0) = (floor_f32(x), floor_f32(y));
        let (fx, fy) = (x - x0, y - y0);
        let (ix, iy) = (x0 as isize, y0 as isize);
        let k = if ix >= 0 && iy >= 0 && ix + 1 < w as isize && iy + 1 < h as isize {
            // Inside: nothing to clamp (the common case).
            let k = iy as usize * w + ix as usize;
            [k, k + 1, k + w, k + w + 1]
        } else {
            let cx = |v: isize| v.clamp(0, w as isize - 1) as usize;
            let cy = |v: isize| v.clamp(0, h as isize - 1) as usize;
            let (x0, x1, y0, y1) = (cx(ix), cx(ix + 1), cy(iy), cy(iy + 1));
            [y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1]
        };
        Taps { k, fx, fy }
    }

    /// `lerp(lerp(a, b, fx), lerp(c, d, fx), fy)` of `at` over the taps.
    #[inline(always)]
    pub(crate) fn apply(&self, at: impl Fn(usize) -> f32) -> f32 {
        self.lerp([at(self.k[0]), at(self.k[1]), at(self.k[2]), at(self.k[3])])
    }

    /// The bilinear blend of the four tap values (in tap order).
    #[inline(always)]
    fn lerp(&self, [a, b, c, d]: [f32; 4]) -> f32 {
        let top = a + self.fx * (b - a);
        let bottom = c + self.fx * (d - c);
        top + self.fy * (bottom - top)
    }

    /// [`Taps::apply`] on both components of a vector field (each tap
    /// loaded once).
    #[inline(always)]
    pub(crate) fn apply2(&self, v: &[[f32; 2]]) -> [f32; 2] {
        let p = self.k.map(|k| v[k]);
        [
            self.lerp([p[0][0], p[1][0], p[2][0], p[3][0]]),
            self.lerp([p[0][1], p[1][1], p[2][1], p[3][1]]),
        ]
    }
}

/// The sixteen clamped taps and Keys-cubic weights (a = −0.75, OpenCV's
/// INTER_CUBIC) of a bicubic sample, the colour filter of the compose pass:
/// sharper than bilinear (a half-pixel shift of a bilinear fetch is a
/// [½ ½] blur), and clamped to the range of its sixteen taps so it never
/// rings past its neighbourhood (no negative alpha, no dark halo around a
/// hot highlight).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cubic {
    /// Row offsets (`y·w`) of the four rows.
    rows: [usize; 4],
    /// The four columns.
    cols: [usize; 4],
    /// Whether the columns are `cols[0] + 0..4` (no edge clamping).
    contiguous: bool,
    wx: [f32; 4],
    wy: [f32; 4],
}

/// The smaller of `a` and `b` as a plain compare (one `minps`; `f32::min`'s
/// NaN handling costs a blend). Inputs are finite in practice; a NaN
/// propagates instead of panicking.
#[inline]
fn min(a: f32, b: f32) -> f32 {
    if b < a { b } else { a }
}

/// The larger of `a` and `b` as a plain compare (see [`min`]).
#[inline]
fn max(a: f32, b: f32) -> f32 {
    if b > a { b } else { a }
}

/// `v` clamped to `[lo, hi]` without `f32::clamp`'s `lo <= hi` assertion
/// (which a NaN would trip).
#[inline]
fn clamp(v: f32, lo: f32, hi: f32) -> f32 {
    max(lo, min(v, hi))
}

/// Keys-cubic (a = −0.75) weights of the taps at `−1, 0, 1, 2` for a
/// fraction `f`.
#[inline]
fn cubic_weights(f: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let g = 1.0 - f;
    [
        A * f * g * g,
        ((A + 2.0) * f - (A + 3.0)) * f * f + 1.0,
        ((A + 2.0) * g - (A + 3.0)) * g * g + 1.0,
        A * f * f * g,
    ]
}

impl Cubic {
    /// Taps at `(x, y)` (pixel centres at integers), clamped to the frame.
    #[inline(always)]
    pub(crate) fn new(x: f32, y: f32, w: usize, h: usize) -> Self {
        let x = x.clamp(-1.0, w as f32);
        let y = y.clamp(-1.0, h as f32);
        let (x0, y0) = (floor_f32(x), floor_f32(y));
        let (fx, fy) = (x - x0, y - y0);
        let (ix, iy) = (x0 as isize, y0 as isize);
        // Away from the left and right edges the four columns are
        // consecutive (no clamping to do): [`Cubic::apply4`] then loads each
        // row's taps as one slice.
        let contiguous = ix >= 1 && ix + 2 < w as isize;
        let cols = if contiguous {
            let c = ix as usize - 1;
            [c, c + 1, c + 2, c + 3]
        } else {
            std::array::from_fn(|i| (ix - 1 + i as isize).clamp(0, w as isize - 1) as usize)
        };
        let rows =
            std::array::from_fn(|j| (iy - 1 + j as isize).clamp(0, h as isize - 1) as usize * w);
        Cubic {
            rows,
            cols,
            contiguous,
            wx: cubic_weights(fx),
            wy: cubic_weights(fy),
        }
    }

    /// The clamped bicubic sample of `at`: rows first (each row's four
    /// taps in x, weighted sum), then the column of row sums, then clamped
    /// to the min/max of the sixteen taps.
    #[inline]
    pub(crate) fn apply(&self, at: impl Fn(usize) -> f32) -> f32 {
        let mut sum = 0.0;
        for j in 0..4 {
            let r = self.rows[j];
            let mut row = 0.0;
            for i in 0..4 {
                row += self.wx[i] * at(r + self.cols[i]);
            }
            sum += self.wy[j] * row;
        }
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for r in self.rows {
            for c in self.cols {
                let v = at(r + c);
                lo = min(lo, v);
                hi = max(hi, v);
            }
        }
        clamp(sum, lo, hi)
    }

    /// [`Cubic::apply`] on every component of an RGBA pixel (the same
    /// arithmetic per component, each tap loaded once).
    #[inline(always)]
    pub(crate) fn apply4(&self, px: &[[f32; 4]]) -> [f32; 4] {
        let mut sum = [0.0f32; 4];
        let mut lo = [f32::INFINITY; 4];
        let mut hi = [f32::NEG_INFINITY; 4];
        for j in 0..4 {
            let r = self.rows[j];
            let taps: [[f32; 4]; 4] = if self.contiguous {
                let s = r + self.cols[0];
                // One bounds check per row instead of one per tap.
                px[s..s + 4].try_into().expect("four taps")
            } else {
                std::array::from_fn(|i| px[r + self.cols[i]])
            };
            let mut row = [0.0f32; 4];
            for (i, p) in taps.iter().enumerate() {
                for c in 0..4 {
                    row[c] += self.wx[i] * p[c];
                    lo[c] = min(lo[c], p[c]);
                    hi[c] = max(hi[c], p[c]);
                }
            }
            for c in 0..4 {
                sum[c] += self.wy[j] * row[c];
            }
        }
        std::array::from_fn(|c| clamp(sum[c], lo[c], hi[c]))
    }
}
