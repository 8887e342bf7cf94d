//! morph-core: the plain, backend-neutral heart of morph.
//!
//! - [`Image`] — f32 RGBA pixels plus any number of named extra channels, with
//!   data and display windows and metadata that survive a file round trip;
//! - [`FlowField`] — dense motion vectors (+x right, +y down, in pixels);
//! - [`params`] — the SPEC's node attributes as typed `*Params`, each with a
//!   `validate` that names the attribute, the value and the allowed range;
//! - [`ops`] — the CPU (rayon) implementation of every op. It is the
//!   specification the GPU kernels in `morph-gpu` are tested against.
//!
//! Nothing here touches files or devices: `morph-io` reads and writes images,
//! `morph-gpu` runs the same ops as wgpu compute shaders.

pub mod error;
pub mod flow;
pub mod image;
pub mod limits;
pub mod ops;
pub mod params;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod timing;

pub use error::{Error, Result};
pub use flow::FlowField;
pub use image::{BaseChannels, ExtraChannel, Image, Metadata, Rect, SampleFormat};
