//! Dense optical flow on the GPU (issue #4): the whole estimator of
//! [`morph_core::ops::flow`] (the specification; its module docs list the
//! nine passes and their arithmetic) as compute kernels, twin of
//! `shaders/flow_pyramid.wgsl` (passes 1–3), `shaders/flow_search.wgsl`
//! (4–6 and 7b), `shaders/flow_refine.wgsl` (7) and
//! `shaders/flow_output.wgsl` (8, 8b and 9), which share
//! `shaders/common/flow.wgsl`.
//!
//! # On the device
//! One [`Frame`] does everything: the two frames are uploaded once, every
//! pass of the pyramid (luma, analysis downscale, per level halving,
//! normalisation with edge weights, gradients) and of each direction (per
//! level: initial flow, inverse search with one invocation per patch,
//! densification, the warp pass, then per fixed-point iteration a weights
//! pass and red and black SOR sweeps, at levels coarser than the analysis
//! resolution a copy of the densified field before them and the selection
//! after; then the edge-aware upsampling and
//! the occlusion check) is a compute dispatch into the same command
//! encoder, intermediates stay in pooled device buffers, and only the
//! result is read back. Nothing is created per pass: pipelines come from
//! the context's cache, the level uniforms are written once per frame and
//! shared by both frames and directions, and each level's dispatches are
//! recorded as one compute pass ([`Frame::dispatch_batch`]) whose SOR
//! bind groups are made once and dispatched 2 × `sor_iterations` ×
//! `refine_iterations` times.
//!
//! Work shapes: per-pixel kernels use 16 × 16 workgroups over the plane;
//! the inverse search runs one invocation per patch in 8 × 8 workgroups
//! that first stage their patches' template region (36 × 36 pixels of N,
//! Nx, Ny for the default 8-pixel patches every 4 pixels; 15 KiB) in
//! workgroup memory, and samples the second frame from a plain f32 plane
//! of its normalised luma (4 bytes a tap); the red and black sweeps launch one invocation per
//! pixel of their colour. Levels of at most [`SMALL_LEVEL_PIXELS`] (the
//! coarse end of the pyramid) are refined by a single workgroup looping
//! over the level with storage barriers between passes, one dispatch
//! instead of about 90.
//!
//! # Cost (1920×1080, quality 1/2, one field A → B)
//! 7 levels from 960×540 down to 15×9 (60×34 and smaller refined by one
//! workgroup). Counted from the code paths: 370 dispatches (44 for the two
//! pyramids, 324 for the levels, 2 for the upsampling) in 10 compute
//! passes, 85 bind groups, 25 uniform buffers. Recording
//! (`flow_on_device`, before the single-workgroup levels removed 264 of
//! the then 634 dispatches) took 0.35–0.7 ms of CPU on the 2-core
//! development VM (lavapipe, release build).
//!
//! The expected bottleneck on a large GPU is not bandwidth (a level-0
//! sweep touches about 13 MB, ~5 µs at 3 TB/s) but the chain of ~310
//! dependent dispatches of levels 0–3, each followed by a barrier that
//! drains the GPU, most of them too small to fill it (level 3 is 120×68):
//! at 2–4 µs each that is 0.6–1.2 ms of the 3.3 ms budget of 300
//! fields/s, before the inverse search (≈ 32 k patches × 7 evaluations ×
//! 64 pixels at level 0) and the transfers (excluded by the `gpu-kernel`
//! bench). Not measured on hardware yet: see `benches/benches/flow.rs`.
//!
//! # Entry points
//! - [`flow`] / [`flow_one_way`]: images in, [`FlowResult`] / [`FlowField`]
//!   out, like the CPU's `estimate_flow` / `estimate_flow_one_way`;
//! - [`flow_on_device`]: records the estimator into an existing frame on
//!   images already on the device and returns the vectors (and occlusion)
//!   as device buffers ([`GpuFlow`]: vectors, occlusion, and both packed
//!   as `(u, v, occlusion, 0)`), so a later op in the same frame (frame
//!   interpolation, motion blur) can warp with them without a read-back;
//! - [`trace_flow_one_way`]: every pass's output read back, in the shape of
//!   the CPU's [`morph_core::ops::flow::trace_flow_one_way`], for
//!   pass-by-pass comparison.
//!
//! # Agreement with the CPU
//! Same constants (computed in f32 on the CPU and handed over in the
//! uniform), same summation orders, same edge rules. Differences come from
//! fused multiply-adds, the driver's `pow`/`log`/`exp`/`sqrt`, and then
//! grow through the Gauss–Newton and SOR iterations; `tests/flow.rs`
//! states the tolerances per pass and on the final end-point difference.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};
use morph_core::Image;
use morph_core::flow::FlowField;
use morph_core::ops::flow::spec::{
    CONSISTENCY_ABS, CONSISTENCY_REL, DATA_EPSILON, DENSIFY_TAU, EDGE_SIGMA,
    HESSIAN_REGULARIZATION, NORMALIZE_EPSILON, NORMALIZE_RADIUS, OMEGA, POLISH_LAMBDA,
    POLISH_MAX_STEP, POLISH_RADIUS, SELECT_RADIUS, SELECT_RATIO, SIGMA_RANGE, SIGMA_SPACE,
    SMOOTH_EPSILON, SPREAD_HIGH, SPREAD_LOW, level_count, patch_grid,
};
use morph_core::ops::flow::{FlowParams, FlowResult, FlowTrace, LevelTrace};
use rayon::prelude::*;

use crate::context::GpuContext;
use crate::error::Result;
use crate::frame::{Dispatch, Frame, IMAGE_USAGE};
use crate::image::GpuImage;
use crate::pipeline::{BindingKind, Kernel, KernelSpec};
use crate::pool::GpuBuffer;
use crate::shaders::{self, UniformLayout};

/// The uniform of every flow kernel.
///
/// Keep in sync with `struct GpuFlowParams` in `shaders/common/flow.wgsl`
/// (checked by `tests/shaders.rs` against naga's layout of each flow
/// shader). Sizes are per pass; the constants are the CPU's, computed in
/// f32 by [`GpuFlowParams::new`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuFlowParams {
    /// Width of the plane the pass writes (or of its level).
    pub width: u32,
    /// Height of the plane the pass writes.
    pub height: u32,
    /// Width of the plane it reads when that differs (downscale, halve,
    /// upsampling).
    pub src_width: u32,
    /// Height of that plane.
    pub src_height: u32,
    /// Analysis divisor `f`.
    pub factor: u32,
    /// 1: range-compress the luma (scene-linear float input).
    pub linear: u32,
    /// Patch side of the inverse search.
    pub patch_size: u32,
    /// Distance between patch origins.
    pub stride: u32,
    /// Patches per row.
    pub nx: u32,
    /// Patch rows.
    pub ny: u32,
    /// Gauss–Newton iterations per patch.
    pub iterations: u32,
    /// Red–black sweep colour: 0 red (`x + y` even), 1 black.
    pub colour: u32,
    /// Vector scale of an upsampling.
    pub scale: f32,
    /// `1/(2r + 1)²` of the local normalisation.
    pub inv_taps: f32,
    /// `ε²` of the local normalisation.
    pub norm_eps2: f32,
    /// `1/σ_e²` of the edge weights.
    pub edge_inv: f32,
    /// `1e−3 · patch²`, added to the Hessian's diagonal.
    pub hessian_reg: f32,
    /// `τ` of the densification weights.
    pub tau: f32,
    /// Smoothness weight `α`.
    pub alpha: f32,
    /// Charbonnier `ε²` of the data term.
    pub eps_d2: f32,
    /// Charbonnier `ε²` of the smoothness term.
    pub eps_s2: f32,
    /// SOR over-relaxation factor.
    pub omega: f32,
    /// `1/(2σ_s²)` of the joint bilateral weights.
    pub inv_2ss: f32,
    /// `1/(2σ_r²)` of the joint bilateral weights.
    pub inv_2sr: f32,
    /// Flow spread below which the upsampling stays bilinear.
    pub spread_low: f32,
    /// Width of the blend ramp above it.
    pub spread_range: f32,
    /// Absolute part of the consistency tolerance.
    pub cons_abs: f32,
    /// Relative part of the consistency tolerance.
    pub cons_rel: f32,
    /// Fixed-point iterations of this level's refinement (`refine_level`).
    pub outer: u32,
    /// SOR sweeps per fixed-point iteration (`refine_level`).
    pub inner: u32,
    /// Pass 8b: λ added to the structure tensor's diagonal.
    pub polish_lambda: f32,
    /// Pass 8b: the largest step per component, in pixels.
    pub polish_max_step: f32,
}

const _: () = assert!(std::mem::size_of::<GpuFlowParams>() == 128);
// The normalisation kernel's 5×5 box is written out in the shader, and so
// is the polish's window (POLISH_R, a 20 × 20 tile for 16 × 16 pixels).
const _: () = assert!(NORMALIZE_RADIUS == 2);
const _: () = assert!(POLISH_RADIUS == 2);
// The select pass's window and ratio are constants of the shader.
const _: () = assert!(SELECT_RADIUS == 2);
const _: () = assert!(SELECT_RATIO == 0.8);

impl GpuFlowParams {
    /// The constants of `params` (sizes 0, set per pass).
    pub fn new(params: &FlowParams) -> Self {
        let taps = (2 * NORMALIZE_RADIUS + 1) as f32;
        let p = params.patch_size;
        GpuFlowParams {
            factor: params.quality.divisor(),
            patch_size: p,
            stride: params.patch_stride,
            iterations: params.search_iterations,
            scale: 1.0,
            inv_taps: 1.0 / (taps * taps),
            norm_eps2: NORMALIZE_EPSILON * NORMALIZE_EPSILON,
            edge_inv: 1.0 / (EDGE_SIGMA * EDGE_SIGMA),
            hessian_reg: HESSIAN_REGULARIZATION * (p * p) as f32,
            tau: DENSIFY_TAU,
            alpha: params.smoothness,
            eps_d2: DATA_EPSILON * DATA_EPSILON,
            eps_s2: SMOOTH_EPSILON * SMOOTH_EPSILON,
            omega: OMEGA,
            inv_2ss: 1.0 / (2.0 * SIGMA_SPACE * SIGMA_SPACE),
            inv_2sr: 1.0 / (2.0 * SIGMA_RANGE * SIGMA_RANGE),
            spread_low: SPREAD_LOW,
            spread_range: SPREAD_HIGH - SPREAD_LOW,
            cons_abs: CONSISTENCY_ABS,
            cons_rel: CONSISTENCY_REL,
            polish_lambda: POLISH_LAMBDA,
            polish_max_step: POLISH_MAX_STEP,
            ..Default::default()
        }
    }

    /// The same constants for a pass writing `width × height`.
    fn sized(&self, width: u32, height: u32) -> Self {
        GpuFlowParams {
            width,
            height,
            ..*self
        }
    }

    /// The same with a source of `width × height`.
    fn source(self, width: u32, height: u32) -> Self {
        GpuFlowParams {
            src_width: width,
            src_height: height,
            ..self
        }
    }
}

/// [`uniform_layout!`](crate::uniform_layout) of [`GpuFlowParams`] in one
/// flow shader (each declares the struct through `common/flow.wgsl`).
macro_rules! flow_layout {
    ($shader:expr) => {
        $crate::uniform_layout!(
            $shader,
            GpuFlowParams {
                width,
                height,
                src_width,
                src_height,
                factor,
                linear,
                patch_size,
                stride,
                nx,
                ny,
                iterations,
                colour,
                scale,
                inv_taps,
                norm_eps2,
                edge_inv,
                hessian_reg,
                tau,
                alpha,
                eps_d2,
                eps_s2,
                omega,
                inv_2ss,
                inv_2sr,
                spread_low,
                spread_range,
                cons_abs,
                cons_rel,
                outer,
                inner,
                polish_lambda,
                polish_max_step
            }
        )
    };
}

/// Layout of [`GpuFlowParams`] in `shaders/flow_pyramid.wgsl`.
pub const PYRAMID_UNIFORM_LAYOUT: UniformLayout = flow_layout!(shaders::FLOW_PYRAMID);
/// Layout of [`GpuFlowParams`] in `shaders/flow_search.wgsl`.
pub const SEARCH_UNIFORM_LAYOUT: UniformLayout = flow_layout!(shaders::FLOW_SEARCH);
/// Layout of [`GpuFlowParams`] in `shaders/flow_refine.wgsl`.
pub const REFINE_UNIFORM_LAYOUT: UniformLayout = flow_layout!(shaders::FLOW_REFINE);
/// Layout of [`GpuFlowParams`] in `shaders/flow_output.wgsl`.
pub const OUTPUT_UNIFORM_LAYOUT: UniformLayout = flow_layout!(shaders::FLOW_OUTPUT);

/// Levels of at most this many pixels are refined by one workgroup
/// (`refine_level`: one dispatch instead of about 90, each a pass over a
/// few thousand pixels that would leave a large GPU idle between
/// barriers); larger ones by one dispatch per pass.
pub const SMALL_LEVEL_PIXELS: u32 = 2048;

/// Workgroup of the per-pixel kernels (`@workgroup_size(16, 16)`).
pub const PIXEL_WORKGROUP: [u32; 3] = [16, 16, 1];
/// Workgroup of the inverse search, one invocation per patch
/// (`@workgroup_size(8, 8)`).
pub const PATCH_WORKGROUP: [u32; 3] = [8, 8, 1];

use BindingKind::{StorageRead as R, StorageReadWrite as W, Uniform as U};

macro_rules! kernel {
    ($(#[$doc:meta])* $name:ident, $shader:ident, $entry:literal, $wg:expr, [$($b:expr),*]) => {
        $(#[$doc])*
        pub static $name: KernelSpec = KernelSpec {
            label: concat!("flow.", $entry),
            shader: shaders::$shader,
            entry_point: $entry,
            workgroup_size: $wg,
            bindings: &[$($b),*],
        };
    };
}

kernel!(
    /// Pass 1: RGBA → range-compressed luma.
    LUMA_KERNEL, FLOW_PYRAMID, "luma", PIXEL_WORKGROUP, [U, R, W]
);
kernel!(
    /// Pass 2: box downscale to the analysis resolution.
    DOWNSCALE_KERNEL, FLOW_PYRAMID, "downscale", PIXEL_WORKGROUP, [U, R, W]
);
kernel!(
    /// Pass 3: the `[1 3 3 1]/8` halving to the next level.
    HALVE_KERNEL, FLOW_PYRAMID, "halve", PIXEL_WORKGROUP, [U, R, W]
);
kernel!(
    /// Pass 3: local normalisation and edge weights.
    NORMALIZE_KERNEL, FLOW_PYRAMID, "normalize", PIXEL_WORKGROUP, [U, R, W, W]
);
kernel!(
    /// Pass 3: Sobel gradients, packing the level as (N, Nx, Ny, edge).
    GRADIENTS_KERNEL, FLOW_PYRAMID, "gradients", PIXEL_WORKGROUP, [U, R, R, W]
);
kernel!(
    /// Pass 4: the coarser level's flow, upsampled and doubled.
    UPSAMPLE_KERNEL, FLOW_SEARCH, "upsample", PIXEL_WORKGROUP, [U, R, W]
);
kernel!(
    /// Pass 5: inverse search, one invocation per patch.
    SEARCH_KERNEL, FLOW_SEARCH, "search", PATCH_WORKGROUP, [U, R, R, R, W]
);
kernel!(
    /// Pass 6: densification.
    DENSIFY_KERNEL, FLOW_SEARCH, "densify", PIXEL_WORKGROUP, [U, R, R, R, W]
);
kernel!(
    /// Pass 7b: the densified or the refined vector, per pixel.
    SELECT_KERNEL, FLOW_SEARCH, "select_field", PIXEL_WORKGROUP, [U, R, R, R, R, W]
);
kernel!(
    /// Pass 7: the warp pass of the variational refinement.
    WARP_KERNEL, FLOW_REFINE, "warp", PIXEL_WORKGROUP, [U, R, R, R, W]
);
kernel!(
    /// Pass 7: robust weights of one fixed-point iteration.
    WEIGHTS_KERNEL, FLOW_REFINE, "weights", PIXEL_WORKGROUP, [U, R, R, W]
);
kernel!(
    /// Pass 7: one red or black SOR pass.
    SWEEP_KERNEL, FLOW_REFINE, "sweep", PIXEL_WORKGROUP, [U, R, R, W]
);
kernel!(
    /// Pass 7 of a level of at most [`SMALL_LEVEL_PIXELS`]: the whole
    /// refinement in one workgroup.
    REFINE_LEVEL_KERNEL, FLOW_REFINE, "refine_level", [256, 1, 1], [U, R, R, W, W, W]
);
kernel!(
    /// Pass 8: per analysis cell, the blend weight from the flow's spread.
    SPREAD_KERNEL, FLOW_OUTPUT, "spread", PIXEL_WORKGROUP, [U, R, W]
);
kernel!(
    /// Pass 8: edge-aware upsampling to the input's size.
    UPSAMPLE_EDGE_KERNEL, FLOW_OUTPUT, "upsample_edge", PIXEL_WORKGROUP, [U, R, R, R, R, W]
);
kernel!(
    /// Pass 8b: one Lucas–Kanade step at the input's resolution.
    POLISH_KERNEL, FLOW_OUTPUT, "polish", PIXEL_WORKGROUP, [U, R, R, R, W]
);
kernel!(
    /// Pass 9: occlusion from forward–backward consistency.
    OCCLUSION_KERNEL, FLOW_OUTPUT, "occlusion", PIXEL_WORKGROUP, [U, R, R, W, W]
);

/// The compiled kernels of one call (looked up once in the pipeline cache).
struct Kernels {
    luma: Arc<Kernel>,
    downscale: Arc<Kernel>,
    halve: Arc<Kernel>,
    normalize: Arc<Kernel>,
    gradients: Arc<Kernel>,
    upsample: Arc<Kernel>,
    search: Arc<Kernel>,
    densify: Arc<Kernel>,
    select: Arc<Kernel>,
    warp: Arc<Kernel>,
    weights: Arc<Kernel>,
    sweep: Arc<Kernel>,
    refine_level: Arc<Kernel>,
    spread: Arc<Kernel>,
    upsample_edge: Arc<Kernel>,
    polish: Arc<Kernel>,
    occlusion: Arc<Kernel>,
}

impl Kernels {
    fn get(ctx: &GpuContext) -> Result<Self> {
        Ok(Kernels {
            luma: ctx.kernel(&LUMA_KERNEL, &[])?,
            downscale: ctx.kernel(&DOWNSCALE_KERNEL, &[])?,
            halve: ctx.kernel(&HALVE_KERNEL, &[])?,
            normalize: ctx.kernel(&NORMALIZE_KERNEL, &[])?,
            gradients: ctx.kernel(&GRADIENTS_KERNEL, &[])?,
            upsample: ctx.kernel(&UPSAMPLE_KERNEL, &[])?,
            search: ctx.kernel(&SEARCH_KERNEL, &[])?,
            densify: ctx.kernel(&DENSIFY_KERNEL, &[])?,
            select: ctx.kernel(&SELECT_KERNEL, &[])?,
            warp: ctx.kernel(&WARP_KERNEL, &[])?,
            weights: ctx.kernel(&WEIGHTS_KERNEL, &[])?,
            sweep: ctx.kernel(&SWEEP_KERNEL, &[])?,
            refine_level: ctx.kernel(&REFINE_LEVEL_KERNEL, &[])?,
            spread: ctx.kernel(&SPREAD_KERNEL, &[])?,
            upsample_edge: ctx.kernel(&UPSAMPLE_EDGE_KERNEL, &[])?,
            polish: ctx.kernel(&POLISH_KERNEL, &[])?,
            occlusion: ctx.kernel(&OCCLUSION_KERNEL, &[])?,
        })
    }
}

/// Workgroups covering `w × h` invocations with `workgroup`.
fn grid(w: u32, h: u32, workgroup: [u32; 3]) -> [u32; 3] {
    [
        w.div_ceil(workgroup[0]).max(1),
        h.div_ceil(workgroup[1]).max(1),
        1,
    ]
}

/// Dispatches collected for one [`Frame::dispatch_batch`] (one compute
/// pass): bind groups are created once and may be dispatched many times
/// (the SOR sweeps of a level reuse two).
#[derive(Default)]
struct Batch {
    groups: Vec<wgpu::BindGroup>,
    items: Vec<(Arc<Kernel>, usize, [u32; 3])>,
}

impl Batch {
    /// Binds `bindings` for `kernel`; returns the bind group's handle.
    fn bind(
        &mut self,
        frame: &mut Frame<'_>,
        kernel: &Kernel,
        bindings: &[&Arc<GpuBuffer>],
    ) -> Result<usize> {
        self.groups.push(frame.bind_group(kernel, bindings)?);
        Ok(self.groups.len() - 1)
    }

    /// Queues `kernel` with bind group `group` over `grid`.
    fn push(&mut self, kernel: &Arc<Kernel>, group: usize, grid: [u32; 3]) {
        self.items.push((Arc::clone(kernel), group, grid));
    }

    /// Binds and queues in one step.
    fn run(
        &mut self,
        frame: &mut Frame<'_>,
        kernel: &Arc<Kernel>,
        bindings: &[&Arc<GpuBuffer>],
        grid: [u32; 3],
    ) -> Result<()> {
        let group = self.bind(frame, kernel, bindings)?;
        self.push(kernel, group, grid);
        Ok(())
    }

    /// Records the queued dispatches as one compute pass and empties the
    /// batch (nothing when none are queued).
    fn record(&mut self, frame: &mut Frame<'_>, label: &'static str) -> Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        let dispatches: Vec<Dispatch<'_>> = self
            .items
            .iter()
            .map(|(kernel, group, grid)| Dispatch {
                kernel,
                bind_group: &self.groups[*group],
                grid: *grid,
            })
            .collect();
        frame.dispatch_batch(label, &dispatches)?;
        self.items.clear();
        self.groups.clear();
        Ok(())
    }
}

/// Bytes per f32 sample, per vector, per level sample (N, Nx, Ny, edge).
const F32: u64 = 4;
const VEC2: u64 = 8;
const VEC4: u64 = 16;

/// Geometry and uniforms of one pyramid level, shared by both frames and
/// both directions.
struct LevelPlan {
    width: u32,
    height: u32,
    nx: u32,
    ny: u32,
    /// Sizes of the level, its patch grid, `src` = the finer level (for
    /// halving), colour red.
    main: Arc<GpuBuffer>,
    /// The same, colour black.
    black: Arc<GpuBuffer>,
    /// Upsampling from the coarser level (absent on the coarsest).
    up: Option<Arc<GpuBuffer>>,
}

/// Everything sized by the input: the analysis size and every level.
struct Plan {
    width: u32,
    height: u32,
    factor: u32,
    analysis: (u32, u32),
    levels: Vec<LevelPlan>,
    /// Full-resolution passes (luma, occlusion) at `width × height`.
    full: Arc<GpuBuffer>,
    /// Edge-aware upsampling: `width × height` from the analysis size.
    to_full: Arc<GpuBuffer>,
    /// Downscale: the analysis size from `width × height`.
    downscale: Arc<GpuBuffer>,
    params: FlowParams,
}

impl Plan {
    fn new(frame: &mut Frame<'_>, width: u32, height: u32, params: &FlowParams) -> Result<Self> {
        let base = GpuFlowParams::new(params);
        let f = base.factor;
        let (aw, ah) = (width.div_ceil(f), height.div_ceil(f));
        let count = level_count(aw as usize, ah as usize, params.patch_size as usize);
        let mut sizes = vec![(aw, ah)];
        for _ in 1..count {
            let (w, h) = sizes[sizes.len() - 1];
            sizes.push((w.div_ceil(2), h.div_ceil(2)));
        }
        let mut levels = Vec::with_capacity(count);
        for (l, &(w, h)) in sizes.iter().enumerate() {
            let (nx, ny) = patch_grid(
                w as usize,
                h as usize,
                params.patch_size as usize,
                params.patch_stride as usize,
            );
            let finer = if l == 0 { (w, h) } else { sizes[l - 1] };
            let main = GpuFlowParams {
                nx: nx as u32,
                ny: ny as u32,
                outer: if l == 0 {
                    params.finest_refine_iterations
                } else {
                    params.refine_iterations
                },
                inner: params.sor_iterations,
                ..base.sized(w, h).source(finer.0, finer.1)
            };
            let up = match sizes.get(l + 1) {
                Some(&(cw, ch)) => Some(frame.uniform(&GpuFlowParams {
                    scale: 2.0,
                    ..base.sized(w, h).source(cw, ch)
                })?),
                None => None,
            };
            levels.push(LevelPlan {
                width: w,
                height: h,
                nx: nx as u32,
                ny: ny as u32,
                main: frame.uniform(&main)?,
                black: frame.uniform(&GpuFlowParams { colour: 1, ..main })?,
                up,
            });
        }
        let full = frame.uniform(&base.sized(width, height).source(width, height))?;
        let to_full = frame.uniform(&base.sized(width, height).source(aw, ah))?;
        let downscale = frame.uniform(&base.sized(aw, ah).source(width, height))?;
        Ok(Plan {
            width,
            height,
            factor: f,
            analysis: (aw, ah),
            levels,
            full,
            to_full,
            downscale,
            params: *params,
        })
    }
}

/// A frame's pyramid on the device.
struct Pyramid {
    /// Pass 1: full-resolution luma (`width × height` f32), the guide of
    /// pass 8.
    luma: Arc<GpuBuffer>,
    /// Pass 2: the analysis plane (level 0 before normalisation).
    analysis: Arc<GpuBuffer>,
    /// Pass 3: per level, (N, Nx, Ny, edge) per pixel.
    levels: Vec<Arc<GpuBuffer>>,
    /// Pass 3: per level, N alone (what the search and densification
    /// sample in the second frame).
    normalized: Vec<Arc<GpuBuffer>>,
    /// Pass 8b's input: the full-resolution luma normalised like a level
    /// (absent without polish).
    full_normalized: Option<Arc<GpuBuffer>>,
}

/// A device buffer for `count` elements of `bytes` each.
fn buffer(frame: &mut Frame<'_>, count: u32, bytes: u64, what: &str) -> Result<Arc<GpuBuffer>> {
    frame.buffer(count as u64 * bytes, IMAGE_USAGE, what)
}

/// Passes 1–3 for one frame.
fn prepare(frame: &mut Frame<'_>, k: &Kernels, plan: &Plan, image: &GpuImage) -> Result<Pyramid> {
    let (w, h) = (plan.width, plan.height);
    let linear = image.header().metadata.format.is_some_and(|f| f.is_float());
    let luma_uniform = frame.uniform(&GpuFlowParams {
        linear: linear as u32,
        ..GpuFlowParams::new(&plan.params).sized(w, h)
    })?;
    let mut batch = Batch::default();
    let luma = buffer(frame, w * h, F32, "flow luma")?;
    batch.run(
        frame,
        &k.luma,
        &[&luma_uniform, image.rgba(), &luma],
        grid(w, h, PIXEL_WORKGROUP),
    )?;
    let (aw, ah) = plan.analysis;
    let analysis = if plan.factor == 1 {
        Arc::clone(&luma)
    } else {
        let out = buffer(frame, aw * ah, F32, "flow analysis luma")?;
        batch.run(
            frame,
            &k.downscale,
            &[&plan.downscale, &luma, &out],
            grid(aw, ah, PIXEL_WORKGROUP),
        )?;
        out
    };
    let mut levels = Vec::with_capacity(plan.levels.len());
    let mut normalized = Vec::with_capacity(plan.levels.len());
    let mut raw = Arc::clone(&analysis);
    for (l, lv) in plan.levels.iter().enumerate() {
        let (lw, lh) = (lv.width, lv.height);
        let g = grid(lw, lh, PIXEL_WORKGROUP);
        if l > 0 {
            let next = buffer(frame, lw * lh, F32, "flow pyramid level")?;
            batch.run(frame, &k.halve, &[&lv.main, &raw, &next], g)?;
            raw = next;
        }
        let n = buffer(frame, lw * lh, F32, "flow normalised level")?;
        let e = buffer(frame, lw * lh, F32, "flow edge weights")?;
        batch.run(frame, &k.normalize, &[&lv.main, &raw, &n, &e], g)?;
        let level = buffer(frame, lw * lh, VEC4, "flow level")?;
        batch.run(frame, &k.gradients, &[&lv.main, &n, &e, &level], g)?;
        levels.push(level);
        normalized.push(n);
    }
    let full_normalized = if plan.params.polish_iterations == 0 {
        None
    } else if plan.factor == 1 {
        // Level 0 is the full-resolution luma, normalised.
        Some(Arc::clone(&normalized[0]))
    } else {
        let n = buffer(frame, w * h, F32, "flow normalised luma")?;
        let e = buffer(frame, w * h, F32, "flow full edge weights (unused)")?;
        batch.run(
            frame,
            &k.normalize,
            &[&plan.full, &luma, &n, &e],
            grid(w, h, PIXEL_WORKGROUP),
        )?;
        Some(n)
    };
    batch.record(frame, "flow.pyramid")?;
    Ok(Pyramid {
        luma,
        analysis,
        levels,
        normalized,
        full_normalized,
    })
}

/// What one level of one direction leaves on the device, for tracing.
struct LevelBuffers {
    initial: Arc<GpuBuffer>,
    patches: Arc<GpuBuffer>,
    densified: Option<Arc<GpuBuffer>>,
    refined: Arc<GpuBuffer>,
}

/// Passes 4–7 of one direction, coarsest level first; returns the flow at
/// the analysis resolution and, when `trace`, every level's buffers
/// (coarsest first; the densified flow copied before refinement).
fn direction(
    frame: &mut Frame<'_>,
    k: &Kernels,
    plan: &Plan,
    a: &Pyramid,
    b: &Pyramid,
    trace: bool,
) -> Result<(Arc<GpuBuffer>, Vec<LevelBuffers>)> {
    let params = &plan.params;
    let mut flow: Option<Arc<GpuBuffer>> = None;
    let mut traced = Vec::new();
    for l in (0..plan.levels.len()).rev() {
        let lv = &plan.levels[l];
        let (w, h) = (lv.width, lv.height);
        let g = grid(w, h, PIXEL_WORKGROUP);
        let (la, lb, nb) = (&a.levels[l], &b.levels[l], &b.normalized[l]);
        let init = buffer(frame, w * h, VEC2, "flow initial")?;
        let mut batch = Batch::default();
        match (&flow, &lv.up) {
            (Some(coarse), Some(up)) => batch.run(frame, &k.upsample, &[up, coarse, &init], g)?,
            _ => frame.encoder().clear_buffer(init.buffer(), 0, None),
        }
        let patches = buffer(frame, lv.nx * lv.ny, VEC2, "flow patches")?;
        batch.run(
            frame,
            &k.search,
            &[&lv.main, la, nb, &init, &patches],
            grid(lv.nx, lv.ny, PATCH_WORKGROUP),
        )?;
        let dense = buffer(frame, w * h, VEC2, "flow field")?;
        batch.run(frame, &k.densify, &[&lv.main, la, nb, &patches, &dense], g)?;
        let outer = if l == 0 {
            params.finest_refine_iterations
        } else {
            params.refine_iterations
        };
        // Pass 7b runs where the refinement does, at coarse levels.
        let select = l > 0 && outer > 0;
        // The densified field as it is before the refinement: for the
        // trace, and for pass 7b to compare with the refined one.
        let densified = if trace || select {
            batch.record(frame, "flow.search")?;
            let copy = buffer(frame, w * h, VEC2, "flow densified")?;
            frame.encoder().copy_buffer_to_buffer(
                dense.buffer(),
                0,
                copy.buffer(),
                0,
                dense.size(),
            );
            Some(copy)
        } else {
            None
        };
        if outer > 0 && w * h <= SMALL_LEVEL_PIXELS {
            let coeff = buffer(frame, w * h, VEC4, "flow refinement terms")?;
            let robust = buffer(frame, w * h, VEC2, "flow robust weights")?;
            batch.run(
                frame,
                &k.refine_level,
                &[&lv.main, la, lb, &dense, &coeff, &robust],
                [1, 1, 1],
            )?;
        } else if outer > 0 {
            let coeff = buffer(frame, w * h, VEC4, "flow refinement terms")?;
            batch.run(frame, &k.warp, &[&lv.main, la, lb, &dense, &coeff], g)?;
            let robust = buffer(frame, w * h, VEC2, "flow robust weights")?;
            let weights = batch.bind(frame, &k.weights, &[&lv.main, &coeff, &dense, &robust])?;
            let red = batch.bind(frame, &k.sweep, &[&lv.main, &coeff, &robust, &dense])?;
            let black = batch.bind(frame, &k.sweep, &[&lv.black, &coeff, &robust, &dense])?;
            // The sweeps run over half the columns: one colour each.
            let half = grid(w.div_ceil(2), h, PIXEL_WORKGROUP);
            for _ in 0..outer {
                batch.push(&k.weights, weights, g);
                for _ in 0..params.sor_iterations {
                    batch.push(&k.sweep, red, half);
                    batch.push(&k.sweep, black, half);
                }
            }
        }
        let dense = match &densified {
            Some(before) if select => {
                let selected = buffer(frame, w * h, VEC2, "flow field (selected)")?;
                batch.run(
                    frame,
                    &k.select,
                    &[&lv.main, la, nb, before, &dense, &selected],
                    g,
                )?;
                selected
            }
            _ => dense,
        };
        batch.record(frame, "flow.level")?;
        if trace {
            traced.push(LevelBuffers {
                initial: init,
                patches,
                densified,
                refined: Arc::clone(&dense),
            });
        }
        flow = Some(dense);
    }
    let flow = flow.expect("a pyramid has at least one level");
    Ok((flow, traced))
}

/// Passes 8 and 8b: the analysis-resolution flow of `from` → `to` at the
/// input's size, polished there.
fn to_full(
    frame: &mut Frame<'_>,
    k: &Kernels,
    plan: &Plan,
    flow: Arc<GpuBuffer>,
    from: &Pyramid,
    to: &Pyramid,
) -> Result<Arc<GpuBuffer>> {
    let up = upsample(frame, k, plan, flow, from)?;
    polish(frame, k, plan, up, from, to)
}

/// Pass 8: the analysis-resolution flow at the input's size (the flow
/// itself at full quality).
fn upsample(
    frame: &mut Frame<'_>,
    k: &Kernels,
    plan: &Plan,
    flow: Arc<GpuBuffer>,
    pyramid: &Pyramid,
) -> Result<Arc<GpuBuffer>> {
    if plan.factor == 1 {
        return Ok(flow);
    }
    let (aw, ah) = plan.analysis;
    let (w, h) = (plan.width, plan.height);
    let beta = buffer(frame, aw * ah, F32, "flow upsampling weights")?;
    let mut batch = Batch::default();
    batch.run(
        frame,
        &k.spread,
        &[&plan.to_full, &flow, &beta],
        grid(aw, ah, PIXEL_WORKGROUP),
    )?;
    let out = buffer(frame, w * h, VEC2, "flow vectors")?;
    batch.run(
        frame,
        &k.upsample_edge,
        &[
            &plan.to_full,
            &flow,
            &beta,
            &pyramid.analysis,
            &pyramid.luma,
            &out,
        ],
        grid(w, h, PIXEL_WORKGROUP),
    )?;
    batch.record(frame, "flow.upsample")?;
    Ok(out)
}

/// Pass 8b: `polish_iterations` Lucas–Kanade steps (each reads the
/// previous step's vectors and writes a new buffer).
fn polish(
    frame: &mut Frame<'_>,
    k: &Kernels,
    plan: &Plan,
    flow: Arc<GpuBuffer>,
    from: &Pyramid,
    to: &Pyramid,
) -> Result<Arc<GpuBuffer>> {
    let (Some(na), Some(nb)) = (&from.full_normalized, &to.full_normalized) else {
        return Ok(flow);
    };
    let (w, h) = (plan.width, plan.height);
    let mut batch = Batch::default();
    let mut current = flow;
    for _ in 0..plan.params.polish_iterations {
        let out = buffer(frame, w * h, VEC2, "flow polished vectors")?;
        batch.run(
            frame,
            &k.polish,
            &[&plan.full, na, nb, &current, &out],
            grid(w, h, PIXEL_WORKGROUP),
        )?;
        current = out;
    }
    batch.record(frame, "flow.polish")?;
    Ok(current)
}

/// Pass 9: occlusion of the frame `forward` starts from, alone and packed
/// with the vectors as `(u, v, occlusion, 0)`.
fn occlusion(
    frame: &mut Frame<'_>,
    k: &Kernels,
    plan: &Plan,
    forward: &Arc<GpuBuffer>,
    backward: &Arc<GpuBuffer>,
) -> Result<(Arc<GpuBuffer>, Arc<GpuBuffer>)> {
    let (w, h) = (plan.width, plan.height);
    let out = buffer(frame, w * h, F32, "flow occlusion")?;
    let packed = buffer(frame, w * h, VEC4, "flow vectors with occlusion")?;
    frame.dispatch(
        &k.occlusion,
        &[&plan.full, forward, backward, &out, &packed],
        grid(w, h, PIXEL_WORKGROUP),
    )?;
    Ok((out, packed))
}

/// Which directions [`flow_on_device`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowDirections {
    /// A → B only (half the work; no occlusion).
    Forward,
    /// A → B and B → A with both occlusion maps.
    Both,
}

/// Flow on the device, at the input's size: vectors as `array<vec2<f32>>`
/// (`width × height`, row-major, +x right, +y down, in pixels; the layout
/// of [`FlowField::vectors`]) and occlusion as `array<f32>` (0 visible ..=
/// 1 occluded). The buffers stay valid after the frame finishes and may be
/// bound by later passes or frames.
#[derive(Clone, Debug)]
pub struct GpuFlow {
    /// Width of the input (and of every buffer here).
    pub width: u32,
    /// Height of the input.
    pub height: u32,
    /// A → B vectors.
    pub forward: Arc<GpuBuffer>,
    /// B → A vectors ([`FlowDirections::Both`] only).
    pub backward: Option<Arc<GpuBuffer>>,
    /// Occlusion of A's pixels in B ([`FlowDirections::Both`] only).
    pub occlusion_forward: Option<Arc<GpuBuffer>>,
    /// Occlusion of B's pixels in A ([`FlowDirections::Both`] only).
    pub occlusion_backward: Option<Arc<GpuBuffer>>,
    /// Per pixel of A, `(u, v, occlusion, 0)` of the A → B flow as
    /// `array<vec4<f32>>` ([`FlowDirections::Both`] only): the layout the
    /// frame-interpolation kernels read (`interpolate::GpuPairFlow::from_buffers`
    /// takes this and [`GpuFlow::pair_backward`] as they are).
    pub pair_forward: Option<Arc<GpuBuffer>>,
    /// Per pixel of B, `(u, v, occlusion, 0)` of the B → A flow.
    pub pair_backward: Option<Arc<GpuBuffer>>,
}

/// Checks the parameters and sizes like the CPU does.
fn check(a_size: (u32, u32), b_size: (u32, u32), params: &FlowParams) -> Result<()> {
    params.validate()?;
    if a_size != b_size {
        return Err(morph_core::Error::SizeMismatch {
            what: "Back input".to_owned(),
            actual: morph_core::error::Size {
                width: b_size.0,
                height: b_size.1,
            },
            expected: morph_core::error::Size {
                width: a_size.0,
                height: a_size.1,
            },
        }
        .into());
    }
    Ok(())
}

/// Records the whole estimator into `frame` for frames `a` and `b` already
/// on the device (RGBA; a float source format in their headers selects the
/// range compression of SPEC §1, as on the CPU) and returns the result as
/// device buffers, without reading anything back.
///
/// This is the entry point for ops that use the vectors on the GPU (frame
/// interpolation, motion blur): record the flow, then the op's own passes
/// binding [`GpuFlow::forward`] / [`GpuFlow::backward`] (vectors alone) or
/// [`GpuFlow::pair_forward`] / [`GpuFlow::pair_backward`] (`(u, v,
/// occlusion, 0)` per pixel, the frame interpolation's layout), into the
/// same frame, and read back only the final image. For a sequence, upload
/// each frame once and pass it as B of one pair and A of the next.
///
/// # Errors
/// [`crate::GpuError::Core`] for invalid parameters or frames of different
/// sizes; device errors otherwise (recording errors may also surface only
/// when the frame is finished or read).
pub fn flow_on_device(
    frame: &mut Frame<'_>,
    a: &GpuImage,
    b: &GpuImage,
    params: &FlowParams,
    directions: FlowDirections,
) -> Result<GpuFlow> {
    check((a.width(), a.height()), (b.width(), b.height()), params)?;
    let (w, h) = (a.width(), a.height());
    let empty = |frame: &mut Frame<'_>| buffer(frame, 0, VEC2, "empty flow");
    if w == 0 || h == 0 {
        let both = directions == FlowDirections::Both;
        return Ok(GpuFlow {
            width: w,
            height: h,
            forward: empty(frame)?,
            backward: if both { Some(empty(frame)?) } else { None },
            occlusion_forward: if both { Some(empty(frame)?) } else { None },
            occlusion_backward: if both { Some(empty(frame)?) } else { None },
            pair_forward: if both { Some(empty(frame)?) } else { None },
            pair_backward: if both { Some(empty(frame)?) } else { None },
        });
    }
    let k = Kernels::get(frame.context())?;
    let plan = Plan::new(frame, w, h, params)?;
    let pa = prepare(frame, &k, &plan, a)?;
    let pb = prepare(frame, &k, &plan, b)?;
    let (lo, _) = direction(frame, &k, &plan, &pa, &pb, false)?;
    let forward = to_full(frame, &k, &plan, lo, &pa, &pb)?;
    if directions == FlowDirections::Forward {
        return Ok(GpuFlow {
            width: w,
            height: h,
            forward,
            backward: None,
            occlusion_forward: None,
            occlusion_backward: None,
            pair_forward: None,
            pair_backward: None,
        });
    }
    let (lo, _) = direction(frame, &k, &plan, &pb, &pa, false)?;
    let backward = to_full(frame, &k, &plan, lo, &pb, &pa)?;
    let (occlusion_forward, pair_forward) = occlusion(frame, &k, &plan, &forward, &backward)?;
    let (occlusion_backward, pair_backward) = occlusion(frame, &k, &plan, &backward, &forward)?;
    Ok(GpuFlow {
        width: w,
        height: h,
        forward,
        backward: Some(backward),
        occlusion_forward: Some(occlusion_forward),
        occlusion_backward: Some(occlusion_backward),
        pair_forward: Some(pair_forward),
        pair_backward: Some(pair_backward),
    })
}

/// `samples` (interleaved u, v) as a field of `w × h` (collected on every
/// thread: a 4K field is 66 MB).
fn field(w: u32, h: u32, samples: &[f32]) -> FlowField {
    let n = (w * h) as usize;
    let vectors = samples[..2 * n]
        .par_chunks_exact(2)
        .map(|v| [v[0], v[1]])
        .collect();
    FlowField::from_vectors(w, h, vectors).expect("one vector per pixel")
}

/// Dense flow A → B and B → A with occlusion maps, at the input's size:
/// the GPU twin of [`morph_core::ops::flow::estimate_flow`] (one upload of
/// both frames, one frame, one read-back).
///
/// # Errors
/// As [`flow_on_device`].
pub fn flow(ctx: &GpuContext, a: &Image, b: &Image, params: &FlowParams) -> Result<FlowResult> {
    check((a.width(), a.height()), (b.width(), b.height()), params)?;
    let mut frame = ctx.frame("flow")?;
    let ga = frame.upload(a)?;
    let gb = frame.upload(b)?;
    let r = flow_on_device(&mut frame, &ga, &gb, params, FlowDirections::Both)?;
    let (Some(bw), Some(of), Some(ob)) = (&r.backward, &r.occlusion_forward, &r.occlusion_backward)
    else {
        unreachable!("both directions were asked for")
    };
    let mut data = frame.read_buffers(&[&r.forward, bw, of, ob])?;
    let (w, h) = (r.width, r.height);
    let n = (w * h) as usize;
    // The occlusion planes as read (pooled sizes may add a sample or so).
    let mut plane = |k: usize| {
        let mut v = std::mem::take(&mut data[k]);
        v.truncate(n);
        v
    };
    let (occlusion_forward, occlusion_backward) = (plane(2), plane(3));
    Ok(FlowResult {
        forward: field(w, h, &data[0]),
        backward: field(w, h, &data[1]),
        occlusion_forward,
        occlusion_backward,
    })
}

/// Dense flow A → B only: the GPU twin of
/// [`morph_core::ops::flow::estimate_flow_one_way`].
///
/// # Errors
/// As [`flow_on_device`].
pub fn flow_one_way(
    ctx: &GpuContext,
    a: &Image,
    b: &Image,
    params: &FlowParams,
) -> Result<FlowField> {
    check((a.width(), a.height()), (b.width(), b.height()), params)?;
    let mut frame = ctx.frame("flow one way")?;
    let ga = frame.upload(a)?;
    let gb = frame.upload(b)?;
    let r = flow_on_device(&mut frame, &ga, &gb, params, FlowDirections::Forward)?;
    let data = frame.read_buffers(&[&r.forward])?;
    Ok(field(r.width, r.height, &data[0]))
}

/// [`flow_one_way`] with every pass's output read back, in the shape of
/// [`morph_core::ops::flow::trace_flow_one_way`] (costly: nothing is
/// reused between levels), for pass-by-pass comparison with the CPU.
///
/// # Errors
/// As [`flow_on_device`]; [`crate::GpuError::Core`] for empty frames.
pub fn trace_flow_one_way(
    ctx: &GpuContext,
    a: &Image,
    b: &Image,
    params: &FlowParams,
) -> Result<FlowTrace> {
    check((a.width(), a.height()), (b.width(), b.height()), params)?;
    let (w, h) = (a.width(), a.height());
    if w == 0 || h == 0 {
        return Err(
            morph_core::Error::parameter("flow trace frame size", "0", "at least 1×1").into(),
        );
    }
    let mut frame = ctx.frame("flow trace")?;
    let ga = frame.upload(a)?;
    let gb = frame.upload(b)?;
    let k = Kernels::get(ctx)?;
    let plan = Plan::new(&mut frame, w, h, params)?;
    let pa = prepare(&mut frame, &k, &plan, &ga)?;
    let pb = prepare(&mut frame, &k, &plan, &gb)?;
    let (lo, levels) = direction(&mut frame, &k, &plan, &pa, &pb, true)?;
    let upsampled = upsample(&mut frame, &k, &plan, lo, &pa)?;
    let forward = polish(&mut frame, &k, &plan, Arc::clone(&upsampled), &pa, &pb)?;
    // Read order: luma, analysis, upsampled, forward, normalised luma (or
    // the luma again), then per level (coarsest first) A's level, initial,
    // patches, densified, refined.
    let normalized = pa.full_normalized.as_ref().unwrap_or(&pa.luma);
    let mut wanted: Vec<&Arc<GpuBuffer>> =
        vec![&pa.luma, &pa.analysis, &upsampled, &forward, normalized];
    let count = plan.levels.len();
    for (i, lb) in levels.iter().enumerate() {
        let l = count - 1 - i;
        wanted.push(&pa.levels[l]);
        wanted.push(&lb.initial);
        wanted.push(&lb.patches);
        wanted.push(lb.densified.as_ref().expect("traced"));
        wanted.push(&lb.refined);
    }
    let data = frame.read_buffers(&wanted)?;
    let (aw, ah) = plan.analysis;
    let mut out = FlowTrace {
        luma: data[0][..(w * h) as usize].to_vec(),
        analysis: data[1][..(aw * ah) as usize].to_vec(),
        levels: Vec::with_capacity(count),
        upsampled: field(w, h, &data[2]),
        normalized: pa
            .full_normalized
            .as_ref()
            .map(|_| data[4][..(w * h) as usize].to_vec()),
        forward: field(w, h, &data[3]),
    };
    for (i, chunk) in data[5..].chunks_exact(5).enumerate() {
        let l = count - 1 - i;
        let lv = &plan.levels[l];
        let (lw, lh) = (lv.width, lv.height);
        let n = (lw * lh) as usize;
        let component = |c: usize| {
            chunk[0][..4 * n]
                .iter()
                .skip(c)
                .step_by(4)
                .copied()
                .collect()
        };
        let patches = chunk[2][..2 * (lv.nx * lv.ny) as usize]
            .chunks_exact(2)
            .map(|v| [v[0], v[1]])
            .collect();
        out.levels.push(LevelTrace {
            level: l,
            normalized: component(0),
            gx: component(1),
            gy: component(2),
            edge: component(3),
            initial: field(lw, lh, &chunk[1]),
            patches,
            densified: field(lw, lh, &chunk[3]),
            refined: field(lw, lh, &chunk[4]),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use morph_core::ops::flow::spec::REDUCE_TAPS;

    #[test]
    fn shader_constants_match_the_reference() {
        // flow_pyramid.wgsl writes the halving taps out.
        assert_eq!(REDUCE_TAPS, [0.125, 0.375, 0.375, 0.125]);
        let p = GpuFlowParams::new(&FlowParams::default());
        assert_eq!(p.inv_taps, 1.0 / 25.0);
        assert_eq!(p.hessian_reg, HESSIAN_REGULARIZATION * 64.0);
        assert_eq!(p.factor, 2);
        // flow_output.wgsl writes POLISH_MIN_DET out.
        assert_eq!(morph_core::ops::flow::spec::POLISH_MIN_DET, 1e-12);
        assert_eq!(p.polish_lambda, POLISH_LAMBDA);
        assert_eq!(p.polish_max_step, POLISH_MAX_STEP);
    }
}
