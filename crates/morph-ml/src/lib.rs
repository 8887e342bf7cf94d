//! morph-ml: the Morph node's `interpolation = Machine Learning` mode.
//!
//! An ONNX interpolation model (the shipped IFNet-lite in `models/`, or any
//! model with the common RIFE-style interface, SPEC §6) runs through ONNX
//! Runtime via `ort` with `load-dynamic`: the runtime library is found at run
//! time ([`runtime`] module docs: `ORT_DYLIB_PATH`, the project-local install
//! made by `scripts/setup-onnxruntime.sh`, then the system loader), so the
//! rest of morph builds and runs without it.
//!
//! - [`MlInterpolator::load`] validates the model against the contract
//!   ([`contract`]) and its optional `.json` sidecar;
//! - [`MlInterpolator::interpolate`] range-compresses the two frames into
//!   0..1 ([`colour`]), pads to the model's multiple or tiles large frames
//!   with feathered overlaps ([`tiling`]), runs the model and maps back;
//! - `fp16` picks the model's `_fp16` variant (fp16 weights and tensors);
//! - `engine_cache` keeps ONNX Runtime's optimised graph on disk per model
//!   hash, provider, precision and input size ([`cache`]);
//! - the CUDA execution provider is used when asked for and the runtime has
//!   it, else the CPU one, with the fallback logged.
//!
//! # Alpha and extra channels
//!
//! The model moves RGB only and gives no motion vectors out, so:
//! - **alpha**: when both frames' alpha is the same constant (e.g. both
//!   opaque) the result has that constant; otherwise the model runs a second
//!   time with each frame's alpha copied into R, G and B, and the mean of the
//!   three output channels is the result's alpha, so a matte moves with the
//!   shape it outlines;
//! - **extra channels** (EXR layers such as `Z`): channels present in both
//!   frames are blended by t, `(1 − t)·A + t·B`; a channel only one frame has
//!   is copied from that frame. Windows and metadata come from frame A.

pub mod cache;
pub mod colour;
pub mod contract;
mod error;
mod interp;
pub mod runtime;
pub mod tiling;

use std::path::PathBuf;

pub use contract::{ModelInfo, Precision, Sidecar};
pub use error::MlError;
pub use interp::MlInterpolator;
pub use runtime::runtime_status;

/// Where the model runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Provider {
    /// ONNX Runtime's CPU execution provider (always there).
    #[default]
    Cpu,
    /// The CUDA execution provider when the runtime has it; otherwise the CPU
    /// one, with the fallback logged.
    Cuda,
}

impl Provider {
    /// `cpu` or `cuda` (cache keys, logs).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Cpu => "cpu",
            Provider::Cuda => "cuda",
        }
    }
}

/// Default `tile_budget_pixels`: 2^21 (≈2.1 Mpx), so 1920×1080 (padded to
/// 1920×1088) runs as one tile and 4K as a few.
pub const DEFAULT_TILE_BUDGET: u64 = 1 << 21;

/// Default tile overlap in pixels: well above the 24-px motion range the
/// shipped model was trained on (see [`tiling`]).
pub const DEFAULT_TILE_OVERLAP: u32 = 64;

/// How to load and run a model.
#[derive(Clone, Debug, PartialEq)]
pub struct MlOptions {
    /// The `.onnx` file (its `.json` sidecar, if any, sits beside it).
    pub model: PathBuf,
    /// `use_16_bit_fp`: run the `<stem>_fp16.onnx` variant next to `model`
    /// when there is one (else `model` itself runs, in its own precision,
    /// with a log line saying so).
    pub fp16: bool,
    /// `ml_engine_cache`: a directory for ONNX Runtime's optimised models.
    pub engine_cache: Option<PathBuf>,
    /// Execution provider.
    pub provider: Provider,
    /// Frames whose padded size has more pixels than this are tiled.
    pub tile_budget_pixels: u64,
    /// Overlap between neighbouring tiles, in pixels (the feathering width).
    pub tile_overlap: u32,
    /// ONNX Runtime intra-op threads; 0 lets it choose (one per core).
    pub threads: usize,
}

impl Default for MlOptions {
    fn default() -> Self {
        MlOptions {
            model: default_model_path(),
            fp16: false,
            engine_cache: None,
            provider: Provider::Cpu,
            tile_budget_pixels: DEFAULT_TILE_BUDGET,
            tile_overlap: DEFAULT_TILE_OVERLAP,
            threads: 0,
        }
    }
}

/// File name of the shipped model in `models/`.
pub const SHIPPED_MODEL: &str = "ifnet_lite.onnx";

/// The shipped model: `$MORPH_MODELS_DIR/ifnet_lite.onnx` when that variable
/// is set, else `models/ifnet_lite.onnx` of the source tree this crate was
/// built from.
pub fn default_model_path() -> PathBuf {
    match std::env::var_os("MORPH_MODELS_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join(SHIPPED_MODEL),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../models")
            .join(SHIPPED_MODEL),
    }
}
