//! One module per op, each the GPU twin of `morph_core::ops::<op>` and
//! `shaders/<op>.wgsl`. See the crate docs for the recipe a new op follows.

pub mod blur;
pub mod clamp;
pub mod frequency;
pub mod motion_blur;
pub mod stmap;

use crate::pipeline::KernelSpec;

/// Every kernel of every op, for the shader test (entry point, workgroup
/// size and bindings checked against naga's reflection) and for warming the
/// pipeline cache. Add each new op's kernels here.
pub const KERNELS: &[&KernelSpec] = &[
    &clamp::RGBA_KERNEL,
    &clamp::PLANE_KERNEL,
    &blur::GAUSSIAN_KERNEL,
    &blur::BOX_KERNEL,
    &frequency::TWO_BANDS_KERNEL,
    &frequency::THREE_BANDS_KERNEL,
    &stmap::RGBA_KERNEL,
    &stmap::PLANE_KERNEL,
    &motion_blur::TILES_KERNEL,
    &motion_blur::NEIGHBOURS_KERNEL,
    &motion_blur::RGBA_KERNEL,
    &motion_blur::PLANE_KERNEL,
];
