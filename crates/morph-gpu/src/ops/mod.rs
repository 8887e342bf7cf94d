//! One module per op, each the GPU twin of `morph_core::ops::<op>` and
//! `shaders/<op>.wgsl`. See the crate docs for the recipe a new op follows.

pub mod clamp;
pub mod stmap;

use crate::pipeline::KernelSpec;

/// Every kernel of every op, for the shader test (entry point, workgroup
/// size and bindings checked against naga's reflection) and for warming the
/// pipeline cache. Add each new op's kernels here.
pub const KERNELS: &[&KernelSpec] = &[
    &clamp::RGBA_KERNEL,
    &clamp::PLANE_KERNEL,
    &stmap::RGBA_KERNEL,
    &stmap::PLANE_KERNEL,
];
