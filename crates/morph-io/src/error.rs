//! The error type of morph-io. Every variant names the file it is about.
//!
//! A variant that wraps another error prints it in its message and keeps it
//! in a `cause` field, not as [`std::error::Error::source`]: both would print
//! it twice in an error chain (`{:#}`: "x.png: Is a directory: Is a
//! directory").

use std::path::PathBuf;

/// Result with [`IoError`].
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// Errors reading, writing or finding image files and sequences.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The operating system refused (missing file, permissions, disk full).
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        cause: std::io::Error,
    },
    /// The file is not a valid image of its format (truncated, corrupt).
    #[error("{path}: {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A valid file this build cannot read or write (format, bit depth,
    /// channel layout, extension).
    #[error("{path}: unsupported: {message}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        message: String,
    },
    /// A header whose size is over the limits; refused before allocating.
    #[error("{path}: {cause}")]
    Limits {
        /// The file.
        path: PathBuf,
        /// The limit that was hit.
        cause: morph_core::Error,
    },
    /// A malformed sequence pattern or frame range.
    #[error("invalid {what} '{input}': {message}")]
    Syntax {
        /// `pattern` or `frame range`.
        what: &'static str,
        /// The text given.
        input: String,
        /// What is wrong, and what is expected.
        message: String,
    },
    /// A frame of a sequence that is not on disk (with `--missing error`).
    #[error("missing frame {frame}: {path} does not exist")]
    MissingFrame {
        /// Frame number.
        frame: i64,
        /// The path the pattern gives for it.
        path: PathBuf,
    },
    /// No frame of a sequence could be used: no file on disk matches the
    /// pattern, or none of the frames asked for exists (whatever the
    /// missing-frame policy).
    #[error("no frames of '{pattern}' in {dir}: {message}")]
    NoFrames {
        /// The pattern, as given.
        pattern: String,
        /// The directory that was searched.
        dir: PathBuf,
        /// What was looked for.
        message: String,
    },
    /// An output pattern that is a single file, asked to hold several frames.
    #[error(
        "output '{pattern}' is a single file but {frames} frames are to be written; \
         use a sequence pattern such as name.####.exr"
    )]
    SingleFileOutput {
        /// The output pattern, as given.
        pattern: String,
        /// How many frames were to be written.
        frames: usize,
    },
    /// A sequence whose frames do not all have the same size.
    #[error("{path}: frame is {actual}, but the sequence's first frame is {expected}")]
    SizeMismatch {
        /// The odd frame.
        path: PathBuf,
        /// Its size.
        actual: morph_core::error::Size,
        /// The first frame's size.
        expected: morph_core::error::Size,
    },
    /// The encoder refused the image or failed while writing it.
    #[error("{path}: could not encode: {message}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A NaN sample where the file format cannot store one (integer formats);
    /// refused rather than written as a made-up value. (Infinities are
    /// clamped like any value outside 0..1.)
    #[error("{path}: {cause}; integer formats cannot store it")]
    NonFinite {
        /// The file being written.
        path: PathBuf,
        /// The pixel, channel and value.
        cause: morph_core::Error,
    },
}

impl IoError {
    /// Shorthand for [`IoError::Io`].
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        IoError::Io {
            path: path.into(),
            cause,
        }
    }

    /// Shorthand for [`IoError::Decode`].
    pub fn decode(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        IoError::Decode {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`IoError::Encode`].
    pub fn encode(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        IoError::Encode {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`IoError::Limits`].
    pub fn limits(path: impl Into<PathBuf>, cause: morph_core::Error) -> Self {
        IoError::Limits {
            path: path.into(),
            cause,
        }
    }

    /// Shorthand for [`IoError::Unsupported`].
    pub fn unsupported(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        IoError::Unsupported {
            path: path.into(),
            message: message.into(),
        }
    }
}
