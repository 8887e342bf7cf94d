//! JPEG, read only (through the `image` crate): 8-bit grey or RGB; CMYK and
//! YCCK files are converted to RGB. Writing JPEG is refused by
//! [`super::write_image`]: it is lossy and 8-bit, wrong for plates and renders.

use std::path::Path;

use image::codecs::jpeg::JpegDecoder;
use morph_core::Image;

use super::{FileFormat, ImageInfo, catch_panics, raster};
use crate::error::Result;

fn decoder(path: &Path) -> Result<JpegDecoder<std::io::BufReader<std::fs::File>>> {
    JpegDecoder::new(raster::open(path)?).map_err(|e| raster::image_error(path, e, None))
}

/// Header facts without decoding pixels.
pub(crate) fn probe(path: &Path) -> Result<ImageInfo> {
    catch_panics(path, || {
        raster::info(path, FileFormat::Jpeg, &decoder(path)?)
    })
}

/// Reads a JPEG.
pub(crate) fn read(path: &Path) -> Result<Image> {
    catch_panics(path, || raster::decode(path, decoder(path)?))
}

#[cfg(test)]
mod tests {
    use image::ImageEncoder;
    use image::codecs::jpeg::JpegEncoder;
    use morph_core::{BaseChannels, SampleFormat};

    use super::super::test_util::{assert_close, ramp};
    use super::super::{probe, read_image};
    use super::*;
    use crate::IoError;

    fn write_jpeg(path: &Path, rgb: &[u8], w: u32, h: u32, color: image::ExtendedColorType) {
        let file = std::fs::File::create(path).unwrap();
        JpegEncoder::new_with_quality(file, 100)
            .write_image(rgb, w, h, color)
            .unwrap();
    }

    #[test]
    fn reads_rgb_and_grey() {
        let dir = tempfile::tempdir().unwrap();
        let image = ramp(32, 16, BaseChannels::Rgb);
        // A smooth image: quantise to 8-bit and encode at quality 100.
        let grey = ramp(32, 16, BaseChannels::Y);
        for (name, source, color, base) in [
            (
                "rgb.jpg",
                &image,
                image::ExtendedColorType::Rgb8,
                BaseChannels::Rgb,
            ),
            (
                "grey.jpeg",
                &grey,
                image::ExtendedColorType::L8,
                BaseChannels::Y,
            ),
        ] {
            let planes = super::super::base_planes(base);
            let bytes: Vec<u8> = super::super::quantize(Path::new(name), source, planes, 255)
                .unwrap()
                .into_iter()
                .map(|v| v as u8)
                .collect();
            let path = dir.path().join(name);
            write_jpeg(&path, &bytes, 32, 16, color);
            let back = read_image(&path).unwrap();
            assert_eq!(back.base, base);
            assert_eq!(back.metadata.format, Some(SampleFormat::U8));
            assert_eq!(back.size(), source.size());
            if base == BaseChannels::Y {
                // Lossy, but close on a smooth ramp at quality 100.
                assert_close(&back, source, 6.0 / 255.0);
            }
            let info = probe(&path).unwrap();
            assert_eq!(info.format, FileFormat::Jpeg);
            assert_eq!(info.channels, base.names());
        }
    }

    #[test]
    fn truncated_file_is_a_decode_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.jpg");
        write_jpeg(
            &path,
            &[128u8; 3 * 64 * 64],
            64,
            64,
            image::ExtendedColorType::Rgb8,
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..20]).unwrap();
        let err = read_image(&path).unwrap_err();
        assert!(matches!(err, IoError::Decode { .. }), "{err:?}");
    }
}
