//! Dense motion vectors, as their own type so they are never mistaken for
//! colour.

use crate::error::{Error, Result, Size};
use crate::limits;

/// A dense flow field: for each pixel, the offset in pixels to where it goes
/// in the other frame. +x right, +y down (SPEC §1). Files and EXR layers with
/// +v up are converted at the I/O boundary.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowField {
    width: u32,
    height: u32,
    vectors: Vec<[f32; 2]>,
}

impl FlowField {
    /// An all-zero field.
    ///
    /// # Panics
    /// If the size is over the limits.
    pub fn zeros(width: u32, height: u32) -> Self {
        limits::check_size(width as u64, height as u64).expect("flow size within limits");
        FlowField {
            width,
            height,
            vectors: vec![[0.0; 2]; width as usize * height as usize],
        }
    }

    /// A field over the given vectors, or an error if the count is wrong.
    pub fn from_vectors(width: u32, height: u32, vectors: Vec<[f32; 2]>) -> Result<Self> {
        limits::check_size(width as u64, height as u64)?;
        if vectors.len() != width as usize * height as usize {
            return Err(Error::Unsupported(format!(
                "flow field of {width}x{height} needs {} vectors, got {}",
                width as usize * height as usize,
                vectors.len()
            )));
        }
        Ok(FlowField {
            width,
            height,
            vectors,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Width and height.
    pub fn size(&self) -> Size {
        Size {
            width: self.width,
            height: self.height,
        }
    }

    /// The vectors, top-down.
    pub fn vectors(&self) -> &[[f32; 2]] {
        &self.vectors
    }

    /// The vectors, mutable.
    pub fn vectors_mut(&mut self) -> &mut [[f32; 2]] {
        &mut self.vectors
    }

    /// Vector at column `x`, row `y`.
    pub fn at(&self, x: u32, y: u32) -> [f32; 2] {
        self.vectors[y as usize * self.width as usize + x as usize]
    }
}
