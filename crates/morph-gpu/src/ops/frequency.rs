//! The Frequency node on the GPU (SPEC §4): Low, (Mid,) High bands from the
//! blurs of [`super::blur`] and the per-pixel band kernel of
//! `shaders/frequency.wgsl`; twin of [`morph_core::ops::frequency`], which
//! is the specification.
//!
//! One frame does everything: upload, `blur_low` (and `blur_mid` for three
//! bands), each a vertical then a horizontal pass into device buffers, the
//! band kernel writing every output, and one read-back of all outputs
//! ([`Frame::read_all`]). Low keeps the input's extra channels (copied on the
//! device); Mid and High carry none. Every output's alpha is the input's.

use bytemuck::{Pod, Zeroable};
use morph_core::Image;
use morph_core::ops::frequency::FrequencyBands;
use morph_core::params::{Bands, FrequencyParams};

use super::blur::blur_on_device;
use crate::context::GpuContext;
use crate::error::Result;
use crate::frame::Frame;
use crate::image::{GpuImage, ImageHeader, PLANE_BYTES};
use crate::pipeline::{BindingKind, KernelSpec};
use crate::shaders::{self, UniformLayout};
use crate::uniform_layout;

/// The uniform of both band kernels.
///
/// Keep in sync with `struct GpuFrequencyParams` in `shaders/frequency.wgsl`
/// (checked by `tests/shaders.rs` against naga's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuFrequencyParams {
    /// Pixels (`width × height`); left 0 by `From`, set by the caller.
    pub count: u32,
    /// 1 = store Mid and High as `0.5 + 0.5·band`.
    pub centre_scale: u32,
    /// Padding to 16 bytes.
    pub _pad0: u32,
    /// Padding.
    pub _pad1: u32,
}

const _: () = assert!(std::mem::size_of::<GpuFrequencyParams>() == 16);

impl From<&FrequencyParams> for GpuFrequencyParams {
    /// The centre & scale switch; `count` is left 0 for the caller to set.
    fn from(p: &FrequencyParams) -> Self {
        GpuFrequencyParams {
            centre_scale: p.centre_scale as u32,
            ..Default::default()
        }
    }
}

/// Layout of [`GpuFrequencyParams`] for the shader test.
pub const UNIFORM_LAYOUT: UniformLayout = uniform_layout!(
    shaders::FREQUENCY,
    GpuFrequencyParams {
        count,
        centre_scale,
        _pad0,
        _pad1
    }
);

/// Invocations per workgroup of both band kernels (`@workgroup_size(256)`).
pub const WORKGROUP_SIZE: u32 = 256;

/// `frequency.wgsl::two_bands`: uniform, F, L → Low, High.
pub static TWO_BANDS_KERNEL: KernelSpec = KernelSpec {
    label: "frequency.two_bands",
    shader: shaders::FREQUENCY,
    entry_point: "two_bands",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[
        BindingKind::Uniform,
        BindingKind::StorageRead,
        BindingKind::StorageRead,
        BindingKind::StorageReadWrite,
        BindingKind::StorageReadWrite,
    ],
};

/// `frequency.wgsl::three_bands`: uniform, F, L → Low, High; M → Mid.
pub static THREE_BANDS_KERNEL: KernelSpec = KernelSpec {
    label: "frequency.three_bands",
    shader: shaders::FREQUENCY,
    entry_point: "three_bands",
    workgroup_size: [WORKGROUP_SIZE, 1, 1],
    bindings: &[
        BindingKind::Uniform,
        BindingKind::StorageRead,
        BindingKind::StorageRead,
        BindingKind::StorageReadWrite,
        BindingKind::StorageReadWrite,
        BindingKind::StorageRead,
        BindingKind::StorageReadWrite,
    ],
};

/// The bands of a frame, still on the device.
#[derive(Clone, Debug)]
pub struct GpuFrequencyBands {
    /// Low: `blur_low(F)`, the input's alpha and extra planes.
    pub low: GpuImage,
    /// Mid (three bands only), no extra planes.
    pub mid: Option<GpuImage>,
    /// High, no extra planes.
    pub high: GpuImage,
}

/// Splits `image` into frequency bands: upload, one frame, one read-back
/// of every output. Same results as [`morph_core::ops::frequency::frequency`]
/// within the parity tolerances of `morph_core::test_support`.
///
/// # Errors
/// [`crate::GpuError::Core`] for invalid parameters (as on the CPU); device
/// errors otherwise (see [`crate::GpuError::is_device_failure`]).
pub fn frequency(
    ctx: &GpuContext,
    image: &Image,
    params: &FrequencyParams,
) -> Result<FrequencyBands> {
    params.validate()?;
    let mut frame = ctx.frame("frequency")?;
    let input = frame.upload(image)?;
    let bands = frequency_on_device(&mut frame, &input, params)?;
    let mut outputs = vec![&bands.low, &bands.high];
    outputs.extend(bands.mid.as_ref());
    let mut images = frame.read_all(&outputs)?.into_iter();
    let (low, high, mid) = (images.next(), images.next(), images.next());
    match (low, high) {
        (Some(low), Some(high)) => Ok(FrequencyBands { low, mid, high }),
        _ => unreachable!("read_all returns one image per request"),
    }
}

/// Records the frequency split of `input` into `frame` and returns the
/// bands, still on the device.
///
/// # Errors
/// As [`frequency`]; recording errors may also surface only when the frame
/// is finished or read.
pub fn frequency_on_device(
    frame: &mut Frame<'_>,
    input: &GpuImage,
    params: &FrequencyParams,
) -> Result<GpuFrequencyBands> {
    params.validate()?;
    let ctx = frame.context();
    let count = input.pixel_count();
    let low_blur = blur_on_device(frame, input, params.filter, params.low)?;
    let mid_blur = match params.bands {
        Bands::Two => None,
        Bands::Three => Some(blur_on_device(frame, input, params.filter, params.mid)?),
    };
    let band_header = ImageHeader {
        extra: Vec::new(),
        ..input.header().clone()
    };
    let low = frame.alloc_like(input)?;
    let high = frame.alloc_image(band_header.clone())?;
    let mid = match mid_blur {
        Some(_) => Some(frame.alloc_image(band_header)?),
        None => None,
    };
    let uniform = frame.uniform(&GpuFrequencyParams {
        count: count as u32, // <= limits::MAX_PIXELS = 2^28
        ..params.into()
    })?;
    let l = low_blur.as_ref().unwrap_or(input);
    if count > 0 {
        match (&mid_blur, &mid) {
            (Some(m), Some(mid)) => {
                let m = m.as_ref().unwrap_or(input);
                let kernel = ctx.kernel(&THREE_BANDS_KERNEL, &[])?;
                frame.dispatch_linear(
                    &kernel,
                    &[
                        &uniform,
                        input.rgba(),
                        l.rgba(),
                        low.rgba(),
                        high.rgba(),
                        m.rgba(),
                        mid.rgba(),
                    ],
                    count,
                )?;
            }
            _ => {
                let kernel = ctx.kernel(&TWO_BANDS_KERNEL, &[])?;
                frame.dispatch_linear(
                    &kernel,
                    &[&uniform, input.rgba(), l.rgba(), low.rgba(), high.rgba()],
                    count,
                )?;
            }
        }
    }
    // Low keeps the input's extra channels.
    for ((_, src), (_, dst)) in input.planes().zip(low.planes()) {
        let size = count * PLANE_BYTES;
        frame
            .encoder()
            .copy_buffer_to_buffer(src.buffer(), 0, dst.buffer(), 0, size);
        let (src, dst) = (src.clone(), dst.clone());
        frame.keep(&src);
        frame.keep(&dst);
    }
    Ok(GpuFrequencyBands { low, mid, high })
}
