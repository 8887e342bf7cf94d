//! The working image: f32 RGBA plus named extra channels, with windows and
//! metadata.
//!
//! Pixels cover the *data window* and run top-down, left to right (SPEC §1).
//! Windows use OpenEXR's convention: integer pixel coordinates, y growing
//! downwards, origin at the top-left of the display window.

use std::collections::BTreeMap;

use crate::error::{Error, Result, Size};
use crate::limits;

/// An integer pixel rectangle (`x`, `y` is its top-left pixel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left column.
    pub x: i32,
    /// Top row.
    pub y: i32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Rect {
    /// A rectangle at the origin.
    pub const fn from_size(width: u32, height: u32) -> Self {
        Rect {
            x: 0,
            y: 0,
            width,
            height,
        }
    }

    /// Inclusive right column.
    pub fn max_x(&self) -> i64 {
        self.x as i64 + self.width as i64 - 1
    }

    /// Inclusive bottom row.
    pub fn max_y(&self) -> i64 {
        self.y as i64 + self.height as i64 - 1
    }
}

impl std::fmt::Display for Rect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}, {})-({}, {})",
            self.x,
            self.y,
            self.max_x(),
            self.max_y()
        )
    }
}

/// Which of the four RGBA planes came from (and go back to) the file.
///
/// In memory every image is RGBA; a grey image has R = G = B, and an image
/// without alpha has A = 1. Writers use this to store the channels the source
/// had, so alpha is never dropped and never invented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BaseChannels {
    /// One luminance channel.
    Y,
    /// Luminance and alpha.
    Ya,
    /// Colour without alpha.
    Rgb,
    /// Colour and alpha.
    Rgba,
}

impl BaseChannels {
    /// Whether an alpha channel is present.
    pub fn has_alpha(self) -> bool {
        matches!(self, BaseChannels::Ya | BaseChannels::Rgba)
    }

    /// Number of stored channels.
    pub fn count(self) -> usize {
        match self {
            BaseChannels::Y => 1,
            BaseChannels::Ya => 2,
            BaseChannels::Rgb => 3,
            BaseChannels::Rgba => 4,
        }
    }

    /// Channel names as written to files (`Y`, `A` or `R`, `G`, `B`, `A`).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            BaseChannels::Y => &["Y"],
            BaseChannels::Ya => &["Y", "A"],
            BaseChannels::Rgb => &["R", "G", "B"],
            BaseChannels::Rgba => &["R", "G", "B", "A"],
        }
    }
}

/// How samples were (or will be) stored in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// 8-bit unsigned integer, 0..=255 maps to 0..=1.
    U8,
    /// 10-bit unsigned integer (DPX), 0..=1023 maps to 0..=1.
    U10,
    /// 16-bit unsigned integer, 0..=65535 maps to 0..=1.
    U16,
    /// 32-bit unsigned integer (EXR `UINT`), stored as its value.
    U32,
    /// IEEE half float.
    F16,
    /// IEEE single float.
    F32,
}

impl SampleFormat {
    /// Short name for `info` output.
    pub fn name(self) -> &'static str {
        match self {
            SampleFormat::U8 => "uint8",
            SampleFormat::U10 => "uint10",
            SampleFormat::U16 => "uint16",
            SampleFormat::U32 => "uint32",
            SampleFormat::F16 => "half",
            SampleFormat::F32 => "float",
        }
    }

    /// Whether the format stores values outside 0..=1.
    pub fn is_float(self) -> bool {
        matches!(self, SampleFormat::F16 | SampleFormat::F32)
    }
}

/// A named channel beyond RGBA (an EXR layer channel such as `forward.u` or
/// `Z`), stored as one plane over the data window.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraChannel {
    /// Full channel name, layer included (`diffuse.R`).
    pub name: String,
    /// How the file stored it, so a round trip keeps half as half.
    pub format: SampleFormat,
    /// `width × height` samples, top-down.
    pub data: Vec<f32>,
}

/// What a file said about itself beyond pixels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    /// Sample format of the RGBA planes in the source file, if read from one.
    pub format: Option<SampleFormat>,
    /// Compression of the source file (`zip`, `piz`, ...), if it had one.
    pub compression: Option<String>,
    /// Free-form attributes (EXR header attributes, PNG text chunks), kept as
    /// text so they survive a round trip through any format that has them.
    pub attributes: BTreeMap<String, String>,
}

/// An f32 RGBA image with extra channels, windows and metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    width: u32,
    height: u32,
    pixels: Vec<[f32; 4]>,
    /// The RGBA planes the source had.
    pub base: BaseChannels,
    /// Named channels beyond RGBA, each over the data window.
    pub extra: Vec<ExtraChannel>,
    /// Where the pixels lie (the image's own size and position).
    pub data_window: Rect,
    /// The frame the image belongs to; may differ from the data window
    /// (overscan, crops).
    pub display_window: Rect,
    /// Format and attributes carried from the source file.
    pub metadata: Metadata,
}

impl Image {
    /// A transparent black RGBA image with data = display window at the origin.
    ///
    /// # Panics
    /// If the size is over [`limits`]; use [`Image::try_new`] for sizes that
    /// come from outside.
    pub fn new(width: u32, height: u32) -> Self {
        Self::try_new(width, height).expect("image size within limits")
    }

    /// A transparent black RGBA image, or an error if the size is over the
    /// limits.
    pub fn try_new(width: u32, height: u32) -> Result<Self> {
        limits::check_size(width as u64, height as u64)?;
        Ok(Self::from_pixels(
            width,
            height,
            vec![[0.0; 4]; width as usize * height as usize],
        ))
    }

    /// An RGBA image over the given pixels (`width × height`, top-down).
    ///
    /// # Panics
    /// If `pixels.len() != width × height`.
    pub fn from_pixels(width: u32, height: u32, pixels: Vec<[f32; 4]>) -> Self {
        assert_eq!(
            pixels.len(),
            width as usize * height as usize,
            "pixel count must be width x height"
        );
        Image {
            width,
            height,
            pixels,
            base: BaseChannels::Rgba,
            extra: Vec::new(),
            data_window: Rect::from_size(width, height),
            display_window: Rect::from_size(width, height),
            metadata: Metadata::default(),
        }
    }

    /// Width of the data window.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height of the data window.
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

    /// RGBA pixels, top-down.
    pub fn pixels(&self) -> &[[f32; 4]] {
        &self.pixels
    }

    /// Mutable RGBA pixels, top-down.
    pub fn pixels_mut(&mut self) -> &mut [[f32; 4]] {
        &mut self.pixels
    }

    /// The RGBA pixels as a flat `[r, g, b, a, r, ...]` slice.
    pub fn as_flat(&self) -> &[f32] {
        self.pixels.as_flattened()
    }

    /// The RGBA pixels as a mutable flat slice.
    pub fn as_flat_mut(&mut self) -> &mut [f32] {
        self.pixels.as_flattened_mut()
    }

    /// Takes the pixel buffer out.
    pub fn into_pixels(self) -> Vec<[f32; 4]> {
        self.pixels
    }

    /// Pixel at column `x`, row `y` of the data window.
    pub fn pixel(&self, x: u32, y: u32) -> [f32; 4] {
        self.pixels[y as usize * self.width as usize + x as usize]
    }

    /// A new image with these pixels and everything else (windows, channels
    /// layout, metadata, extra channels) copied from `self`.
    ///
    /// # Panics
    /// If `pixels` is not `width × height` long.
    pub fn with_pixels(&self, pixels: Vec<[f32; 4]>) -> Image {
        assert_eq!(pixels.len(), self.pixels.len(), "same pixel count");
        Image {
            width: self.width,
            height: self.height,
            pixels,
            base: self.base,
            extra: self.extra.clone(),
            data_window: self.data_window,
            display_window: self.display_window,
            metadata: self.metadata.clone(),
        }
    }

    /// Finds the extra channel with this name.
    pub fn extra_channel(&self, name: &str) -> Option<&ExtraChannel> {
        self.extra.iter().find(|c| c.name == name)
    }

    /// Adds (or replaces) an extra channel.
    ///
    /// # Panics
    /// If `data` is not `width × height` long.
    pub fn set_extra_channel(&mut self, name: &str, format: SampleFormat, data: Vec<f32>) {
        assert_eq!(data.len(), self.pixels.len(), "extra channel size");
        let channel = ExtraChannel {
            name: name.to_owned(),
            format,
            data,
        };
        match self.extra.iter_mut().find(|c| c.name == name) {
            Some(existing) => *existing = channel,
            None => self.extra.push(channel),
        }
    }

    /// Names of every channel the image carries, base first.
    pub fn channel_names(&self) -> Vec<String> {
        self.base
            .names()
            .iter()
            .map(|s| (*s).to_owned())
            .chain(self.extra.iter().map(|c| c.name.clone()))
            .collect()
    }

    /// The first NaN or infinite sample, if any, as an [`Error::NonFinite`].
    ///
    /// Only the channels the image really has are looked at (a missing alpha
    /// is 1 in memory and cannot be non-finite).
    pub fn check_finite(&self) -> Result<()> {
        let names = ["R", "G", "B", "A"];
        for (i, px) in self.pixels.iter().enumerate() {
            for (c, v) in px.iter().enumerate() {
                if !v.is_finite() {
                    return Err(self.non_finite(i, names[c].to_owned(), *v));
                }
            }
        }
        for channel in &self.extra {
            if let Some(i) = channel.data.iter().position(|v| !v.is_finite()) {
                return Err(self.non_finite(i, channel.name.clone(), channel.data[i]));
            }
        }
        Ok(())
    }

    fn non_finite(&self, index: usize, channel: String, value: f32) -> Error {
        Error::NonFinite {
            x: (index % self.width as usize) as u32,
            y: (index / self.width as usize) as u32,
            channel,
            value,
        }
    }

    /// An error unless `other` has the same data-window size.
    pub fn check_same_size(&self, other: &Image, what: &str) -> Result<()> {
        if self.size() != other.size() {
            return Err(Error::SizeMismatch {
                what: what.to_owned(),
                actual: other.size(),
                expected: self.size(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_pixels_keeps_layout() {
        let mut img = Image::new(3, 2);
        img.base = BaseChannels::Rgb;
        img.display_window = Rect {
            x: -1,
            y: -1,
            width: 5,
            height: 4,
        };
        img.set_extra_channel("Z", SampleFormat::F32, vec![1.0; 6]);
        let out = img.with_pixels(vec![[0.5; 4]; 6]);
        assert_eq!(out.base, BaseChannels::Rgb);
        assert_eq!(out.display_window, img.display_window);
        assert_eq!(out.extra_channel("Z").unwrap().data, vec![1.0; 6]);
        assert_eq!(out.pixel(2, 1), [0.5; 4]);
    }

    #[test]
    fn check_finite_names_the_pixel() {
        let mut img = Image::new(4, 3);
        img.pixels_mut()[4 * 2 + 1][2] = f32::NAN;
        let err = img.check_finite().unwrap_err().to_string();
        assert!(err.contains("(1, 2)"), "{err}");
        assert!(err.contains("channel B"), "{err}");

        let mut img = Image::new(2, 2);
        img.set_extra_channel(
            "depth.Z",
            SampleFormat::F16,
            vec![0.0, 0.0, f32::INFINITY, 0.0],
        );
        let err = img.check_finite().unwrap_err().to_string();
        assert!(err.contains("depth.Z") && err.contains("(0, 1)"), "{err}");
    }

    #[test]
    fn size_mismatch_is_reported() {
        let a = Image::new(4, 4);
        let b = Image::new(4, 5);
        let err = a.check_same_size(&b, "Back input").unwrap_err().to_string();
        assert!(err.contains("Back input is 4x5, expected 4x4"), "{err}");
    }
}
