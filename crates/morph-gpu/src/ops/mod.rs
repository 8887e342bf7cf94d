//! One module per op, each the GPU twin of `morph_core::ops::<op>` and
//! `shaders/<op>.wgsl`. See the crate docs for the recipe a new op follows.

pub mod blur;
pub mod clamp;
pub mod flow;
pub mod frequency;
pub mod interpolate;
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
    &interpolate::CLEAR_KERNEL,
    &interpolate::SPLAT_KERNEL,
    &interpolate::RESOLVE_KERNEL,
    &interpolate::PUSH_KERNEL,
    &interpolate::PULL_KERNEL,
    &interpolate::COMPOSE_RGBA_KERNEL,
    &interpolate::COMPOSE_PLANE_KERNEL,
    &interpolate::EXPORT_KERNEL,
    &flow::LUMA_KERNEL,
    &flow::DOWNSCALE_KERNEL,
    &flow::HALVE_KERNEL,
    &flow::NORMALIZE_KERNEL,
    &flow::GRADIENTS_KERNEL,
    &flow::UPSAMPLE_KERNEL,
    &flow::SEARCH_KERNEL,
    &flow::DENSIFY_KERNEL,
    &flow::WARP_KERNEL,
    &flow::WEIGHTS_KERNEL,
    &flow::SWEEP_KERNEL,
    &flow::REFINE_LEVEL_KERNEL,
    &flow::SPREAD_KERNEL,
    &flow::UPSAMPLE_EDGE_KERNEL,
    &flow::OCCLUSION_KERNEL,
    &motion_blur::TILES_KERNEL,
    &motion_blur::NEIGHBOURS_KERNEL,
    &motion_blur::RGBA_KERNEL,
    &motion_blur::PLANE_KERNEL,
];
