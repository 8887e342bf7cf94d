//! The engine's error type: the core (inputs, parameters) or the GPU.

use morph_core::Error as CoreError;
use morph_gpu::GpuError;

/// Everything an [`crate::Engine`] call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Bad parameters or inputs: the same error on every backend.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The GPU could not be set up (`GPU` platform) or failed during a frame
    /// (`GPU` platform; `Auto` re-runs the frame on the CPU instead).
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// Machine Learning interpolation: the ONNX Runtime library, the model
    /// or an inference failed.
    #[error(transparent)]
    Ml(#[from] morph_ml::MlError),
}

impl EngineError {
    /// Splits a GPU op's error: parameter errors become [`EngineError::Core`],
    /// so they read the same whatever the backend.
    pub(crate) fn from_gpu(error: GpuError) -> Self {
        match error {
            GpuError::Core(e) => EngineError::Core(e),
            other => EngineError::Gpu(other),
        }
    }
}
