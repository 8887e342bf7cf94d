//! One `impl Engine` block per op, each a thin call of `Engine::run` with
//! the CPU op (`morph_core::ops::<op>`) and the GPU op
//! (`morph_gpu::ops::<op>`). A new op adds a file here with one method.

mod clamp;
mod flow;
mod frequency;
pub(crate) mod interpolate;
mod motion_blur;
mod stmap;
