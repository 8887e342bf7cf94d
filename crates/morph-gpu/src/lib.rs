//! morph-gpu: the wgpu compute backend of morph.
//!
//! - [`GpuContext`] — adapter choice by [`Preference`] (hardware only for the
//!   `Auto` platform, any adapter including software ones for `GPU`), the
//!   device opened with the adapter's limits, optional `SHADER_F16` and
//!   `TIMESTAMP_QUERY`, the pipeline cache and the buffer pool;
//! - [`shaders`] — the WGSL of the top-level `shaders/` directory, includes
//!   resolved and validated by naga at build time, embedded in the binary;
//! - [`Frame`] — one frame's work: uploads, every pass in one command
//!   encoder, intermediates on the device, one submit and one read-back
//!   through a pooled staging buffer;
//! - [`GpuImage`] — an image on the device: RGBA as `array<vec4<f32>>`
//!   (the layout of `Image::pixels()`), extra channels as `array<f32>` planes;
//! - [`ops`] — one module per op, each the twin of `morph_core::ops::<op>`
//!   (the specification) and `shaders/<op>.wgsl`;
//! - [`GpuError`] — every device failure as a value, never a panic or a
//!   wrong image.
//!
//! # Size limit
//! Each image plane must fit one storage binding
//! ([`GpuContext::max_storage_binding`]: 128 MiB on lavapipe, i.e. up to
//! about 8.3 Mpx RGBA such as 3840×2160; gigabytes on datacentre GPUs).
//! Larger planes give [`GpuError::Limits`] and the engine renders the frame on
//! the CPU. Images are not cut into stripes because gather ops (warping,
//! STMap, motion blur) read anywhere in their source.
//!
//! # Adding an op (recipe, e.g. `frequency`)
//! 1. **Spec**: `morph_core::ops::frequency` is the CPU reference, written in
//!    the shader's indexing order with the same edge rules.
//! 2. **Shader** `shaders/frequency.wgsl` (or `frequency_<pass>.wgsl` per
//!    pass): a header comment listing the bindings (group 0, binding 0 =
//!    uniform, then inputs `read`, then outputs `read_write`) and the
//!    workgroup size; images as `array<vec4<f32>>` indexed `y * width + x`;
//!    shared helpers only via `//!include common/<file>.wgsl` (e.g.
//!    `common/index.wgsl` for 1D launches, `common/float.wgsl` for NaN tests).
//!    A uniform `struct GpuFrequencyParams` with a "keep in sync" comment.
//!    `cargo build` validates it with naga.
//! 3. **Module** `src/ops/frequency.rs`:
//!    - `#[repr(C)] #[derive(Clone, Copy, Pod, Zeroable)] pub struct
//!      GpuFrequencyParams` (scalars and `[f32; 4]` only, explicit `_padN`
//!      fields to a multiple of 16 bytes, `const _: () = assert!(size_of::<..>() == N);`,
//!      `impl From<&FrequencyParams>`), and
//!      `pub const UNIFORM_LAYOUT = uniform_layout!(shaders::FREQUENCY, GpuFrequencyParams { .. every field .. })`;
//!    - one `pub static <NAME>_KERNEL: KernelSpec` per entry point (label,
//!      shader, entry point, workgroup size, bindings);
//!    - `pub fn frequency_on_device(frame: &mut Frame<'_>, input: &GpuImage, params) -> Result<..GpuImage..>`:
//!      `params.validate()?`, `frame.uniform(&..)?`, `frame.alloc_image(..)`/`alloc_like`
//!      for outputs and intermediates, `frame.context().kernel(&KERNEL, &[])?`,
//!      `frame.dispatch(..)` / `frame.dispatch_linear(..)` per pass;
//!    - `pub fn frequency(ctx: &GpuContext, image: &Image, params) -> Result<..Image..>`:
//!      `ctx.frame("frequency")?`, `frame.upload`, `frequency_on_device`,
//!      `frame.read` / `frame.read_all` (several outputs, one map).
//! 4. **Register** the uniform in [`shaders::UNIFORM_LAYOUTS`] and the kernels
//!    in [`ops::KERNELS`]; `tests/shaders.rs` then checks sizes, offsets,
//!    entry points, workgroup sizes and binding kinds against naga.
//! 5. **Parity**: add cases to `morph_core::test_support::cases`, a method to
//!    its `Backend` trait, list them in `parity_cases!`, and implement the
//!    method for the CPU and GPU test backends (`tests/parity.rs` here,
//!    `crates/morph/tests/parity.rs`); tolerances as named constants.
//! 6. **Engine**: one method in `crates/morph/src/ops/frequency.rs` calling
//!    `self.run("frequency", cpu, gpu)`; a bench `benches/benches/frequency.rs`.

pub mod context;
pub mod error;
pub mod frame;
pub mod image;
pub mod ops;
pub mod pipeline;
pub mod pool;
pub mod shaders;

pub use context::{AdapterSummary, GpuContext, Preference};
pub use error::{GpuError, Result};
pub use frame::{Dispatch, Frame, PassTiming};
pub use image::{GpuImage, ImageHeader};
pub use pipeline::{BindingKind, Kernel, KernelSpec};
pub use pool::GpuBuffer;

/// The wgpu version this crate is built against, re-exported so callers
/// (the CLI's `devices`, benches) name the same types.
pub use wgpu;
