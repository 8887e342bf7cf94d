//! morph-io: everything between morph and the file system.
//!
//! - [`sequence`] — frame-sequence patterns (`name.####.exr`, `name.%04d.exr`,
//!   `name.@@@.png`, `name.$F4.exr`, single files), frame ranges
//!   (`1001-1100`, `1001-1100x2`, `1,5,10-20`, negative frames), discovery of
//!   the frames on disk and the missing-frame policy;
//! - [`format`](mod@format) — reading and writing EXR, PNG, TIFF, JPEG (read) and DPX
//!   into [`morph_core::Image`], with header limits checked before any
//!   allocation and atomic writes (temp file + rename) so a failure never
//!   leaves a partial file;
//! - [`flow`] — motion vectors: Middlebury `.flo`, Nuke-style
//!   `forward.u/v`/`backward.u/v` EXR layers (+v up), and the Middlebury
//!   colour-wheel picture of a flow field.

pub mod error;
pub mod flow;
pub mod format;
pub mod sequence;

pub use error::{IoError, Result};
