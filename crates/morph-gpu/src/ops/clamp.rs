//! Clamp on the GPU (SPEC §5): every sample, alpha and extra channels
//! included, clamped component-wise; the NaN rule of
//! [`morph_core::ops::clamp::clamp_sample`], which is the specification.
//!
//! Twin of `shaders/clamp.wgsl` (kernels `rgba` and `plane`) and
//! `crates/morph-core/src/ops/clamp.rs`. No arithmetic is done, so results
//! are bit-identical to the CPU's (parity tests use `Tolerance::EXACT`). The
//! kernel reads samples as bit patterns and compares integer order keys:
//! GPUs that flush subnormals in float compares and selects (the H100's
//! Vulkan driver does) would otherwise turn 1e-40 into 0.

use bytemuck::{Pod, Zeroable};
use morph_core::Image;
use morph_core::params::ClampParams;

use crate::context::GpuContext;
use crate::error::Result;
use crate::frame::Frame;
use crate::image::GpuImage;
use crate::pipeline::{BindingKind, KernelSpec};
use crate::shaders::{self, UniformLayout};
use crate::uniform_layout;

/// The uniform of both clamp kernels.
///
/// Keep in sync with `struct GpuClampParams` in `shaders/clamp.wgsl`
/// (checked by `tests/shaders.rs` against naga's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuClampParams {
    /// Lower bound.
    pub min_value: f32,
    /// Upper bound.
    pub max_value: f32,
    /// 1 = apply the lower bound.
    pub min_clamp: u32,
    /// 1 = apply the upper bound.
    pub max_clamp: u32,
    /// Elements to process: pixels (`rgba`) or samples (`plane`); both are
    /// `width × height`.
    pub count: u32,
    /// Padding to 16 bytes.
    pub _pad0: u32,
    /// Padding.
    pub _pad1: u32,
    /// Padding.
    pub _pad2: u32,
}

const _: () = assert!(std::mem::size_of::<GpuClampParams>() == 32);

impl From<&ClampParams> for GpuClampParams {
    /// The bounds and switches; `count` is left 0 for the caller to set.
    fn from(p: &ClampParams) -> Self {
        GpuClampParams {
            min_value: p.min_value,
            max_value: p.max_value,
            min_clamp: p.min_clamp as u32,
            max_clamp: p.max_clamp as u32,
            ..Default::default()
        }
    }
}

/// Layout of [`GpuClampParams`] for the shader test.
pub const UNIFORM_LAYOUT: UniformLayout = uniform_layout!(
    shaders::CLAMP,
    GpuClampParams {
        min_value,
        max_value,
        min_clamp,
        max_clamp,
        count,
        _pad0,
        _pad1,
        _pad2
    }
);

/// Invocations per workgroup of both kernels (`@workgroup_size(256)`).
pub const WORKGROUP_SIZE: u32 = 256;

const BINDINGS: &[BindingKind] = &[
    BindingKind::Uniform,
    BindingKind::StorageRead,
    BindingKind::StorageReadWrite,
];

/// `clamp.wgsl::rgba`: one invocation per RGBA pixel.
pub static RGBA_KERNEL: KernelSpec = KernelSpec {
    label: "clamp.rgba",
    shader: shaders::CLAMP,
    entry_point: "rgba",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: BINDINGS,
};

/// `clamp.wgsl::plane`: one invocation per sample of an extra-channel plane.
pub static PLANE_KERNEL: KernelSpec = KernelSpec {
    label: "clamp.plane",
    shader: shaders::CLAMP,
    entry_point: "plane",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: BINDINGS,
};

/// Returns a clamped copy of `image`: upload, one frame, read-back.
///
/// # Errors
/// [`crate::GpuError::Core`] for invalid parameters (as on the CPU); device
/// errors otherwise (see [`crate::GpuError::is_device_failure`]).
pub fn clamp(ctx: &GpuContext, image: &Image, params: &ClampParams) -> Result<Image> {
    params.validate()?;
    let mut frame = ctx.frame("clamp")?;
    let input = frame.upload(image)?;
    let output = clamp_on_device(&mut frame, &input, params)?;
    frame.read(&output)
}

/// Records the clamp of `input` into `frame` and returns the result, still
/// on the device (same header and extra planes as `input`).
///
/// # Errors
/// As [`clamp`]; recording errors may also surface only when the frame is
/// finished or read.
pub fn clamp_on_device(
    frame: &mut Frame<'_>,
    input: &GpuImage,
    params: &ClampParams,
) -> Result<GpuImage> {
    params.validate()?;
    let ctx = frame.context();
    let count = input.pixel_count();
    let uniform = frame.uniform(&GpuClampParams {
        count: count as u32, // <= limits::MAX_PIXELS = 2^28
        ..params.into()
    })?;
    let output = frame.alloc_like(input)?;
    let rgba = ctx.kernel(&RGBA_KERNEL, &[])?;
    frame.dispatch_linear(&rgba, &[&uniform, input.rgba(), output.rgba()], count)?;
    if input.planes().len() > 0 {
        let plane = ctx.kernel(&PLANE_KERNEL, &[])?;
        for ((_, src), (_, dst)) in input.planes().zip(output.planes()) {
            frame.dispatch_linear(&plane, &[&uniform, src, dst], count)?;
        }
    }
    Ok(output)
}
