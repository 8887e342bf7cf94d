//! Motion blur along motion vectors on the GPU (SPEC §2, issue #6): the
//! tile passes and one invocation per output pixel running the per-pixel
//! code of [`morph_core::ops::motion_blur`], which is the specification.
//!
//! Twin of `shaders/motion_blur_tiles.wgsl` (kernels `tiles`,
//! `neighbours`), `shaders/motion_blur.wgsl` (kernel `rgba`),
//! `shaders/motion_blur_plane.wgsl` (kernel `plane`, one extra-channel
//! plane with the same weights), their shared `shaders/common/motion_blur.wgsl`
//! and `common/motion_blur_params.wgsl`. The reference vectors, the tile
//! radius and the tap times come from [`MotionBlurSetup`] on the host, so
//! both backends start from the same numbers. Results agree to float
//! rounding (fused multiply-adds, the driver's division and square root);
//! zero vectors give the input back bit for bit on both.
//!
//! A frame's passes: upload of the frame (and neighbours), the two vector
//! fields as `array<vec2<f32>>` and the occlusion maps interleaved as
//! `array<vec2<f32>>`; `tiles`, `neighbours`, then `rgba` and one `plane`
//! per extra channel; one read-back.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};
use morph_core::ops::motion_blur::{MotionBlurInputs, MotionBlurSetup};
use morph_core::params::MotionBlurParams;
use morph_core::{FlowField, Image};

use crate::context::GpuContext;
use crate::error::Result;
use crate::frame::{Frame, IMAGE_USAGE};
use crate::image::GpuImage;
use crate::pipeline::{BindingKind, KernelSpec};
use crate::pool::GpuBuffer;
use crate::shaders::{self, UniformLayout};
use crate::uniform_layout;

/// Most taps the uniform holds (`MotionBlurParams::samples` ≤ 25).
pub const MAX_TAPS: usize = 28;

/// `flags` bit: the previous frame is bound.
pub const FLAG_PREVIOUS: u32 = 1;
/// `flags` bit: the next frame is bound.
pub const FLAG_NEXT: u32 = 2;
/// `flags` bit: the forward occlusion map is in `occlusion.x`.
pub const FLAG_FORWARD_OCCLUSION: u32 = 4;
/// `flags` bit: the backward occlusion map is in `occlusion.y`.
pub const FLAG_BACKWARD_OCCLUSION: u32 = 8;

/// The uniform of every motion-blur kernel.
///
/// Keep in sync with `struct GpuMotionBlurParams` in
/// `shaders/common/motion_blur_params.wgsl` (checked by `tests/shaders.rs`
/// against naga's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuMotionBlurParams {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Tiles across.
    pub tiles_x: u32,
    /// Tiles down.
    pub tiles_y: u32,
    /// Neighbourhood radius in tiles.
    pub tile_radius: u32,
    /// Taps used from `taps`.
    pub samples: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Padding.
    pub _pad0: u32,
    /// Reference vectors: forward `[0..2]`, backward `[2..4]`.
    pub reference: [f32; 4],
    /// `1 / samples`.
    pub inv_samples: f32,
    /// Padding.
    pub _pad1: u32,
    /// Padding.
    pub _pad2: u32,
    /// Padding.
    pub _pad3: u32,
    /// Tap times, four per element.
    pub taps: [[f32; 4]; 7],
}

const _: () = assert!(std::mem::size_of::<GpuMotionBlurParams>() == 176);

impl From<&MotionBlurSetup> for GpuMotionBlurParams {
    /// Everything but `flags`, which depends on what is bound.
    fn from(s: &MotionBlurSetup) -> Self {
        let mut taps = [[0.0f32; 4]; 7];
        for (i, t) in s.taps.iter().take(MAX_TAPS).enumerate() {
            taps[i / 4][i % 4] = *t;
        }
        GpuMotionBlurParams {
            width: s.width,
            height: s.height,
            tiles_x: s.tiles_x,
            tiles_y: s.tiles_y,
            tile_radius: s.tile_radius,
            samples: s.taps.len().min(MAX_TAPS) as u32,
            reference: [
                s.reference_forward[0],
                s.reference_forward[1],
                s.reference_backward[0],
                s.reference_backward[1],
            ],
            inv_samples: s.inv_samples,
            taps,
            ..Default::default()
        }
    }
}

/// Layout of [`GpuMotionBlurParams`] as `shaders/motion_blur.wgsl` declares
/// it, for the shader test.
pub const UNIFORM_LAYOUT: UniformLayout = uniform_layout!(
    shaders::MOTION_BLUR,
    GpuMotionBlurParams {
        width,
        height,
        tiles_x,
        tiles_y,
        tile_radius,
        samples,
        flags,
        _pad0,
        reference,
        inv_samples,
        _pad1,
        _pad2,
        _pad3,
        taps
    }
);

/// The same struct in `shaders/motion_blur_plane.wgsl`.
pub const PLANE_UNIFORM_LAYOUT: UniformLayout = UniformLayout {
    shader: shaders::MOTION_BLUR_PLANE,
    ..UNIFORM_LAYOUT
};

/// The same struct in `shaders/motion_blur_tiles.wgsl`.
pub const TILES_UNIFORM_LAYOUT: UniformLayout = UniformLayout {
    shader: shaders::MOTION_BLUR_TILES,
    ..UNIFORM_LAYOUT
};

/// Workgroup size of the per-pixel kernels (`@workgroup_size(8, 8)`).
pub const WORKGROUP: [u32; 3] = [8, 8, 1];
/// Workgroup size of the tile kernels (`@workgroup_size(64)`).
pub const TILE_WORKGROUP_SIZE: u32 = 64;

const PIXEL_BINDINGS: &[BindingKind] = &[
    BindingKind::Uniform,
    BindingKind::StorageRead,
    BindingKind::StorageRead,
    BindingKind::StorageRead,
    BindingKind::StorageRead,
    BindingKind::StorageRead,
    BindingKind::StorageRead,
    BindingKind::StorageRead,
    BindingKind::StorageReadWrite,
];

/// `motion_blur_tiles.wgsl::tiles`: per tile and direction, the longest and
/// shortest vector.
pub static TILES_KERNEL: KernelSpec = KernelSpec {
    label: "motion_blur.tiles",
    shader: shaders::MOTION_BLUR_TILES,
    entry_point: "tiles",
    workgroup_size: [TILE_WORKGROUP_SIZE, 1, 1],
    bindings: &[
        BindingKind::Uniform,
        BindingKind::StorageRead,
        BindingKind::StorageRead,
        BindingKind::StorageReadWrite,
    ],
};

/// `motion_blur_tiles.wgsl::neighbours`: the extremes over each tile's
/// neighbourhood.
pub static NEIGHBOURS_KERNEL: KernelSpec = KernelSpec {
    label: "motion_blur.neighbours",
    shader: shaders::MOTION_BLUR_TILES,
    entry_point: "neighbours",
    workgroup_size: [TILE_WORKGROUP_SIZE, 1, 1],
    bindings: &[
        BindingKind::Uniform,
        BindingKind::StorageRead,
        BindingKind::StorageReadWrite,
    ],
};

/// `motion_blur.wgsl::rgba`: one invocation per output pixel.
pub static RGBA_KERNEL: KernelSpec = KernelSpec {
    label: "motion_blur.rgba",
    shader: shaders::MOTION_BLUR,
    entry_point: "rgba",
    workgroup_size: WORKGROUP,
    bindings: PIXEL_BINDINGS,
};

/// `motion_blur_plane.wgsl::plane`: one invocation per output pixel of one
/// extra-channel plane.
pub static PLANE_KERNEL: KernelSpec = KernelSpec {
    label: "motion_blur.plane",
    shader: shaders::MOTION_BLUR_PLANE,
    entry_point: "plane",
    workgroup_size: WORKGROUP,
    bindings: PIXEL_BINDINGS,
};

/// The vectors of a frame on the device, with the host-side setup.
#[derive(Clone, Debug)]
pub struct GpuMotionVectors {
    /// The frame's setup (reference vectors, tiles, taps).
    pub setup: MotionBlurSetup,
    /// Forward vectors, `array<vec2<f32>>`.
    pub forward: Arc<GpuBuffer>,
    /// Backward vectors.
    pub backward: Arc<GpuBuffer>,
    /// Occlusion maps interleaved (forward, backward), or one dummy element.
    pub occlusion: Arc<GpuBuffer>,
    /// `FLAG_FORWARD_OCCLUSION` / `FLAG_BACKWARD_OCCLUSION` bits.
    pub occlusion_flags: u32,
}

/// Validates `inputs` and `params` like the CPU and uploads the vector
/// fields and occlusion maps (not the images).
///
/// # Errors
/// [`crate::GpuError::Core`] for invalid parameters or inputs; device
/// errors otherwise.
pub fn upload_vectors(
    frame: &mut Frame<'_>,
    inputs: &MotionBlurInputs<'_>,
    params: &MotionBlurParams,
) -> Result<GpuMotionVectors> {
    params.validate()?;
    inputs.validate()?;
    let setup = MotionBlurSetup::new(inputs.forward, inputs.backward, params)?;
    let size = setup.width as usize * setup.height as usize;
    let field = |f: &FlowField| bytemuck::cast_slice::<[f32; 2], u8>(f.vectors()).to_vec();
    let forward = frame.upload_bytes(&field(inputs.forward), "forward vectors")?;
    let backward = frame.upload_bytes(&field(inputs.backward), "backward vectors")?;
    let mut flags = 0;
    let occlusion = if inputs.forward_occlusion.is_none() && inputs.backward_occlusion.is_none() {
        frame.upload_bytes(&[0u8; 16], "no occlusion")?
    } else {
        let mut both = vec![[0.0f32; 2]; size];
        if let Some(o) = inputs.forward_occlusion {
            flags |= FLAG_FORWARD_OCCLUSION;
            both.iter_mut().zip(o).for_each(|(b, v)| b[0] = *v);
        }
        if let Some(o) = inputs.backward_occlusion {
            flags |= FLAG_BACKWARD_OCCLUSION;
            both.iter_mut().zip(o).for_each(|(b, v)| b[1] = *v);
        }
        frame.upload_bytes(bytemuck::cast_slice(&both), "occlusion maps")?
    };
    Ok(GpuMotionVectors {
        setup,
        forward,
        backward,
        occlusion,
        occlusion_flags: flags,
    })
}

/// Motion blur of `image` along `forward` / `backward`: upload, one frame,
/// read-back. The GPU twin of [`morph_core::ops::motion_blur::motion_blur`].
///
/// # Errors
/// [`crate::GpuError::Core`] for invalid parameters or inputs (as on the
/// CPU); device errors otherwise.
pub fn motion_blur(
    ctx: &GpuContext,
    image: &Image,
    forward: &FlowField,
    backward: &FlowField,
    params: &MotionBlurParams,
) -> Result<Image> {
    motion_blur_with(
        ctx,
        &MotionBlurInputs::new(image, forward, backward),
        params,
    )
}

/// Motion blur with neighbouring frames and occlusion maps; the GPU twin of
/// [`morph_core::ops::motion_blur::motion_blur_with`].
///
/// # Errors
/// As [`motion_blur`].
pub fn motion_blur_with(
    ctx: &GpuContext,
    inputs: &MotionBlurInputs<'_>,
    params: &MotionBlurParams,
) -> Result<Image> {
    let mut frame = ctx.frame("motion_blur")?;
    let vectors = upload_vectors(&mut frame, inputs, params)?;
    let image = frame.upload(inputs.image)?;
    let previous = inputs.previous.map(|p| frame.upload(p)).transpose()?;
    let next = inputs.next.map(|n| frame.upload(n)).transpose()?;
    let output = motion_blur_on_device(
        &mut frame,
        &image,
        previous.as_ref(),
        next.as_ref(),
        &vectors,
    )?;
    frame.read(&output)
}

/// Records the motion blur of `image` into `frame` and returns the result,
/// still on the device (same header and extra planes as `image`).
/// `previous` / `next` must have `image`'s size and extra channels (checked
/// on the host by [`upload_vectors`] when they come from images).
///
/// # Errors
/// [`crate::GpuError::Core`] if sizes do not match `vectors`; recording
/// errors may also surface only when the frame is finished or read.
pub fn motion_blur_on_device(
    frame: &mut Frame<'_>,
    image: &GpuImage,
    previous: Option<&GpuImage>,
    next: Option<&GpuImage>,
    vectors: &GpuMotionVectors,
) -> Result<GpuImage> {
    let s = &vectors.setup;
    for (what, img) in [
        ("frame", Some(image)),
        ("previous frame", previous),
        ("next frame", next),
    ] {
        let Some(img) = img else { continue };
        if (img.width(), img.height()) != (s.width, s.height)
            || img.planes().len() != image.planes().len()
        {
            return Err(morph_core::Error::SizeMismatch {
                what: format!("{what} on the device"),
                actual: morph_core::error::Size {
                    width: img.width(),
                    height: img.height(),
                },
                expected: morph_core::error::Size {
                    width: s.width,
                    height: s.height,
                },
            }
            .into());
        }
    }
    let ctx = frame.context();
    let mut flags = vectors.occlusion_flags;
    if previous.is_some() {
        flags |= FLAG_PREVIOUS;
    }
    if next.is_some() {
        flags |= FLAG_NEXT;
    }
    let uniform = frame.uniform(&GpuMotionBlurParams {
        flags,
        ..GpuMotionBlurParams::from(s)
    })?;
    let tile_entries = 2 * s.tile_count() as u64;
    let extremes = frame.buffer(tile_entries * 16, IMAGE_USAGE, "motion blur tiles")?;
    let neighbourhood =
        frame.buffer(tile_entries * 16, IMAGE_USAGE, "motion blur neighbourhoods")?;
    let tiles = ctx.kernel(&TILES_KERNEL, &[])?;
    frame.dispatch_linear(
        &tiles,
        &[&uniform, &vectors.forward, &vectors.backward, &extremes],
        tile_entries,
    )?;
    let neighbours = ctx.kernel(&NEIGHBOURS_KERNEL, &[])?;
    frame.dispatch_linear(
        &neighbours,
        &[&uniform, &extremes, &neighbourhood],
        tile_entries,
    )?;
    let output = frame.alloc_like(image)?;
    let grid = [
        s.width.div_ceil(WORKGROUP[0]),
        s.height.div_ceil(WORKGROUP[1]),
        1,
    ];
    let previous = previous.unwrap_or(image);
    let next = next.unwrap_or(image);
    let rgba = ctx.kernel(&RGBA_KERNEL, &[])?;
    frame.dispatch(
        &rgba,
        &[
            &uniform,
            image.rgba(),
            previous.rgba(),
            next.rgba(),
            &vectors.forward,
            &vectors.backward,
            &neighbourhood,
            &vectors.occlusion,
            output.rgba(),
        ],
        grid,
    )?;
    if image.planes().len() > 0 {
        let plane = ctx.kernel(&PLANE_KERNEL, &[])?;
        let planes = image
            .planes()
            .zip(previous.planes())
            .zip(next.planes())
            .zip(output.planes());
        for ((((_, src), (_, prev)), (_, nxt)), (_, dst)) in planes {
            frame.dispatch(
                &plane,
                &[
                    &uniform,
                    src,
                    prev,
                    nxt,
                    &vectors.forward,
                    &vectors.backward,
                    &neighbourhood,
                    &vectors.occlusion,
                    dst,
                ],
                grid,
            )?;
        }
    }
    Ok(output)
}
