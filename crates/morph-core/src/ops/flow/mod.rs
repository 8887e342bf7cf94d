//! Dense optical flow, the CPU reference (issue #4): coarse-to-fine Dense
//! Inverse Search (Kroeger, Timofte, Dai & Van Gool, ECCV 2016) with
//! variational refinement (Brox, Bruhn, Papenberg & Weickert, ECCV 2004) on
//! a locally normalised, range-compressed luma pyramid; forward–backward
//! consistency for occlusion (Sundaram, Brox & Keutzer, ECCV 2010); joint
//! bilateral upsampling (Kopf et al., SIGGRAPH 2007) from the analysis
//! resolution to the input's.
//!
//! [`estimate_flow`] gives both directions and both occlusion maps;
//! [`estimate_flow_one_way`] only A → B. Vectors are in pixels of the input,
//! +x right, +y down (SPEC §1).
//!
//! # The passes (specification for the WGSL port)
//!
//! Everything is f32. Every pass is a gather with a fixed amount of work per
//! output element (one invocation per pixel, or per patch for pass 5) and
//! fixed iteration counts; nothing depends on global state computed from
//! the data. Index coordinates put the centre of pixel `(i, j)` at `(i, j)`.
//! Unless said otherwise, reads outside a plane clamp to the nearest edge
//! pixel, and "bilinear" means `plane.rs`'s rule: `ix = floor(x)`,
//! `fx = x − ix`, taps `clamp(ix)`, `clamp(ix + 1)` (same in y), blended as
//! `lerp(lerp(a, b, fx), lerp(c, d, fx), fy)` with `lerp(a, b, f) =
//! a + f·(b − a)`. Numbers are the defaults ([`FlowParams::default`] and the
//! constants below).
//!
//! Per frame (A and B alike; once for both directions):
//!
//! 1. **Luma** ([`range_compressed_luma`], per input pixel): Rec. 709 luma;
//!    float input is range-compressed (sRGB curve to 1.0, log shoulder
//!    above), other input used as code values; non-finite → 0. This
//!    full-resolution plane `G` is also the guide of pass 8.
//! 2. **Analysis downscale** (`luma.rs`, per analysis pixel): with
//!    `f = quality.divisor()`, the `ceil(W/f) × ceil(H/f)` box average of the
//!    `f × f` blocks (partial blocks at the right/bottom average what
//!    exists). This plane `g` is pyramid level 0.
//! 3. **Pyramid** (`pyramid.rs`): level `l + 1` is level `l` halved
//!    (`ceil` size, `[1 3 3 1]/8` filter over inputs `2i − 1 ..= 2i + 2`,
//!    rows then columns), as long as the next level's shorter side is at
//!    least `patch_size` (8) pixels, at most 12 levels. Per level (one
//!    invocation per pixel each): the locally normalised image
//!    `N = (I − μ)/sqrt(σ² + ε²)` over the 5×5 box (`ε` 0.01), its Sobel/8
//!    gradients `Nx`, `Ny`, and the edge weight `e = 1/(1 + |∇I|²/σ_e²)`
//!    from the Sobel/8 gradient of the raw level `I` (`σ_e` 0.1).
//!
//! Per direction (A → B shown; B → A swaps the frames), for each level from
//! the coarsest to level 0:
//!
//! 4. **Initial flow** (`upsample.rs`): zero at the coarsest level, else the
//!    previous level's flow bilinearly upsampled (output pixel `i` samples
//!    `(i + 0.5)/2 − 0.5`) and doubled.
//! 5. **Inverse search** (`dis.rs`, one invocation per patch): 8×8 patches
//!    every 4 pixels (the last row and column of patches moved in to end at
//!    the edge). Template and mean-free gradients of A's patch, Hessian with
//!    1e−3·64 added to its diagonal; start at the initial flow at the patch
//!    centre; 6 inverse-compositional Gauss–Newton steps on the
//!    mean-normalised SSD against B, keeping the lowest-SSD position
//!    visited (7 evaluations); fall back to the start where the result
//!    moved more than a patch side, or where the patch centre would land
//!    more than half a patch outside B.
//! 6. **Densification** (`dis.rs`, per pixel): the average of the covering
//!    patches' vectors weighted by `1/max(|B(x + u) − A(x)|, 0.1)` on the
//!    normalised images.
//! 7. **Variational refinement** (`variational.rs`): a warp pass (per pixel),
//!    then 8 fixed-point iterations (3 at level 0), each a weights pass and
//!    5 red–black SOR sweeps (a red pass and a black pass per sweep) of a
//!    Charbonnier brightness-constancy + edge-weighted Charbonnier
//!    smoothness energy (α 4). Then, at levels coarser than the analysis
//!    resolution, **7b, selection** (`select.rs`, per pixel): the densified
//!    vector replaces the refined one where its 5×5 window warping error is
//!    below 0.8 times the refined one's (small objects the smoothness would
//!    erase).
//!
//! Then, at the input's size:
//!
//! 8. **Edge-aware upsampling** (`upsample.rs`): per analysis cell, a blend
//!    weight `β` from how far the cell's four vectors spread (0 below a
//!    quarter analysis pixel, 1 from one pixel); per input pixel, the
//!    bilinear vector, moved by `β` toward a joint bilateral average over
//!    4×4 analysis pixels (guide `G` against `g`); vectors × `f`. Skipped at
//!    full quality. Then **8b, polish** (`polish.rs`, per pixel,
//!    `polish_iterations` times, default 1): a Lucas–Kanade step on 5×5
//!    windows of the frames' full-resolution lumas (pass 1's `G`, locally
//!    normalised), each step clamped to ½ px.
//! 9. **Occlusion** (`consistency.rs`, per pixel, both frames, only in
//!    [`estimate_flow`]): soft forward–backward check; leaving the frame
//!    counts as occluded.
//!
//! Each module's docs give the exact arithmetic. Summation orders are fixed
//! and stated, but a GPU port will not match bit for bit (fused multiply-add,
//! `exp`/`sqrt` precision, reductions in another order); compare the two
//! with a tolerance on the end-point error (e.g. mean difference below
//! 0.01 px, 99th percentile below 0.1 px). [`trace_flow_one_way`] returns
//! every pass's output (luma, analysis plane, and per level the normalised
//! image, its gradients and edge weights, initial flow, patch vectors,
//! densified and refined flow) so a port can be checked pass by pass, and
//! `fixtures` (feature `test-support`) holds the accuracy cases with their
//! thresholds.
//!
//! # Accuracy and speed
//!
//! `benches/flow_compare.py` builds 1080p pairs from photos with exact
//! ground truth (translation, sub-pixel, large motion, rotation, zoom, two
//! layers with occlusion, brightness change, noise) and runs OpenCV's DIS
//! beside this estimator, interleaved. On the 2-core development machine
//! (2026-11-22, mean over the eight cases, median of 3 runs):
//!
//! | method | mean EPE (px) | time (ms) |
//! |---|---|---|
//! | OpenCV DIS ultrafast | 0.800 | 13 |
//! | OpenCV DIS medium | 0.393 | 126 |
//! | this, 1/2 analysis (default) | 0.132 | 128 |
//! | this, 1/4 analysis | 0.211 | 80 |
//!
//! (Before pass 8b, 1/2 and 1/4 measured 0.136 px / 100 ms and 0.255 px /
//! 40 ms: the polish costs about a full-resolution pass per direction.)
//!
//! With pass 7b (2026-11-23, a slower day: DIS medium 0.393 px / 164 ms,
//! ultrafast 0.800 / 19 in the same run): 1/2 0.181 px / 200 ms, 1/4 0.259
//! px / 117 ms. The EPE rose (most at the 61-px pan, 0.166 → 0.333 px at
//! 1/4) for small fast objects the estimator used to lose entirely; see
//! `select.rs` for the trade and the interpolation figures.
//!
//! `tests.rs` states per-case thresholds on small frames.

pub(crate) mod consistency;
pub(crate) mod dis;
pub(crate) mod luma;
pub(crate) mod plane;
pub(crate) mod polish;
pub(crate) mod pyramid;
pub(crate) mod select;
pub(crate) mod upsample;
pub(crate) mod variational;

#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
#[cfg(test)]
mod tests;

pub use luma::range_compressed_luma;

/// The constants and sizes of the passes, public so that a port (the GPU
/// twin in `morph-gpu`) uses exactly the same numbers and grids as this
/// reference. Each item is documented where it is defined.
pub mod spec {
    pub use super::consistency::{CONSISTENCY_ABS, CONSISTENCY_REL};
    pub use super::dis::HESSIAN_REGULARIZATION;
    pub use super::luma::{LINEAR_FLOOR, LUMA_WEIGHTS, SHOULDER_SLOPE};
    pub use super::polish::{POLISH_LAMBDA, POLISH_MAX_STEP, POLISH_MIN_DET, POLISH_RADIUS};
    pub use super::pyramid::REDUCE_TAPS;
    pub use super::select::{SELECT_RADIUS, SELECT_RATIO};
    pub use super::upsample::{SIGMA_RANGE, SIGMA_SPACE, SPREAD_HIGH, SPREAD_LOW};
    pub use super::variational::{DATA_EPSILON, OMEGA, SMOOTH_EPSILON};
    pub use super::{DENSIFY_TAU, EDGE_SIGMA, NORMALIZE_EPSILON, NORMALIZE_RADIUS};

    /// Pyramid levels over an analysis plane of `width × height` with
    /// patches of `patch_size` (pass 3's rule: halve while the next level's
    /// shorter side is at least the patch, at most 12 levels).
    pub fn level_count(width: usize, height: usize, patch_size: usize) -> usize {
        super::pyramid::level_count(width, height, patch_size)
    }

    /// Patches per row and patch rows of pass 5's grid over a `width ×
    /// height` level (`patch_size` patches every `stride` pixels, the last
    /// column and row moved in to end at the edge).
    pub fn patch_grid(
        width: usize,
        height: usize,
        patch_size: usize,
        stride: usize,
    ) -> (usize, usize) {
        let g = super::dis::PatchGrid::new(width, height, patch_size, stride);
        (g.nx, g.ny)
    }
}

use crate::error::{Error, Result};
use crate::flow::FlowField;
use crate::image::Image;
use crate::params::AnalysisQuality;

use plane::Plane;
use pyramid::Level;

/// Box radius of the local contrast normalisation, in level pixels.
pub const NORMALIZE_RADIUS: usize = 2;
/// ε of the local contrast normalisation, in range-compressed luma.
pub const NORMALIZE_EPSILON: f32 = 0.01;
/// τ of the densification weights `1/max(|d|, τ)`, in normalised luma.
pub const DENSIFY_TAU: f32 = 0.1;
/// σ of the edge weight `1/(1 + |∇L|²/σ²)` that weakens smoothing across
/// picture edges, in range-compressed luma per pixel of the level.
pub const EDGE_SIGMA: f32 = 0.1;

/// Settings of the flow estimator. [`FlowParams::default`] is the tuned
/// configuration; [`FlowParams::with_quality`] keeps it and picks the
/// analysis resolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowParams {
    /// `motion_analysis_quality`: flow is estimated at 1/16 … 1/1 of the
    /// input and upsampled edge-aware. Default 1/2.
    pub quality: AnalysisQuality,
    /// Patch side of the inverse search, in analysis pixels: 4, 8, 12 or
    /// 16. Default 8.
    pub patch_size: u32,
    /// Distance between patch origins, 1..=`patch_size`. Default 4 (each
    /// pixel is covered by 4 patches).
    pub patch_stride: u32,
    /// Gauss–Newton iterations per patch, 0..=256. Default 6.
    pub search_iterations: u32,
    /// Fixed-point iterations of the variational refinement at every level
    /// coarser than the analysis resolution, 0..=64 (0: none). Default 8.
    pub refine_iterations: u32,
    /// Fixed-point iterations at the analysis resolution itself (the finest
    /// and most expensive level), 0..=64. Default 3.
    pub finest_refine_iterations: u32,
    /// Red–black SOR sweeps per fixed-point iteration, 1..=64. Default 5.
    pub sor_iterations: u32,
    /// Smoothness weight α of the refinement (data weight 1, normalised
    /// luma), ≥ 0. Default 4.
    pub smoothness: f32,
    /// Lucas–Kanade steps at the input's resolution after upsampling (pass
    /// 8b), 0..=8 (0: none). Default 1.
    pub polish_iterations: u32,
}

impl Default for FlowParams {
    fn default() -> Self {
        FlowParams {
            quality: AnalysisQuality::Half,
            patch_size: 8,
            patch_stride: 4,
            search_iterations: 6,
            refine_iterations: 8,
            finest_refine_iterations: 3,
            sor_iterations: 5,
            smoothness: 4.0,
            polish_iterations: 1,
        }
    }
}

impl FlowParams {
    /// The default settings at another analysis resolution.
    pub fn with_quality(quality: AnalysisQuality) -> Self {
        FlowParams {
            quality,
            ..Default::default()
        }
    }

    /// Checks every knob, naming the one out of range.
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.patch_size, 4 | 8 | 12 | 16) {
            return Err(Error::parameter(
                "flow.patch_size",
                self.patch_size,
                "4, 8, 12 or 16",
            ));
        }
        if self.patch_stride == 0 || self.patch_stride > self.patch_size {
            return Err(Error::parameter(
                "flow.patch_stride",
                self.patch_stride,
                format!("an integer in 1..={} (the patch size)", self.patch_size),
            ));
        }
        if self.search_iterations > 256 {
            return Err(Error::parameter(
                "flow.search_iterations",
                self.search_iterations,
                "0..=256",
            ));
        }
        if self.refine_iterations > 64 {
            return Err(Error::parameter(
                "flow.refine_iterations",
                self.refine_iterations,
                "0..=64",
            ));
        }
        if self.finest_refine_iterations > 64 {
            return Err(Error::parameter(
                "flow.finest_refine_iterations",
                self.finest_refine_iterations,
                "0..=64",
            ));
        }
        if !(1..=64).contains(&self.sor_iterations) {
            return Err(Error::parameter(
                "flow.sor_iterations",
                self.sor_iterations,
                "1..=64",
            ));
        }
        if !(self.smoothness.is_finite() && self.smoothness >= 0.0) {
            return Err(Error::parameter(
                "flow.smoothness",
                self.smoothness,
                "a finite number >= 0",
            ));
        }
        if self.polish_iterations > 8 {
            return Err(Error::parameter(
                "flow.polish_iterations",
                self.polish_iterations,
                "0..=8",
            ));
        }
        Ok(())
    }
}

/// Flow in both directions with occlusion, all at the input's size.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowResult {
    /// A → B: for each pixel of A, the offset to where it is in B.
    pub forward: FlowField,
    /// B → A: for each pixel of B, the offset to where it is in A.
    pub backward: FlowField,
    /// Per pixel of A, 0 (visible in B) ..= 1 (occluded in B or leaving the
    /// frame), from forward–backward consistency.
    pub occlusion_forward: Vec<f32>,
    /// Per pixel of B, 0 (visible in A) ..= 1 (occluded in A).
    pub occlusion_backward: Vec<f32>,
}

/// One frame made ready for matching: its luma at full and analysis
/// resolution and the normalised pyramid.
struct Prepared {
    full: Plane,
    /// The full-resolution luma locally normalised (pass 8b's input).
    full_normalized: Option<Plane>,
    analysis: Plane,
    levels: Vec<Level>,
}

fn prepare(image: &Image, params: &FlowParams) -> Prepared {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let full = Plane::from_vec(w, h, range_compressed_luma(image));
    let analysis = luma::downscale_box(&full, params.quality.divisor() as usize);
    let count = pyramid::level_count(analysis.width, analysis.height, params.patch_size as usize);
    let mut levels = Vec::with_capacity(count);
    let mut raw = analysis.clone();
    for l in 0..count {
        if l > 0 {
            raw = pyramid::halve(&raw);
        }
        levels.push(Level::new(
            &raw,
            NORMALIZE_RADIUS,
            NORMALIZE_EPSILON,
            EDGE_SIGMA,
        ));
    }
    let full_normalized = (params.polish_iterations > 0)
        .then(|| pyramid::normalize(&full, NORMALIZE_RADIUS, NORMALIZE_EPSILON));
    Prepared {
        full,
        full_normalized,
        analysis,
        levels,
    }
}

/// Coarse-to-fine flow from `a` to `b` at the analysis resolution.
fn flow_at_analysis(a: &Prepared, b: &Prepared, params: &FlowParams) -> FlowField {
    flow_at_analysis_traced(a, b, params, None)
}

/// [`flow_at_analysis`], handing every level's intermediate results to
/// `trace` (coarsest level first).
fn flow_at_analysis_traced(
    a: &Prepared,
    b: &Prepared,
    params: &FlowParams,
    mut trace: Option<&mut dyn FnMut(LevelTrace)>,
) -> FlowField {
    let refine = variational::RefineParams {
        alpha: params.smoothness,
        outer: params.refine_iterations as usize,
        inner: params.sor_iterations as usize,
    };
    let mut flow: Option<FlowField> = None;
    for l in (0..a.levels.len()).rev() {
        let (l0, l1) = (&a.levels[l], &b.levels[l]);
        let (w, h) = (l0.image.width, l0.image.height);
        let init = match flow.take() {
            None => FlowField::zeros(w as u32, h as u32),
            Some(coarse) => upsample::upsample_bilinear(&coarse, w, h, 2.0),
        };
        let grid = dis::PatchGrid::new(
            w,
            h,
            params.patch_size as usize,
            params.patch_stride as usize,
        );
        let patches = dis::inverse_search(
            l0,
            &l1.image,
            &init,
            &grid,
            params.search_iterations as usize,
        );
        let densified = dis::densify(&grid, &patches, &l0.image, &l1.image, DENSIFY_TAU);
        let mut rp = refine;
        if l == 0 {
            rp.outer = params.finest_refine_iterations as usize;
        }
        // Pass 7b compares the two, where the refinement ran and the level
        // is coarser than the analysis resolution.
        let select = l > 0 && rp.outer > 0;
        let mut refined = densified;
        match trace.as_mut() {
            None if !select => variational::refine(l0, l1, &mut refined, &rp),
            None => {
                let densified = refined.clone();
                variational::refine(l0, l1, &mut refined, &rp);
                select::keep_better(&l0.image, &l1.image, &densified, &mut refined);
            }
            Some(trace) => {
                let densified = refined.clone();
                variational::refine(l0, l1, &mut refined, &rp);
                if select {
                    select::keep_better(&l0.image, &l1.image, &densified, &mut refined);
                }
                trace(LevelTrace {
                    level: l,
                    normalized: l0.image.data.clone(),
                    gx: l0.gx.data.clone(),
                    gy: l0.gy.data.clone(),
                    edge: l0.edge.data.clone(),
                    initial: init,
                    patches,
                    densified,
                    refined: refined.clone(),
                });
            }
        }
        flow = Some(refined);
    }
    flow.expect("a pyramid has at least one level")
}

/// What one pyramid level of one direction produced, for pass-by-pass
/// comparison with another backend ([`trace_flow_one_way`]). Planes are
/// row-major at the level's size (the size of the flow fields).
#[derive(Clone, Debug)]
pub struct LevelTrace {
    /// Level index: 0 is the analysis resolution.
    pub level: usize,
    /// Pass 3: frame A's locally normalised luma.
    pub normalized: Vec<f32>,
    /// Pass 3: its horizontal Sobel/8 derivative.
    pub gx: Vec<f32>,
    /// Pass 3: its vertical Sobel/8 derivative.
    pub gy: Vec<f32>,
    /// Pass 3: frame A's edge weights.
    pub edge: Vec<f32>,
    /// Pass 4: the initial flow.
    pub initial: FlowField,
    /// Pass 5: one vector per patch, row-major over the patch grid.
    pub patches: Vec<[f32; 2]>,
    /// Pass 6: the dense flow before refinement.
    pub densified: FlowField,
    /// Pass 7 (and 7b): the refined flow, after the selection at levels
    /// coarser than the analysis resolution.
    pub refined: FlowField,
}

/// Everything [`estimate_flow_one_way`] computes on the way, for a GPU twin
/// to compare pass by pass (costly: it clones every level).
#[derive(Clone, Debug)]
pub struct FlowTrace {
    /// Pass 1: frame A's range-compressed luma at the input's size.
    pub luma: Vec<f32>,
    /// Pass 2: frame A's luma at the analysis resolution.
    pub analysis: Vec<f32>,
    /// Passes 3–7, coarsest level first.
    pub levels: Vec<LevelTrace>,
    /// Pass 8: the flow upsampled to the input's size (the flow itself at
    /// full quality).
    pub upsampled: FlowField,
    /// Pass 8b's input: frame A's full-resolution luma locally normalised
    /// (absent when `polish_iterations` is 0).
    pub normalized: Option<Vec<f32>>,
    /// Pass 8b: the result, identical to [`estimate_flow_one_way`]'s.
    pub forward: FlowField,
}

/// [`estimate_flow_one_way`] with every intermediate result kept.
pub fn trace_flow_one_way(a: &Image, b: &Image, params: &FlowParams) -> Result<FlowTrace> {
    params.validate()?;
    a.check_same_size(b, "Back input")?;
    let (pa, pb) = rayon::join(|| prepare(a, params), || prepare(b, params));
    let mut levels = Vec::new();
    let flow = flow_at_analysis_traced(&pa, &pb, params, Some(&mut |t| levels.push(t)));
    let upsampled = upsample(&flow, &pa, params);
    let mut forward = upsampled.clone();
    polish_full(&mut forward, &pa, &pb, params);
    Ok(FlowTrace {
        luma: pa.full.data.clone(),
        analysis: pa.analysis.data.clone(),
        levels,
        upsampled,
        normalized: pa.full_normalized.as_ref().map(|p| p.data.clone()),
        forward,
    })
}

/// Passes 8 and 8b: the analysis-resolution flow from `from` to `to`,
/// upsampled to the input's size and polished there.
fn to_full(flow: &FlowField, from: &Prepared, to: &Prepared, params: &FlowParams) -> FlowField {
    let mut full = upsample(flow, from, params);
    polish_full(&mut full, from, to, params);
    full
}

/// Pass 8.
fn upsample(flow: &FlowField, from: &Prepared, params: &FlowParams) -> FlowField {
    upsample::upsample_edge_aware(
        flow,
        &from.analysis,
        &from.full,
        params.quality.divisor() as usize,
    )
}

/// Pass 8b.
fn polish_full(full: &mut FlowField, from: &Prepared, to: &Prepared, params: &FlowParams) {
    if let (Some(a), Some(b)) = (&from.full_normalized, &to.full_normalized) {
        polish::polish(full, a, b, params.polish_iterations as usize);
    }
}

/// Dense flow A → B and B → A with occlusion maps, at the input's size.
///
/// Vectors are in pixels of the input, +x right, +y down; `forward` is the
/// offset from a pixel of A to where it is in B. See the module docs for
/// the algorithm.
pub fn estimate_flow(a: &Image, b: &Image, params: &FlowParams) -> Result<FlowResult> {
    params.validate()?;
    a.check_same_size(b, "Back input")?;
    let (pa, pb) = rayon::join(|| prepare(a, params), || prepare(b, params));
    let (forward, backward) = rayon::join(
        || to_full(&flow_at_analysis(&pa, &pb, params), &pa, &pb, params),
        || to_full(&flow_at_analysis(&pb, &pa, params), &pb, &pa, params),
    );
    let (occlusion_forward, occlusion_backward) = rayon::join(
        || consistency::occlusion(&forward, &backward),
        || consistency::occlusion(&backward, &forward),
    );
    Ok(FlowResult {
        forward,
        backward,
        occlusion_forward,
        occlusion_backward,
    })
}

/// Dense flow A → B only (half the work of [`estimate_flow`], no occlusion).
pub fn estimate_flow_one_way(a: &Image, b: &Image, params: &FlowParams) -> Result<FlowField> {
    params.validate()?;
    a.check_same_size(b, "Back input")?;
    let (pa, pb) = rayon::join(|| prepare(a, params), || prepare(b, params));
    Ok(to_full(
        &flow_at_analysis(&pa, &pb, params),
        &pa,
        &pb,
        params,
    ))
}
