//! The crate's one error type: who is at fault and how to fix it.

use std::path::PathBuf;

/// Everything that can go wrong loading or running an interpolation model.
///
/// Each message names what is missing or wrong and, where there is one, the
/// fix (`run scripts/setup-onnxruntime.sh or set ORT_DYLIB_PATH`). The type is
/// `Clone` because the process-wide runtime keeps its load result.
#[derive(Clone, Debug, thiserror::Error)]
pub enum MlError {
    /// No ONNX Runtime shared library could be loaded.
    #[error(
        "ONNX Runtime library not found or not loadable: {detail} (tried {tried}). \
         Run scripts/setup-onnxruntime.sh, or set ORT_DYLIB_PATH to the full path of \
         libonnxruntime.so (pip install onnxruntime==1.31.1 ships it in onnxruntime/capi/)"
    )]
    RuntimeMissing {
        /// Every path or name that was tried, in order.
        tried: String,
        /// The loader's own words for the last failure.
        detail: String,
    },
    /// The file loaded but is not ONNX Runtime (no `OrtGetApiBase`).
    #[error(
        "{path} is not an ONNX Runtime library (it does not export OrtGetApiBase). \
         Point ORT_DYLIB_PATH at libonnxruntime.so, or run scripts/setup-onnxruntime.sh"
    )]
    NotOnnxRuntime {
        /// The library that was loaded.
        path: PathBuf,
    },
    /// The library is an ONNX Runtime older than this build needs.
    #[error(
        "ONNX Runtime at {path} is too old: {found}; morph-ml needs 1.{needed_minor} or newer. \
         Run scripts/setup-onnxruntime.sh (installs 1.31.1) or set ORT_DYLIB_PATH to a newer library"
    )]
    RuntimeTooOld {
        /// The library that was loaded.
        path: PathBuf,
        /// What the library said its version is.
        found: String,
        /// The lowest minor version of 1.x that works.
        needed_minor: u32,
    },
    /// The runtime loaded but refused to start (environment creation).
    #[error("ONNX Runtime failed to start: {0}")]
    Runtime(String),
    /// The model file does not exist.
    #[error(
        "model not found: {path}. Give an existing .onnx file (the shipped model is \
         models/ifnet_lite.onnx; models/train.py rebuilds it)"
    )]
    ModelMissing {
        /// The path that was asked for.
        path: PathBuf,
    },
    /// The model (or its sidecar) does not follow the supported interface.
    #[error("model {path} has the wrong interface: {reason}")]
    ModelInterface {
        /// The model file.
        path: PathBuf,
        /// What does not match, with what was expected.
        reason: String,
    },
    /// ONNX Runtime failed to load or run the model.
    #[error("ONNX Runtime error with model {path}: {message}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// ONNX Runtime's message.
        message: String,
    },
    /// An option or argument outside its allowed range.
    #[error("{attribute} = {value} is not allowed: {allowed}")]
    Parameter {
        /// The option's name.
        attribute: &'static str,
        /// The offending value.
        value: String,
        /// The allowed range or rule.
        allowed: String,
    },
    /// The input images are unusable (size mismatch, non-finite samples).
    #[error("input image: {0}")]
    Image(String),
    /// Reading or writing the engine cache or sidecar failed.
    #[error("{path}: {message}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl From<morph_core::Error> for MlError {
    fn from(e: morph_core::Error) -> Self {
        MlError::Image(e.to_string())
    }
}
