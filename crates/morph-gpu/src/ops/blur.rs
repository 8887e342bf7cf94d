//! The separable box and Gaussian blurs of the Frequency node on the GPU
//! (SPEC §4), twin of [`morph_core::ops::blur`], which is the specification,
//! and of `shaders/blur.wgsl`.
//!
//! Same coefficients ([`gaussian_coefficients`], [`box_coefficients`],
//! computed once on the CPU and handed over in the uniform), same pass order
//! (vertical, then horizontal; an axis of radius 0 is skipped) and the same
//! f32 operations per line as [`morph_core::ops::blur::gaussian_line`] and
//! [`morph_core::ops::blur::box_line`]. One invocation filters one channel of
//! one line, its recursion state in registers; results differ from the CPU's
//! only where the shader compiler fuses a multiply and an add (see the parity
//! tolerances in `morph_core::test_support`).
//!
//! Only RGB is written: alpha of a blurred buffer is undefined, and the band
//! kernel of [`super::frequency`] takes alpha from the input.

use bytemuck::{Pod, Zeroable};
use morph_core::ops::blur::{box_coefficients, gaussian_coefficients};
use morph_core::params::{BlurFilter, BlurSize};

use crate::error::Result;
use crate::frame::Frame;
use crate::image::{GpuImage, ImageHeader};
use crate::pipeline::{BindingKind, KernelSpec};
use crate::shaders::{self, UniformLayout};
use crate::uniform_layout;

/// The uniform of both blur kernels: one axis of one blur.
///
/// Keep in sync with `struct GpuBlurParams` in `shaders/blur.wgsl` (checked
/// by `tests/shaders.rs` against naga's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuBlurParams {
    /// [`morph_core::ops::blur::GaussianCoefficients::pole_re`].
    pub pole_re: [f32; 4],
    /// Imaginary parts of the poles.
    pub pole_im: [f32; 4],
    /// Real parts of the input gains.
    pub gain_re: [f32; 4],
    /// Imaginary parts of the input gains.
    pub gain_im: [f32; 4],
    /// Real parts of the steady states per unit input.
    pub init_re: [f32; 4],
    /// Imaginary parts of the steady states per unit input.
    pub init_im: [f32; 4],
    /// The centre tap, subtracted once.
    pub centre: f32,
    /// [`morph_core::ops::blur::BoxCoefficients::frac`].
    pub box_frac: f32,
    /// [`morph_core::ops::blur::BoxCoefficients::inv`].
    pub box_inv: f32,
    /// [`morph_core::ops::blur::BoxCoefficients::whole`].
    pub box_whole: u32,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// 0 = vertical pass (columns), 1 = horizontal pass (rows).
    pub axis: u32,
    /// Invocations with work: lines × 3 channels.
    pub count: u32,
}

const _: () = assert!(std::mem::size_of::<GpuBlurParams>() == 128);

/// The axis a pass filters along.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Down the columns (the first pass).
    Vertical,
    /// Along the rows.
    Horizontal,
}

impl GpuBlurParams {
    /// The uniform for one pass of `filter` with `radius` (> 0) along
    /// `axis` of a `width × height` image.
    ///
    /// # Panics
    /// If `radius` is not finite and positive (validate first).
    pub fn new(filter: BlurFilter, radius: f32, axis: Axis, width: u32, height: u32) -> Self {
        let lines = match axis {
            Axis::Vertical => width,
            Axis::Horizontal => height,
        };
        let mut p = GpuBlurParams {
            width,
            height,
            axis: (axis == Axis::Horizontal) as u32,
            count: lines * 3, // <= 3 * 2^14 (16384-pixel lines at most)
            ..Default::default()
        };
        match filter {
            BlurFilter::Gaussian => {
                let c = gaussian_coefficients(radius / 3.0);
                p.pole_re = c.pole_re;
                p.pole_im = c.pole_im;
                p.gain_re = c.gain_re;
                p.gain_im = c.gain_im;
                p.init_re = c.init_re;
                p.init_im = c.init_im;
                p.centre = c.centre;
            }
            BlurFilter::Box => {
                let c = box_coefficients(radius);
                p.box_frac = c.frac;
                p.box_inv = c.inv;
                p.box_whole = c.whole;
            }
        }
        p
    }
}

/// Layout of [`GpuBlurParams`] for the shader test.
pub const UNIFORM_LAYOUT: UniformLayout = uniform_layout!(
    shaders::BLUR,
    GpuBlurParams {
        pole_re,
        pole_im,
        gain_re,
        gain_im,
        init_re,
        init_im,
        centre,
        box_frac,
        box_inv,
        box_whole,
        width,
        height,
        axis,
        count
    }
);

/// Invocations per workgroup of both kernels (`@workgroup_size(64)`): there
/// are only `3 × lines` invocations, so small groups spread them over more
/// cores.
pub const WORKGROUP_SIZE: u32 = 64;

const BINDINGS: &[BindingKind] = &[
    BindingKind::Uniform,
    BindingKind::StorageRead,
    BindingKind::StorageReadWrite,
];

/// `blur.wgsl::gaussian`: one invocation per line and channel.
pub static GAUSSIAN_KERNEL: KernelSpec = KernelSpec {
    label: "blur.gaussian",
    shader: shaders::BLUR,
    entry_point: "gaussian",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: BINDINGS,
};

/// `blur.wgsl::box`: one invocation per line and channel.
pub static BOX_KERNEL: KernelSpec = KernelSpec {
    label: "blur.box",
    shader: shaders::BLUR,
    entry_point: "box",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: BINDINGS,
};

/// Records the blur of `input`'s RGB into `frame`: the vertical pass (if
/// `radius.height > 0`) then the horizontal pass (if `radius.width > 0`),
/// each into a new device buffer. Returns `None` when both radii are 0 (the
/// blur is the input itself). The result's alpha is undefined and it has no
/// extra planes.
///
/// # Errors
/// [`crate::GpuError::Core`] for a negative or non-finite radius; device
/// errors otherwise.
pub fn blur_on_device(
    frame: &mut Frame<'_>,
    input: &GpuImage,
    filter: BlurFilter,
    radius: BlurSize,
) -> Result<Option<GpuImage>> {
    for r in [radius.width, radius.height] {
        if !(r.is_finite() && r >= 0.0) {
            return Err(morph_core::Error::parameter("blur radius", r, "finite and >= 0").into());
        }
    }
    let (w, h) = (input.width(), input.height());
    if (radius.width == 0.0 && radius.height == 0.0) || w == 0 || h == 0 {
        return Ok(None);
    }
    let kernel = frame.context().kernel(
        match filter {
            BlurFilter::Gaussian => &GAUSSIAN_KERNEL,
            BlurFilter::Box => &BOX_KERNEL,
        },
        &[],
    )?;
    let mut current: Option<GpuImage> = None;
    for (axis, r) in [
        (Axis::Vertical, radius.height),
        (Axis::Horizontal, radius.width),
    ] {
        if r == 0.0 {
            continue;
        }
        let params = GpuBlurParams::new(filter, r, axis, w, h);
        let uniform = frame.uniform(&params)?;
        let out = frame.alloc_image(ImageHeader::rgba(w, h))?;
        let src = current.as_ref().unwrap_or(input);
        frame.dispatch_linear(
            &kernel,
            &[&uniform, src.rgba(), out.rgba()],
            params.count as u64,
        )?;
        current = Some(out);
    }
    Ok(current)
}
