//! Motion-vector files: Middlebury `.flo`, Nuke-style vector layers in EXR,
//! and the Middlebury colour-wheel picture of a flow field.
//!
//! Conventions (SPEC §1): in memory ([`FlowField`]) and in `.flo` files
//! vectors are in pixels, +x right, +y down. In EXR they are the extra
//! channels `forward.u`, `forward.v` (offset to the next frame) and
//! `backward.u`, `backward.v` (offset to the previous frame), 32-bit float,
//! with **+v up** as Nuke expects (`v = −y`), unless `y_down` is asked for.
//! The conversion happens here and nowhere else.
//!
//! `.flo` layout (Baker et al., "A Database and Evaluation Methodology for
//! Optical Flow", IJCV 2011): the magic `202021.25` as a little-endian f32,
//! width and height as little-endian i32, then `width × height` interleaved
//! `(u, v)` f32 pairs, rows top-down. The header's size is checked against
//! [`morph_core::limits`] before anything is allocated; a short file is
//! [`IoError::Decode`] naming the file. Writes are atomic ([`write_atomic`]).

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use morph_core::{FlowField, Image, SampleFormat};

use crate::error::{IoError, Result};
use crate::format::write_atomic;

/// The first four bytes of a `.flo` file, as a little-endian f32 (the bytes
/// spell `PIEH`).
pub const FLO_MAGIC: f32 = 202_021.25;

/// Length of the `.flo` header: magic, width, height.
const FLO_HEADER: usize = 12;

/// EXR channel names of the forward vectors.
pub const FORWARD_CHANNELS: [&str; 2] = ["forward.u", "forward.v"];

/// EXR channel names of the backward vectors.
pub const BACKWARD_CHANNELS: [&str; 2] = ["backward.u", "backward.v"];

/// Writes `field` to `path` as a Middlebury `.flo` file, atomically.
///
/// # Errors
/// [`IoError::Io`] if the file cannot be written.
pub fn write_flo(path: &Path, field: &FlowField) -> Result<()> {
    write_atomic(path, |w| {
        let io = |e| IoError::io(path, e);
        let mut header = [0u8; FLO_HEADER];
        header[0..4].copy_from_slice(&FLO_MAGIC.to_le_bytes());
        // Sizes are within `limits::MAX_DIMENSION`, far below i32::MAX.
        header[4..8].copy_from_slice(&(field.width() as i32).to_le_bytes());
        header[8..12].copy_from_slice(&(field.height() as i32).to_le_bytes());
        w.write_all(&header).map_err(io)?;
        let mut row = Vec::with_capacity(field.width() as usize * 8);
        for line in field.vectors().chunks(field.width() as usize) {
            row.clear();
            for [u, v] in line {
                row.extend_from_slice(&u.to_le_bytes());
                row.extend_from_slice(&v.to_le_bytes());
            }
            w.write_all(&row).map_err(io)?;
        }
        Ok(())
    })
}

/// Reads a Middlebury `.flo` file.
///
/// # Errors
/// [`IoError::Io`] if it cannot be opened; [`IoError::Decode`] for a wrong
/// magic number, a negative size, a file shorter or longer than its header
/// says; [`IoError::Limits`] for a size over the limits.
pub fn read_flo(path: &Path) -> Result<FlowField> {
    let io = |e| IoError::io(path, e);
    let mut file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut header = [0u8; FLO_HEADER];
    if file_len < FLO_HEADER as u64 {
        return Err(IoError::decode(
            path,
            format!("truncated .flo file: {file_len} bytes, the header alone is {FLO_HEADER}"),
        ));
    }
    file.read_exact(&mut header).map_err(io)?;
    let word = |i: usize| [header[i], header[i + 1], header[i + 2], header[i + 3]];
    let magic = f32::from_le_bytes(word(0));
    if magic != FLO_MAGIC {
        return Err(IoError::decode(
            path,
            format!("not a .flo file: magic number {magic}, expected {FLO_MAGIC}"),
        ));
    }
    let (width, height) = (i32::from_le_bytes(word(4)), i32::from_le_bytes(word(8)));
    if width <= 0 || height <= 0 {
        return Err(IoError::decode(
            path,
            format!("invalid .flo size {width}x{height}"),
        ));
    }
    let (width, height) = (width as u32, height as u32);
    morph_core::limits::check_size(width.into(), height.into())
        .map_err(|e| IoError::limits(path, e))?;
    let count = width as usize * height as usize;
    let expected = FLO_HEADER as u64 + count as u64 * 8;
    if file_len != expected {
        let what = if file_len < expected {
            "truncated"
        } else {
            "trailing data in"
        };
        return Err(IoError::decode(
            path,
            format!(
                "{what} .flo file: {file_len} bytes, a {width}x{height} field takes {expected}"
            ),
        ));
    }
    let mut bytes = vec![0u8; count * 8];
    file.read_exact(&mut bytes).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            IoError::decode(path, "truncated .flo file")
        } else {
            io(e)
        }
    })?;
    let vectors = bytes
        .chunks_exact(8)
        .map(|c| {
            [
                f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                f32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            ]
        })
        .collect();
    FlowField::from_vectors(width, height, vectors).map_err(|e| IoError::limits(path, e))
}

/// Vectors read back from an EXR: forward always, backward if the file has
/// both `backward.u` and `backward.v`.
#[derive(Clone, Debug, PartialEq)]
pub struct Vectors {
    /// `forward.u/v`, +y down.
    pub forward: FlowField,
    /// `backward.u/v`, +y down.
    pub backward: Option<FlowField>,
}

/// An image carrying `colour`'s channels (RGBA, windows, extra layers) plus
/// the vector layers `forward.u/v` and, if given, `backward.u/v`, as 32-bit
/// float, ready for [`crate::format::write_image`] to an EXR.
///
/// `v` is written +up (`v = −y`, Nuke) unless `y_down`.
///
/// # Errors
/// [`morph_core::Error::SizeMismatch`] when a field is not the colour
/// image's size.
pub fn vectors_image(
    colour: &Image,
    forward: &FlowField,
    backward: Option<&FlowField>,
    y_down: bool,
) -> morph_core::Result<Image> {
    let mut image = colour.clone();
    let sign = if y_down { 1.0 } else { -1.0 };
    let layers = std::iter::once((FORWARD_CHANNELS, forward))
        .chain(backward.map(|b| (BACKWARD_CHANNELS, b)));
    for ([u_name, v_name], field) in layers {
        if field.size() != colour.size() {
            return Err(morph_core::Error::SizeMismatch {
                what: format!("vector layer {u_name}"),
                expected: colour.size(),
                actual: field.size(),
            });
        }
        let u = field.vectors().iter().map(|v| v[0]).collect();
        let v = field.vectors().iter().map(|v| sign * v[1]).collect();
        image.set_extra_channel(u_name, SampleFormat::F32, u);
        image.set_extra_channel(v_name, SampleFormat::F32, v);
    }
    Ok(image)
}

/// The vector layers of an image read from an EXR (see [`vectors_image`]),
/// converted to +y down; `y_down` says the file's `v` already points down.
/// `path` only names the file in errors.
///
/// # Errors
/// [`IoError::Decode`] when `forward.u` or `forward.v` is missing.
pub fn vectors_from_image(path: &Path, image: &Image, y_down: bool) -> Result<Vectors> {
    let sign = if y_down { 1.0 } else { -1.0 };
    let layer = |[u_name, v_name]: [&str; 2]| -> Option<FlowField> {
        let u = image.extra_channel(u_name)?;
        let v = image.extra_channel(v_name)?;
        let vectors = u
            .data
            .iter()
            .zip(&v.data)
            .map(|(&u, &v)| [u, sign * v])
            .collect();
        FlowField::from_vectors(image.width(), image.height(), vectors).ok()
    };
    let forward = layer(FORWARD_CHANNELS).ok_or_else(|| {
        IoError::decode(
            path,
            format!(
                "no motion vectors: expected channels forward.u and forward.v, found {}",
                image.channel_names().join(", ")
            ),
        )
    })?;
    Ok(Vectors {
        forward,
        backward: layer(BACKWARD_CHANNELS),
    })
}

/// Reads the vector layers of an EXR file (see [`vectors_from_image`]).
///
/// # Errors
/// Those of [`crate::format::read_image`] and [`vectors_from_image`].
pub fn read_vectors_exr(path: &Path, y_down: bool) -> Result<Vectors> {
    let image = crate::format::read_image(path)?;
    vectors_from_image(path, &image, y_down)
}

/// Hue segment lengths of the Middlebury colour wheel: red–yellow,
/// yellow–green, green–cyan, cyan–blue, blue–magenta, magenta–red.
const WHEEL_SEGMENTS: [usize; 6] = [15, 6, 4, 11, 13, 6];

/// The 55 colours of the Middlebury wheel, 0..=1 (`makeColorWheel` of the
/// Middlebury `flowIO`/`colorcode.cpp`).
fn colour_wheel() -> Vec<[f32; 3]> {
    let mut wheel = Vec::with_capacity(WHEEL_SEGMENTS.iter().sum());
    // Each segment ramps one channel while the other two stay put.
    let ramps: [([f32; 3], usize, bool); 6] = [
        ([1.0, 0.0, 0.0], 1, true),  // red → yellow: green up
        ([1.0, 1.0, 0.0], 0, false), // yellow → green: red down
        ([0.0, 1.0, 0.0], 2, true),  // green → cyan: blue up
        ([0.0, 1.0, 1.0], 1, false), // cyan → blue: green down
        ([0.0, 0.0, 1.0], 0, true),  // blue → magenta: red up
        ([1.0, 0.0, 1.0], 2, false), // magenta → red: blue down
    ];
    for (&n, (start, channel, up)) in WHEEL_SEGMENTS.iter().zip(ramps) {
        for i in 0..n {
            let mut c = start;
            let t = (255 * i / n) as f32 / 255.0;
            c[channel] = if up { t } else { 1.0 - t };
            wheel.push(c);
        }
    }
    wheel
}

/// The Middlebury colour coding of a flow field (Baker et al., IJCV 2011):
/// hue is the direction, saturation the magnitude divided by `max_flow`
/// (default: the largest finite magnitude in the field), white for no
/// motion; vectors longer than `max_flow` are drawn at 75% brightness, and
/// non-finite or "unknown" (|component| > 1e9) vectors black.
///
/// The result is an opaque RGB image of display code values in 0..=1,
/// tagged 8-bit so [`crate::format::write_image`] writes an 8-bit PNG.
pub fn visualize(field: &FlowField, max_flow: Option<f32>) -> Image {
    let known = |v: &[f32; 2]| v.iter().all(|c| c.is_finite() && c.abs() <= 1e9);
    let max = max_flow
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or_else(|| {
            field
                .vectors()
                .iter()
                .filter(|v| known(v))
                .map(|v| v[0].hypot(v[1]))
                .fold(0.0, f32::max)
        });
    // No motion at all: everything is the white centre of the wheel.
    let max = if max > 0.0 { max } else { 1.0 };
    let wheel = colour_wheel();
    let n = wheel.len();
    let pixels = field
        .vectors()
        .iter()
        .map(|v| {
            if !known(v) {
                return [0.0, 0.0, 0.0, 1.0];
            }
            let (u, v) = (v[0] / max, v[1] / max);
            let rad = u.hypot(v);
            let angle = (-v).atan2(-u) / std::f32::consts::PI;
            let fk = (angle + 1.0) / 2.0 * (n - 1) as f32;
            let k0 = (fk.floor() as usize).min(n - 1);
            let k1 = (k0 + 1) % n;
            let f = fk - k0 as f32;
            let mut rgb = [0.0; 3];
            for (ch, out) in rgb.iter_mut().enumerate() {
                let col = (1.0 - f) * wheel[k0][ch] + f * wheel[k1][ch];
                *out = if rad <= 1.0 {
                    1.0 - rad * (1.0 - col)
                } else {
                    col * 0.75
                };
            }
            [rgb[0], rgb[1], rgb[2], 1.0]
        })
        .collect();
    let mut image = Image::from_pixels(field.width(), field.height(), pixels);
    image.base = morph_core::BaseChannels::Rgb;
    image.metadata.format = Some(SampleFormat::U8);
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{WriteOptions, read_image, write_image};

    fn field(w: u32, h: u32) -> FlowField {
        let vectors = (0..w * h)
            .map(|i| [i as f32 * 0.25 - 3.0, 1.5 - i as f32 * 0.125])
            .collect();
        FlowField::from_vectors(w, h, vectors).unwrap()
    }

    #[test]
    fn flo_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.flo");
        for (w, h) in [(1, 1), (7, 3), (3, 7)] {
            let f = field(w, h);
            write_flo(&path, &f).unwrap();
            let len = std::fs::metadata(&path).unwrap().len();
            assert_eq!(len, 12 + u64::from(w * h) * 8);
            assert_eq!(read_flo(&path).unwrap(), f);
        }
    }

    #[test]
    fn flo_header_is_middlebury() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.flo");
        write_flo(&path, &field(5, 2)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[0..4], b"PIEH");
        assert_eq!(i32::from_le_bytes(bytes[4..8].try_into().unwrap()), 5);
        assert_eq!(i32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
        // First vector (u, v) = (−3, 1.5): +y down, stored as it is.
        assert_eq!(f32::from_le_bytes(bytes[12..16].try_into().unwrap()), -3.0);
        assert_eq!(f32::from_le_bytes(bytes[16..20].try_into().unwrap()), 1.5);
    }

    fn decode_error(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.flo");
        std::fs::write(&path, bytes).unwrap();
        let err = read_flo(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("bad.flo"), "names the file: {text}");
        text
    }

    #[test]
    fn truncated_and_garbage_flo_are_decode_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.flo");
        write_flo(&path, &field(4, 4)).unwrap();
        let good = std::fs::read(&path).unwrap();
        for cut in [0, 5, 12, 13, good.len() - 1] {
            let text = decode_error(&good[..cut]);
            assert!(text.contains("truncated"), "{cut}: {text}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(decode_error(&longer).contains("trailing"));
        assert!(decode_error(b"garbage garbage garbage").contains("magic"));
        let mut negative = good.clone();
        negative[4..8].copy_from_slice(&(-4i32).to_le_bytes());
        assert!(decode_error(&negative).contains("size"));
    }

    #[test]
    fn hostile_flo_size_is_refused_before_allocating() {
        let mut bytes = FLO_MAGIC.to_le_bytes().to_vec();
        bytes.extend_from_slice(&100_000i32.to_le_bytes());
        bytes.extend_from_slice(&100_000i32.to_le_bytes());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.flo");
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(read_flo(&path), Err(IoError::Limits { .. })));
    }

    #[test]
    fn exr_vectors_are_v_up_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.exr");
        let colour = Image::new(6, 4);
        let (fw, bw) = (field(6, 4), field(6, 4));
        let image = vectors_image(&colour, &fw, Some(&bw), false).unwrap();
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let read = read_image(&path).unwrap();
        let v = read.extra_channel("forward.v").unwrap();
        assert_eq!(v.format, SampleFormat::F32);
        assert_eq!(v.data[0], -1.5, "+y down 1.5 is v = -1.5 (up)");
        assert_eq!(read.extra_channel("forward.u").unwrap().data[0], -3.0);
        let back = read_vectors_exr(&path, false).unwrap();
        assert_eq!(back.forward, fw);
        assert_eq!(back.backward.as_ref(), Some(&bw));
    }

    #[test]
    fn exr_vectors_y_down_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.exr");
        let fw = field(3, 2);
        let image = vectors_image(&Image::new(3, 2), &fw, None, true).unwrap();
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let read = read_image(&path).unwrap();
        assert_eq!(read.extra_channel("forward.v").unwrap().data[0], 1.5);
        assert!(read.extra_channel("backward.u").is_none());
        let back = read_vectors_exr(&path, true).unwrap();
        assert_eq!(back.forward, fw);
        assert_eq!(back.backward, None);
    }

    #[test]
    fn exr_without_vectors_is_a_decode_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.exr");
        write_image(&path, &Image::new(2, 2), &WriteOptions::default()).unwrap();
        let err = read_vectors_exr(&path, false).unwrap_err();
        assert!(matches!(err, IoError::Decode { .. }), "{err}");
        assert!(err.to_string().contains("forward.u"));
    }

    #[test]
    fn vector_layers_must_match_the_colour_size() {
        assert!(vectors_image(&Image::new(3, 3), &field(3, 2), None, false).is_err());
    }

    #[test]
    fn colour_wheel_directions() {
        // Right is red, down (+y) yellow, left cyan, up blue-violet, as in the
        // Middlebury key.
        let vectors = vec![[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [0.0, 0.0]];
        let f = FlowField::from_vectors(5, 1, vectors).unwrap();
        let img = visualize(&f, None);
        let px = |x| img.pixel(x, 0);
        let [r, g, b, a] = px(0);
        assert!(
            r > 0.9 && g < 0.2 && b < 0.2 && a == 1.0,
            "right {:?}",
            px(0)
        );
        let [r, g, b, _] = px(1);
        assert!(r > 0.8 && g > 0.8 && b < 0.2, "down {:?}", px(1));
        let [r, g, b, _] = px(2);
        assert!(r < 0.2 && g > 0.7 && b > 0.7, "left {:?}", px(2));
        let [_, g, b, _] = px(3);
        assert!(b > 0.7 && g < 0.2, "up {:?}", px(3));
        assert_eq!(px(4), [1.0, 1.0, 1.0, 1.0], "no motion is white");
        assert_eq!(img.metadata.format, Some(SampleFormat::U8));
    }

    #[test]
    fn colour_wheel_saturation_follows_max_flow() {
        let f = FlowField::from_vectors(2, 1, vec![[2.0, 0.0], [f32::NAN, 0.0]]).unwrap();
        let full = visualize(&f, None).pixel(0, 0);
        let half = visualize(&f, Some(4.0)).pixel(0, 0);
        assert!(half[1] > full[1], "less saturated with a larger max");
        let over = visualize(&f, Some(1.0)).pixel(0, 0);
        assert!((over[0] - 0.75).abs() < 1e-6, "beyond max: 75% {over:?}");
        assert_eq!(visualize(&f, None).pixel(1, 0), [0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn visualization_writes_an_8_bit_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vis.png");
        write_image(
            &path,
            &visualize(&field(8, 8), None),
            &WriteOptions::default(),
        )
        .unwrap();
        let read = read_image(&path).unwrap();
        assert_eq!(read.metadata.format, Some(SampleFormat::U8));
        assert_eq!(read.size(), field(8, 8).size());
    }
}
