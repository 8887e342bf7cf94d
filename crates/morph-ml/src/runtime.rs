//! Finding and starting ONNX Runtime (ort's `load-dynamic`).
//!
//! The shared library is looked for in this order:
//! 1. `ORT_DYLIB_PATH`, when set (only there: a wrong path is an error, not
//!    a silent fallback);
//! 2. the project-local install that `scripts/setup-onnxruntime.sh` makes,
//!    `.onnxruntime/libonnxruntime.so` at the workspace root (found from the
//!    build's source tree, then next to the running executable and its
//!    parent directories);
//! 3. the system loader (`libonnxruntime.so` on `LD_LIBRARY_PATH` / ldconfig).
//!
//! ONNX Runtime allows one environment per process, so it is created once
//! and kept in a [`LazyLock`] together with the outcome of the search; every
//! later call sees the same result (a failure is reported the same way each
//! time).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use ort::environment::Environment;
use ort::ep::ExecutionProvider;

use crate::MlError;

/// File name of the ONNX Runtime library on this platform.
#[cfg(target_os = "windows")]
const LIB_NAME: &str = "onnxruntime.dll";
/// File name of the ONNX Runtime library on this platform.
#[cfg(target_os = "macos")]
const LIB_NAME: &str = "libonnxruntime.dylib";
/// File name of the ONNX Runtime library on this platform.
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
const LIB_NAME: &str = "libonnxruntime.so";

/// Directory (relative to the workspace root) where the setup script installs
/// the library.
pub const LOCAL_INSTALL_DIR: &str = ".onnxruntime";

/// The started runtime: the process's one environment and where it came from.
pub(crate) struct Runtime {
    pub(crate) env: Environment,
    pub(crate) path: PathBuf,
}

static RUNTIME: LazyLock<Result<Runtime, MlError>> = LazyLock::new(start);

/// The process-wide runtime, started on first use.
pub(crate) fn runtime() -> Result<&'static Runtime, MlError> {
    RUNTIME.as_ref().map_err(Clone::clone)
}

/// Where the library will be looked for, in order (see the module docs).
pub fn library_candidates() -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(path)];
    }
    let mut out = Vec::new();
    // The source tree this crate was built from (crates/morph-ml/../..).
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    out.push(workspace.join(LOCAL_INSTALL_DIR).join(LIB_NAME));
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(4) {
            out.push(dir.join(LOCAL_INSTALL_DIR).join(LIB_NAME));
        }
    }
    out.push(PathBuf::from(LIB_NAME));
    out
}

fn start() -> Result<Runtime, MlError> {
    let candidates = library_candidates();
    let explicit = std::env::var_os("ORT_DYLIB_PATH").is_some_and(|p| !p.is_empty());
    let tried = candidates
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    // Pick the first candidate that exists as a file; a bare name (the
    // system loader) is tried last.
    let chosen = candidates
        .iter()
        .find(|p| p.is_file() || (!explicit && p.components().count() == 1))
        .cloned();
    let Some(path) = chosen else {
        return Err(MlError::RuntimeMissing {
            tried,
            detail: if explicit {
                "ORT_DYLIB_PATH names a file that does not exist".to_owned()
            } else {
                "no library file found".to_owned()
            },
        });
    };
    let builder = ort::init_from(&path).map_err(|e| translate_load_error(&e, &path, &tried))?;
    let env = builder
        .with_name("morph")
        .build()
        .map_err(|e| MlError::Runtime(e.to_string()))?;
    tracing::info!(path = %path.display(), "ONNX Runtime loaded");
    Ok(Runtime { env, path })
}

/// Turns ort's load error into one that says what is missing and the fix.
fn translate_load_error(e: &ort::LoadDynamicError, path: &Path, tried: &str) -> MlError {
    let text = e.to_string();
    if text.contains("OrtGetApiBase") {
        MlError::NotOnnxRuntime {
            path: path.to_owned(),
        }
    } else if let Some(found) = text.split("but got '").nth(1) {
        MlError::RuntimeTooOld {
            path: path.to_owned(),
            found: found.trim_end_matches('\'').to_owned(),
            needed_minor: ort::MINOR_VERSION,
        }
    } else {
        MlError::RuntimeMissing {
            tried: tried.to_owned(),
            detail: text,
        }
    }
}

/// Whether the loaded runtime offers the CUDA execution provider.
pub(crate) fn cuda_available() -> bool {
    ort::ep::CUDA::is_available().unwrap_or(false)
}

/// The version in a library's file name (`libonnxruntime.so.1.31.1`,
/// `libonnxruntime.1.31.1.dylib`), following symbolic links.
fn version_from_path(path: &Path) -> Option<String> {
    let real = std::fs::canonicalize(path).ok()?;
    let name = real.file_name()?.to_string_lossy().into_owned();
    let digits = name
        .split(['.', '-'])
        .skip_while(|part| part.parse::<u32>().is_err())
        .take_while(|part| part.parse::<u32>().is_ok())
        .collect::<Vec<_>>();
    (digits.len() >= 2).then(|| digits.join("."))
}

/// One line about the runtime for `morph-render devices` / `info`: the
/// library's path and build, and whether CUDA is offered. An error (with the
/// fix) when no usable library is found.
pub fn runtime_status() -> Result<String, MlError> {
    let rt = runtime()?;
    // ort has no public version call; the wheel's file name carries it
    // (libonnxruntime.so.1.31.1), else name the build's commit.
    let version = version_from_path(&rt.path).unwrap_or_else(|| {
        ort::info()
            .split(',')
            .find_map(|part| part.trim().strip_prefix("git-commit-id="))
            .map_or_else(
                || "(version unknown)".to_owned(),
                |c| format!("(commit {c})"),
            )
    });
    let cuda = if cuda_available() {
        "CUDA available"
    } else {
        "CPU only (this build has no CUDA execution provider)"
    };
    Ok(format!(
        "ONNX Runtime {version} at {}; {cuda}",
        rt.path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comes_from_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        for (name, want) in [
            ("libonnxruntime.so.1.31.1", Some("1.31.1")),
            ("libonnxruntime.1.24.0.dylib", Some("1.24.0")),
            ("libonnxruntime.so", None),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"").unwrap();
            assert_eq!(version_from_path(&path).as_deref(), want, "{name}");
        }
    }
}
