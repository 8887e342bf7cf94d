//! PNG: 8- and 16-bit grey, grey + alpha, RGB and RGBA (through the `image`
//! crate). Palette and 1/2/4-bit files read as 8-bit. Code values map
//! linearly to 0..1; no gamma or ICC profile is applied.

use std::path::Path;

use image::ImageEncoder;
use image::codecs::png::{PngDecoder, PngEncoder};
use morph_core::{Image, SampleFormat};

use super::{FileFormat, ImageInfo, catch_panics, raster, write_atomic};
use crate::error::Result;

fn decoder(path: &Path) -> Result<PngDecoder<std::io::BufReader<std::fs::File>>> {
    PngDecoder::new(raster::open(path)?).map_err(|e| raster::image_error(path, e, None))
}

/// Header facts without decoding pixels.
pub(crate) fn probe(path: &Path) -> Result<ImageInfo> {
    catch_panics(path, || {
        raster::info(path, FileFormat::Png, &decoder(path)?)
    })
}

/// Reads a PNG.
pub(crate) fn read(path: &Path) -> Result<Image> {
    catch_panics(path, || raster::decode(path, decoder(path)?))
}

/// Writes the image's base channels (Y, YA, RGB or RGBA) as 8- or 16-bit.
pub(crate) fn write(path: &Path, image: &Image, sample_format: SampleFormat) -> Result<()> {
    let (data, color) = raster::encode_samples(path, image, image.base, sample_format)?;
    write_atomic(path, |w| {
        PngEncoder::new(w)
            .write_image(&data, image.width(), image.height(), color)
            .map_err(|e| raster::image_error(path, e, None))
    })
}

#[cfg(test)]
mod tests {
    use morph_core::BaseChannels;

    use super::super::test_util::{assert_close, ramp};
    use super::super::{WriteOptions, probe, read_image, write_image};
    use super::*;
    use crate::IoError;

    /// CRC-32 (ISO-HDLC), as PNG chunks use.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn round_trips_every_layout_and_depth() {
        let dir = tempfile::tempdir().unwrap();
        for base in [
            BaseChannels::Y,
            BaseChannels::Ya,
            BaseChannels::Rgb,
            BaseChannels::Rgba,
        ] {
            for (format, max) in [(SampleFormat::U8, 255.0), (SampleFormat::U16, 65535.0)] {
                let path = dir.path().join(format!("{base:?}-{}.png", format.name()));
                let image = ramp(13, 9, base);
                let options = WriteOptions {
                    sample_format: Some(format),
                    ..WriteOptions::default()
                };
                write_image(&path, &image, &options).unwrap();
                let back = read_image(&path).unwrap();
                assert_eq!(back.base, base);
                assert_eq!(back.metadata.format, Some(format));
                assert_eq!(back.channel_names(), image.channel_names());
                // Rounding to the nearest code: half a step at most.
                assert_close(&back, &image, 0.5 / max + 1e-7);
                // Read values are exact code values.
                for px in back.pixels() {
                    for v in px {
                        assert_eq!((v * max).round(), v * max);
                    }
                }
                let info = probe(&path).unwrap();
                assert_eq!(info.sample_format, format);
                assert_eq!(info.channels, base.names());
            }
        }
    }

    #[test]
    fn values_are_clamped_and_defaults_follow_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clamp.png");
        let mut image = Image::from_pixels(
            3,
            1,
            vec![
                [-0.5, 1.5, 0.5, 1.0],
                [f32::INFINITY, f32::NEG_INFINITY, 0.0, 0.25],
                [0.0; 4],
            ],
        );
        image.metadata.format = Some(SampleFormat::U8);
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let back = read_image(&path).unwrap();
        assert_eq!(back.metadata.format, Some(SampleFormat::U8));
        assert_eq!(back.pixel(0, 0), [0.0, 1.0, 128.0 / 255.0, 1.0]);
        assert_eq!(back.pixel(1, 0), [1.0, 0.0, 0.0, 64.0 / 255.0]);

        // A float source becomes 16-bit.
        image.metadata.format = Some(SampleFormat::F16);
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        assert_eq!(
            read_image(&path).unwrap().metadata.format,
            Some(SampleFormat::U16)
        );
    }

    #[test]
    fn hostile_header_is_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.png");
        write_image(
            &path,
            &ramp(2, 2, BaseChannels::Rgba),
            &WriteOptions::default(),
        )
        .unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4), ...
        assert_eq!(&bytes[12..16], b"IHDR");
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        std::fs::write(&path, &bytes).unwrap();
        for err in [read_image(&path).unwrap_err(), probe(&path).unwrap_err()] {
            assert!(matches!(err, IoError::Limits { .. }), "{err:?}");
            assert!(err.to_string().contains("100000x100000"), "{err}");
        }
    }

    #[test]
    fn truncated_file_is_a_decode_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.png");
        write_image(
            &path,
            &ramp(64, 64, BaseChannels::Rgb),
            &WriteOptions::default(),
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for keep in [bytes.len() / 2, 40, 10] {
            std::fs::write(&path, &bytes[..keep]).unwrap();
            let err = read_image(&path).unwrap_err();
            assert!(matches!(err, IoError::Decode { .. }), "{keep}: {err:?}");
            assert!(err.to_string().contains("cut.png"), "{err}");
        }
    }
}
