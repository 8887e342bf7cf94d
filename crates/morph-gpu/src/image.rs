//! Images on the device.
//!
//! A [`GpuImage`] is the GPU twin of [`morph_core::Image`]: the RGBA pixels
//! as one storage buffer read in WGSL as `array<vec4<f32>>` (exactly the
//! layout of `Image::pixels()`: row-major, top-down, no row padding, so pixel
//! `(x, y)` is element `y * width + x` on both sides), and each extra channel
//! as its own `array<f32>` plane. Everything else about the image (windows,
//! channel names, metadata) stays on the host in an [`ImageHeader`] and is
//! put back on read-back.
//!
//! Storage buffers are used rather than textures so indexing equals the
//! CPU's and any size up to `max_storage_buffer_binding_size` works without
//! the 2D texture size limit or 256-byte row padding.

use std::sync::Arc;

use morph_core::{BaseChannels, Image, Metadata, Rect, SampleFormat};

use crate::pool::GpuBuffer;

/// Bytes per RGBA f32 pixel.
pub const RGBA_BYTES: u64 = 16;
/// Bytes per sample of an extra-channel plane.
pub const PLANE_BYTES: u64 = 4;

/// Everything about an [`Image`] except its samples.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageHeader {
    /// Width of the data window.
    pub width: u32,
    /// Height of the data window.
    pub height: u32,
    /// RGBA planes the source had.
    pub base: BaseChannels,
    /// Extra channels' names and file formats, in the image's order.
    pub extra: Vec<(String, SampleFormat)>,
    /// Data window.
    pub data_window: Rect,
    /// Display window.
    pub display_window: Rect,
    /// Metadata carried from the source.
    pub metadata: Metadata,
}

impl ImageHeader {
    /// The header of `image`.
    pub fn of(image: &Image) -> Self {
        ImageHeader {
            width: image.width(),
            height: image.height(),
            base: image.base,
            extra: image
                .extra
                .iter()
                .map(|c| (c.name.clone(), c.format))
                .collect(),
            data_window: image.data_window,
            display_window: image.display_window,
            metadata: image.metadata.clone(),
        }
    }

    /// A plain RGBA header of this size at the origin (no extra channels,
    /// no metadata), for intermediates that are not derived from an input.
    pub fn rgba(width: u32, height: u32) -> Self {
        ImageHeader {
            width,
            height,
            base: BaseChannels::Rgba,
            extra: Vec::new(),
            data_window: Rect::from_size(width, height),
            display_window: Rect::from_size(width, height),
            metadata: Metadata::default(),
        }
    }

    /// Pixels in the data window.
    pub fn pixel_count(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// Rebuilds an image from its samples.
    ///
    /// # Panics
    /// If the sample counts do not match the header (a broken invariant).
    pub fn to_image(&self, pixels: Vec<[f32; 4]>, planes: Vec<Vec<f32>>) -> Image {
        assert_eq!(
            planes.len(),
            self.extra.len(),
            "one plane per extra channel"
        );
        let mut image = Image::from_pixels(self.width, self.height, pixels);
        image.base = self.base;
        image.data_window = self.data_window;
        image.display_window = self.display_window;
        image.metadata = self.metadata.clone();
        for ((name, format), data) in self.extra.iter().zip(planes) {
            image.set_extra_channel(name, *format, data);
        }
        image
    }
}

/// An image whose samples live on the device.
///
/// Made by [`crate::Frame::upload`] or [`crate::Frame::alloc_like`], read by
/// [`crate::Frame::read`]. It may outlive the frame that made it and be used
/// by later frames (e.g. to keep an input on the device across frames).
#[derive(Clone, Debug)]
pub struct GpuImage {
    pub(crate) header: ImageHeader,
    pub(crate) rgba: Arc<GpuBuffer>,
    pub(crate) planes: Vec<Arc<GpuBuffer>>,
}

impl GpuImage {
    /// The host-side description.
    pub fn header(&self) -> &ImageHeader {
        &self.header
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.header.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.header.height
    }

    /// Pixels (= RGBA elements = samples per extra plane).
    pub fn pixel_count(&self) -> u64 {
        self.header.pixel_count()
    }

    /// The RGBA buffer (`array<vec4<f32>>`, `width × height` elements).
    pub fn rgba(&self) -> &Arc<GpuBuffer> {
        &self.rgba
    }

    /// Extra-channel planes (`array<f32>`, `width × height` samples each)
    /// with their names, in the header's order.
    pub fn planes(&self) -> impl ExactSizeIterator<Item = (&str, &Arc<GpuBuffer>)> {
        self.header
            .extra
            .iter()
            .zip(&self.planes)
            .map(|((name, _), b)| (name.as_str(), b))
    }

    /// Every buffer of the image, RGBA first, then the planes.
    pub fn buffers(&self) -> impl Iterator<Item = &Arc<GpuBuffer>> {
        std::iter::once(&self.rgba).chain(&self.planes)
    }
}
