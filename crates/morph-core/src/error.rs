//! The error type of morph-core: who is at fault, in words a user can act on.

use std::fmt;

/// Result with the morph-core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the image model, parameter validation or a
/// CPU op.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A node attribute is outside its allowed range or inconsistent with
    /// another attribute.
    #[error("{attribute} = {value} is not allowed: {allowed}")]
    Parameter {
        /// The SPEC's attribute name, e.g. `samples`.
        attribute: &'static str,
        /// The offending value as given.
        value: String,
        /// The allowed range or rule, e.g. `an integer in 3..=25`.
        allowed: String,
    },
    /// An input or combination of inputs this build does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An image larger than [`crate::limits`] allows.
    #[error("{width}x{height} exceeds the size limit ({reason})")]
    Limits {
        /// Requested width in pixels.
        width: u64,
        /// Requested height in pixels.
        height: u64,
        /// Which limit was hit.
        reason: String,
    },
    /// A NaN or infinite sample where the op does not accept one.
    #[error("non-finite value {value} at pixel ({x}, {y}), channel {channel}")]
    NonFinite {
        /// Column, counted from the left of the data window.
        x: u32,
        /// Row, counted from the top of the data window.
        y: u32,
        /// Channel name (`R`, `G`, `B`, `A` or an extra channel's name).
        channel: String,
        /// The value found (NaN, inf or -inf).
        value: f32,
    },
    /// Two inputs that must match in size do not.
    #[error("size mismatch: {what} is {actual}, expected {expected}")]
    SizeMismatch {
        /// What was compared, e.g. `Back input`.
        what: String,
        /// Its size.
        actual: Size,
        /// The size it must have.
        expected: Size,
    },
}

impl Error {
    /// Shorthand for [`Error::Parameter`].
    pub fn parameter(
        attribute: &'static str,
        value: impl fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Error::Parameter {
            attribute,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// A width × height pair, printed as `WxH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}
