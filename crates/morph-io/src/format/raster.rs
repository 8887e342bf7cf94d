//! Shared code for the formats the `image` crate decodes and encodes (PNG,
//! TIFF, JPEG): header checks before allocation, conversion between the
//! decoder's interleaved bytes and [`Image`], and error translation.

use std::fs::File;
use std::io::{BufReader, ErrorKind};
use std::path::Path;

use image::error::ImageError;
use image::{ColorType, ExtendedColorType, ImageDecoder};
use morph_core::limits::{MAX_DIMENSION, MAX_PIXELS};
use morph_core::{BaseChannels, Image, Rect, SampleFormat};

use super::{FileFormat, ImageInfo, base_planes, check_size, image_from_interleaved, quantize};
use crate::error::{IoError, Result};

/// Opens a file for a decoder.
pub(crate) fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| IoError::io(path, e))
}

/// Decoder limits matching [`morph_core::limits`]: the decoder may allocate
/// the output of the largest accepted image (RGBA f32) twice over, no more.
fn decoder_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION as u32);
    limits.max_image_height = Some(MAX_DIMENSION as u32);
    limits.max_alloc = Some(MAX_PIXELS * 16 * 2);
    limits
}

/// The layout and sample format of a decoder's output colour type.
fn layout(path: &Path, color: ColorType) -> Result<(BaseChannels, SampleFormat)> {
    use BaseChannels::*;
    use SampleFormat::*;
    Ok(match color {
        ColorType::L8 => (Y, U8),
        ColorType::La8 => (Ya, U8),
        ColorType::Rgb8 => (Rgb, U8),
        ColorType::Rgba8 => (Rgba, U8),
        ColorType::L16 => (Y, U16),
        ColorType::La16 => (Ya, U16),
        ColorType::Rgb16 => (Rgb, U16),
        ColorType::Rgba16 => (Rgba, U16),
        ColorType::Rgb32F => (Rgb, F32),
        ColorType::Rgba32F => (Rgba, F32),
        other => {
            return Err(IoError::unsupported(path, format!("colour type {other:?}")));
        }
    })
}

/// The header facts of an opened decoder, after the size check.
pub(crate) fn info(
    path: &Path,
    format: FileFormat,
    decoder: &impl ImageDecoder,
) -> Result<ImageInfo> {
    let (width, height) = decoder.dimensions();
    check_size(path, width.into(), height.into())?;
    let (base, sample_format) = layout(path, decoder.color_type())?;
    let window = Rect::from_size(width, height);
    Ok(ImageInfo {
        format,
        width,
        height,
        channels: base.names().iter().map(|s| (*s).to_owned()).collect(),
        sample_format,
        data_window: window,
        display_window: window,
        compression: None,
        layers: Vec::new(),
    })
}

/// Decodes an opened decoder into an [`Image`]: the size is checked against
/// the limits before the pixel buffer is allocated.
pub(crate) fn decode(path: &Path, mut decoder: impl ImageDecoder) -> Result<Image> {
    let (width, height) = decoder.dimensions();
    check_size(path, width.into(), height.into())?;
    let (base, sample_format) = layout(path, decoder.color_type())?;
    let dims = Some((width, height));
    decoder
        .set_limits(decoder_limits())
        .map_err(|e| image_error(path, e, dims))?;
    let len = usize::try_from(decoder.total_bytes())
        .map_err(|_| IoError::decode(path, "image too large for this platform"))?;
    let mut buf = vec![0u8; len];
    decoder
        .read_image(&mut buf)
        .map_err(|e| image_error(path, e, dims))?;
    let mut image = match sample_format {
        SampleFormat::U8 => {
            image_from_interleaved(width, height, base, |i| f32::from(buf[i]) / 255.0)
        }
        SampleFormat::U16 => image_from_interleaved(width, height, base, |i| {
            f32::from(u16::from_ne_bytes([buf[2 * i], buf[2 * i + 1]])) / 65535.0
        }),
        _ => image_from_interleaved(width, height, base, |i| {
            let b = &buf[4 * i..4 * i + 4];
            f32::from_ne_bytes([b[0], b[1], b[2], b[3]])
        }),
    };
    image.metadata.format = Some(sample_format);
    Ok(image)
}

/// The interleaved bytes (native endian, as the `image` encoders take them)
/// of `layout`'s planes of `image` in `sample_format` (U8, U16 or F32), and
/// the matching colour type. Integer samples are clamped and rounded
/// ([`quantize`]); float samples are copied as they are.
pub(crate) fn encode_samples(
    path: &Path,
    image: &Image,
    layout: BaseChannels,
    sample_format: SampleFormat,
) -> Result<(Vec<u8>, ExtendedColorType)> {
    use BaseChannels::*;
    use ExtendedColorType as E;
    use SampleFormat::*;
    let color = match (layout, sample_format) {
        (Y, U8) => E::L8,
        (Ya, U8) => E::La8,
        (Rgb, U8) => E::Rgb8,
        (Rgba, U8) => E::Rgba8,
        (Y, U16) => E::L16,
        (Ya, U16) => E::La16,
        (Rgb, U16) => E::Rgb16,
        (Rgba, U16) => E::Rgba16,
        (Rgb, F32) => E::Rgb32F,
        (Rgba, F32) => E::Rgba32F,
        _ => {
            return Err(IoError::unsupported(
                path,
                format!("{layout:?} with {} samples", sample_format.name()),
            ));
        }
    };
    let planes = base_planes(layout);
    let bytes = match sample_format {
        U8 => quantize(path, image, planes, 255)?
            .into_iter()
            .map(|v| v as u8)
            .collect(),
        U16 => quantize(path, image, planes, 65535)?
            .into_iter()
            .flat_map(u16::to_ne_bytes)
            .collect(),
        _ => {
            let mut bytes = Vec::with_capacity(image.pixels().len() * planes.len() * 4);
            for px in image.pixels() {
                for &(plane, _) in planes {
                    bytes.extend_from_slice(&px[plane].to_ne_bytes());
                }
            }
            bytes
        }
    };
    Ok((bytes, color))
}

/// Translates an `image` error: truncated data and corrupt files are
/// [`IoError::Decode`], operating-system failures [`IoError::Io`], decoder
/// memory limits [`IoError::Limits`] (when the size is known).
pub(crate) fn image_error(path: &Path, error: ImageError, dims: Option<(u32, u32)>) -> IoError {
    match error {
        ImageError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => {
            IoError::decode(path, "truncated file (unexpected end of data)")
        }
        ImageError::IoError(e) => IoError::io(path, e),
        ImageError::Decoding(e) => IoError::decode(path, e.to_string()),
        ImageError::Unsupported(e) => IoError::unsupported(path, e.to_string()),
        ImageError::Limits(e) => match dims {
            Some((width, height)) => IoError::limits(
                path,
                morph_core::Error::Limits {
                    width: width.into(),
                    height: height.into(),
                    reason: e.to_string(),
                },
            ),
            None => IoError::decode(path, e.to_string()),
        },
        ImageError::Encoding(e) => IoError::encode(path, e.to_string()),
        ImageError::Parameter(e) => IoError::encode(path, e.to_string()),
    }
}
