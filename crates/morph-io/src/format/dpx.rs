//! DPX (SMPTE 268M-2003, "V1.0"/"V2.0"), the film-plate format, with our
//! own reader and writer.
//!
//! # Layout of the 2048-byte header
//!
//! | offset | size | header |
//! |---|---|---|
//! | 0    | 768 | file information (magic, data offset, version, names) |
//! | 768  | 640 | image information (orientation, size, 8 image elements of 72 bytes) |
//! | 1408 | 256 | image orientation (offsets, source, border, aspect) |
//! | 1664 | 256 | motion-picture film (frame rate, frame id, ...) |
//! | 1920 | 128 | television (SMPTE time code, frame rate, ...) |
//!
//! The magic `SDPX` marks a big-endian file, `XPDS` a little-endian one;
//! every field then follows that byte order. Undefined fields are all ones
//! (integers, and NaN for floats) or NUL (text).
//!
//! # What is supported
//!
//! - Read: the first image element; descriptors 6 (luma), 50 (RGB), 51
//!   (RGBA) and 52 (ABGR); 8-bit, 10-bit filled to 32-bit words (packing 1
//!   "method A", padding in the 2 low bits of each word, or packing 2
//!   "method B", padding in the high bits), 12-bit filled to 16 bits, 16-bit;
//!   orientations 0–3 (flips). Not supported: unpacked 10/12-bit (packing 0),
//!   run-length encoding, signed samples, transposed orientations, YCbCr
//!   descriptors; each is an [`IoError::Unsupported`] naming the field.
//! - Write: 10-bit method A, big-endian, one element: RGB (descriptor 50), RGBA
//!   (51, YA images are written as RGBA) or luma (6).
//!
//! Code values map linearly to 0..1 (a 10-bit `1023` is 1.0); the header's
//! reference black/white codes and transfer characteristic are kept as
//! attributes, not applied. 12-bit files report [`SampleFormat::U16`].
//!
//! Attributes read: `dpx:transfer`, `dpx:colorimetric` (the numeric codes),
//! `dpx:creator`, `dpx:project`, `dpx:copyright`, `dpx:inputDevice`,
//! `dpx:creationTime`, and `timeCode` / `framesPerSecond` /
//! `pixelAspectRatio` under the names EXR uses, so they carry across formats. The writer stores `dpx:transfer`,
//! `dpx:colorimetric` (0, user-defined, when absent), `dpx:project`,
//! `dpx:copyright`, `timeCode`, `framesPerSecond` and `pixelAspectRatio`.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;

use morph_core::{BaseChannels, Image, Rect, SampleFormat};

use super::{FileFormat, ImageInfo, base_planes, check_size, quantize, write_atomic};
use crate::error::{IoError, Result};

/// Size of the generic (file + image + orientation) header.
const GENERIC_SIZE: usize = 1664;
/// Size of the whole header as written (generic + industry).
const HEADER_SIZE: usize = 2048;
/// `SDPX` read as a number.
const MAGIC: u32 = 0x5344_5058;
/// An undefined 32-bit field.
const UNDEFINED: u32 = 0xffff_ffff;

/// Byte order of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endian {
    Big,
    Little,
}

impl Endian {
    fn u16(self, b: &[u8], at: usize) -> u16 {
        let v = [b[at], b[at + 1]];
        match self {
            Endian::Big => u16::from_be_bytes(v),
            Endian::Little => u16::from_le_bytes(v),
        }
    }

    fn u32(self, b: &[u8], at: usize) -> u32 {
        let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        match self {
            Endian::Big => u32::from_be_bytes(v),
            Endian::Little => u32::from_le_bytes(v),
        }
    }

    fn f32(self, b: &[u8], at: usize) -> Option<f32> {
        let v = f32::from_bits(self.u32(b, at));
        v.is_finite().then_some(v)
    }

    fn put_u16(self, b: &mut [u8], at: usize, v: u16) {
        let bytes = match self {
            Endian::Big => v.to_be_bytes(),
            Endian::Little => v.to_le_bytes(),
        };
        b[at..at + 2].copy_from_slice(&bytes);
    }

    fn put_u32(self, b: &mut [u8], at: usize, v: u32) {
        let bytes = match self {
            Endian::Big => v.to_be_bytes(),
            Endian::Little => v.to_le_bytes(),
        };
        b[at..at + 4].copy_from_slice(&bytes);
    }

    fn put_f32(self, b: &mut [u8], at: usize, v: f32) {
        self.put_u32(b, at, v.to_bits());
    }
}

/// A NUL-terminated ASCII field.
fn text(b: &[u8], at: usize, len: usize) -> String {
    let field = &b[at..at + len];
    let end = field.iter().position(|&c| c == 0).unwrap_or(len);
    String::from_utf8_lossy(&field[..end]).trim().to_owned()
}

fn put_text(b: &mut [u8], at: usize, len: usize, value: &str) {
    let field = &mut b[at..at + len];
    field.fill(0);
    let bytes = value.as_bytes();
    let n = bytes.len().min(len - 1);
    field[..n].copy_from_slice(&bytes[..n]);
}

/// How the samples of the first image element are stored.
#[derive(Clone, Debug)]
struct Header {
    endian: Endian,
    width: u32,
    height: u32,
    orientation: u16,
    /// Layout in memory.
    base: BaseChannels,
    /// Samples per pixel in the file.
    components: usize,
    /// Descriptor 52: samples are A, B, G, R.
    abgr: bool,
    bits: u8,
    packing: u16,
    data_offset: u64,
    /// Bytes between rows.
    eol_padding: u64,
    attributes: Vec<(String, String)>,
}

impl Header {
    fn sample_format(&self) -> SampleFormat {
        match self.bits {
            8 => SampleFormat::U8,
            10 => SampleFormat::U10,
            _ => SampleFormat::U16,
        }
    }

    /// Bytes of one row without end-of-line padding: rows start on 32-bit
    /// words (`padded`); some writers do not pad 8/12/16-bit rows
    /// (`unpadded`).
    fn row_bytes(&self) -> (usize, usize) {
        let samples = self.width as usize * self.components;
        let unpadded = match self.bits {
            8 => samples,
            10 => samples.div_ceil(3) * 4,
            _ => samples * 2,
        };
        (unpadded.div_ceil(4) * 4, unpadded)
    }

    /// Channel names in the order of [`Image::channel_names`].
    fn channel_names(&self) -> Vec<String> {
        self.base.names().iter().map(|s| (*s).to_owned()).collect()
    }
}

fn decode_err(path: &Path, message: impl Into<String>) -> IoError {
    IoError::decode(path, message)
}

/// Parses and validates the header (the first up-to-2048 bytes).
fn parse_header(path: &Path, b: &[u8]) -> Result<Header> {
    if b.len() < 4 {
        return Err(decode_err(path, "truncated DPX header"));
    }
    let endian = match &b[..4] {
        b"SDPX" => Endian::Big,
        b"XPDS" => Endian::Little,
        _ => {
            return Err(decode_err(
                path,
                "not a DPX file (no SDPX/XPDS magic number)",
            ));
        }
    };
    if b.len() < GENERIC_SIZE {
        return Err(decode_err(
            path,
            format!(
                "truncated DPX header: {} bytes, the generic header has {GENERIC_SIZE}",
                b.len()
            ),
        ));
    }
    let e = endian;
    let elements = e.u16(b, 770);
    if !(1..=8).contains(&elements) {
        return Err(decode_err(
            path,
            format!("invalid DPX header: {elements} image elements (1 to 8 allowed)"),
        ));
    }
    let width = e.u32(b, 772);
    let height = e.u32(b, 776);
    check_size(path, width.into(), height.into())?;

    let orientation = e.u16(b, 768);
    match orientation {
        0..=3 => {}
        4..=7 => {
            return Err(IoError::unsupported(
                path,
                format!("DPX orientation {orientation} (transposed)"),
            ));
        }
        _ => {
            return Err(decode_err(
                path,
                format!("invalid DPX header: orientation {orientation}"),
            ));
        }
    }

    // The first image element.
    let el = 780;
    let data_sign = e.u32(b, el);
    let descriptor = b[el + 20];
    let transfer = b[el + 21];
    let colorimetric = b[el + 22];
    let bits = b[el + 23];
    let packing = e.u16(b, el + 24);
    let encoding = e.u16(b, el + 26);
    let element_offset = e.u32(b, el + 28);
    let eol_padding = e.u32(b, el + 32);

    let (base, components, abgr) = match descriptor {
        6 => (BaseChannels::Y, 1, false),
        50 => (BaseChannels::Rgb, 3, false),
        51 => (BaseChannels::Rgba, 4, false),
        52 => (BaseChannels::Rgba, 4, true),
        other => {
            return Err(IoError::unsupported(
                path,
                format!("DPX descriptor {other} (supported: 6 luma, 50 RGB, 51 RGBA, 52 ABGR)"),
            ));
        }
    };
    match (bits, packing) {
        (8 | 16, _) | (10 | 12, 1 | 2) => {}
        (10 | 12, 0) => {
            return Err(IoError::unsupported(
                path,
                format!("{bits}-bit DPX without padding to 32-bit words (packing 0)"),
            ));
        }
        (10 | 12, other) => {
            return Err(decode_err(
                path,
                format!("invalid DPX header: packing {other}"),
            ));
        }
        (1 | 32 | 64, _) => {
            return Err(IoError::unsupported(path, format!("{bits}-bit DPX")));
        }
        (other, _) => {
            return Err(decode_err(
                path,
                format!("invalid DPX header: bit depth {other}"),
            ));
        }
    }
    if encoding != 0 {
        return Err(IoError::unsupported(path, "run-length encoded DPX"));
    }
    if data_sign != 0 {
        return Err(IoError::unsupported(path, "DPX with signed samples"));
    }
    let data_offset = match element_offset {
        0 | UNDEFINED => e.u32(b, 4),
        offset => offset,
    };
    if data_offset == UNDEFINED || (data_offset as usize) < GENERIC_SIZE {
        return Err(decode_err(
            path,
            format!("invalid DPX header: image data offset {data_offset}"),
        ));
    }
    let eol_padding = match eol_padding {
        UNDEFINED => 0,
        p if p < 1 << 24 => p,
        p => {
            return Err(decode_err(
                path,
                format!("invalid DPX header: end-of-line padding {p}"),
            ));
        }
    };
    if elements > 1 {
        tracing::warn!(
            path = %path.display(),
            "DPX has {elements} image elements; reading the first"
        );
    }

    let mut attributes = vec![
        ("dpx:transfer".to_owned(), transfer.to_string()),
        ("dpx:colorimetric".to_owned(), colorimetric.to_string()),
    ];
    for (name, at, len) in [
        ("dpx:creationTime", 136, 24),
        ("dpx:creator", 160, 100),
        ("dpx:project", 260, 200),
        ("dpx:copyright", 460, 200),
        ("dpx:inputDevice", 1556, 32),
    ] {
        let value = text(b, at, len);
        if !value.is_empty() {
            attributes.push((name.to_owned(), value));
        }
    }
    let (aspect_h, aspect_v) = (e.u32(b, 1628), e.u32(b, 1632));
    if aspect_h != UNDEFINED && aspect_v != UNDEFINED && aspect_h > 0 && aspect_v > 0 {
        let par = aspect_h as f32 / aspect_v as f32;
        attributes.push(("pixelAspectRatio".to_owned(), par.to_string()));
    }
    // The industry headers, when the file has them.
    if b.len() >= HEADER_SIZE && data_offset as usize >= HEADER_SIZE {
        if let Some(tc) = bcd_time_code(e.u32(b, 1920)) {
            attributes.push(("timeCode".to_owned(), tc));
        }
        let rate = e
            .f32(b, 1940)
            .or_else(|| e.f32(b, 1724))
            .filter(|r| *r > 0.0);
        if let Some(rate) = rate {
            attributes.push(("framesPerSecond".to_owned(), rate_text(rate)));
        }
    }

    Ok(Header {
        endian,
        width,
        height,
        orientation,
        base,
        components,
        abgr,
        bits,
        packing,
        data_offset: data_offset.into(),
        eol_padding: eol_padding.into(),
        attributes,
    })
}

/// `HH:MM:SS:FF` from an SMPTE BCD time code; `None` if undefined or not BCD.
fn bcd_time_code(v: u32) -> Option<String> {
    if v == UNDEFINED {
        return None;
    }
    let digit = |shift: u32, mask: u32| (v >> shift) & mask;
    let field = |tens_shift: u32, tens_mask: u32| {
        let (tens, units) = (digit(tens_shift, tens_mask), digit(tens_shift - 4, 0xf));
        (tens <= 9 && units <= 9).then_some(tens * 10 + units)
    };
    // Frames tens use 2 bits, seconds and minutes 3, hours 2 (the other bits
    // are flags).
    let (h, m, s, f) = (
        field(28, 0x3)?,
        field(20, 0x7)?,
        field(12, 0x7)?,
        field(4, 0x3)?,
    );
    (h < 24 && m < 60 && s < 60).then(|| format!("{h:02}:{m:02}:{s:02}:{f:02}"))
}

/// The SMPTE BCD form of `HH:MM:SS:FF` (or `;FF`).
fn time_code_bcd(text: &str) -> Option<u32> {
    let parts: Vec<u32> = text
        .split([':', ';'])
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s, f] = parts[..] else {
        return None;
    };
    if h >= 24 || m >= 60 || s >= 60 || f >= 40 {
        return None;
    }
    let bcd = |v: u32| ((v / 10) << 4) | (v % 10);
    Some((bcd(h) << 24) | (bcd(m) << 16) | (bcd(s) << 8) | bcd(f))
}

/// A frame rate as EXR's rational text (`24/1`, `24000/1001`).
fn rate_text(rate: f32) -> String {
    let ntsc = (rate * 1.001).round();
    if (rate - rate.round()).abs() < 1e-3 {
        format!("{}/1", rate.round())
    } else if (rate - ntsc / 1.001).abs() < 1e-3 {
        format!("{}/1001", ntsc * 1000.0)
    } else {
        format!("{}/1000", (rate * 1000.0).round())
    }
}

/// A rational (or plain number) frame rate as f32.
fn parse_rate(text: &str) -> Option<f32> {
    let rate = match text.split_once('/') {
        Some((n, d)) => n.trim().parse::<f32>().ok()? / d.trim().parse::<f32>().ok()?,
        None => text.trim().parse().ok()?,
    };
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

/// Reads the header bytes of a file and its length.
fn read_header(path: &Path) -> Result<(Header, File, u64)> {
    let mut file = File::open(path).map_err(|e| IoError::io(path, e))?;
    let len = file.metadata().map_err(|e| IoError::io(path, e))?.len();
    let mut b = vec![0u8; HEADER_SIZE.min(len as usize)];
    file.read_exact(&mut b).map_err(|e| IoError::io(path, e))?;
    Ok((parse_header(path, &b)?, file, len))
}

/// Header facts without reading pixels.
pub(crate) fn probe(path: &Path) -> Result<ImageInfo> {
    let (h, _, _) = read_header(path)?;
    let window = Rect::from_size(h.width, h.height);
    Ok(ImageInfo {
        format: FileFormat::Dpx,
        width: h.width,
        height: h.height,
        channels: h.channel_names(),
        sample_format: h.sample_format(),
        data_window: window,
        display_window: window,
        compression: None,
        layers: Vec::new(),
    })
}

/// Unpacks one row's samples (code values).
fn unpack_row(h: &Header, row: &[u8], out: &mut [u16]) {
    let e = h.endian;
    match (h.bits, h.packing) {
        (8, _) => {
            for (o, &v) in out.iter_mut().zip(row) {
                *o = v.into();
            }
        }
        (10, p) => {
            // Method A: samples in bits 31-22, 21-12, 11-2; method B: 29-20,
            // 19-10, 9-0. The first sample is in the high bits.
            let top = if p == 1 { 22 } else { 20 };
            for (i, o) in out.iter_mut().enumerate() {
                let word = e.u32(row, (i / 3) * 4);
                *o = ((word >> (top - 10 * (i % 3) as u32)) & 0x3ff) as u16;
            }
        }
        (12, p) => {
            for (i, o) in out.iter_mut().enumerate() {
                let v = e.u16(row, 2 * i);
                *o = if p == 1 { v >> 4 } else { v & 0xfff };
            }
        }
        _ => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = e.u16(row, 2 * i);
            }
        }
    }
}

/// Reads a DPX (see the module docs).
pub(crate) fn read(path: &Path) -> Result<Image> {
    let (h, file, len) = read_header(path)?;
    let (padded, unpadded) = h.row_bytes();
    let rows = u64::from(h.height);
    let needed = |row: usize| (row as u64 + h.eol_padding) * (rows - 1) + row as u64;
    let available = len.saturating_sub(h.data_offset);
    // Rows start on 32-bit words; accept writers that do not pad when the
    // file is too short for padded rows but long enough for unpadded ones.
    let row_bytes = if available >= needed(padded) {
        padded
    } else if available >= needed(unpadded) {
        unpadded
    } else {
        return Err(decode_err(
            path,
            format!(
                "truncated DPX: {}x{} {}-bit pixels need {} bytes from offset {}, the file has {}",
                h.width,
                h.height,
                h.bits,
                needed(padded),
                h.data_offset,
                available
            ),
        ));
    };

    let mut reader = BufReader::with_capacity(1 << 20, file);
    reader
        .seek(SeekFrom::Start(h.data_offset))
        .map_err(|e| IoError::io(path, e))?;
    let (w, nc) = (h.width as usize, h.components);
    let max = ((1u32 << h.bits) - 1) as f32;
    let mut row = vec![0u8; row_bytes];
    let mut codes = vec![0u16; w * nc];
    let mut pixels = Vec::with_capacity(w * h.height as usize);
    for y in 0..h.height {
        reader.read_exact(&mut row).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => decode_err(path, "truncated DPX pixel data"),
            _ => IoError::io(path, e),
        })?;
        if h.eol_padding > 0 && y + 1 < h.height {
            reader
                .seek_relative(h.eol_padding as i64)
                .map_err(|e| IoError::io(path, e))?;
        }
        unpack_row(&h, &row, &mut codes);
        for px in codes.chunks_exact(nc) {
            let v = |c: usize| f32::from(px[c]) / max;
            pixels.push(match (nc, h.abgr) {
                (1, _) => [v(0), v(0), v(0), 1.0],
                (3, _) => [v(0), v(1), v(2), 1.0],
                (_, false) => [v(0), v(1), v(2), v(3)],
                (_, true) => [v(3), v(2), v(1), v(0)],
            });
        }
    }
    // Orientation 1: right to left; 2: bottom to top; 3: both.
    if h.orientation & 1 != 0 {
        for r in pixels.chunks_exact_mut(w) {
            r.reverse();
        }
    }
    if h.orientation & 2 != 0 {
        let flipped: Vec<[f32; 4]> = pixels.chunks_exact(w).rev().flatten().copied().collect();
        pixels = flipped;
    }

    let mut image = Image::from_pixels(h.width, h.height, pixels);
    image.base = h.base;
    image.metadata.format = Some(h.sample_format());
    image.metadata.attributes.extend(h.attributes);
    Ok(image)
}

/// Packs one row of code values (rows padded to 32-bit words).
fn pack_row(codes: &[u16], bits: u8, e: Endian, out: &mut Vec<u8>) {
    out.clear();
    match bits {
        8 => out.extend(codes.iter().map(|&c| c as u8)),
        10 => {
            let mut word = [0u8; 4];
            for group in codes.chunks(3) {
                let s = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
                e.put_u32(&mut word, 0, (s(0) << 22) | (s(1) << 12) | (s(2) << 2));
                out.extend_from_slice(&word);
            }
        }
        _ => {
            let mut pair = [0u8; 2];
            for &c in codes {
                e.put_u16(&mut pair, 0, c);
                out.extend_from_slice(&pair);
            }
        }
    }
    out.resize(out.len().div_ceil(4) * 4, 0);
}

/// Current UTC time as `YYYY:MM:DD:hh:mm:ssZ` (DPX creation time).
fn creation_time() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}:{month:02}:{day:02}:{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Builds a DPX header for `width × height` samples of `descriptor`.
fn build_header(
    path: &Path,
    image: &Image,
    descriptor: u8,
    bits: u8,
    e: Endian,
    row_bytes: usize,
) -> Vec<u8> {
    let mut b = vec![0xffu8; HEADER_SIZE];
    // Text and reserved fields are NUL when undefined.
    for (at, len) in [
        (8, 8),
        (36, 100),
        (136, 24),
        (160, 100),
        (260, 200),
        (460, 200),
        (664, 104),
        (1356, 52),
        (1432, 100),
        (1532, 24),
        (1556, 32),
        (1588, 32),
        (1644, 20),
        (1664, 48),
        (1732, 132),
        (1864, 56),
        (1972, 76),
    ] {
        b[at..at + len].fill(0);
    }
    for k in 0..8 {
        let at = 780 + 72 * k + 40;
        b[at..at + 32].fill(0);
    }
    let attr = |name: &str| image.metadata.attributes.get(name).map(String::as_str);
    let file_size = HEADER_SIZE + row_bytes * image.height() as usize;

    // File information.
    e.put_u32(&mut b, 0, MAGIC);
    e.put_u32(&mut b, 4, HEADER_SIZE as u32);
    put_text(&mut b, 8, 8, "V2.0");
    e.put_u32(&mut b, 16, u32::try_from(file_size).unwrap_or(UNDEFINED));
    e.put_u32(&mut b, 20, 1); // ditto key: new frame
    e.put_u32(&mut b, 24, GENERIC_SIZE as u32);
    e.put_u32(&mut b, 28, (HEADER_SIZE - GENERIC_SIZE) as u32);
    e.put_u32(&mut b, 32, 0); // no user data
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    put_text(&mut b, 36, 100, &name);
    put_text(&mut b, 136, 24, &creation_time());
    put_text(
        &mut b,
        160,
        100,
        concat!("morph ", env!("CARGO_PKG_VERSION")),
    );
    put_text(&mut b, 260, 200, attr("dpx:project").unwrap_or(""));
    put_text(&mut b, 460, 200, attr("dpx:copyright").unwrap_or(""));

    // Image information: one element.
    e.put_u16(&mut b, 768, 0); // left to right, top to bottom
    e.put_u16(&mut b, 770, 1);
    e.put_u32(&mut b, 772, image.width());
    e.put_u32(&mut b, 776, image.height());
    let el = 780;
    e.put_u32(&mut b, el, 0); // unsigned
    e.put_u32(&mut b, el + 4, 0); // reference low code
    e.put_u32(&mut b, el + 12, (1u32 << bits) - 1); // reference high code
    let code = |name: &str| attr(name).and_then(|v| v.trim().parse::<u8>().ok());
    b[el + 20] = descriptor;
    b[el + 21] = code("dpx:transfer").unwrap_or(0);
    b[el + 22] = code("dpx:colorimetric").unwrap_or(0);
    b[el + 23] = bits;
    e.put_u16(&mut b, el + 24, if bits == 10 { 1 } else { 0 });
    e.put_u16(&mut b, el + 26, 0); // no run-length encoding
    e.put_u32(&mut b, el + 28, HEADER_SIZE as u32);
    e.put_u32(&mut b, el + 32, 0);
    e.put_u32(&mut b, el + 36, 0);

    // Orientation: no offsets, original size = this size.
    e.put_u32(&mut b, 1408, 0);
    e.put_u32(&mut b, 1412, 0);
    e.put_u32(&mut b, 1424, image.width());
    e.put_u32(&mut b, 1428, image.height());
    let par = attr("pixelAspectRatio").and_then(|v| v.trim().parse::<f32>().ok());
    if let Some(par) = par.filter(|p| p.is_finite() && *p > 0.0) {
        e.put_u32(&mut b, 1628, (par * 1000.0).round() as u32);
        e.put_u32(&mut b, 1632, 1000);
    }

    // Film and television: frame rate and time code when known.
    if let Some(rate) = attr("framesPerSecond").and_then(parse_rate) {
        e.put_f32(&mut b, 1724, rate);
        e.put_f32(&mut b, 1940, rate);
    }
    if let Some(tc) = attr("timeCode").and_then(time_code_bcd) {
        e.put_u32(&mut b, 1920, tc);
    }
    b
}

/// Writes `image` as a DPX with `bits` (8, 10 or 16) in byte order `e`.
/// The format's writer uses 10-bit big-endian; the others exist for tests.
fn write_with(path: &Path, image: &Image, e: Endian, bits: u8) -> Result<()> {
    let (descriptor, layout) = match image.base {
        BaseChannels::Y => (6, BaseChannels::Y),
        BaseChannels::Rgb => (50, BaseChannels::Rgb),
        BaseChannels::Ya | BaseChannels::Rgba => (51, BaseChannels::Rgba),
    };
    let codes = quantize(path, image, base_planes(layout), (1u32 << bits) - 1)?;
    let row_samples = image.width() as usize * layout.count();
    let mut row = Vec::new();
    pack_row(&codes[..row_samples], bits, e, &mut row);
    let header = build_header(path, image, descriptor, bits, e, row.len());
    write_atomic(path, |w| {
        let io = |err| IoError::io(path, err);
        w.write_all(&header).map_err(io)?;
        for samples in codes.chunks_exact(row_samples) {
            pack_row(samples, bits, e, &mut row);
            w.write_all(&row).map_err(io)?;
        }
        Ok(())
    })
}

/// Writes a 10-bit big-endian DPX (RGB, RGBA or luma).
pub(crate) fn write(path: &Path, image: &Image) -> Result<()> {
    write_with(path, image, Endian::Big, 10)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, ramp};
    use super::super::{WriteOptions, probe, read_image, write_image};
    use super::*;

    /// Every 10-bit code in R, and a few more patterns in G, B, A.
    fn codes_image(base: BaseChannels) -> Image {
        let (w, h) = (37u32, 29u32);
        let pixels = (0..w * h)
            .map(|i| {
                let c = |k: u32| ((i * k) % 1024) as f32 / 1023.0;
                [c(1), c(7), c(13), c(29)]
            })
            .collect();
        let mut image = Image::from_pixels(w, h, pixels);
        image.base = base;
        if matches!(base, BaseChannels::Y | BaseChannels::Ya) {
            for p in image.pixels_mut() {
                p[1] = p[0];
                p[2] = p[0];
            }
        }
        if !base.has_alpha() {
            for p in image.pixels_mut() {
                p[3] = 1.0;
            }
        }
        image
    }

    #[test]
    fn ten_bit_round_trip_is_exact_on_codes() {
        let dir = tempfile::tempdir().unwrap();
        for base in [BaseChannels::Rgb, BaseChannels::Rgba, BaseChannels::Y] {
            let path = dir.path().join(format!("{base:?}.dpx"));
            let image = codes_image(base);
            write_image(&path, &image, &WriteOptions::default()).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(&bytes[..4], b"SDPX");
            let back = read_image(&path).unwrap();
            assert_eq!(back.base, base);
            assert_eq!(back.metadata.format, Some(SampleFormat::U10));
            assert_close(&back, &image, 1e-6);
            let info = probe(&path).unwrap();
            assert_eq!(info.channels, base.names());
            assert_eq!(info.sample_format, SampleFormat::U10);
            // Header + rows of ceil(w·n/3) words.
            let words = (37 * base.count()).div_ceil(3);
            assert_eq!(bytes.len(), 2048 + 29 * words * 4);
            assert_eq!(Endian::Big.u32(&bytes, 16) as usize, bytes.len());
        }
    }

    #[test]
    fn off_code_values_round_to_within_half_a_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ramp.dpx");
        let image = ramp(64, 16, BaseChannels::Rgb);
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let back = read_image(&path).unwrap();
        assert_close(&back, &image, 0.5 / 1023.0 + 1e-7);
    }

    #[test]
    fn method_a_places_red_in_the_high_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.dpx");
        let image = Image::from_pixels(1, 1, vec![[1.0, 0.0, 512.0 / 1023.0, 1.0]]);
        let mut image = image;
        image.base = BaseChannels::Rgb;
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let word = u32::from_be_bytes(bytes[2048..2052].try_into().unwrap());
        assert_eq!(word, (1023 << 22) | (512 << 2));
        assert_eq!(bytes[780 + 20], 50, "descriptor RGB");
        assert_eq!(bytes[780 + 23], 10, "bit depth");
        assert_eq!(u16::from_be_bytes([bytes[804], bytes[805]]), 1, "packing");
    }

    #[test]
    fn both_byte_orders_and_depths_read() {
        let dir = tempfile::tempdir().unwrap();
        for e in [Endian::Big, Endian::Little] {
            for (bits, max) in [(8u8, 255.0), (10, 1023.0), (16, 65535.0)] {
                for base in [BaseChannels::Rgb, BaseChannels::Rgba, BaseChannels::Y] {
                    let path = dir.path().join(format!("{e:?}-{bits}-{base:?}.dpx"));
                    let image = ramp(13, 5, base);
                    write_with(&path, &image, e, bits).unwrap();
                    let bytes = std::fs::read(&path).unwrap();
                    let magic: &[u8] = if e == Endian::Big { b"SDPX" } else { b"XPDS" };
                    assert_eq!(&bytes[..4], magic);
                    let back = read_image(&path).unwrap();
                    assert_eq!(back.base, base);
                    assert_close(&back, &image, 0.5 / max + 1e-7);
                    let expected = match bits {
                        8 => SampleFormat::U8,
                        10 => SampleFormat::U10,
                        _ => SampleFormat::U16,
                    };
                    assert_eq!(back.metadata.format, Some(expected));
                }
            }
        }
    }

    /// Patches a big-endian header field of a file.
    fn patch(path: &Path, at: usize, bytes: &[u8]) {
        let mut data = std::fs::read(path).unwrap();
        data[at..at + bytes.len()].copy_from_slice(bytes);
        std::fs::write(path, data).unwrap();
    }

    #[test]
    fn method_b_abgr_orientation_and_unpadded_rows() {
        let dir = tempfile::tempdir().unwrap();
        // Method B: samples in the low 30 bits.
        let path = dir.path().join("b.dpx");
        let mut image = Image::from_pixels(2, 1, vec![[1.0, 0.0, 0.5, 1.0], [0.0, 1.0, 0.0, 1.0]]);
        image.base = BaseChannels::Rgb;
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let mut data = std::fs::read(&path).unwrap();
        for k in 0..2 {
            let at = 2048 + 4 * k;
            let w = u32::from_be_bytes(data[at..at + 4].try_into().unwrap());
            data[at..at + 4].copy_from_slice(&(w >> 2).to_be_bytes());
        }
        data[804..806].copy_from_slice(&2u16.to_be_bytes());
        std::fs::write(&path, &data).unwrap();
        let back = read_image(&path).unwrap();
        assert_close(&back, &image, 0.5 / 1023.0);

        // ABGR: the same bytes as RGBA, channels reversed.
        let path = dir.path().join("abgr.dpx");
        let mut image = Image::from_pixels(3, 2, vec![[0.1, 0.2, 0.3, 0.4]; 6]);
        image.pixels_mut()[4] = [1.0, 0.0, 0.0, 0.0];
        write_with(&path, &image, Endian::Big, 16).unwrap();
        patch(&path, 780 + 20, &[52]);
        let back = read_image(&path).unwrap();
        assert_eq!(
            back.pixel(0, 0),
            [0.4, 0.3, 0.2, 0.1].map(|v: f32| (v * 65535.0).round() / 65535.0)
        );
        assert_eq!(back.pixel(1, 1), [0.0, 0.0, 0.0, 1.0]);

        // Orientation 3 (right to left, bottom to top) is flipped back.
        let path = dir.path().join("flip.dpx");
        let image = ramp(4, 3, BaseChannels::Rgb);
        write_with(&path, &image, Endian::Big, 16).unwrap();
        patch(&path, 768, &3u16.to_be_bytes());
        let back = read_image(&path).unwrap();
        assert_eq!(back.pixel(0, 0), read_image_plain(&image).pixel(3, 2));
        assert_eq!(back.pixel(3, 2), read_image_plain(&image).pixel(0, 0));

        // 8-bit RGB, width 5: 15-byte rows, written unpadded by some tools.
        let path = dir.path().join("unpadded.dpx");
        let image = ramp(5, 3, BaseChannels::Rgb);
        write_with(&path, &image, Endian::Little, 8).unwrap();
        let data = std::fs::read(&path).unwrap();
        let mut unpadded = data[..2048].to_vec();
        for r in 0..3 {
            unpadded.extend_from_slice(&data[2048 + 16 * r..2048 + 16 * r + 15]);
        }
        std::fs::write(&path, &unpadded).unwrap();
        let back = read_image(&path).unwrap();
        assert_close(&back, &image, 0.5 / 255.0 + 1e-7);
    }

    /// The image as 16-bit codes would give it back.
    fn read_image_plain(image: &Image) -> Image {
        let pixels = image
            .pixels()
            .iter()
            .map(|p| p.map(|v| (v * 65535.0).round() / 65535.0))
            .collect();
        let mut out = Image::from_pixels(image.width(), image.height(), pixels);
        out.base = image.base;
        out
    }

    #[test]
    fn attributes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attrs.dpx");
        let mut image = ramp(4, 4, BaseChannels::Rgb);
        for (k, v) in [
            ("timeCode", "01:00:10:23"),
            ("framesPerSecond", "24000/1001"),
            ("dpx:transfer", "1"),
            ("dpx:colorimetric", "1"),
            ("dpx:project", "Show"),
            ("pixelAspectRatio", "2"),
        ] {
            image.metadata.attributes.insert(k.into(), v.into());
        }
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let back = read_image(&path).unwrap();
        let a = &back.metadata.attributes;
        assert_eq!(a["timeCode"], "01:00:10:23");
        assert_eq!(a["framesPerSecond"], "24000/1001");
        assert_eq!(a["dpx:transfer"], "1");
        assert_eq!(a["dpx:colorimetric"], "1");
        assert_eq!(a["dpx:project"], "Show");
        assert_eq!(a["pixelAspectRatio"], "2");
        assert!(a["dpx:creator"].starts_with("morph"));
        assert_eq!(a["dpx:creationTime"].len(), 20);
        assert_eq!(rate_text(25.0), "25/1");
        assert_eq!(
            parse_rate("30000/1001").map(rate_text).as_deref(),
            Some("30000/1001")
        );
    }

    #[test]
    fn bad_headers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.dpx");
        let image = ramp(8, 8, BaseChannels::Rgb);
        let fresh = |p: &Path| write_image(p, &image, &WriteOptions::default()).unwrap();

        // Truncated pixel data and truncated header.
        fresh(&path);
        let data = std::fs::read(&path).unwrap();
        for keep in [data.len() - 1, 2100, 1000, 3] {
            std::fs::write(&path, &data[..keep]).unwrap();
            let err = read_image(&path).unwrap_err();
            assert!(matches!(err, IoError::Decode { .. }), "{keep}: {err:?}");
            assert!(err.to_string().contains("truncated"), "{err}");
        }

        // Bad magic.
        fresh(&path);
        patch(&path, 0, b"SPDX");
        let err = read_image(&path).unwrap_err();
        assert!(err.to_string().contains("not a DPX file"), "{err}");

        // Hostile size.
        fresh(&path);
        patch(&path, 772, &100_000u32.to_be_bytes());
        patch(&path, 776, &100_000u32.to_be_bytes());
        for err in [read_image(&path).unwrap_err(), probe(&path).unwrap_err()] {
            assert!(matches!(err, IoError::Limits { .. }), "{err:?}");
        }

        // Unsupported and invalid fields.
        let cases: [(usize, &[u8], &str); 6] = [
            (780 + 20, &[100], "descriptor 100"),
            (780 + 23, &[11], "bit depth 11"),
            (780 + 24, &0u16.to_be_bytes(), "packing 0"),
            (780 + 26, &1u16.to_be_bytes(), "run-length"),
            (768, &5u16.to_be_bytes(), "orientation 5"),
            (770, &0u16.to_be_bytes(), "0 image elements"),
        ];
        for (at, bytes, message) in cases {
            fresh(&path);
            patch(&path, at, bytes);
            let err = read_image(&path).unwrap_err().to_string();
            assert!(err.contains(message), "{message}: {err}");
            assert!(err.contains("bad.dpx"), "{err}");
        }

        // A data offset inside the header.
        fresh(&path);
        patch(&path, 780 + 28, &100u32.to_be_bytes());
        let err = read_image(&path).unwrap_err().to_string();
        assert!(err.contains("data offset 100"), "{err}");
    }

    #[test]
    fn time_code_bcd_round_trips() {
        let v = time_code_bcd("23:59:58:29").unwrap();
        assert_eq!(v, 0x2359_5829);
        assert_eq!(bcd_time_code(v).as_deref(), Some("23:59:58:29"));
        assert_eq!(bcd_time_code(UNDEFINED), None);
        assert_eq!(bcd_time_code(0x0a00_0000), None);
        assert!(creation_time().starts_with("20"));
    }
}
