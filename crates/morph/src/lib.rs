//! morph: the engine a render worker links.
//!
//! An [`Engine`] is made once per process (or per worker) for a
//! [`RenderingPlatform`] and then runs node ops on whole frames:
//!
//! ```no_run
//! use morph::{Engine, RenderingPlatform};
//! use morph::core::{Image, params::ClampParams};
//!
//! let engine = Engine::new(RenderingPlatform::Auto)?;
//! println!("rendering on {}", engine.backend());
//! let image = Image::new(1920, 1080);
//! let clamped = engine.clamp(&image, &ClampParams::default())?;
//! # Ok::<(), morph::EngineError>(())
//! ```
//!
//! Backend choice (SPEC §2 `rendering_platform`):
//! - `Auto` (default): a hardware GPU if there is one, else the CPU, with the
//!   reason logged (`tracing::info!`). A GPU failure during a frame (device
//!   lost, out of memory, an image over the device's limits) re-runs that
//!   frame on the CPU with a `tracing::warn!`; after a lost device every
//!   later frame uses the CPU.
//! - `GPU`: any adapter, software ones (lavapipe) included; no adapter, or a
//!   GPU failure during a frame, is an error.
//! - `CPU`: the rayon implementation in `morph-core`.
//!
//! Each op is one method on [`Engine`], in `src/ops/<op>.rs`, taking the
//! op's `*Params` and returning `Result<_, EngineError>`; CPU and GPU give
//! the same values (within the op's documented tolerance, exact for clamp).

mod backend;
mod engine;
mod error;
mod node;
mod ops;

pub use backend::{BackendKind, devices};
pub use engine::Engine;
pub use error::EngineError;
pub use morph_core::params::RenderingPlatform;
/// Machine Learning interpolation (`morph-ml`): options and the model runner.
pub use morph_ml as ml;
pub use node::{
    InputFrame, MorphNode, Retimer, check_supported, default_engine_cache_dir, ml_options,
};
pub use ops::interpolate::PreparedPair;

/// The image model, parameters and CPU ops (`morph-core`).
pub use morph_core as core;
/// The wgpu backend (`morph-gpu`), for callers that manage GPU contexts.
pub use morph_gpu as gpu;
