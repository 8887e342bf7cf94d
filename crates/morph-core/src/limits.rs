//! Size limits checked before any allocation, so a hostile or corrupt header
//! (say 100000×100000) is refused instead of exhausting memory.

use crate::error::{Error, Result};

/// Largest width or height accepted, in pixels (16K plates with room for
/// overscan).
pub const MAX_DIMENSION: u64 = 32_768;

/// Largest pixel count accepted: 2^28 pixels, 4 GiB as f32 RGBA.
pub const MAX_PIXELS: u64 = 1 << 28;

/// Checks `width × height` against [`MAX_DIMENSION`] and [`MAX_PIXELS`].
pub fn check_size(width: u64, height: u64) -> Result<()> {
    let reason = if width == 0 || height == 0 {
        Some("an image must be at least 1x1".to_owned())
    } else if width > MAX_DIMENSION || height > MAX_DIMENSION {
        Some(format!("each side at most {MAX_DIMENSION} pixels"))
    } else if width.saturating_mul(height) > MAX_PIXELS {
        Some(format!("at most {MAX_PIXELS} pixels in all"))
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::Limits {
            width,
            height,
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_hostile_sizes() {
        assert!(check_size(100_000, 100_000).is_err());
        assert!(check_size(0, 10).is_err());
        assert!(check_size(32_768, 32_768).is_err(), "2^30 pixels is over");
        assert!(check_size(16_384, 16_384).is_ok());
        assert!(check_size(1, 1).is_ok());
    }
}
