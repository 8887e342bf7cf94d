//! STMap on the GPU (SPEC §3): the Front (RGBA and every extra channel) and
//! the optional Matte warped through an STMap, one invocation per output
//! pixel running the per-pixel code of
//! [`morph_core::ops::stmap`], which is the specification.
//!
//! Twin of `shaders/stmap.wgsl` (kernel `rgba`), `shaders/stmap_plane.wgsl`
//! (kernel `plane`, one extra-channel plane) and their shared
//! `shaders/common/stmap.wgsl`, and of `crates/morph-core/src/ops/stmap/`.
//! The framing ([`StMapFraming`]), the cubic coefficients and the EWA weight
//! constants are computed once on the CPU and handed over in the uniform, so
//! both backends start from the same numbers. Results agree to float
//! rounding (fused multiply-adds, the driver's `exp`); identity maps are
//! exact on both.

use bytemuck::{Pod, Zeroable};
use morph_core::ops::stmap::{
    CATMULL_ROM, Geometry, MITCHELL, StMapFraming, StMapInputs, StMapOutput, ewa_edge_norm,
};
use morph_core::params::{RepeatMode, StMapFilter, StMapParams};

use crate::context::GpuContext;
use crate::error::Result;
use crate::frame::Frame;
use crate::image::{GpuImage, ImageHeader};
use crate::pipeline::{BindingKind, KernelSpec};
use crate::shaders::{self, UniformLayout};
use crate::uniform_layout;

/// The uniform of both STMap kernels.
///
/// Keep in sync with `struct GpuStMapParams` in `shaders/common/stmap.wgsl`
/// (checked by `tests/shaders.rs` against naga's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuStMapParams {
    /// [`StMapFraming::scale_x`].
    pub scale_x: f32,
    /// [`StMapFraming::origin_x`].
    pub origin_x: f32,
    /// [`StMapFraming::scale_y`].
    pub scale_y: f32,
    /// [`StMapFraming::origin_y`].
    pub origin_y: f32,
    /// Snap zone half-width on x ([`StMapFraming::snap_x`]).
    pub snap_x: f32,
    /// Snap zone half-width on y.
    pub snap_y: f32,
    /// Period of u differences in the Jacobian (the source width) when
    /// `repeat_x` is Tiled, else 0.
    pub wrap_u: f32,
    /// Period of v differences (the source height) when `repeat_y` is Tiled.
    pub wrap_v: f32,
    /// Source (Front or Matte) width.
    pub src_width: u32,
    /// Source height.
    pub src_height: u32,
    /// STMap (= output) width.
    pub map_width: u32,
    /// STMap height.
    pub map_height: u32,
    /// [`repeat_code`] of `repeat_x`.
    pub repeat_x: u32,
    /// [`repeat_code`] of `repeat_y`.
    pub repeat_y: u32,
    /// [`filter_code`] of `filter_mode`.
    pub filter_mode: u32,
    /// EWA `e^{−αQ}` ([`ewa_edge_norm`]).
    pub ewa_edge: f32,
    /// The cubic's near polynomial `(n3, n2, n0, 0)` (Mitchell or
    /// Catmull–Rom by filter; zero otherwise).
    pub cubic_near: [f32; 4],
    /// The cubic's far polynomial `(f3, f2, f1, f0)`.
    pub cubic_far: [f32; 4],
    /// EWA `1 / (1 − e^{−αQ})`.
    pub ewa_norm: f32,
    /// Padding to 16 bytes.
    pub _pad0: u32,
    /// Padding.
    pub _pad1: u32,
    /// Padding.
    pub _pad2: u32,
}

const _: () = assert!(std::mem::size_of::<GpuStMapParams>() == 112);

/// The shader's code for a repeat mode (0 Off, 1 Mirrored, 2 Tiled, 3 Last).
pub fn repeat_code(mode: RepeatMode) -> u32 {
    match mode {
        RepeatMode::Off => 0,
        RepeatMode::Mirrored => 1,
        RepeatMode::Tiled => 2,
        RepeatMode::Last => 3,
    }
}

/// The shader's code for a filter (0 Nearest … 7 EWA + Linear, in the
/// order of [`StMapFilter`]).
pub fn filter_code(filter: StMapFilter) -> u32 {
    match filter {
        StMapFilter::Nearest => 0,
        StMapFilter::Linear => 1,
        StMapFilter::MitchellNetravali => 2,
        StMapFilter::CatmullRom => 3,
        StMapFilter::Anisotropic => 4,
        StMapFilter::AnisoLinear => 5,
        StMapFilter::Ewa => 6,
        StMapFilter::EwaLinear => 7,
    }
}

impl From<&StMapParams> for GpuStMapParams {
    /// Repeat modes, filter, cubic coefficients and EWA constants; the
    /// framing and sizes are left for [`GpuStMapParams::with_framing`].
    fn from(p: &StMapParams) -> Self {
        let cubic = match p.filter_mode {
            StMapFilter::MitchellNetravali => Some(MITCHELL),
            StMapFilter::CatmullRom => Some(CATMULL_ROM),
            _ => None,
        };
        let (ewa_edge, ewa_norm) = ewa_edge_norm();
        GpuStMapParams {
            repeat_x: repeat_code(p.repeat_x),
            repeat_y: repeat_code(p.repeat_y),
            filter_mode: filter_code(p.filter_mode),
            ewa_edge,
            ewa_norm,
            cubic_near: cubic.map_or([0.0; 4], |c| [c.near[0], c.near[1], c.near[2], 0.0]),
            cubic_far: cubic.map_or([0.0; 4], |c| c.far),
            ..Default::default()
        }
    }
}

impl GpuStMapParams {
    /// These parameters with the framing, the source size (`src`) and the
    /// STMap size filled in.
    pub fn with_framing(
        self,
        framing: &StMapFraming,
        src: (u32, u32),
        map: (u32, u32),
        params: &StMapParams,
    ) -> Self {
        GpuStMapParams {
            scale_x: framing.scale_x,
            origin_x: framing.origin_x,
            scale_y: framing.scale_y,
            origin_y: framing.origin_y,
            snap_x: framing.snap_x.tau,
            snap_y: framing.snap_y.tau,
            wrap_u: params.repeat_x.period(src.0),
            wrap_v: params.repeat_y.period(src.1),
            src_width: src.0,
            src_height: src.1,
            map_width: map.0,
            map_height: map.1,
            ..self
        }
    }
}

/// Layout of [`GpuStMapParams`] for the shader test.
pub const UNIFORM_LAYOUT: UniformLayout = uniform_layout!(
    shaders::STMAP,
    GpuStMapParams {
        scale_x,
        origin_x,
        scale_y,
        origin_y,
        snap_x,
        snap_y,
        wrap_u,
        wrap_v,
        src_width,
        src_height,
        map_width,
        map_height,
        repeat_x,
        repeat_y,
        filter_mode,
        ewa_edge,
        cubic_near,
        cubic_far,
        ewa_norm,
        _pad0,
        _pad1,
        _pad2
    }
);

/// The same struct as declared by `shaders/stmap_plane.wgsl` (through the
/// shared `common/stmap.wgsl`).
pub const PLANE_UNIFORM_LAYOUT: UniformLayout = UniformLayout {
    shader: shaders::STMAP_PLANE,
    ..UNIFORM_LAYOUT
};

/// Workgroup size of both kernels (`@workgroup_size(8, 8)`): 2D tiles, so
/// neighbouring invocations read neighbouring source texels.
pub const WORKGROUP: [u32; 3] = [8, 8, 1];

const BINDINGS: &[BindingKind] = &[
    BindingKind::Uniform,
    BindingKind::StorageRead,
    BindingKind::StorageRead,
    BindingKind::StorageReadWrite,
];

/// `stmap.wgsl::rgba`: one invocation per output pixel of an RGBA image.
pub static RGBA_KERNEL: KernelSpec = KernelSpec {
    label: "stmap.rgba",
    shader: shaders::STMAP,
    entry_point: "rgba",
    workgroup_size: WORKGROUP,
    bindings: BINDINGS,
};

/// `stmap_plane.wgsl::plane`: one invocation per output pixel of one
/// extra-channel plane.
pub static PLANE_KERNEL: KernelSpec = KernelSpec {
    label: "stmap.plane",
    shader: shaders::STMAP_PLANE,
    entry_point: "plane",
    workgroup_size: WORKGROUP,
    bindings: BINDINGS,
};

/// Warps the Front (and the Matte) through the STMap: upload, one frame,
/// one read-back of every output.
///
/// # Errors
/// [`crate::GpuError::Core`] for invalid parameters or mismatched inputs (as
/// on the CPU); device errors otherwise.
pub fn stmap(
    ctx: &GpuContext,
    inputs: &StMapInputs<'_>,
    params: &StMapParams,
) -> Result<StMapOutput> {
    params.validate(inputs.stmap.width(), inputs.stmap.height())?;
    if let Some(m) = inputs.matte {
        inputs.front.check_same_size(m, "Matte input")?;
    }
    let framing = StMapFraming::new(inputs.front, inputs.stmap, params)?;
    let mut frame = ctx.frame("stmap")?;
    let front = frame.upload(inputs.front)?;
    // Only the map's RGBA is read; its extra channels stay on the host.
    let map = frame.alloc_image(ImageHeader {
        extra: Vec::new(),
        ..ImageHeader::of(inputs.stmap)
    })?;
    frame.write(map.rgba(), bytemuck::cast_slice(inputs.stmap.as_flat()))?;
    let matte = inputs.matte.map(|m| frame.upload(m)).transpose()?;
    let (result, out_matte) =
        stmap_on_device(&mut frame, &front, &map, matte.as_ref(), &framing, params)?;
    match out_matte {
        None => Ok(StMapOutput {
            result: frame.read(&result)?,
            matte: None,
        }),
        Some(out_matte) => {
            let mut images = frame.read_all(&[&result, &out_matte])?;
            let matte = images.pop();
            let result = images.pop().expect("two images read");
            Ok(StMapOutput { result, matte })
        }
    }
}

/// Records the warp of `front` (and `matte`) through `map` into `frame`,
/// with a framing from [`StMapFraming::new`] /
/// [`StMapFraming::from_geometry`] for these images and `params`. Returns
/// the result and the warped matte, still on the device: the STMap's size,
/// the source's channel layout and metadata, the framing's windows.
///
/// # Errors
/// As [`stmap`]; recording errors may also surface only when the frame is
/// finished or read.
pub fn stmap_on_device(
    frame: &mut Frame<'_>,
    front: &GpuImage,
    map: &GpuImage,
    matte: Option<&GpuImage>,
    framing: &StMapFraming,
    params: &StMapParams,
) -> Result<(GpuImage, Option<GpuImage>)> {
    params.validate(map.width(), map.height())?;
    if let Some(m) = matte
        && (m.width(), m.height()) != (front.width(), front.height())
    {
        return Err(morph_core::Error::SizeMismatch {
            what: "Matte input".into(),
            actual: morph_core::error::Size {
                width: m.width(),
                height: m.height(),
            },
            expected: morph_core::error::Size {
                width: front.width(),
                height: front.height(),
            },
        }
        .into());
    }
    let ctx = frame.context();
    let uniform = frame.uniform(&GpuStMapParams::from(params).with_framing(
        framing,
        (front.width(), front.height()),
        (map.width(), map.height()),
        params,
    ))?;
    let grid = [
        map.width().div_ceil(WORKGROUP[0]),
        map.height().div_ceil(WORKGROUP[1]),
        1,
    ];
    let rgba = ctx.kernel(&RGBA_KERNEL, &[])?;
    let plane = ctx.kernel(&PLANE_KERNEL, &[])?;
    let warp = |frame: &mut Frame<'_>, source: &GpuImage| -> Result<GpuImage> {
        let output = frame.alloc_image(output_header(source.header(), map, framing))?;
        frame.dispatch(
            &rgba,
            &[&uniform, source.rgba(), map.rgba(), output.rgba()],
            grid,
        )?;
        for ((_, src), (_, dst)) in source.planes().zip(output.planes()) {
            frame.dispatch(&plane, &[&uniform, src, map.rgba(), dst], grid)?;
        }
        Ok(output)
    };
    let result = warp(frame, front)?;
    let out_matte = matte.map(|m| warp(frame, m)).transpose()?;
    Ok((result, out_matte))
}

/// The output header: the source's layout and metadata at the STMap's size,
/// with the framing's windows.
fn output_header(source: &ImageHeader, map: &GpuImage, framing: &StMapFraming) -> ImageHeader {
    ImageHeader {
        width: map.width(),
        height: map.height(),
        data_window: framing.data_window,
        display_window: framing.display_window,
        ..source.clone()
    }
}

/// The [`Geometry`] of an image on the device, for
/// [`StMapFraming::from_geometry`].
pub fn geometry(image: &GpuImage) -> Geometry {
    let h = image.header();
    Geometry {
        width: h.width,
        height: h.height,
        data_window: h.data_window,
        display_window: h.display_window,
    }
}
