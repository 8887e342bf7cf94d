//! Image file formats: reading files into [`morph_core::Image`] and writing
//! them back.
//!
//! | format | read | write | samples |
//! |---|---|---|---|
//! | EXR  | yes | yes | half, float, uint; any channels and layers; data/display windows |
//! | PNG  | yes | yes | 8/16-bit Y, YA, RGB, RGBA |
//! | TIFF | yes | yes | 8/16-bit and 32-bit float; YA is written as RGBA, float Y as RGB |
//! | JPEG | yes | no  | 8-bit Y or RGB (CMYK is converted to RGB) |
//! | DPX  | yes | yes | reads 8/10/12/16-bit Y, RGB, RGBA (both byte orders); writes 10-bit big-endian |
//!
//! Conventions (the same for every format):
//!
//! - **Integer samples** map code values linearly, `0..=max` to `0..=1`
//!   (`max` = 255, 1023, 4095 or 65535). Nothing is linearised: a log DPX plate
//!   reads as its code values. On write, values are clamped to `0..=1` and
//!   rounded to the nearest code; a NaN cannot be stored in an integer format
//!   and is refused with [`IoError::NonFinite`] naming the pixel.
//! - **Float formats** (EXR, float TIFF) keep every value: negatives, values
//!   above 1, NaN and infinities are written as they are.
//! - **Limits** are checked from the header before any pixel buffer is
//!   allocated ([`morph_core::limits`]); a hostile header gives
//!   [`IoError::Limits`].
//! - **Errors** name the file; a truncated, empty or corrupt file is
//!   [`IoError::Decode`], never a panic (panics inside the third-party
//!   decoders are caught and reported as `Decode` too).
//! - **Writes are atomic** ([`write_atomic`]): the file appears complete or
//!   not at all.
//! - Formats without windows or extra channels (everything but EXR) write the
//!   data window's pixels and drop the display window and extra channels, with
//!   a warning in the log.

mod atomic;
mod dpx;
mod exr;
mod exr_zip;
mod jpeg;
mod png;
mod raster;
mod tiff;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use morph_core::{BaseChannels, Image, Rect, SampleFormat};

pub use atomic::write_atomic;

use crate::error::{IoError, Result};

/// An image file format morph knows, chosen by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// OpenEXR (`.exr`).
    Exr,
    /// PNG (`.png`).
    Png,
    /// TIFF (`.tif`, `.tiff`).
    Tiff,
    /// JPEG (`.jpg`, `.jpeg`), read only.
    Jpeg,
    /// SMPTE 268M DPX (`.dpx`).
    Dpx,
}

impl FileFormat {
    /// Every format, in the order of [`FileFormat::extensions`] listings.
    pub const ALL: [FileFormat; 5] = [
        FileFormat::Exr,
        FileFormat::Png,
        FileFormat::Tiff,
        FileFormat::Jpeg,
        FileFormat::Dpx,
    ];

    /// The format of a file, from its extension (case-insensitive).
    ///
    /// An unknown or missing extension is [`IoError::Unsupported`], with the
    /// known extensions in the message.
    pub fn from_path(path: &Path) -> Result<FileFormat> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        Self::from_extension(ext).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL
                .iter()
                .flat_map(|f| f.extensions())
                .copied()
                .collect();
            let what = if ext.is_empty() {
                "no file extension".to_owned()
            } else {
                format!("unknown image extension '.{ext}'")
            };
            IoError::unsupported(path, format!("{what} (known: {})", known.join(", ")))
        })
    }

    /// The format for an extension without the dot (`exr`, `TIF`, ...).
    pub fn from_extension(ext: &str) -> Option<FileFormat> {
        let ext = ext.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.extensions().contains(&ext.as_str()))
    }

    /// The extensions (lower case, without the dot) that select this format.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileFormat::Exr => &["exr"],
            FileFormat::Png => &["png"],
            FileFormat::Tiff => &["tif", "tiff"],
            FileFormat::Jpeg => &["jpg", "jpeg"],
            FileFormat::Dpx => &["dpx"],
        }
    }

    /// Short upper-case name (`EXR`, `PNG`, `TIFF`, `JPEG`, `DPX`).
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Exr => "EXR",
            FileFormat::Png => "PNG",
            FileFormat::Tiff => "TIFF",
            FileFormat::Jpeg => "JPEG",
            FileFormat::Dpx => "DPX",
        }
    }

    /// Whether morph can write this format (all but JPEG).
    pub fn can_write(self) -> bool {
        !matches!(self, FileFormat::Jpeg)
    }

    /// The sample formats [`write_image`] can store in this format (empty for
    /// JPEG).
    pub fn writable_sample_formats(self) -> &'static [SampleFormat] {
        match self {
            FileFormat::Exr => &[SampleFormat::F16, SampleFormat::F32, SampleFormat::U32],
            FileFormat::Png => &[SampleFormat::U8, SampleFormat::U16],
            FileFormat::Tiff => &[SampleFormat::U8, SampleFormat::U16, SampleFormat::F32],
            FileFormat::Jpeg => &[],
            FileFormat::Dpx => &[SampleFormat::U10],
        }
    }

    /// The sample format [`write_image`] uses when [`WriteOptions::sample_format`]
    /// is `None`, given the format the image was read as (`source`, from
    /// `image.metadata.format`). The rule keeps precision without inflating
    /// files:
    ///
    /// - EXR: half, float and uint stay as they were; 8- and 10-bit sources
    ///   become half (exact enough to give back every code value), 16-bit
    ///   sources and images with no source format become float.
    /// - PNG: 8-bit sources stay 8-bit, everything else becomes 16-bit.
    /// - TIFF: 8- and 16-bit stay, 10-bit becomes 16-bit, float and unknown
    ///   sources become 32-bit float.
    /// - DPX: always 10-bit.
    ///
    /// Returns `None` for JPEG, which cannot be written.
    pub fn default_sample_format(self, source: Option<SampleFormat>) -> Option<SampleFormat> {
        use SampleFormat::*;
        Some(match self {
            FileFormat::Exr => match source {
                Some(F16) => F16,
                Some(U32) => U32,
                Some(U8 | U10) => F16,
                Some(U16 | F32) | None => F32,
            },
            FileFormat::Png => match source {
                Some(U8) => U8,
                _ => U16,
            },
            FileFormat::Tiff => match source {
                Some(U8) => U8,
                Some(U10 | U16) => U16,
                Some(F16 | F32 | U32) | None => F32,
            },
            FileFormat::Jpeg => return None,
            FileFormat::Dpx => U10,
        })
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a header says about an image, read without decoding or allocating
/// any pixels ([`probe`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageInfo {
    /// The file's format.
    pub format: FileFormat,
    /// Width of the data window (the size [`read_image`] returns).
    pub width: u32,
    /// Height of the data window.
    pub height: u32,
    /// Every channel in the file, with full layer names (`R`, `forward.u`):
    /// the colour channels first (R, G, B, A or Y, A), then the others in
    /// file order.
    pub channels: Vec<String>,
    /// Sample format of the colour channels (the widest of them, for an EXR
    /// whose RGBA channels differ).
    pub sample_format: SampleFormat,
    /// Where the pixels lie.
    pub data_window: Rect,
    /// The frame the image belongs to (equal to the data window except in
    /// EXR).
    pub display_window: Rect,
    /// Compression (EXR only: `zip`, `piz`, ...).
    pub compression: Option<String>,
    /// Layer names (the part before the last `.` of channel names, and EXR
    /// part names), in file order; the unnamed layer is not listed.
    pub layers: Vec<String>,
}

/// Reads the header of an image file: size, channels, sample format,
/// windows. No pixels are decoded; the size limits are checked, so a probe
/// that succeeds means the header is acceptable to [`read_image`].
pub fn probe(path: &Path) -> Result<ImageInfo> {
    let format = FileFormat::from_path(path)?;
    check_not_empty(path)?;
    let result = match format {
        FileFormat::Exr => exr::probe(path),
        FileFormat::Png => png::probe(path),
        FileFormat::Tiff => tiff::probe(path),
        FileFormat::Jpeg => jpeg::probe(path),
        FileFormat::Dpx => dpx::probe(path),
    };
    result.map_err(|e| add_format_hint(path, format, e))
}

/// Reads an image file into an f32 RGBA [`Image`] (plus extra channels for
/// EXR), with its windows and metadata; the format comes from the extension.
///
/// `metadata.format` is set to the file's sample format, `metadata.compression`
/// to an EXR's compression, and `metadata.attributes` to the header attributes
/// the format has (EXR attributes, DPX header fields).
pub fn read_image(path: &Path) -> Result<Image> {
    let format = FileFormat::from_path(path)?;
    check_not_empty(path)?;
    let result = match format {
        FileFormat::Exr => exr::read(path),
        FileFormat::Png => png::read(path),
        FileFormat::Tiff => tiff::read(path),
        FileFormat::Jpeg => jpeg::read(path),
        FileFormat::Dpx => dpx::read(path),
    };
    result.map_err(|e| add_format_hint(path, format, e))
}

/// How [`write_image`] stores an image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Sample format of the colour (RGBA / Y) channels. `None` picks
    /// [`FileFormat::default_sample_format`] from `image.metadata.format`.
    /// A format the file format cannot store is [`IoError::Unsupported`].
    /// EXR extra channels keep their own format.
    pub sample_format: Option<SampleFormat>,
    /// EXR compression (default ZIP, lossless).
    pub exr_compression: ExrCompression,
}

/// OpenEXR compression methods morph can write (and read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ExrCompression {
    /// No compression.
    None,
    /// Run-length encoding (lossless).
    Rle,
    /// Deflate, one scan line per block (lossless).
    Zips,
    /// Deflate, 16 scan lines per block (lossless); the default.
    #[default]
    Zip,
    /// Wavelet + Huffman (lossless), good for grainy images.
    Piz,
    /// Float rounded to 24 bits, then deflate (lossy for float channels,
    /// lossless for half and uint).
    Pxr24,
    /// Fixed-rate 4×4 blocks (lossy for half, float and uint stored as is).
    B44,
    /// B44 with flat areas stored smaller (lossy).
    B44a,
    /// DCT, 32 scan lines per block (lossy).
    Dwaa,
    /// DCT, 256 scan lines per block (lossy).
    Dwab,
}

impl ExrCompression {
    /// Every method, in the order of their names in help texts.
    pub const ALL: [ExrCompression; 10] = [
        ExrCompression::None,
        ExrCompression::Rle,
        ExrCompression::Zips,
        ExrCompression::Zip,
        ExrCompression::Piz,
        ExrCompression::Pxr24,
        ExrCompression::B44,
        ExrCompression::B44a,
        ExrCompression::Dwaa,
        ExrCompression::Dwab,
    ];

    /// The name used on the command line and in `metadata.compression`
    /// (`none`, `rle`, `zips`, `zip`, `piz`, `pxr24`, `b44`, `b44a`, `dwaa`,
    /// `dwab`).
    pub fn name(self) -> &'static str {
        match self {
            ExrCompression::None => "none",
            ExrCompression::Rle => "rle",
            ExrCompression::Zips => "zips",
            ExrCompression::Zip => "zip",
            ExrCompression::Piz => "piz",
            ExrCompression::Pxr24 => "pxr24",
            ExrCompression::B44 => "b44",
            ExrCompression::B44a => "b44a",
            ExrCompression::Dwaa => "dwaa",
            ExrCompression::Dwab => "dwab",
        }
    }

    /// Whether decoding gives back exactly the samples written (for every
    /// sample type).
    pub fn is_lossless(self) -> bool {
        matches!(
            self,
            ExrCompression::None
                | ExrCompression::Rle
                | ExrCompression::Zips
                | ExrCompression::Zip
                | ExrCompression::Piz
        )
    }
}

impl fmt::Display for ExrCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExrCompression {
    type Err = IoError;

    /// Parses a name from [`ExrCompression::name`] (case-insensitive;
    /// `uncompressed` is accepted for `none`).
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == "uncompressed" {
            return Ok(ExrCompression::None);
        }
        Self::ALL
            .into_iter()
            .find(|c| c.name() == lower)
            .ok_or_else(|| IoError::Syntax {
                what: "EXR compression",
                input: s.to_owned(),
                message: format!(
                    "expected one of {}",
                    Self::ALL.map(ExrCompression::name).join(", ")
                ),
            })
    }
}

/// Writes an image, atomically (see [`write_atomic`]); the format comes from
/// the extension. JPEG cannot be written ([`IoError::Unsupported`]).
///
/// What each format stores is described in the [module docs](self); the
/// sample format follows [`WriteOptions::sample_format`].
pub fn write_image(path: &Path, image: &Image, options: &WriteOptions) -> Result<()> {
    let format = FileFormat::from_path(path)?;
    if !format.can_write() {
        return Err(IoError::unsupported(
            path,
            format!(
                "writing {format} is not supported (it is lossy and 8-bit); write EXR, TIFF, PNG or DPX"
            ),
        ));
    }
    let sample_format = resolve_sample_format(path, format, image, options.sample_format)?;
    if format != FileFormat::Exr {
        warn_dropped(path, format, image);
    }
    match format {
        FileFormat::Exr => exr::write(path, image, sample_format, options.exr_compression),
        FileFormat::Png => png::write(path, image, sample_format),
        FileFormat::Tiff => tiff::write(path, image, sample_format),
        FileFormat::Dpx => dpx::write(path, image),
        FileFormat::Jpeg => unreachable!("JPEG is refused above"),
    }
}

/// The sample format to write: the requested one if the file format can
/// store it, else the format's default for the image's source format.
fn resolve_sample_format(
    path: &Path,
    format: FileFormat,
    image: &Image,
    requested: Option<SampleFormat>,
) -> Result<SampleFormat> {
    let allowed = format.writable_sample_formats();
    match requested {
        Some(sf) if allowed.contains(&sf) => Ok(sf),
        Some(sf) => Err(IoError::unsupported(
            path,
            format!(
                "{format} cannot store {} samples (it stores {})",
                sf.name(),
                allowed
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        None => Ok(format
            .default_sample_format(image.metadata.format)
            .expect("writable formats have a default")),
    }
}

/// Logs what a format without windows or extra channels leaves out.
fn warn_dropped(path: &Path, format: FileFormat, image: &Image) {
    if !image.extra.is_empty() {
        tracing::warn!(
            path = %path.display(),
            "{format} has no extra channels: {} not written",
            image.extra.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    if image.display_window != image.data_window {
        tracing::warn!(
            path = %path.display(),
            "{format} has no display window: writing the data window {} only (display window {})",
            image.data_window,
            image.display_window
        );
    }
}

/// An empty file is a clear [`IoError::Decode`] whatever the format; a
/// missing one is [`IoError::Io`].
fn check_not_empty(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| IoError::io(path, e))?;
    if meta.is_dir() {
        return Err(IoError::io(
            path,
            std::io::Error::other("is a directory, not an image file"),
        ));
    }
    if meta.len() == 0 {
        return Err(IoError::decode(path, "empty file (0 bytes)"));
    }
    Ok(())
}

/// The format a file's first bytes say it is, if it is one morph knows.
fn sniff(path: &Path) -> Option<FileFormat> {
    let mut magic = [0u8; 8];
    let mut file = File::open(path).ok()?;
    let mut n = 0;
    while n < magic.len() {
        match file.read(&mut magic[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let m = &magic[..n];
    if m.starts_with(&[0x76, 0x2f, 0x31, 0x01]) {
        Some(FileFormat::Exr)
    } else if m.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileFormat::Png)
    } else if m.starts_with(b"II*\0") || m.starts_with(b"MM\0*") {
        Some(FileFormat::Tiff)
    } else if m.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(FileFormat::Jpeg)
    } else if m.starts_with(b"SDPX") || m.starts_with(b"XPDS") {
        Some(FileFormat::Dpx)
    } else {
        None
    }
}

/// Adds "(the file is a PNG, not an EXR)" to a decode error when the
/// extension lies about the contents.
fn add_format_hint(path: &Path, format: FileFormat, error: IoError) -> IoError {
    match error {
        IoError::Decode { path: p, message } => match sniff(path) {
            Some(actual) if actual != format => IoError::Decode {
                path: p,
                message: format!(
                    "{message} (the file is a {actual} file, not {format}: wrong extension?)"
                ),
            },
            _ => IoError::Decode { path: p, message },
        },
        other => other,
    }
}

/// Checks a header's size against [`morph_core::limits`].
pub(crate) fn check_size(path: &Path, width: u64, height: u64) -> Result<()> {
    morph_core::limits::check_size(width, height).map_err(|e| IoError::limits(path, e))
}

/// Runs a third-party decoder (or encoder), turning a panic on hostile input
/// into [`IoError::Decode`]; errors returned by `f` pass through as they are.
pub(crate) fn catch_panics<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(IoError::decode(
                path,
                format!("the codec library panicked on this file: {message}"),
            ))
        }
    }
}

/// The RGBA planes (indices 0..4) a base layout stores, in file order, with
/// their channel names. A Y image is stored from its R plane.
pub(crate) fn base_planes(base: BaseChannels) -> &'static [(usize, &'static str)] {
    match base {
        BaseChannels::Y => &[(0, "Y")],
        BaseChannels::Ya => &[(0, "Y"), (3, "A")],
        BaseChannels::Rgb => &[(0, "R"), (1, "G"), (2, "B")],
        BaseChannels::Rgba => &[(0, "R"), (1, "G"), (2, "B"), (3, "A")],
    }
}

/// Builds an [`Image`] from interleaved samples of `base` layout (`Y`, `YA`,
/// `RGB` or `RGBA` order), each already converted to f32 by `sample`.
///
/// Grey is copied to R, G and B; a missing alpha is 1.
pub(crate) fn image_from_interleaved(
    width: u32,
    height: u32,
    base: BaseChannels,
    mut sample: impl FnMut(usize) -> f32,
) -> Image {
    let n = width as usize * height as usize;
    let nc = base.count();
    let mut pixels = Vec::with_capacity(n);
    for i in 0..n {
        let s = i * nc;
        let px = match base {
            BaseChannels::Y => {
                let y = sample(s);
                [y, y, y, 1.0]
            }
            BaseChannels::Ya => {
                let y = sample(s);
                [y, y, y, sample(s + 1)]
            }
            BaseChannels::Rgb => [sample(s), sample(s + 1), sample(s + 2), 1.0],
            BaseChannels::Rgba => [sample(s), sample(s + 1), sample(s + 2), sample(s + 3)],
        };
        pixels.push(px);
    }
    let mut image = Image::from_pixels(width, height, pixels);
    image.base = base;
    image
}

/// Quantises the samples of `planes` (see [`base_planes`]) of every pixel to
/// `0..=max`, interleaved: values are clamped to 0..1 and rounded to the
/// nearest code; a NaN is refused with [`IoError::NonFinite`].
pub(crate) fn quantize(
    path: &Path,
    image: &Image,
    planes: &[(usize, &'static str)],
    max: u32,
) -> Result<Vec<u16>> {
    debug_assert!(max <= u32::from(u16::MAX));
    let scale = max as f32;
    let mut out = Vec::with_capacity(image.pixels().len() * planes.len());
    for (i, px) in image.pixels().iter().enumerate() {
        for &(plane, name) in planes {
            let v = px[plane];
            if v.is_nan() {
                let w = image.width() as usize;
                return Err(IoError::NonFinite {
                    path: path.to_owned(),
                    cause: morph_core::Error::NonFinite {
                        x: (i % w) as u32,
                        y: (i / w) as u32,
                        channel: name.to_owned(),
                        value: v,
                    },
                });
            }
            out.push((v.clamp(0.0, 1.0) * scale).round() as u16);
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Shared helpers for the format tests.

    use morph_core::{BaseChannels, Image};

    /// An image with every layout-relevant value distinct: a ramp in R, G,
    /// B and A over `0..=1`, on a `width × height` grid.
    pub fn ramp(width: u32, height: u32, base: BaseChannels) -> Image {
        let n = (width * height) as f32;
        let pixels = (0..width * height)
            .map(|i| {
                let t = i as f32 / (n - 1.0).max(1.0);
                let grey = matches!(base, BaseChannels::Y | BaseChannels::Ya);
                let a = if base.has_alpha() { 1.0 - t } else { 1.0 };
                if grey {
                    [t, t, t, a]
                } else {
                    [t, (t * 7.0).fract(), 1.0 - (t * 3.0).fract(), a]
                }
            })
            .collect();
        let mut image = Image::from_pixels(width, height, pixels);
        image.base = base;
        image
    }

    /// Asserts every RGBA sample is within `tol`.
    #[track_caller]
    pub fn assert_close(actual: &Image, expected: &Image, tol: f32) {
        assert_eq!(actual.size(), expected.size(), "size");
        let mut worst = (0.0f32, 0usize, 0usize);
        for (i, (a, e)) in actual.pixels().iter().zip(expected.pixels()).enumerate() {
            for c in 0..4 {
                let d = (a[c] - e[c]).abs();
                if d > worst.0 || d.is_nan() {
                    worst = (if d.is_nan() { f32::INFINITY } else { d }, i, c);
                }
            }
        }
        assert!(
            worst.0 <= tol,
            "worst difference {} > {tol} at pixel {} channel {}: {:?} vs {:?}",
            worst.0,
            worst.1,
            worst.2,
            actual.pixels()[worst.1],
            expected.pixels()[worst.1]
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::test_util::ramp;
    use super::*;

    #[test]
    fn formats_from_extensions() {
        let f = |p: &str| FileFormat::from_path(Path::new(p));
        assert_eq!(f("a.exr").unwrap(), FileFormat::Exr);
        assert_eq!(f("dir.v2/A.0001.EXR").unwrap(), FileFormat::Exr);
        assert_eq!(f("a.tif").unwrap(), FileFormat::Tiff);
        assert_eq!(f("a.TIFF").unwrap(), FileFormat::Tiff);
        assert_eq!(f("a.jpeg").unwrap(), FileFormat::Jpeg);
        assert_eq!(f("a.jpg").unwrap(), FileFormat::Jpeg);
        assert_eq!(f("a.png").unwrap(), FileFormat::Png);
        assert_eq!(f("a.dpx").unwrap(), FileFormat::Dpx);
        let err = f("shot.bmp").unwrap_err().to_string();
        assert!(err.contains("shot.bmp") && err.contains("'.bmp'"), "{err}");
        assert!(err.contains("exr, png"), "{err}");
        let err = f("noext").unwrap_err().to_string();
        assert!(
            err.contains("noext: unsupported: no file extension"),
            "{err}"
        );
        assert!(FileFormat::Dpx.can_write() && !FileFormat::Jpeg.can_write());
        assert_eq!(FileFormat::Tiff.to_string(), "TIFF");
    }

    #[test]
    fn exr_compression_parses() {
        for c in ExrCompression::ALL {
            assert_eq!(c.name().parse::<ExrCompression>().unwrap(), c);
            assert_eq!(
                c.to_string()
                    .to_uppercase()
                    .parse::<ExrCompression>()
                    .unwrap(),
                c
            );
        }
        assert_eq!(
            "uncompressed".parse::<ExrCompression>().unwrap(),
            ExrCompression::None
        );
        let err = "zip9".parse::<ExrCompression>().unwrap_err().to_string();
        assert!(err.contains("'zip9'") && err.contains("piz"), "{err}");
        assert_eq!(WriteOptions::default().exr_compression, ExrCompression::Zip);
        assert_eq!(WriteOptions::default().sample_format, None);
    }

    #[test]
    fn default_sample_formats() {
        use SampleFormat::*;
        let d = FileFormat::default_sample_format;
        assert_eq!(d(FileFormat::Exr, Some(F16)), Some(F16));
        assert_eq!(d(FileFormat::Exr, Some(U8)), Some(F16));
        assert_eq!(d(FileFormat::Exr, Some(U16)), Some(F32));
        assert_eq!(d(FileFormat::Exr, None), Some(F32));
        assert_eq!(d(FileFormat::Png, Some(U8)), Some(U8));
        assert_eq!(d(FileFormat::Png, Some(F32)), Some(U16));
        assert_eq!(d(FileFormat::Tiff, Some(U10)), Some(U16));
        assert_eq!(d(FileFormat::Tiff, Some(F16)), Some(F32));
        assert_eq!(d(FileFormat::Dpx, Some(F32)), Some(U10));
        assert_eq!(d(FileFormat::Jpeg, Some(U8)), None);
        for f in FileFormat::ALL.into_iter().filter(|f| f.can_write()) {
            for s in [U8, U10, U16, U32, F16, F32] {
                let chosen = f.default_sample_format(Some(s)).unwrap();
                assert!(f.writable_sample_formats().contains(&chosen), "{f} {s:?}");
            }
        }
    }

    #[test]
    fn empty_missing_and_unknown_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        for ext in ["exr", "png", "tif", "jpg", "dpx"] {
            let path = dir.path().join(format!("empty.{ext}"));
            std::fs::write(&path, b"").unwrap();
            let err = read_image(&path).unwrap_err();
            assert!(matches!(err, IoError::Decode { .. }), "{ext}: {err}");
            assert!(err.to_string().contains("empty file"), "{err}");
            assert!(matches!(probe(&path), Err(IoError::Decode { .. })));

            let path = dir.path().join(format!("missing.{ext}"));
            let err = read_image(&path).unwrap_err();
            assert!(matches!(err, IoError::Io { .. }), "{ext}: {err}");
            assert!(err.to_string().contains("missing."), "{err}");
        }
        let path = dir.path().join("picture.gif");
        std::fs::write(&path, b"GIF89a").unwrap();
        assert!(matches!(
            read_image(&path),
            Err(IoError::Unsupported { .. })
        ));
    }

    #[test]
    fn garbage_is_a_decode_error_for_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for ext in ["exr", "png", "tif", "jpg", "dpx"] {
            let path = dir.path().join(format!("garbage.{ext}"));
            std::fs::write(&path, &garbage).unwrap();
            let err = read_image(&path).unwrap_err();
            assert!(matches!(err, IoError::Decode { .. }), "{ext}: {err:?}");
            assert!(err.to_string().contains("garbage."), "{err}");
            assert!(probe(&path).is_err(), "{ext}");
        }
    }

    #[test]
    fn wrong_extension_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("a.png");
        write_image(
            &png,
            &ramp(4, 4, BaseChannels::Rgb),
            &WriteOptions::default(),
        )
        .unwrap();
        let exr: PathBuf = dir.path().join("a.exr");
        std::fs::copy(&png, &exr).unwrap();
        let err = read_image(&exr).unwrap_err().to_string();
        assert!(err.contains("is a PNG file, not EXR"), "{err}");
    }

    #[test]
    fn jpeg_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jpg");
        let err = write_image(
            &path,
            &ramp(2, 2, BaseChannels::Rgb),
            &WriteOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, IoError::Unsupported { .. }), "{err}");
        assert!(
            err.to_string().contains("writing JPEG is not supported"),
            "{err}"
        );
        assert!(!path.exists());
    }

    #[test]
    fn unsupported_sample_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        let options = WriteOptions {
            sample_format: Some(SampleFormat::F32),
            ..WriteOptions::default()
        };
        let err = write_image(&path, &ramp(2, 2, BaseChannels::Rgb), &options).unwrap_err();
        assert!(
            err.to_string().contains("PNG cannot store float samples"),
            "{err}"
        );
        assert!(!path.exists());
    }

    #[test]
    fn nan_in_an_integer_format_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut image = ramp(5, 4, BaseChannels::Rgba);
        image.pixels_mut()[5 * 3 + 2][1] = f32::NAN;
        // An 8-bit source: every format writes integers (float TIFF would
        // store the NaN as it is).
        image.metadata.format = Some(SampleFormat::U8);
        for ext in ["png", "tif", "dpx"] {
            let path = dir.path().join(format!("nan.{ext}"));
            let Err(err) = write_image(&path, &image, &WriteOptions::default()) else {
                panic!("{ext}: a NaN was written");
            };
            assert!(matches!(err, IoError::NonFinite { .. }), "{ext}: {err}");
            let text = err.to_string();
            assert!(
                text.contains("(2, 3)") && text.contains("channel G"),
                "{text}"
            );
            assert!(!path.exists(), "{ext}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temp files"
        );
    }

    #[test]
    fn probe_agrees_with_read() {
        let dir = tempfile::tempdir().unwrap();
        for ext in ["exr", "png", "tif", "dpx"] {
            let path = dir.path().join(format!("p.{ext}"));
            let image = ramp(7, 3, BaseChannels::Rgb);
            write_image(&path, &image, &WriteOptions::default()).unwrap();
            let info = probe(&path).unwrap();
            let read = read_image(&path).unwrap();
            assert_eq!(info.format.extensions()[0], ext);
            assert_eq!((info.width, info.height), (7, 3));
            assert_eq!(info.channels, read.channel_names(), "{ext}");
            assert_eq!(Some(info.sample_format), read.metadata.format, "{ext}");
            assert_eq!(info.data_window, read.data_window);
            assert_eq!(info.display_window, read.display_window);
            assert_eq!(info.compression, read.metadata.compression);
        }
    }
}
