//! The on-disk engine cache (`ml_engine_cache`): ONNX Runtime's optimised
//! model, one file per model hash, execution provider, precision and input
//! size.
//!
//! The first session for a key runs the full graph optimiser with the input
//! size fixed (free-dimension overrides) and asks ONNX Runtime to write the
//! optimised graph (`SessionBuilder::with_optimized_model_path`) to a
//! temporary file, renamed into place once complete; later sessions load that
//! file with optimisation switched off. The optimised graph may hold
//! layout transforms specific to this CPU, so the cache is per machine.

use std::path::{Path, PathBuf};

/// FNV-1a, 64 bit: a stable content hash for cache keys (not cryptographic;
/// a collision only costs a wrong cache hit between two different models
/// of the same name, provider, precision and size).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The cache file for one key.
pub fn entry_path(
    dir: &Path,
    model_stem: &str,
    model_hash: u64,
    provider: &str,
    precision: &str,
    width: u32,
    height: u32,
) -> PathBuf {
    let stem: String = model_stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!(
        "{stem}-{model_hash:016x}-{provider}-{precision}-{width}x{height}.onnx"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_every_part() {
        let p = entry_path(
            Path::new("/c"),
            "my model",
            0xabc,
            "cpu",
            "fp16",
            1920,
            1088,
        );
        assert_eq!(
            p,
            PathBuf::from("/c/my_model-0000000000000abc-cpu-fp16-1920x1088.onnx")
        );
        assert_ne!(fnv1a64(b"a"), fnv1a64(b"b"));
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    }
}
