//! Frame interpolation on the GPU (issue #5): the in-between at time `t`
//! from a pair's motion, the twin of [`morph_core::ops::interpolate`] (the
//! specification: its module docs, "The passes", describe every kernel) and
//! of `shaders/interpolate.wgsl`.
//!
//! One frame records everything: the uploads of A, B (RGBA and the extra
//! planes) and both flows with their occlusion; then
//!
//! 1. **splat** — `clear` (cost and rank to EMPTY, the hole flag to 0), the
//!    `splat` kernel twice over the `2N` sources (an `atomicMin` of the cost
//!    `round(255·occlusion)`, then an `atomicMin` of the rank among the
//!    sources at that minimum cost: together the CPU's 64-bit key), and
//!    `resolve` (the winner's A → B motion, whether it came from B, and a
//!    flag raised by any unreached pixel);
//! 2. **fill** — the push–pull pyramid, one `push` dispatch per level going
//!    up and one `pull` per level coming down; every invocation returns at
//!    once when the hole flag is 0, so a frame without holes costs a few
//!    empty dispatches and no read-back;
//! 3. **compose** — `compose_rgba`, then `compose_plane` for each extra
//!    channel of A (B's channel of the same name, or A's alone where B
//!    lacks it, as on the CPU);
//!
//! and one read-back of the image and of the vectors (`export_vectors`).
//! `t = 0`, `t = 1` and scene cuts handled by the [`CutRule`] make no warp:
//! they run [`morph_core::ops::interpolate::interpolate`] itself (copies or
//! a dissolve), so those results are the CPU's exactly.
//!
//! # Device-resident flow
//! [`warp_on_device`] takes the flow as a [`GpuPairFlow`]: two
//! `array<vec4<f32>>` buffers holding, per pixel, `(u, v, occlusion, 0)` of
//! the forward flow (A's pixels) and the backward flow (B's pixels). A GPU
//! flow estimator writes those buffers directly (its consistency pass
//! produces vectors and occlusion together) and builds the struct with
//! [`GpuPairFlow::from_buffers`]; then an in-between is
//! `warp_on_device(&mut frame, &a, &b, &flow, t)` with no transfer at all,
//! the scene-cut decision taken on the host from the pair's [`CutScore`]
//! (`morph_core::ops::interpolate::warps`). [`GpuPairFlow::upload`] is the
//! path for a CPU [`FlowResult`].
//!
//! # A pair on the device
//! [`interpolate`] uploads A, B and both flows for every in-between (about
//! 3 × 33 MB at 1080p RGBA f32, more than the warp costs on a hardware
//! GPU). A retime makes several in-betweens of one pair: [`GpuPair::upload`]
//! uploads the pair once, and [`GpuPair::interpolate`] (or
//! [`GpuPair::interpolate_image`], which skips the vectors' read-back) only
//! warps and reads the result back, with the same results as
//! [`interpolate`]. [`GpuPair::analyse`] estimates the flow on frames it
//! uploads once for the flow and the warps, runs pass 0 on the device and
//! leaves the prepared flow there for the warps; it is read back once, for
//! the host copy of the motion and the scene-cut score
//! ([`morph_core::ops::interpolate::cut_score`], on the CPU).
//!
//! # Pass 0 on the device
//! [`fill_occluded_pair_on_device`] is the twin of pass 0
//! ([`morph_core::ops::interpolate::fill_occluded`], both sides, with the
//! luma of [`luma_on_device`]): `occluded_radius` reduces the longest
//! vector with an `atomicMax` on its bits, then `fill_occluded` searches
//! each occluded pixel's four directions as the CPU does. With it, flow →
//! pass 0 → warp stay on the device ([`GpuPair::analyse`]); only the
//! scene-cut score is computed on the host, from the one read-back.
//!
//! # Parity
//! Same results as the CPU within the tolerance stated in
//! `tests/interpolate.rs`: the arithmetic follows the CPU's order, but a
//! driver may fuse `x + t·v` into one rounding, so a splat target exactly
//! on a pixel boundary can fall to the other pixel and a few pixels take
//! another winner.
//!
//! [`CutRule`]: morph_core::ops::interpolate::CutRule
//! [`CutScore`]: morph_core::ops::interpolate::CutScore

use std::sync::{Arc, Weak};

use bytemuck::{Pod, Zeroable};
use morph_core::Image;
use morph_core::flow::FlowField;
use morph_core::ops::flow::{FlowParams, FlowResult};
use morph_core::ops::interpolate::{
    AGREE_ABS, AGREE_REL, CutRule, Interpolated, MIN_WEIGHT, PairMotion, Source, Splat,
    check_sizes, check_time, warps,
};
use rayon::prelude::*;

use crate::context::GpuContext;
use crate::error::Result;
use crate::frame::{Frame, IMAGE_USAGE};
use crate::image::{GpuImage, ImageHeader, PLANE_BYTES};
use crate::ops::flow::{
    FlowDirections, GpuFlowParams, LUMA_KERNEL, PIXEL_WORKGROUP as FLOW_PIXEL_WORKGROUP,
    flow_on_device,
};
use crate::pipeline::{BindingKind, KernelSpec};
use crate::pool::{BufferPool, GpuBuffer};
use crate::shaders::{self, UniformLayout};
use crate::uniform_layout;

/// The uniform of every interpolation kernel (each dispatch gets its own
/// copy, so the pyramid levels and the two splat passes differ only here).
///
/// Keep in sync with `struct GpuInterpolateParams` in
/// `shaders/interpolate.wgsl` (checked by `tests/shaders.rs` against naga's
/// layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuInterpolateParams {
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Pixels, `width × height`.
    pub count: u32,
    /// 1 when `t > ½`: B's sources rank first.
    pub b_first: u32,
    /// The time t.
    pub t: f32,
    /// `1 − t`, computed on the host as the CPU does.
    pub s: f32,
    /// [`AGREE_ABS`].
    pub agree_abs: f32,
    /// [`AGREE_REL`].
    pub agree_rel: f32,
    /// [`MIN_WEIGHT`].
    pub min_weight: f32,
    /// `compose_plane`: 1 if B has the channel.
    pub has_b_plane: u32,
    /// `splat`: 0 = cost pass, 1 = rank pass.
    pub splat_pass: u32,
    /// `push`/`pull`: offset of the fine level in the pyramid.
    pub fine_offset: u32,
    /// Width of the fine level.
    pub fine_width: u32,
    /// Height of the fine level.
    pub fine_height: u32,
    /// Offset of the coarse level.
    pub coarse_offset: u32,
    /// Width of the coarse level.
    pub coarse_width: u32,
    /// Height of the coarse level.
    pub coarse_height: u32,
    /// Padding to 16 bytes.
    pub _pad0: u32,
    /// Padding.
    pub _pad1: u32,
    /// Padding.
    pub _pad2: u32,
}

const _: () = assert!(std::mem::size_of::<GpuInterpolateParams>() == 80);

impl GpuInterpolateParams {
    /// The parameters of a `width × height` frame at time `t`.
    pub fn new(width: u32, height: u32, t: f32) -> Self {
        GpuInterpolateParams {
            width,
            height,
            count: width * height, // <= limits::MAX_PIXELS = 2^28
            b_first: (t > 0.5) as u32,
            t,
            s: 1.0 - t,
            agree_abs: AGREE_ABS,
            agree_rel: AGREE_REL,
            min_weight: MIN_WEIGHT,
            ..Default::default()
        }
    }
}

/// Layout of [`GpuInterpolateParams`] for the shader test.
pub const UNIFORM_LAYOUT: UniformLayout = uniform_layout!(
    shaders::INTERPOLATE,
    GpuInterpolateParams {
        width,
        height,
        count,
        b_first,
        t,
        s,
        agree_abs,
        agree_rel,
        min_weight,
        has_b_plane,
        splat_pass,
        fine_offset,
        fine_width,
        fine_height,
        coarse_offset,
        coarse_width,
        coarse_height,
        _pad0,
        _pad1,
        _pad2
    }
);

/// Invocations per workgroup of the 1D kernels (`@workgroup_size(256)`).
pub const WORKGROUP_SIZE: u32 = 256;
/// Workgroup of the compose kernels (`@workgroup_size(8, 8)`): 2D tiles, so
/// neighbouring invocations gather from neighbouring texels.
pub const COMPOSE_WORKGROUP: [u32; 3] = [8, 8, 1];

use BindingKind::{StorageRead as R, StorageReadWrite as Rw, Uniform as U};

/// `interpolate.wgsl::clear`: cost and rank to EMPTY, the hole flag to 0.
pub static CLEAR_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.clear",
    shader: shaders::INTERPOLATE,
    entry_point: "clear",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, Rw, Rw, Rw],
};

/// `interpolate.wgsl::splat`: one invocation per source (`2N`), the cost
/// or the rank pass by `splat_pass`.
pub static SPLAT_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.splat",
    shader: shaders::INTERPOLATE,
    entry_point: "splat",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, R, R, Rw, Rw],
};

/// `interpolate.wgsl::resolve`: level 0 of the pyramid from the winners.
pub static RESOLVE_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.resolve",
    shader: shaders::INTERPOLATE,
    entry_point: "resolve",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, R, R, R, R, Rw, Rw, Rw],
};

/// `interpolate.wgsl::push`: one pyramid level from the finer one.
pub static PUSH_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.push",
    shader: shaders::INTERPOLATE,
    entry_point: "push",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, Rw, Rw, R],
};

/// `interpolate.wgsl::pull`: a level's holes from the coarser one.
pub static PULL_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.pull",
    shader: shaders::INTERPOLATE,
    entry_point: "pull",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, Rw, Rw, R],
};

/// `interpolate.wgsl::compose_rgba`: the in-between's RGBA.
pub static COMPOSE_RGBA_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.compose_rgba",
    shader: shaders::INTERPOLATE,
    entry_point: "compose_rgba",
    workgroup_size: COMPOSE_WORKGROUP,
    bindings: &[U, R, R, R, R, R, R, Rw],
};

/// `interpolate.wgsl::compose_plane`: one extra channel of the in-between.
pub static COMPOSE_PLANE_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.compose_plane",
    shader: shaders::INTERPOLATE,
    entry_point: "compose_plane",
    workgroup_size: COMPOSE_WORKGROUP,
    bindings: &[U, R, R, R, R, R, R, Rw],
};

/// `interpolate.wgsl::export_vectors`: level 0 as an RGBA image
/// `(u, v, state, 0)` for the read-back.
pub static EXPORT_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.export_vectors",
    shader: shaders::INTERPOLATE,
    entry_point: "export_vectors",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, R, R, Rw],
};

/// `interpolate.wgsl::occluded_radius`: pass 0's longest finite vector of
/// a flow side, reduced by `atomicMax` into one `u32` (cleared first).
pub static OCCLUDED_RADIUS_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.occluded_radius",
    shader: shaders::INTERPOLATE,
    entry_point: "occluded_radius",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, R, Rw],
};

/// `interpolate.wgsl::fill_occluded`: pass 0 on one flow side, the twin of
/// [`morph_core::ops::interpolate::fill_occluded`].
pub static FILL_OCCLUDED_KERNEL: KernelSpec = KernelSpec {
    label: "interpolate.fill_occluded",
    shader: shaders::INTERPOLATE,
    entry_point: "fill_occluded",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[U, R, R, R, R, Rw],
};

/// Bytes per pixel of a [`GpuPairFlow`] side: `(u, v, occlusion, 0)` f32.
pub const FLOW_BYTES: u64 = 16;

/// A pair's flow on the device, in the layout the kernels read.
#[derive(Clone, Debug)]
pub struct GpuPairFlow {
    width: u32,
    height: u32,
    forward: Arc<GpuBuffer>,
    backward: Arc<GpuBuffer>,
}

impl GpuPairFlow {
    /// Uploads a CPU flow result into `frame` (interleaving each direction
    /// with its occlusion on the host).
    ///
    /// # Errors
    /// [`crate::GpuError::Limits`] or [`crate::GpuError::OutOfMemory`].
    pub fn upload(frame: &mut Frame<'_>, flow: &FlowResult) -> Result<Self> {
        let (w, h) = (flow.forward.width(), flow.forward.height());
        let mut side = |vectors: &FlowField, occlusion: &[f32], what: &str| {
            let data = join_side(vectors, occlusion);
            frame.upload_bytes(bytemuck::cast_slice(&data), &format!("{w}x{h} {what}"))
        };
        let forward = side(&flow.forward, &flow.occlusion_forward, "forward flow")?;
        let backward = side(&flow.backward, &flow.occlusion_backward, "backward flow")?;
        Ok(GpuPairFlow {
            width: w,
            height: h,
            forward,
            backward,
        })
    }

    /// Wraps buffers a GPU flow estimator wrote: `forward` holds, for each
    /// pixel of A (row-major, `width × height` elements of
    /// `array<vec4<f32>>`), `(u, v, occlusion_forward, 0)` of the A → B
    /// flow; `backward` the same for B's pixels and the B → A flow.
    ///
    /// # Errors
    /// [`crate::GpuError::Core`] if a buffer is smaller than
    /// `width × height × 16` bytes.
    pub fn from_buffers(
        width: u32,
        height: u32,
        forward: Arc<GpuBuffer>,
        backward: Arc<GpuBuffer>,
    ) -> Result<Self> {
        let needed = width as u64 * height as u64 * FLOW_BYTES;
        for (name, b) in [("forward", &forward), ("backward", &backward)] {
            if b.size() < needed {
                return Err(morph_core::Error::parameter(
                    "flow buffer size",
                    format!("{} bytes ({name})", b.size()),
                    format!(
                        "at least {needed} bytes for {width}x{height} (u, v, occlusion, 0) f32"
                    ),
                )
                .into());
            }
        }
        Ok(GpuPairFlow {
            width,
            height,
            forward,
            backward,
        })
    }

    /// Width of the flow.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height of the flow.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The forward side, `(u, v, occlusion, 0)` per pixel of A.
    pub fn forward(&self) -> &Arc<GpuBuffer> {
        &self.forward
    }

    /// The backward side, `(u, v, occlusion, 0)` per pixel of B.
    pub fn backward(&self) -> &Arc<GpuBuffer> {
        &self.backward
    }
}

/// The splatted and filled motion at time t, on the device.
#[derive(Clone, Debug)]
pub struct GpuMotion {
    /// The pyramid's vectors (`array<vec2<f32>>`); the first `width ×
    /// height` elements are level 0, the motion of each output pixel in
    /// the layout of [`FlowField::vectors`].
    pub vectors: Arc<GpuBuffer>,
    /// Per pyramid cell (`array<u32>`): bit 0 known, bit 1 the winner came
    /// from B (level 0).
    pub state: Arc<GpuBuffer>,
    /// One `u32`, non-zero when some pixel was reached by no source (the
    /// fill passes do nothing otherwise).
    pub holes: Arc<GpuBuffer>,
    /// The pyramid's levels in `vectors` and `state`.
    pub pyramid: Pyramid,
}

/// An in-between on the device.
#[derive(Clone, Debug)]
pub struct GpuWarped {
    /// The frame at time t, with A's header (extra planes included).
    pub image: GpuImage,
    /// Its motion ([`GpuMotion::vectors`]: what motion blur follows).
    pub motion: GpuMotion,
}

/// The pyramid of the fill pass: each level's size and offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pyramid {
    /// `(offset, width, height)` per level, level 0 (the frame) first, each
    /// next one `ceil` half the size, down to 1×1.
    pub levels: Vec<(u32, u32, u32)>,
    /// Cells in all levels.
    pub total: u64,
}

impl Pyramid {
    /// The levels of `fill` for a `width × height` frame.
    pub fn new(width: u32, height: u32) -> Self {
        let mut levels = vec![(0, width, height)];
        let mut total = width as u64 * height as u64;
        let (mut w, mut h) = (width, height);
        while w > 1 || h > 1 {
            (w, h) = (w.div_ceil(2), h.div_ceil(2));
            levels.push((total as u32, w, h));
            total += w as u64 * h as u64;
        }
        Pyramid { levels, total }
    }
}

/// The in-between at time `t` between `a` (0) and `b` (1): the same
/// semantics as [`morph_core::ops::interpolate::interpolate`] (copies at
/// `t` = 0 and 1, `cut_rule` at a detected cut, the vectors, the source),
/// the warp on the device: upload, one frame, one read-back.
///
/// # Errors
/// [`crate::GpuError::Core`] for `t` outside `[0, 1]` or mismatched sizes
/// (as on the CPU); device errors otherwise.
pub fn interpolate(
    ctx: &GpuContext,
    a: &Image,
    b: &Image,
    motion: &PairMotion,
    t: f32,
    cut_rule: CutRule,
) -> Result<Interpolated> {
    check_time(t)?;
    check_sizes(a, b, &motion.flow)?;
    if !warps(motion, t, cut_rule) {
        return Ok(morph_core::ops::interpolate::interpolate(
            a, b, motion, t, cut_rule,
        )?);
    }
    let mut frame = ctx.frame("interpolate")?;
    let ga = frame.upload(a)?;
    let gb = frame.upload(b)?;
    let flow = GpuPairFlow::upload(&mut frame, &motion.flow)?;
    read_warped(frame, &ga, &gb, &flow, t)
}

/// A pair kept on the device for every in-between between its two frames
/// (retime, slow motion, a morph's range): A, B (RGBA and extra planes) and
/// both flows are uploaded once by [`GpuPair::upload`]; each
/// [`GpuPair::interpolate`] then records only the warp (splat, fill,
/// compose) and the read-back of its result.
///
/// The device buffers are pooled [`GpuBuffer`]s held by [`Arc`]s, so the
/// pair outlives the frame that uploaded it; they return to the context's
/// pool when the last clone of the pair is dropped. Frames only read them,
/// so several threads may render in-betweens of one pair at once. The host
/// frames and motion are shared (`Arc`), not copied: the copies at `t` = 0
/// and 1 and the cut rule are the CPU's code on them, as in
/// [`interpolate`], so those results are exact.
#[derive(Clone, Debug)]
pub struct GpuPair {
    a: Arc<Image>,
    b: Arc<Image>,
    motion: Arc<PairMotion>,
    /// The pool of the context the buffers came from: its identity (a
    /// `wgpu::Device` compares by an id that is only unique within one
    /// instance, and each context has its own).
    pool: Weak<BufferPool>,
    gpu_a: GpuImage,
    gpu_b: GpuImage,
    flow: GpuPairFlow,
}

impl GpuPair {
    /// Uploads A, B and the pair's flow (with its occlusion) to the device
    /// of `ctx` in one frame and waits for the copies, so an allocation or
    /// device failure shows here and the uploads are not part of the first
    /// in-between's time.
    ///
    /// # Errors
    /// [`crate::GpuError::Core`] for frames or flow of different sizes (as
    /// [`morph_core::ops::interpolate::interpolate`] rejects them);
    /// [`crate::GpuError::Limits`], [`crate::GpuError::OutOfMemory`] or
    /// another device failure.
    pub fn upload(
        ctx: &GpuContext,
        a: &Arc<Image>,
        b: &Arc<Image>,
        motion: &Arc<PairMotion>,
    ) -> Result<Self> {
        check_sizes(a, b, &motion.flow)?;
        let mut frame = ctx.frame("interpolate pair upload")?;
        let gpu_a = frame.upload(a)?;
        let gpu_b = frame.upload(b)?;
        let flow = GpuPairFlow::upload(&mut frame, &motion.flow)?;
        frame.finish()?;
        Ok(GpuPair {
            a: Arc::clone(a),
            b: Arc::clone(b),
            motion: Arc::clone(motion),
            pool: Arc::downgrade(ctx.pool()),
            gpu_a,
            gpu_b,
            flow,
        })
    }

    /// Estimates the pair's motion and keeps the pair on the device, with
    /// A and B uploaded once for both: one frame uploads them, runs the
    /// whole flow estimator on them ([`flow_on_device`], both directions
    /// with occlusion) and pass 0 ([`fill_occluded_pair_on_device`], which
    /// replaces occluded pixels' vectors by their background's), and reads
    /// the prepared flow back once, for the host copy of the motion and the
    /// scene-cut score ([`morph_core::ops::interpolate::cut_score`], on the
    /// CPU). Nothing goes back up: the warps read the prepared flow where
    /// pass 0 left it. The motion is the one [`crate::ops::flow::flow`]
    /// followed by `analyse_pair` gives, within the GPU's parity tolerance.
    ///
    /// # Errors
    /// [`crate::GpuError::Core`] for invalid flow parameters or frames of
    /// different sizes; device errors otherwise.
    pub fn analyse(
        ctx: &GpuContext,
        a: &Arc<Image>,
        b: &Arc<Image>,
        params: &FlowParams,
    ) -> Result<Self> {
        let (motion, gpu_a, gpu_b, flow) = analyse_on_device(ctx, a, b, params)?;
        Ok(GpuPair {
            a: Arc::clone(a),
            b: Arc::clone(b),
            motion: Arc::new(motion),
            pool: Arc::downgrade(ctx.pool()),
            gpu_a,
            gpu_b,
            flow,
        })
    }

    /// Frame A on the host.
    pub fn a(&self) -> &Arc<Image> {
        &self.a
    }

    /// Frame B on the host.
    pub fn b(&self) -> &Arc<Image> {
        &self.b
    }

    /// The pair's motion on the host.
    pub fn motion(&self) -> &Arc<PairMotion> {
        &self.motion
    }

    /// Frame A on the device.
    pub fn gpu_a(&self) -> &GpuImage {
        &self.gpu_a
    }

    /// Frame B on the device.
    pub fn gpu_b(&self) -> &GpuImage {
        &self.gpu_b
    }

    /// The flow on the device.
    pub fn flow(&self) -> &GpuPairFlow {
        &self.flow
    }

    /// True if the pair's buffers live on the device of `ctx`.
    pub fn is_on(&self, ctx: &GpuContext) -> bool {
        std::ptr::eq(self.pool.as_ptr(), Arc::as_ptr(ctx.pool()))
    }

    /// The in-between at time `t`, with its vectors: the same result as
    /// [`interpolate`] on the pair's frames and motion, without uploading
    /// anything (one frame: the warp, one read-back of the image and the
    /// vectors).
    ///
    /// # Errors
    /// [`crate::GpuError::Core`] for `t` outside `[0, 1]`;
    /// [`crate::GpuError::Validation`] if `ctx` is not the context the pair
    /// was uploaded to; device errors otherwise.
    pub fn interpolate(&self, ctx: &GpuContext, t: f32, cut_rule: CutRule) -> Result<Interpolated> {
        check_time(t)?;
        if !warps(&self.motion, t, cut_rule) {
            return Ok(morph_core::ops::interpolate::interpolate(
                &self.a,
                &self.b,
                &self.motion,
                t,
                cut_rule,
            )?);
        }
        let frame = self.warp_frame(ctx)?;
        read_warped(frame, &self.gpu_a, &self.gpu_b, &self.flow, t)
    }

    /// [`GpuPair::interpolate`] without the vectors: only the image is read
    /// back (half the transfer), for callers that do not follow the
    /// motion (no motion blur). The image and source are the same as
    /// [`GpuPair::interpolate`]'s.
    ///
    /// # Errors
    /// As [`GpuPair::interpolate`].
    pub fn interpolate_image(
        &self,
        ctx: &GpuContext,
        t: f32,
        cut_rule: CutRule,
    ) -> Result<(Image, Source)> {
        check_time(t)?;
        if !warps(&self.motion, t, cut_rule) {
            let out = morph_core::ops::interpolate::interpolate(
                &self.a,
                &self.b,
                &self.motion,
                t,
                cut_rule,
            )?;
            return Ok((out.image, out.source));
        }
        let mut frame = self.warp_frame(ctx)?;
        let warped = warp_on_device(&mut frame, &self.gpu_a, &self.gpu_b, &self.flow, t)?;
        Ok((frame.read(&warped.image)?, Source::Warped))
    }

    /// A frame on `ctx` for a warp of this pair, or an error if the pair's
    /// buffers belong to another device.
    fn warp_frame<'c>(&self, ctx: &'c GpuContext) -> Result<Frame<'c>> {
        if !self.is_on(ctx) {
            return Err(crate::GpuError::Validation {
                what: "interpolating a GpuPair".to_owned(),
                message: format!(
                    "the pair was uploaded to another device than {}'s",
                    ctx.adapter_info().name
                ),
            });
        }
        ctx.frame("interpolate")
    }
}

/// Records the warp of a pair already on the device into `frame`, exports
/// the vectors, submits, and reads the image and the vectors back.
fn read_warped(
    mut frame: Frame<'_>,
    a: &GpuImage,
    b: &GpuImage,
    flow: &GpuPairFlow,
    t: f32,
) -> Result<Interpolated> {
    let warped = warp_on_device(&mut frame, a, b, flow, t)?;
    let vectors = export_on_device(&mut frame, &warped.motion, a.width(), a.height())?;
    let mut images = frame.read_all(&[&warped.image, &vectors])?;
    let vectors = images.pop().expect("two images read");
    let image = images.pop().expect("two images read");
    Ok(Interpolated {
        image,
        vectors: vectors_of(&vectors),
        source: Source::Warped,
    })
}

/// Range-compressed luma of an image on the device (`array<f32>`, one
/// sample per pixel): the flow estimator's first pass
/// ([`crate::ops::flow::LUMA_KERNEL`], the twin of
/// `morph_core::ops::flow::range_compressed_luma`), the guide of pass 0.
///
/// # Errors
/// Device errors.
pub fn luma_on_device(frame: &mut Frame<'_>, image: &GpuImage) -> Result<Arc<GpuBuffer>> {
    let (w, h) = (image.width(), image.height());
    let linear = image.header().metadata.format.is_some_and(|f| f.is_float());
    let uniform = frame.uniform(&GpuFlowParams {
        width: w,
        height: h,
        linear: linear as u32,
        ..GpuFlowParams::new(&FlowParams::default())
    })?;
    let luma = frame.buffer(
        image.pixel_count() * PLANE_BYTES,
        IMAGE_USAGE,
        &format!("{w}x{h} interpolation luma"),
    )?;
    let kernel = frame.context().kernel(&LUMA_KERNEL, &[])?;
    let grid = [
        w.div_ceil(FLOW_PIXEL_WORKGROUP[0]),
        h.div_ceil(FLOW_PIXEL_WORKGROUP[1]),
        1,
    ];
    frame.dispatch(&kernel, &[&uniform, image.rgba(), &luma], grid)?;
    Ok(luma)
}

/// Records pass 0 on one side of a pair's flow, the GPU twin of
/// [`morph_core::ops::interpolate::fill_occluded`]: `side` holds `(u, v,
/// occlusion, 0)` per pixel of its frame (a [`GpuPairFlow`] side), `luma`
/// that frame's range-compressed luma and `other` the other frame's
/// ([`luma_on_device`]). Returns a new side with the vectors of occluded
/// pixels replaced by their background's and their occlusion lowered where
/// the new vector matches the other frame; `side` is only read.
///
/// # Errors
/// [`crate::GpuError::Core`] if a buffer is smaller than `width × height`
/// elements; device errors.
pub fn fill_occluded_on_device(
    frame: &mut Frame<'_>,
    side: &Arc<GpuBuffer>,
    luma: &Arc<GpuBuffer>,
    other: &Arc<GpuBuffer>,
    width: u32,
    height: u32,
) -> Result<Arc<GpuBuffer>> {
    let n = width as u64 * height as u64;
    for (what, buffer, bytes) in [
        ("flow side", side, FLOW_BYTES),
        ("luma", luma, PLANE_BYTES),
        ("other luma", other, PLANE_BYTES),
    ] {
        if buffer.size() < n * bytes {
            return Err(morph_core::Error::parameter(
                "fill_occluded buffer size",
                format!("{} bytes ({what})", buffer.size()),
                format!("at least {} bytes for {width}x{height}", n * bytes),
            )
            .into());
        }
    }
    let what = format!("{width}x{height} pass 0");
    let out = frame.buffer(n * FLOW_BYTES, IMAGE_USAGE, &format!("{what} filled side"))?;
    let max = frame.buffer(4, IMAGE_USAGE, &format!("{what} longest vector"))?;
    frame.encoder().clear_buffer(max.buffer(), 0, None);
    let uniform = frame.uniform(&GpuInterpolateParams::new(width, height, 0.0))?;
    let ctx = frame.context();
    let radius = ctx.kernel(&OCCLUDED_RADIUS_KERNEL, &[])?;
    frame.dispatch_linear(&radius, &[&uniform, side, &max], n)?;
    let fill = ctx.kernel(&FILL_OCCLUDED_KERNEL, &[])?;
    frame.dispatch_linear(&fill, &[&uniform, side, &max, luma, other, &out], n)?;
    Ok(out)
}

/// Pass 0 on both sides of a pair on the device: [`luma_on_device`] of A
/// and B, then [`fill_occluded_on_device`] of the forward side (A's luma
/// against B's) and of the backward side (B's against A's), as
/// [`morph_core::ops::interpolate::analyse_pair`] does on the CPU. The
/// result feeds [`warp_on_device`] directly.
///
/// # Errors
/// [`crate::GpuError::Core`] for frames or flow of different sizes; device
/// errors.
pub fn fill_occluded_pair_on_device(
    frame: &mut Frame<'_>,
    a: &GpuImage,
    b: &GpuImage,
    flow: &GpuPairFlow,
) -> Result<GpuPairFlow> {
    check_device_sizes(a, b, flow)?;
    let (w, h) = (flow.width, flow.height);
    let la = luma_on_device(frame, a)?;
    let lb = luma_on_device(frame, b)?;
    let forward = fill_occluded_on_device(frame, &flow.forward, &la, &lb, w, h)?;
    let backward = fill_occluded_on_device(frame, &flow.backward, &lb, &la, w, h)?;
    GpuPairFlow::from_buffers(w, h, forward, backward)
}

/// [`fill_occluded_on_device`] on host data, with the signature of
/// [`morph_core::ops::interpolate::fill_occluded`] (one upload, one
/// read-back): for tests and for comparing the backends.
///
/// # Errors
/// [`crate::GpuError::Core`] if the occlusion or luma planes are not one
/// sample per vector; device errors.
pub fn fill_occluded(
    ctx: &GpuContext,
    field: &FlowField,
    occlusion: &[f32],
    luma: &[f32],
    other: &[f32],
) -> Result<(FlowField, Vec<f32>)> {
    let (w, h) = (field.width(), field.height());
    let n = field.vectors().len();
    for (what, len) in [
        ("occlusion", occlusion.len()),
        ("luma", luma.len()),
        ("other luma", other.len()),
    ] {
        if len != n {
            return Err(morph_core::Error::parameter(
                what,
                format!("{len} samples"),
                format!("{n} (one per vector of the {w}x{h} field)"),
            )
            .into());
        }
    }
    let mut frame = ctx.frame("fill_occluded")?;
    let side = join_side(field, occlusion);
    let side = frame.upload_bytes(bytemuck::cast_slice(&side), "pass 0 side")?;
    let luma = frame.upload_bytes(bytemuck::cast_slice(luma), "pass 0 luma")?;
    let other = frame.upload_bytes(bytemuck::cast_slice(other), "pass 0 other luma")?;
    let out = fill_occluded_on_device(&mut frame, &side, &luma, &other, w, h)?;
    let data = frame.read_buffers(&[&out])?;
    let samples = &data[0][..4 * n];
    let (vectors, occ) = split_side(samples);
    Ok((
        FlowField::from_vectors(w, h, vectors).expect("one vector per pixel"),
        occ,
    ))
}

/// A pair's motion on the GPU: the twin of
/// [`morph_core::ops::flow::estimate_flow`] followed by
/// [`morph_core::ops::interpolate::analyse_pair`] (flow and pass 0 on the
/// device, one read-back, the scene-cut score on the CPU), within the
/// tolerance of the flow and pass-0 parity tests.
///
/// # Errors
/// [`crate::GpuError::Core`] for invalid flow parameters or frames of
/// different sizes; device errors otherwise.
pub fn analyse_pair(
    ctx: &GpuContext,
    a: &Image,
    b: &Image,
    params: &FlowParams,
) -> Result<PairMotion> {
    Ok(analyse_on_device(ctx, a, b, params)?.0)
}

/// [`analyse_pair`], also returning the frames and the prepared flow as
/// they are on the device.
fn analyse_on_device(
    ctx: &GpuContext,
    a: &Image,
    b: &Image,
    params: &FlowParams,
) -> Result<(PairMotion, GpuImage, GpuImage, GpuPairFlow)> {
    params.validate()?;
    a.check_same_size(b, "Back input")?;
    let (w, h) = (a.width(), a.height());
    let mut frame = ctx.frame("interpolate pair analysis")?;
    let gpu_a = frame.upload(a)?;
    let gpu_b = frame.upload(b)?;
    let estimated = flow_on_device(&mut frame, &gpu_a, &gpu_b, params, FlowDirections::Both)?;
    let (Some(pair_forward), Some(pair_backward)) =
        (&estimated.pair_forward, &estimated.pair_backward)
    else {
        unreachable!("both directions were asked for")
    };
    let estimated =
        GpuPairFlow::from_buffers(w, h, Arc::clone(pair_forward), Arc::clone(pair_backward))?;
    let flow = if w == 0 || h == 0 {
        estimated
    } else {
        fill_occluded_pair_on_device(&mut frame, &gpu_a, &gpu_b, &estimated)?
    };
    let data = frame.read_buffers(&[flow.forward(), flow.backward()])?;
    let n = w as usize * h as usize;
    // (u, v, occlusion, 0) per pixel.
    let side = |samples: &[f32]| {
        let (vectors, occlusion) = split_side(&samples[..4 * n]);
        (
            FlowField::from_vectors(w, h, vectors).expect("one vector per pixel"),
            occlusion,
        )
    };
    let ((forward, occlusion_forward), (backward, occlusion_backward)) =
        (side(&data[0]), side(&data[1]));
    drop(data);
    let prepared = FlowResult {
        forward,
        backward,
        occlusion_forward,
        occlusion_backward,
    };
    let cut = morph_core::ops::interpolate::cut_score(a, b, &prepared)?;
    let motion = PairMotion {
        flow: prepared,
        cut,
    };
    Ok((motion, gpu_a, gpu_b, flow))
}

/// A side as the device holds it, `(u, v, occlusion, 0)` per pixel,
/// collected on every thread (the inverse of [`split_side`]).
fn join_side(vectors: &FlowField, occlusion: &[f32]) -> Vec<[f32; 4]> {
    vectors
        .vectors()
        .par_iter()
        .zip(occlusion)
        .map(|(v, &o)| [v[0], v[1], o, 0.0])
        .collect()
}

/// A side's `(u, v, occlusion, 0)` samples as vectors and occlusion,
/// collected on every thread.
fn split_side(samples: &[f32]) -> (Vec<[f32; 2]>, Vec<f32>) {
    rayon::join(
        || samples.par_chunks_exact(4).map(|p| [p[0], p[1]]).collect(),
        || samples.par_chunks_exact(4).map(|p| p[2]).collect(),
    )
}

/// B and the flow on the device must have A's size (the CPU's error).
fn check_device_sizes(a: &GpuImage, b: &GpuImage, flow: &GpuPairFlow) -> Result<()> {
    let size = |w, h| morph_core::error::Size {
        width: w,
        height: h,
    };
    for (what, (w, h)) in [
        ("Back input", (b.width(), b.height())),
        ("motion vectors", (flow.width, flow.height)),
    ] {
        if (w, h) != (a.width(), a.height()) {
            return Err(morph_core::Error::SizeMismatch {
                what: what.to_owned(),
                actual: size(w, h),
                expected: size(a.width(), a.height()),
            }
            .into());
        }
    }
    Ok(())
}

/// Pass 1 alone, the GPU twin of [`morph_core::ops::interpolate::splat`]:
/// the winning source's motion at each pixel, whether any source reached
/// it and whether the winner was a pixel of B.
///
/// # Errors
/// [`crate::GpuError::Core`] for `t` outside `[0, 1]` or flow fields of
/// different sizes; device errors otherwise.
pub fn splat(ctx: &GpuContext, flow: &FlowResult, t: f32) -> Result<Splat> {
    check_time(t)?;
    if flow.backward.size() != flow.forward.size()
        || flow.occlusion_forward.len() != flow.forward.vectors().len()
        || flow.occlusion_backward.len() != flow.backward.vectors().len()
    {
        return Err(morph_core::Error::SizeMismatch {
            what: "backward flow".to_owned(),
            actual: flow.backward.size(),
            expected: flow.forward.size(),
        }
        .into());
    }
    let (w, h) = (flow.forward.width(), flow.forward.height());
    let mut frame = ctx.frame("interpolate splat")?;
    let gpu_flow = GpuPairFlow::upload(&mut frame, flow)?;
    let motion = splat_on_device(&mut frame, &gpu_flow, t)?;
    let image = export_on_device(&mut frame, &motion, w, h)?;
    let image = frame.read(&image)?;
    let state = |p: &[f32; 4]| p[2] as u32;
    Ok(Splat {
        width: w as usize,
        height: h as usize,
        vectors: image.pixels().iter().map(|p| [p[0], p[1]]).collect(),
        reached: image.pixels().iter().map(|p| state(p) & 1 != 0).collect(),
        from_b: image.pixels().iter().map(|p| state(p) & 2 != 0).collect(),
    })
}

/// Records the warp of `a` and `b` (on the device, A's size) to time `t`
/// along `flow` into `frame`: splat, fill, compose. Returns the in-between
/// and its motion, still on the device. It always warps: the copies at
/// `t` = 0 and 1 and the cut rule are the caller's decision
/// (`morph_core::ops::interpolate::warps`, as [`interpolate`] does).
///
/// # Errors
/// [`crate::GpuError::Core`] for `t` outside `[0, 1]` or inputs of
/// different sizes; device errors, some only when the frame is read.
pub fn warp_on_device(
    frame: &mut Frame<'_>,
    a: &GpuImage,
    b: &GpuImage,
    flow: &GpuPairFlow,
    t: f32,
) -> Result<GpuWarped> {
    check_time(t)?;
    check_device_sizes(a, b, flow)?;
    let motion = splat_on_device(frame, flow, t)?;
    fill_on_device(frame, &motion, t)?;
    let image = compose_on_device(frame, a, b, flow, &motion, t)?;
    Ok(GpuWarped { image, motion })
}

/// Pass 1: clear, the cost and rank splats, resolve. Returns the pyramid
/// buffers with level 0 written and the hole flag.
fn splat_on_device(frame: &mut Frame<'_>, flow: &GpuPairFlow, t: f32) -> Result<GpuMotion> {
    let ctx = frame.context();
    let (w, h) = (flow.width, flow.height);
    let n = w as u64 * h as u64;
    let pyramid = Pyramid::new(w, h);
    let what = format!("{w}x{h} interpolation");
    let cost = frame.buffer(n * 4, IMAGE_USAGE, &format!("{what} splat cost"))?;
    let rank = frame.buffer(n * 4, IMAGE_USAGE, &format!("{what} splat rank"))?;
    let holes = frame.buffer(4, IMAGE_USAGE, &format!("{what} hole flag"))?;
    let vectors = frame.buffer(
        pyramid.total * 8,
        IMAGE_USAGE,
        &format!("{what} motion pyramid"),
    )?;
    let state = frame.buffer(
        pyramid.total * PLANE_BYTES,
        IMAGE_USAGE,
        &format!("{what} pyramid state"),
    )?;
    let params = GpuInterpolateParams::new(w, h, t);
    let uniform = frame.uniform(&params)?;
    let clear = ctx.kernel(&CLEAR_KERNEL, &[])?;
    frame.dispatch_linear(&clear, &[&uniform, &cost, &rank, &holes], n.max(1))?;
    let splat = ctx.kernel(&SPLAT_KERNEL, &[])?;
    for pass in [0, 1] {
        let uniform = frame.uniform(&GpuInterpolateParams {
            splat_pass: pass,
            ..params
        })?;
        frame.dispatch_linear(
            &splat,
            &[&uniform, &flow.forward, &flow.backward, &cost, &rank],
            2 * n,
        )?;
    }
    let resolve = ctx.kernel(&RESOLVE_KERNEL, &[])?;
    frame.dispatch_linear(
        &resolve,
        &[
            &uniform,
            &flow.forward,
            &flow.backward,
            &cost,
            &rank,
            &vectors,
            &state,
            &holes,
        ],
        n,
    )?;
    Ok(GpuMotion {
        vectors,
        state,
        holes,
        pyramid,
    })
}

/// Pass 2: push up to 1×1, pull back down, one dispatch per level each
/// way; every invocation returns at once when the hole flag is 0.
fn fill_on_device(frame: &mut Frame<'_>, motion: &GpuMotion, t: f32) -> Result<()> {
    let levels = &motion.pyramid.levels;
    if levels.len() < 2 {
        return Ok(());
    }
    let ctx = frame.context();
    let (w, h) = (levels[0].1, levels[0].2);
    let base = GpuInterpolateParams::new(w, h, t);
    let pair = |l: usize| GpuInterpolateParams {
        fine_offset: levels[l].0,
        fine_width: levels[l].1,
        fine_height: levels[l].2,
        coarse_offset: levels[l + 1].0,
        coarse_width: levels[l + 1].1,
        coarse_height: levels[l + 1].2,
        ..base
    };
    let push = ctx.kernel(&PUSH_KERNEL, &[])?;
    for l in 0..levels.len() - 1 {
        let uniform = frame.uniform(&pair(l))?;
        let cells = levels[l + 1].1 as u64 * levels[l + 1].2 as u64;
        frame.dispatch_linear(
            &push,
            &[&uniform, &motion.vectors, &motion.state, &motion.holes],
            cells,
        )?;
    }
    let pull = ctx.kernel(&PULL_KERNEL, &[])?;
    for l in (0..levels.len() - 1).rev() {
        let uniform = frame.uniform(&pair(l))?;
        let cells = levels[l].1 as u64 * levels[l].2 as u64;
        frame.dispatch_linear(
            &pull,
            &[&uniform, &motion.vectors, &motion.state, &motion.holes],
            cells,
        )?;
    }
    Ok(())
}

/// Pass 3: the in-between's RGBA and each extra plane of A.
fn compose_on_device(
    frame: &mut Frame<'_>,
    a: &GpuImage,
    b: &GpuImage,
    flow: &GpuPairFlow,
    motion: &GpuMotion,
    t: f32,
) -> Result<GpuImage> {
    let ctx = frame.context();
    let (w, h) = (a.width(), a.height());
    let output = frame.alloc_like(a)?;
    let params = GpuInterpolateParams::new(w, h, t);
    let grid = [
        w.div_ceil(COMPOSE_WORKGROUP[0]),
        h.div_ceil(COMPOSE_WORKGROUP[1]),
        1,
    ];
    let uniform = frame.uniform(&params)?;
    let rgba = ctx.kernel(&COMPOSE_RGBA_KERNEL, &[])?;
    frame.dispatch(
        &rgba,
        &[
            &uniform,
            &flow.forward,
            &flow.backward,
            &motion.vectors,
            &motion.state,
            a.rgba(),
            b.rgba(),
            output.rgba(),
        ],
        grid,
    )?;
    if a.planes().len() > 0 {
        let plane = ctx.kernel(&COMPOSE_PLANE_KERNEL, &[])?;
        for ((name, src_a), (_, dst)) in a.planes().zip(output.planes()) {
            let src_b = b.planes().find(|(n, _)| *n == name).map(|(_, p)| p);
            let uniform = frame.uniform(&GpuInterpolateParams {
                has_b_plane: src_b.is_some() as u32,
                ..params
            })?;
            frame.dispatch(
                &plane,
                &[
                    &uniform,
                    &flow.forward,
                    &flow.backward,
                    &motion.vectors,
                    &motion.state,
                    src_a,
                    src_b.unwrap_or(src_a),
                    dst,
                ],
                grid,
            )?;
        }
    }
    Ok(output)
}

/// Level 0 of `motion` as an RGBA image `(u, v, state, 0)` for read-back.
fn export_on_device(frame: &mut Frame<'_>, motion: &GpuMotion, w: u32, h: u32) -> Result<GpuImage> {
    let ctx = frame.context();
    let image = frame.alloc_image(ImageHeader::rgba(w, h))?;
    let uniform = frame.uniform(&GpuInterpolateParams::new(w, h, 0.0))?;
    let kernel = ctx.kernel(&EXPORT_KERNEL, &[])?;
    frame.dispatch_linear(
        &kernel,
        &[&uniform, &motion.vectors, &motion.state, image.rgba()],
        w as u64 * h as u64,
    )?;
    Ok(image)
}

/// The vectors of an exported image.
fn vectors_of(image: &Image) -> FlowField {
    FlowField::from_vectors(
        image.width(),
        image.height(),
        image.pixels().iter().map(|p| [p[0], p[1]]).collect(),
    )
    .expect("the exported image has the frame's size")
}
