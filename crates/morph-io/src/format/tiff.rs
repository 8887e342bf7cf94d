//! TIFF: 8- and 16-bit integer and 32-bit float (through the `image` crate).
//!
//! Reads grey, grey + alpha, RGB, RGBA and CMYK (converted to RGB). The
//! `image` encoder has no grey + alpha and no grey float layout, so a YA image
//! is written as RGBA and a float Y image as float RGB (R = G = B); both read
//! back with the same values.

use std::path::Path;

use image::ImageEncoder;
use image::codecs::tiff::{TiffDecoder, TiffEncoder};
use morph_core::{BaseChannels, Image, SampleFormat};

use super::{FileFormat, ImageInfo, catch_panics, raster, write_atomic};
use crate::error::Result;

fn decoder(path: &Path) -> Result<TiffDecoder<std::io::BufReader<std::fs::File>>> {
    TiffDecoder::new(raster::open(path)?).map_err(|e| raster::image_error(path, e, None))
}

/// Header facts without decoding pixels.
pub(crate) fn probe(path: &Path) -> Result<ImageInfo> {
    catch_panics(path, || {
        raster::info(path, FileFormat::Tiff, &decoder(path)?)
    })
}

/// Reads a TIFF (the first image of the file).
pub(crate) fn read(path: &Path) -> Result<Image> {
    catch_panics(path, || raster::decode(path, decoder(path)?))
}

/// Writes 8-bit, 16-bit or float samples (see the module docs for YA).
pub(crate) fn write(path: &Path, image: &Image, sample_format: SampleFormat) -> Result<()> {
    let layout = match (image.base, sample_format) {
        (BaseChannels::Ya, _) => BaseChannels::Rgba,
        (BaseChannels::Y, SampleFormat::F32) => BaseChannels::Rgb,
        (base, _) => base,
    };
    let (data, color) = raster::encode_samples(path, image, layout, sample_format)?;
    write_atomic(path, |w| {
        TiffEncoder::new(w)
            .write_image(&data, image.width(), image.height(), color)
            .map_err(|e| raster::image_error(path, e, None))
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, ramp};
    use super::super::{WriteOptions, probe, read_image, write_image};
    use super::*;
    use crate::IoError;

    #[test]
    fn integer_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        for base in [BaseChannels::Y, BaseChannels::Rgb, BaseChannels::Rgba] {
            for (format, max) in [(SampleFormat::U8, 255.0), (SampleFormat::U16, 65535.0)] {
                let path = dir.path().join(format!("{base:?}-{}.tif", format.name()));
                let image = ramp(11, 7, base);
                let options = WriteOptions {
                    sample_format: Some(format),
                    ..WriteOptions::default()
                };
                write_image(&path, &image, &options).unwrap();
                let back = read_image(&path).unwrap();
                assert_eq!(back.base, base, "{path:?}");
                assert_eq!(back.metadata.format, Some(format));
                assert_close(&back, &image, 0.5 / max + 1e-7);
                assert_eq!(probe(&path).unwrap().sample_format, format);
            }
        }
    }

    #[test]
    fn grey_alpha_comes_back_as_rgba_with_the_same_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ya.tif");
        let image = ramp(5, 5, BaseChannels::Ya);
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let back = read_image(&path).unwrap();
        assert_eq!(back.base, BaseChannels::Rgba);
        assert_close(&back, &image, 0.0);
    }

    #[test]
    fn float_is_exact_outside_zero_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("float.tif");
        let mut image = morph_core::test_support::random_image(17, 5, 3, -4.0, 9.0);
        image.pixels_mut()[3] = [f32::INFINITY, -0.0, 1e-30, 65504.5];
        image.metadata.format = Some(SampleFormat::F16);
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let back = read_image(&path).unwrap();
        assert_eq!(back.metadata.format, Some(SampleFormat::F32));
        assert_eq!(back.base, BaseChannels::Rgba);
        assert_eq!(back.pixels(), image.pixels());

        let grey = ramp(4, 3, BaseChannels::Y);
        let options = WriteOptions {
            sample_format: Some(SampleFormat::F32),
            ..WriteOptions::default()
        };
        write_image(&path, &grey, &options).unwrap();
        let back = read_image(&path).unwrap();
        assert_eq!(back.base, BaseChannels::Rgb);
        assert_eq!(back.pixels(), grey.pixels());
    }

    #[test]
    fn hostile_header_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.tif");
        write_image(
            &path,
            &ramp(3, 3, BaseChannels::Rgb),
            &WriteOptions::default(),
        )
        .unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..2], b"II", "the encoder writes little-endian");
        // IFD entries ImageWidth (256) and ImageLength (257): tag, type
        // (3 = SHORT, 4 = LONG), count 1, value.
        for tag in [256u16, 257] {
            let at = (8..bytes.len() - 12)
                .find(|&i| {
                    bytes[i..i + 2] == tag.to_le_bytes()
                        && matches!(bytes[i + 2], 3 | 4)
                        && bytes[i + 3] == 0
                        && bytes[i + 4..i + 8] == 1u32.to_le_bytes()
                })
                .expect("size tag");
            if bytes[at + 2] == 3 {
                bytes[at + 8..at + 10].copy_from_slice(&60_000u16.to_le_bytes());
            } else {
                bytes[at + 8..at + 12].copy_from_slice(&60_000u32.to_le_bytes());
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        // The tiff crate already finds the strip sizes inconsistent with
        // the new size (Decode); either way nothing is allocated for it.
        for result in [read_image(&path).map(|_| ()), probe(&path).map(|_| ())] {
            let err = result.unwrap_err();
            assert!(
                matches!(err, IoError::Limits { .. } | IoError::Decode { .. }),
                "{err:?}"
            );
            assert!(err.to_string().contains("huge.tif"), "{err}");
        }
    }

    #[test]
    fn truncated_file_is_a_decode_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.tif");
        write_image(
            &path,
            &ramp(64, 64, BaseChannels::Rgb),
            &WriteOptions::default(),
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for keep in [bytes.len() - 100, 6] {
            std::fs::write(&path, &bytes[..keep]).unwrap();
            let err = read_image(&path).unwrap_err();
            assert!(matches!(err, IoError::Decode { .. }), "{keep}: {err:?}");
        }
    }
}
