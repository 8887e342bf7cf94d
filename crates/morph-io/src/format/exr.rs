//! OpenEXR through the `exr` crate: half, float and uint channels, any
//! number of layers (single-part `layer.channel` names and multi-part files),
//! data window ≠ display window, every common compression, header attributes.
//!
//! # Which channels become RGBA
//!
//! Channel names are split at their last `.` into layer and channel
//! (`diffuse.R` → `diffuse`, `R`; parts of a multi-part file add their part
//! name as the layer). The colour layer is the unnamed layer if it has any
//! of `R`, `G`, `B`, `Y`; else a layer called `rgba`, `rgb`, `beauty` or
//! `main`; else the first layer (in file order) that has one. From it:
//!
//! - any of `R`, `G`, `B` → an RGB image (a missing one of the three reads
//!   as 0 and is written back), otherwise `Y` → a grey image;
//! - its `A` (or the unnamed layer's `A`) is the alpha; no `A` → no alpha
//!   (BaseChannels without alpha, A = 1 in memory).
//!
//! Every other channel is kept in [`Image::extra`] under its full name. A
//! file with no colour channel at all reads as a black `Y` (or `YA` if it has
//! an unnamed `A`) image with all its channels as extras. Channels of a part
//! whose data window differs from the colour part's are cropped / padded
//! with 0 to the colour part's window (with a warning).
//!
//! # Writing
//!
//! One single-part scan-line file: the base channels unprefixed (`R`, `G`,
//! `B`, `A` or `Y`, `A`) in the requested sample format, extra channels under
//! their full names in their own format (8/10-bit extras as half, 16-bit as
//! float), the data and display windows, and `metadata.attributes`.
//!
//! # Attributes
//!
//! Header attributes (other than the structural ones: channels, windows,
//! compression, ...) are kept as text: strings as they are, numbers in
//! Rust's shortest round-trip form, vectors and matrices as space-separated
//! numbers, `framesPerSecond` as `num/den`, `timeCode` as `HH:MM:SS:FF`
//! (`;` before the frames for drop-frame). Standard attributes are written
//! back with their standard type; other attributes are written as strings.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Seek, SeekFrom};
use std::path::Path;

use ::exr::error::Error as ExrError;
use ::exr::meta::MetaData;
use ::exr::meta::attribute::{Chromaticities, TimeCode};
use ::exr::meta::header::Header;
use ::exr::prelude::{
    AnyChannel, AnyChannels, AttributeValue, Blocks, Compression, Encoding, FlatSamples,
    ImageAttributes, IntegerBounds, Layer, LayerAttributes, LineOrder, ReadChannels, ReadLayers,
    SampleType, SmallVec, Text, Vec2, WritableImage, f16,
};
use morph_core::limits::MAX_PIXELS;
use morph_core::{BaseChannels, Image, Rect, SampleFormat};

use super::{
    ExrCompression, FileFormat, ImageInfo, base_planes, catch_panics, check_size, write_atomic,
};
use crate::error::{IoError, Result};

/// Most samples (all channels of all parts) a file may hold: sixteen planes
/// of the largest accepted image, 16 GiB as f32.
const MAX_SAMPLES: u64 = 16 * MAX_PIXELS;

/// Attributes that describe the file's structure, not the picture; they are
/// rebuilt from the image on write, so they are not kept as text.
const STRUCTURAL: &[&str] = &[
    "channels",
    "compression",
    "dataWindow",
    "displayWindow",
    "lineOrder",
    "chunkCount",
    "type",
    "tiles",
    "name",
    "version",
    "maxSamplesPerPixel",
    "dwaCompressionLevel",
    "preview",
    "deepImageState",
    "envmap",
    "keyCode",
];

/// One channel of the file, with its full name and where it lies.
#[derive(Debug)]
struct ChannelRef {
    /// `layer.channel`, or the channel name for the unnamed layer.
    name: String,
    /// Index of its part.
    part: usize,
    /// How it is stored.
    format: SampleFormat,
    /// Its part's data window.
    window: Rect,
}

/// The RGBA / Y channels picked from a file's channel list.
#[derive(Debug)]
struct Selection {
    base: BaseChannels,
    /// Indices into the channel list: R, G, B, A (Y in slot 0 for grey).
    /// `None` reads as 0 (colour) or is absent (alpha).
    slots: [Option<usize>; 4],
    /// The part whose window and attributes the image takes.
    main: usize,
    /// Sample format of the base channels.
    format: SampleFormat,
}

fn sample_format(t: SampleType) -> SampleFormat {
    match t {
        SampleType::U32 => SampleFormat::U32,
        SampleType::F16 => SampleFormat::F16,
        SampleType::F32 => SampleFormat::F32,
    }
}

/// The single format that holds all of `formats` (float if they differ).
fn widest(formats: impl Iterator<Item = SampleFormat>) -> Option<SampleFormat> {
    formats.reduce(|a, b| if a == b { a } else { SampleFormat::F32 })
}

fn rect(position: Vec2<i32>, size: Vec2<usize>) -> Rect {
    Rect {
        x: position.0,
        y: position.1,
        width: size.0 as u32,
        height: size.1 as u32,
    }
}

/// `part.channel`, unless the channel name already starts with the part name.
fn full_name(part: Option<&Text>, channel: &Text) -> String {
    let channel = channel.to_string();
    match part.map(Text::to_string) {
        Some(part) if !part.is_empty() && !channel.starts_with(&format!("{part}.")) => {
            format!("{part}.{channel}")
        }
        _ => channel,
    }
}

/// Layer and channel of a full name.
fn split_name(name: &str) -> (&str, &str) {
    name.rsplit_once('.').unwrap_or(("", name))
}

/// Every channel named in the headers, in file order.
fn channels_of_headers(headers: &[Header]) -> Vec<ChannelRef> {
    let mut out = Vec::new();
    for (part, header) in headers.iter().enumerate() {
        let window = rect(header.own_attributes.layer_position, header.layer_size);
        for channel in &header.channels.list {
            out.push(ChannelRef {
                name: full_name(header.own_attributes.layer_name.as_ref(), &channel.name),
                part,
                format: sample_format(channel.sample_type),
                window,
            });
        }
    }
    out
}

/// Picks the colour channels (see the module docs).
fn select(channels: &[ChannelRef]) -> Selection {
    let find = |layer: &str, channel: &str| {
        channels
            .iter()
            .position(|c| split_name(&c.name) == (layer, channel))
    };
    let is_colour = |layer: &str| {
        ["R", "G", "B", "Y"]
            .iter()
            .any(|c| find(layer, c).is_some())
    };
    let mut layers: Vec<&str> = Vec::new();
    for c in channels {
        let layer = split_name(&c.name).0;
        if !layers.contains(&layer) {
            layers.push(layer);
        }
    }
    let colour_layer = if is_colour("") {
        Some("")
    } else {
        layers
            .iter()
            .copied()
            .find(|l| {
                ["rgba", "rgb", "beauty", "main"].contains(&l.to_ascii_lowercase().as_str())
                    && is_colour(l)
            })
            .or_else(|| layers.iter().copied().find(|l| is_colour(l)))
    };
    let mut slots = [None; 4];
    let base = match colour_layer {
        Some(layer) => {
            slots[3] = find(layer, "A").or_else(|| find("", "A"));
            let rgb = [find(layer, "R"), find(layer, "G"), find(layer, "B")];
            if rgb.iter().any(Option::is_some) {
                slots[..3].copy_from_slice(&rgb);
                if slots[3].is_some() {
                    BaseChannels::Rgba
                } else {
                    BaseChannels::Rgb
                }
            } else {
                slots[0] = find(layer, "Y");
                if slots[3].is_some() {
                    BaseChannels::Ya
                } else {
                    BaseChannels::Y
                }
            }
        }
        None => {
            slots[3] = find("", "A");
            if slots[3].is_some() {
                BaseChannels::Ya
            } else {
                BaseChannels::Y
            }
        }
    };
    let used: Vec<&ChannelRef> = slots.iter().flatten().map(|&i| &channels[i]).collect();
    let main = used.first().map_or(0, |c| c.part);
    let format = widest(used.iter().map(|c| c.format))
        .or_else(|| widest(channels.iter().map(|c| c.format)))
        .unwrap_or(SampleFormat::F32);
    Selection {
        base,
        slots,
        main,
        format,
    }
}

/// Translates an `exr` error met while reading.
fn read_error(path: &Path, error: ExrError) -> IoError {
    match error {
        ExrError::Io(e) if e.kind() == ErrorKind::UnexpectedEof => {
            IoError::decode(path, "truncated file (unexpected end of data)")
        }
        ExrError::Io(e) => IoError::io(path, e),
        ExrError::NotSupported(m) => IoError::unsupported(path, format!("EXR feature: {m}")),
        ExrError::Invalid(m) => IoError::decode(path, format!("invalid EXR file: {m}")),
        ExrError::Aborted => IoError::decode(path, "reading was aborted"),
    }
}

/// Translates an `exr` error met while writing.
fn write_error(path: &Path, error: ExrError) -> IoError {
    match error {
        ExrError::Io(e) => IoError::io(path, e),
        other => IoError::encode(path, other.to_string()),
    }
}

/// Reads and checks the headers: sizes within the limits, nothing this
/// reader cannot do (deep data, subsampled channels). Returns the reader
/// rewound to the start for the pixel read.
fn read_headers(path: &Path) -> Result<(MetaData, BufReader<File>)> {
    let file = File::open(path).map_err(|e| IoError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let meta = MetaData::read_from_buffered(&mut reader, false).map_err(|e| read_error(path, e))?;
    if meta.headers.is_empty() {
        return Err(IoError::decode(path, "invalid EXR file: no headers"));
    }
    let mut samples = 0u64;
    for header in &meta.headers {
        if header.deep {
            return Err(IoError::unsupported(path, "deep EXR data"));
        }
        check_size(path, header.layer_size.0 as u64, header.layer_size.1 as u64)?;
        if let Some(c) = header
            .channels
            .list
            .iter()
            .find(|c| c.sampling != Vec2(1, 1))
        {
            return Err(IoError::unsupported(
                path,
                format!(
                    "subsampled channel '{}' ({}x{} sampling)",
                    c.name, c.sampling.0, c.sampling.1
                ),
            ));
        }
        let pixels = header.layer_size.0 as u64 * header.layer_size.1 as u64;
        samples = samples.saturating_add(pixels * header.channels.list.len() as u64);
    }
    if samples > MAX_SAMPLES {
        let h = &meta.headers[0];
        return Err(IoError::limits(
            path,
            morph_core::Error::Limits {
                width: h.layer_size.0 as u64,
                height: h.layer_size.1 as u64,
                reason: format!(
                    "{samples} samples in all channels and parts, at most {MAX_SAMPLES}"
                ),
            },
        ));
    }
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| IoError::io(path, e))?;
    Ok((meta, reader))
}

/// Name of an `exr` compression as used in `metadata.compression`.
fn compression_name(c: Compression) -> &'static str {
    match c {
        Compression::Uncompressed => "none",
        Compression::RLE => "rle",
        Compression::ZIP1 => "zips",
        Compression::ZIP16 => "zip",
        Compression::PIZ => "piz",
        Compression::PXR24 => "pxr24",
        Compression::B44 => "b44",
        Compression::B44A => "b44a",
        Compression::DWAA(_) => "dwaa",
        Compression::DWAB(_) => "dwab",
        Compression::HTJ2K32 => "htj2k32",
        Compression::HTJ2K256 => "htj2k256",
    }
}

fn to_exr_compression(c: ExrCompression) -> Compression {
    match c {
        ExrCompression::None => Compression::Uncompressed,
        ExrCompression::Rle => Compression::RLE,
        ExrCompression::Zips => Compression::ZIP1,
        ExrCompression::Zip => Compression::ZIP16,
        ExrCompression::Piz => Compression::PIZ,
        ExrCompression::Pxr24 => Compression::PXR24,
        ExrCompression::B44 => Compression::B44,
        ExrCompression::B44a => Compression::B44A,
        ExrCompression::Dwaa => Compression::DWAA(None),
        ExrCompression::Dwab => Compression::DWAB(None),
    }
}

fn display_window(header: &Header) -> Rect {
    let w = header.shared_attributes.display_window;
    rect(w.position, w.size)
}

/// Header facts without reading pixels.
pub(crate) fn probe(path: &Path) -> Result<ImageInfo> {
    catch_panics(path, || {
        let (meta, _) = read_headers(path)?;
        let channels = channels_of_headers(&meta.headers);
        let selection = select(&channels);
        let main = &meta.headers[selection.main];
        let data_window = rect(main.own_attributes.layer_position, main.layer_size);
        let mut layers: Vec<String> = Vec::new();
        for c in &channels {
            let layer = split_name(&c.name).0;
            if !layer.is_empty() && !layers.iter().any(|l| l == layer) {
                layers.push(layer.to_owned());
            }
        }
        // Colour channels first (as `Image::channel_names` lists them), then
        // the others in file order.
        let mut order: Vec<usize> = selection.slots.iter().flatten().copied().collect();
        order.extend((0..channels.len()).filter(|i| !selection.slots.contains(&Some(*i))));
        Ok(ImageInfo {
            format: FileFormat::Exr,
            width: data_window.width,
            height: data_window.height,
            channels: order.iter().map(|&i| channels[i].name.clone()).collect(),
            sample_format: selection.format,
            data_window,
            display_window: display_window(main),
            compression: Some(compression_name(main.compression).to_owned()),
            layers,
        })
    })
}

/// Samples of a channel as f32 (uint as its value).
fn samples_to_f32(samples: FlatSamples) -> Vec<f32> {
    match samples {
        FlatSamples::F32(v) => v,
        FlatSamples::F16(v) => v.into_iter().map(f16::to_f32).collect(),
        FlatSamples::U32(v) => v.into_iter().map(|x| x as f32).collect(),
    }
}

/// A plane over `from` placed into `to`: the overlap is copied, the rest
/// is 0.
fn fit_window(plane: Vec<f32>, from: Rect, to: Rect) -> Vec<f32> {
    if from == to {
        return plane;
    }
    let mut out = vec![0.0; to.width as usize * to.height as usize];
    let x0 = i64::from(from.x).max(i64::from(to.x));
    let x1 = from.max_x().min(to.max_x());
    let y0 = i64::from(from.y).max(i64::from(to.y));
    let y1 = from.max_y().min(to.max_y());
    if x0 <= x1 {
        for y in y0..=y1 {
            let src = (y - i64::from(from.y)) as usize * from.width as usize;
            let dst = (y - i64::from(to.y)) as usize * to.width as usize;
            let sx = (x0 - i64::from(from.x)) as usize;
            let dx = (x0 - i64::from(to.x)) as usize;
            let n = (x1 - x0 + 1) as usize;
            out[dst + dx..dst + dx + n].copy_from_slice(&plane[src + sx..src + sx + n]);
        }
    }
    out
}

/// Reads an EXR (see the module docs for the channel rules).
pub(crate) fn read(path: &Path) -> Result<Image> {
    catch_panics(path, || {
        let (meta, reader) = read_headers(path)?;
        let exr_image = ::exr::prelude::read()
            .no_deep_data()
            .largest_resolution_level()
            .all_channels()
            .all_layers()
            .all_attributes()
            .from_buffered(reader)
            .map_err(|e| read_error(path, e))?;
        if exr_image.layer_data.len() != meta.headers.len() {
            return Err(IoError::decode(
                path,
                "invalid EXR file: inconsistent parts",
            ));
        }

        // The channels as read, in the headers' order, with their samples.
        let mut channels = Vec::new();
        let mut samples = Vec::new();
        for (part, layer) in exr_image.layer_data.into_iter().enumerate() {
            let window = rect(layer.attributes.layer_position, layer.size);
            for channel in layer.channel_data.list {
                let format = match &channel.sample_data {
                    FlatSamples::F16(_) => SampleFormat::F16,
                    FlatSamples::F32(_) => SampleFormat::F32,
                    FlatSamples::U32(_) => SampleFormat::U32,
                };
                channels.push(ChannelRef {
                    name: full_name(layer.attributes.layer_name.as_ref(), &channel.name),
                    part,
                    format,
                    window,
                });
                samples.push(Some(channel.sample_data));
            }
        }
        let selection = select(&channels);
        let main = &meta.headers[selection.main];
        let data_window = rect(main.own_attributes.layer_position, main.layer_size);
        let (width, height) = (data_window.width, data_window.height);
        let n = width as usize * height as usize;

        let take_plane = |samples: &mut [Option<FlatSamples>], i: usize| -> Vec<f32> {
            let c = &channels[i];
            let plane = samples_to_f32(samples[i].take().expect("each channel taken once"));
            if c.window != data_window {
                tracing::warn!(
                    path = %path.display(),
                    "channel {} has data window {}, the colour channels {}: cropped/padded to fit",
                    c.name,
                    c.window,
                    data_window
                );
            }
            fit_window(plane, c.window, data_window)
        };
        let mut planes: [Option<Vec<f32>>; 4] = [None, None, None, None];
        for (slot, index) in selection.slots.iter().enumerate() {
            planes[slot] = index.map(|i| take_plane(&mut samples, i));
        }
        let zero = vec![0.0f32; n];
        let (r, g, b) = (
            planes[0].as_deref().unwrap_or(&zero),
            planes[1].as_deref().unwrap_or(&zero),
            planes[2].as_deref().unwrap_or(&zero),
        );
        let a = planes[3].as_deref();
        let pixels: Vec<[f32; 4]> = match selection.base {
            BaseChannels::Y | BaseChannels::Ya => (0..n)
                .map(|i| [r[i], r[i], r[i], a.map_or(1.0, |a| a[i])])
                .collect(),
            BaseChannels::Rgb | BaseChannels::Rgba => (0..n)
                .map(|i| [r[i], g[i], b[i], a.map_or(1.0, |a| a[i])])
                .collect(),
        };
        drop(planes);
        drop(zero);

        let mut image = Image::from_pixels(width, height, pixels);
        image.base = selection.base;
        image.data_window = data_window;
        image.display_window = display_window(main);
        image.metadata.format = Some(selection.format);
        image.metadata.compression = Some(compression_name(main.compression).to_owned());
        for (name, value) in main.all_named_attributes() {
            let name = String::from_utf8_lossy(name).into_owned();
            if STRUCTURAL.contains(&name.as_str()) {
                continue;
            }
            if let Some(text) = attribute_text(&value) {
                image.metadata.attributes.insert(name, text);
            }
        }
        for i in 0..channels.len() {
            if samples[i].is_some() {
                let data = take_plane(&mut samples, i);
                let c = &channels[i];
                image.extra.push(morph_core::ExtraChannel {
                    name: c.name.clone(),
                    format: c.format,
                    data,
                });
            }
        }
        Ok(image)
    })
}

/// Space-separated numbers.
fn join<T: ToString>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An attribute as text (see the module docs); `None` for binary ones.
fn attribute_text(value: &AttributeValue) -> Option<String> {
    use AttributeValue as A;
    Some(match value {
        A::Text(t) => t.to_string(),
        A::TextVector(v) => v.iter().map(Text::to_string).collect::<Vec<_>>().join(","),
        A::F32(v) => v.to_string(),
        A::F64(v) => v.to_string(),
        A::I32(v) => v.to_string(),
        A::Rational((n, d)) => format!("{n}/{d}"),
        A::IntVec2(v) => join([v.0, v.1]),
        A::FloatVec2(v) => join([v.0, v.1]),
        A::IntVec3((a, b, c)) => join([a, b, c]),
        A::FloatVec3((a, b, c)) => join([a, b, c]),
        A::IntegerBounds(b) => join([
            i64::from(b.position.0),
            i64::from(b.position.1),
            i64::from(b.position.0) + b.size.0 as i64 - 1,
            i64::from(b.position.1) + b.size.1 as i64 - 1,
        ]),
        A::FloatRect(r) => join([r.min.0, r.min.1, r.max.0, r.max.1]),
        A::Matrix3x3(m) => join(m.iter()),
        A::Matrix4x4(m) => join(m.iter()),
        A::Chromaticities(c) => join([
            c.red.0, c.red.1, c.green.0, c.green.1, c.blue.0, c.blue.1, c.white.0, c.white.1,
        ]),
        A::TimeCode(t) => format_time_code(t),
        _ => return None,
    })
}

/// `HH:MM:SS:FF` (`HH:MM:SS;FF` for drop-frame).
pub(crate) fn format_time_code(t: &TimeCode) -> String {
    let sep = if t.drop_frame { ';' } else { ':' };
    format!(
        "{:02}:{:02}:{:02}{sep}{:02}",
        t.hours, t.minutes, t.seconds, t.frame
    )
}

/// Parses [`format_time_code`]'s output.
pub(crate) fn parse_time_code(text: &str) -> Option<TimeCode> {
    let drop_frame = text.contains(';');
    let parts: Vec<u8> = text
        .split([':', ';'])
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds, frame] = parts[..] else {
        return None;
    };
    (hours < 24 && minutes < 60 && seconds < 60 && frame < 60).then_some(TimeCode {
        hours,
        minutes,
        seconds,
        frame,
        drop_frame,
        ..TimeCode::default()
    })
}

fn parse_numbers<const N: usize>(text: &str) -> Option<[f32; N]> {
    let values: Vec<f32> = text
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    values.try_into().ok()
}

fn parse_rational(text: &str) -> Option<(i32, u32)> {
    match text.split_once('/') {
        Some((n, d)) => Some((n.trim().parse().ok()?, d.trim().parse().ok()?)),
        None => Some((text.trim().parse().ok()?, 1)),
    }
}

/// Sets one attribute from its text: standard attributes get their typed
/// field (an unparsable value is skipped with a warning), others become
/// string attributes.
fn apply_attribute(
    path: &Path,
    name: &str,
    text: &str,
    layer: &mut LayerAttributes,
    image: &mut ImageAttributes,
) {
    if STRUCTURAL.contains(&name) {
        return;
    }
    let f = || text.trim().parse::<f32>().ok();
    let t = || Text::new_or_none(text);
    let v2 = || parse_numbers::<2>(text).map(|[a, b]| Vec2(a, b));
    let ok = match name {
        "pixelAspectRatio" => f().map(|v| image.pixel_aspect = v).is_some(),
        "timeCode" => parse_time_code(text)
            .map(|v| image.time_code = Some(v))
            .is_some(),
        "chromaticities" => parse_numbers::<8>(text)
            .map(|c| {
                image.chromaticities = Some(Chromaticities {
                    red: Vec2(c[0], c[1]),
                    green: Vec2(c[2], c[3]),
                    blue: Vec2(c[4], c[5]),
                    white: Vec2(c[6], c[7]),
                });
            })
            .is_some(),
        "screenWindowCenter" => v2().map(|v| layer.screen_window_center = v).is_some(),
        "screenWindowWidth" => f().map(|v| layer.screen_window_width = v).is_some(),
        "adoptedNeutral" => v2().map(|v| layer.adopted_neutral = Some(v)).is_some(),
        "framesPerSecond" => parse_rational(text)
            .map(|v| layer.frames_per_second = Some(v))
            .is_some(),
        "worldToCamera" => parse_numbers::<16>(text)
            .map(|m| layer.world_to_camera = Some(m))
            .is_some(),
        "worldToNDC" => parse_numbers::<16>(text)
            .map(|m| layer.world_to_normalized_device = Some(m))
            .is_some(),
        "originalDataWindow" => parse_numbers::<4>(text)
            .filter(|b| b[2] >= b[0] && b[3] >= b[1])
            .map(|b| {
                layer.original_data_window = Some(IntegerBounds::new(
                    Vec2(b[0] as i32, b[1] as i32),
                    Vec2((b[2] - b[0] + 1.0) as usize, (b[3] - b[1] + 1.0) as usize),
                ));
            })
            .is_some(),
        "multiView" => text
            .split(',')
            .map(Text::new_or_none)
            .collect::<Option<Vec<_>>>()
            .map(|v| layer.multi_view_names = Some(v))
            .is_some(),
        "whiteLuminance" => f().map(|v| layer.white_luminance = Some(v)).is_some(),
        "xDensity" => f().map(|v| layer.horizontal_density = Some(v)).is_some(),
        "utcOffset" => f().map(|v| layer.utc_offset = Some(v)).is_some(),
        "longitude" => f().map(|v| layer.longitude = Some(v)).is_some(),
        "latitude" => f().map(|v| layer.latitude = Some(v)).is_some(),
        "altitude" => f().map(|v| layer.altitude = Some(v)).is_some(),
        "focus" => f().map(|v| layer.focus = Some(v)).is_some(),
        "expTime" => f().map(|v| layer.exposure = Some(v)).is_some(),
        "aperture" => f().map(|v| layer.aperture = Some(v)).is_some(),
        "isoSpeed" => f().map(|v| layer.iso_speed = Some(v)).is_some(),
        "near" => f().map(|v| layer.near_clip_plane = Some(v)).is_some(),
        "far" => f().map(|v| layer.far_clip_plane = Some(v)).is_some(),
        "fieldOfViewHorizontal" => f()
            .map(|v| layer.horizontal_field_of_view = Some(v))
            .is_some(),
        "fieldOfViewVertical" => f()
            .map(|v| layer.vertical_field_of_view = Some(v))
            .is_some(),
        "renderingTransform" => t()
            .map(|v| layer.rendering_transform_name = Some(v))
            .is_some(),
        "lookModTransform" => t()
            .map(|v| layer.look_modification_transform_name = Some(v))
            .is_some(),
        "owner" => t().map(|v| layer.owner = Some(v)).is_some(),
        "comments" => t().map(|v| layer.comments = Some(v)).is_some(),
        "capDate" => t().map(|v| layer.capture_date = Some(v)).is_some(),
        "wrapmodes" => t().map(|v| layer.wrap_mode_name = Some(v)).is_some(),
        "view" => t().map(|v| layer.view_name = Some(v)).is_some(),
        "software" => t().map(|v| layer.software_name = Some(v)).is_some(),
        _ => match (Text::new_or_none(name), t()) {
            (Some(name), Some(value)) if !name.as_slice().is_empty() => {
                layer.other.insert(name, AttributeValue::Text(value));
                true
            }
            _ => false,
        },
    };
    if !ok {
        tracing::warn!(
            path = %path.display(),
            "attribute {name} = {text:?} cannot be written to EXR; skipped"
        );
    }
}

/// Converts samples to the stored type; uint refuses NaN (naming the pixel)
/// and clamps to `0..=u32::MAX`.
fn to_samples(
    path: &Path,
    name: &str,
    width: u32,
    values: impl ExactSizeIterator<Item = f32>,
    format: SampleFormat,
) -> Result<FlatSamples> {
    Ok(match format {
        SampleFormat::F16 => FlatSamples::F16(values.map(f16::from_f32).collect()),
        SampleFormat::U32 => {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.enumerate() {
                if v.is_nan() {
                    return Err(IoError::NonFinite {
                        path: path.to_owned(),
                        cause: morph_core::Error::NonFinite {
                            x: (i % width as usize) as u32,
                            y: (i / width as usize) as u32,
                            channel: name.to_owned(),
                            value: v,
                        },
                    });
                }
                out.push(v.clamp(0.0, u32::MAX as f32).round() as u32);
            }
            FlatSamples::U32(out)
        }
        _ => FlatSamples::F32(values.collect()),
    })
}

/// Writes a single-part scan-line EXR (see the module docs).
pub(crate) fn write(
    path: &Path,
    image: &Image,
    sample_format: SampleFormat,
    compression: ExrCompression,
) -> Result<()> {
    let width = image.width();
    let mut list: SmallVec<[AnyChannel<FlatSamples>; 4]> = SmallVec::new();
    let mut names: Vec<&str> = Vec::new();
    for &(plane, name) in base_planes(image.base) {
        let values = image.pixels().iter().map(|p| p[plane]);
        list.push(AnyChannel::new(
            name,
            to_samples(path, name, width, values, sample_format)?,
        ));
        names.push(name);
    }
    for extra in &image.extra {
        if names.contains(&extra.name.as_str()) {
            tracing::warn!(
                path = %path.display(),
                "extra channel {} has the name of a colour channel; not written",
                extra.name
            );
            continue;
        }
        let text = Text::new_or_none(&extra.name)
            .filter(|t| !t.as_slice().is_empty())
            .ok_or_else(|| {
                IoError::unsupported(
                    path,
                    format!("channel name {:?} cannot be stored in EXR", extra.name),
                )
            })?;
        if extra.data.len() != image.pixels().len() {
            return Err(IoError::encode(
                path,
                format!("extra channel {} has the wrong size", extra.name),
            ));
        }
        let format = match extra.format {
            SampleFormat::F16 | SampleFormat::U8 | SampleFormat::U10 => SampleFormat::F16,
            SampleFormat::U32 => SampleFormat::U32,
            SampleFormat::F32 | SampleFormat::U16 => SampleFormat::F32,
        };
        let values = extra.data.iter().copied();
        list.push(AnyChannel::new(
            text,
            to_samples(path, &extra.name, width, values, format)?,
        ));
        names.push(&extra.name);
    }

    let dw = image.data_window;
    let disp = image.display_window;
    if (dw.width, dw.height) != (image.width(), image.height()) {
        return Err(IoError::encode(
            path,
            format!(
                "data window {dw} does not match the image size {}",
                image.size()
            ),
        ));
    }
    let mut layer_attributes = LayerAttributes {
        layer_position: Vec2(dw.x, dw.y),
        ..LayerAttributes::default()
    };
    let mut image_attributes = ImageAttributes::new(IntegerBounds::new(
        Vec2(disp.x, disp.y),
        Vec2(disp.width as usize, disp.height as usize),
    ));
    for (name, text) in &image.metadata.attributes {
        apply_attribute(
            path,
            name,
            text,
            &mut layer_attributes,
            &mut image_attributes,
        );
    }
    let layer = Layer::new(
        Vec2(dw.width as usize, dw.height as usize),
        layer_attributes,
        Encoding {
            compression: to_exr_compression(compression),
            blocks: Blocks::ScanLines,
            line_order: LineOrder::Increasing,
        },
        AnyChannels::sort(list),
    );
    let exr_image = ::exr::image::Image {
        attributes: image_attributes,
        layer_data: layer,
    };
    write_atomic(path, |w| {
        catch_panics(path, || {
            let encoding = exr_image.layer_data.encoding;
            if super::exr_zip::handles(encoding.compression, encoding.blocks, encoding.line_order) {
                super::exr_zip::write(&exr_image, w)
            } else {
                exr_image.write().to_buffered(w)
            }
            .map_err(|e| write_error(path, e))
        })
        .map_err(|e| match e {
            IoError::Decode { path, message } => IoError::Encode { path, message },
            other => other,
        })
    })
}

#[cfg(test)]
mod tests {
    use morph_core::test_support::random_image;

    use super::super::test_util::{assert_close, ramp};
    use super::super::{WriteOptions, probe, read_image, write_image};
    use super::*;

    fn options(sample_format: SampleFormat, exr_compression: ExrCompression) -> WriteOptions {
        WriteOptions {
            sample_format: Some(sample_format),
            exr_compression,
        }
    }

    /// A float image with values a half cannot hold exactly, negatives and
    /// values above 1.
    fn wide_image(width: u32, height: u32) -> Image {
        let mut image = random_image(width, height, 11, -3.0, 40.0);
        image.pixels_mut()[0] = [0.1, -0.0, 1e-8, 70000.0];
        image
    }

    #[test]
    fn float_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("float.exr");
        let image = wide_image(37, 21);
        write_image(
            &path,
            &image,
            &options(SampleFormat::F32, ExrCompression::Zip),
        )
        .unwrap();
        let back = read_image(&path).unwrap();
        assert_eq!(back.pixels(), image.pixels());
        assert_eq!(back.base, BaseChannels::Rgba);
        assert_eq!(back.channel_names(), ["R", "G", "B", "A"]);
        assert_eq!(back.metadata.format, Some(SampleFormat::F32));
        assert_eq!(back.metadata.compression.as_deref(), Some("zip"));
        assert_eq!(back.data_window, image.data_window);
        assert_eq!(back.display_window, image.display_window);
    }

    #[test]
    fn half_round_trip_rounds_to_half() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("half.exr");
        let image = wide_image(16, 9);
        write_image(
            &path,
            &image,
            &options(SampleFormat::F16, ExrCompression::Piz),
        )
        .unwrap();
        let back = read_image(&path).unwrap();
        assert_eq!(back.metadata.format, Some(SampleFormat::F16));
        assert_eq!(back.metadata.compression.as_deref(), Some("piz"));
        for (a, e) in back.pixels().iter().zip(image.pixels()) {
            for c in 0..4 {
                assert_eq!(a[c], f16::from_f32(e[c]).to_f32());
            }
        }
        // 70000 is over half's range: it becomes infinity, as in OpenEXR.
        assert_eq!(back.pixel(0, 0)[3], f32::INFINITY);
        // Writing it again with the default keeps half.
        write_image(&path, &back, &WriteOptions::default()).unwrap();
        let again = read_image(&path).unwrap();
        assert_eq!(again.metadata.format, Some(SampleFormat::F16));
        assert_eq!(again.pixels(), back.pixels());
    }

    #[test]
    fn uint_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.exr");
        let mut image = Image::from_pixels(
            2,
            1,
            vec![[0.0, 1.0, 123456.0, 7.4], [-5.0, 3.5, 16777216.0, 2.0]],
        );
        image.base = BaseChannels::Rgba;
        write_image(
            &path,
            &image,
            &options(SampleFormat::U32, ExrCompression::Rle),
        )
        .unwrap();
        let back = read_image(&path).unwrap();
        assert_eq!(back.metadata.format, Some(SampleFormat::U32));
        assert_eq!(back.pixel(0, 0), [0.0, 1.0, 123456.0, 7.0]);
        assert_eq!(back.pixel(1, 0), [0.0, 4.0, 16777216.0, 2.0]);
        image.pixels_mut()[1][1] = f32::NAN;
        let err = write_image(
            &path,
            &image,
            &options(SampleFormat::U32, ExrCompression::Rle),
        )
        .unwrap_err();
        assert!(matches!(err, IoError::NonFinite { .. }), "{err}");
    }

    #[test]
    fn multi_layer_windows_and_every_compression() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (45u32, 33u32);
        let mut image = wide_image(w, h);
        image.data_window = Rect {
            x: -7,
            y: 5,
            width: w,
            height: h,
        };
        image.display_window = Rect {
            x: 0,
            y: 0,
            width: 40,
            height: 30,
        };
        let n = (w * h) as usize;
        let ramp = |k: f32| (0..n).map(|i| i as f32 * k - 3.0).collect::<Vec<_>>();
        image.set_extra_channel("forward.u", SampleFormat::F32, ramp(0.37));
        image.set_extra_channel("forward.v", SampleFormat::F32, ramp(-0.11));
        image.set_extra_channel("diffuse.R", SampleFormat::F16, ramp(0.5));
        image.set_extra_channel("Z", SampleFormat::F32, ramp(1.25));
        image
            .metadata
            .attributes
            .insert("owner".into(), "morph tests".into());

        for compression in ExrCompression::ALL {
            for format in [SampleFormat::F16, SampleFormat::F32] {
                let path = dir
                    .path()
                    .join(format!("layers-{compression}-{}.exr", format.name()));
                write_image(&path, &image, &options(format, compression)).unwrap();
                let back = read_image(&path).unwrap();
                let what = format!("{compression} {}", format.name());
                assert_eq!(back.data_window, image.data_window, "{what}");
                assert_eq!(back.display_window, image.display_window, "{what}");
                assert_eq!(back.base, BaseChannels::Rgba, "{what}");
                assert_eq!(back.metadata.format, Some(format), "{what}");
                assert_eq!(
                    back.metadata.compression.as_deref(),
                    Some(compression.name())
                );
                assert_eq!(back.metadata.attributes["owner"], "morph tests");
                let mut names: Vec<&str> = back.extra.iter().map(|c| c.name.as_str()).collect();
                names.sort_unstable();
                assert_eq!(
                    names,
                    ["Z", "diffuse.R", "forward.u", "forward.v"],
                    "{what}"
                );
                assert_eq!(
                    back.extra_channel("diffuse.R").unwrap().format,
                    SampleFormat::F16
                );
                assert_eq!(back.extra_channel("Z").unwrap().format, SampleFormat::F32);

                let info = probe(&path).unwrap();
                assert_eq!(info.layers, ["diffuse", "forward"], "{what}");
                assert_eq!(info.data_window, image.data_window);
                assert_eq!(info.sample_format, format);

                let exact_float = compression.is_lossless();
                let lossless_half = exact_float || compression == ExrCompression::Pxr24;
                let expected_rgba = |e: f32| match format {
                    SampleFormat::F16 => f16::from_f32(e).to_f32(),
                    _ => e,
                };
                if (format == SampleFormat::F32 && exact_float)
                    || (format == SampleFormat::F16 && lossless_half)
                {
                    for (a, e) in back.pixels().iter().zip(image.pixels()) {
                        for c in 0..4 {
                            assert_eq!(a[c], expected_rgba(e[c]), "{what}");
                        }
                    }
                }
                if exact_float {
                    let z = back.extra_channel("Z").unwrap();
                    assert_eq!(z.data, image.extra_channel("Z").unwrap().data, "{what}");
                } else {
                    // Lossy: values stay in the right neighbourhood.
                    let z = back.extra_channel("forward.u").unwrap();
                    let e = &image.extra_channel("forward.u").unwrap().data;
                    for (a, e) in z.data.iter().zip(e) {
                        assert!(
                            (a - e).abs() <= 0.02 * e.abs().max(1.0),
                            "{what}: {a} vs {e}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn grey_and_missing_alpha_stay_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        for base in [
            BaseChannels::Y,
            BaseChannels::Ya,
            BaseChannels::Rgb,
            BaseChannels::Rgba,
        ] {
            let path = dir.path().join(format!("{base:?}.exr"));
            let image = ramp(9, 4, base);
            write_image(&path, &image, &WriteOptions::default()).unwrap();
            let back = read_image(&path).unwrap();
            assert_eq!(back.base, base);
            assert_eq!(back.channel_names(), base.names());
            assert_close(&back, &image, 0.0);
            assert_eq!(probe(&path).unwrap().channels, base.names());
        }
    }

    /// Writes a file straight through the `exr` crate (layouts our writer
    /// never makes).
    /// A part for [`write_raw`]: its name and its channels.
    type RawPart<'a> = (Option<&'a str>, Vec<(&'a str, FlatSamples)>);

    fn write_raw(path: &Path, layers: Vec<RawPart<'_>>, size: usize) {
        let layers: SmallVec<[Layer<AnyChannels<FlatSamples>>; 2]> = layers
            .into_iter()
            .map(|(name, channels)| {
                let attributes = match name {
                    Some(name) => LayerAttributes::named(name),
                    None => LayerAttributes::default(),
                };
                let list = channels
                    .into_iter()
                    .map(|(n, s)| AnyChannel::new(n, s))
                    .collect();
                Layer::new(
                    Vec2(size, size),
                    attributes,
                    Encoding::FAST_LOSSLESS,
                    AnyChannels::sort(list),
                )
            })
            .collect();
        let image =
            ::exr::image::Image::from_layers(ImageAttributes::with_size(Vec2(size, size)), layers);
        image.write().to_file(path).unwrap();
    }

    #[test]
    fn colour_in_a_named_layer_and_multi_part_files() {
        let dir = tempfile::tempdir().unwrap();
        let n = 16;
        let v = |x: f32| FlatSamples::F32(vec![x; n]);

        // Single part, colour only in a layer.
        let path = dir.path().join("beauty.exr");
        write_raw(
            &path,
            vec![(
                None,
                vec![
                    ("beauty.R", v(0.25)),
                    ("beauty.G", v(0.5)),
                    ("beauty.B", v(0.75)),
                    ("depth.Z", v(9.0)),
                    ("aaa.R", v(0.1)),
                ],
            )],
            4,
        );
        let image = read_image(&path).unwrap();
        assert_eq!(image.base, BaseChannels::Rgb);
        assert_eq!(image.pixel(0, 0), [0.25, 0.5, 0.75, 1.0]);
        let extras: Vec<&str> = image.extra.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(extras, ["aaa.R", "depth.Z"]);

        // Multi-part: RGBA in the unnamed part, a depth part, a part whose
        // channel names already carry the layer.
        let path = dir.path().join("parts.exr");
        write_raw(
            &path,
            vec![
                (
                    Some("rgba"),
                    vec![("R", v(1.0)), ("G", v(2.0)), ("B", v(3.0)), ("A", v(0.5))],
                ),
                (
                    Some("depth"),
                    vec![("Z", FlatSamples::F16(vec![f16::from_f32(4.0); n]))],
                ),
                (
                    Some("forward"),
                    vec![("forward.u", v(5.0)), ("forward.v", v(6.0))],
                ),
            ],
            4,
        );
        let image = read_image(&path).unwrap();
        assert_eq!(image.base, BaseChannels::Rgba);
        assert_eq!(image.pixel(3, 3), [1.0, 2.0, 3.0, 0.5]);
        let extras: Vec<(&str, SampleFormat)> = image
            .extra
            .iter()
            .map(|c| (c.name.as_str(), c.format))
            .collect();
        assert_eq!(
            extras,
            [
                ("depth.Z", SampleFormat::F16),
                ("forward.u", SampleFormat::F32),
                ("forward.v", SampleFormat::F32)
            ]
        );
        assert_eq!(image.extra_channel("depth.Z").unwrap().data, vec![4.0; n]);
        let info = probe(&path).unwrap();
        assert_eq!(info.layers, ["rgba", "depth", "forward"]);

        // No colour at all: black Y plus the channels as extras.
        let path = dir.path().join("vectors.exr");
        write_raw(
            &path,
            vec![(None, vec![("forward.u", v(1.5)), ("forward.v", v(-2.0))])],
            4,
        );
        let image = read_image(&path).unwrap();
        assert_eq!(image.base, BaseChannels::Y);
        assert_eq!(image.pixel(1, 1), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(
            image.extra_channel("forward.v").unwrap().data,
            vec![-2.0; n]
        );
        assert_eq!(image.metadata.format, Some(SampleFormat::F32));

        // Y with a chroma-free luminance layout and a uint ID channel.
        let path = dir.path().join("luma.exr");
        write_raw(
            &path,
            vec![(
                None,
                vec![("Y", v(0.3)), ("id", FlatSamples::U32(vec![42; n]))],
            )],
            4,
        );
        let image = read_image(&path).unwrap();
        assert_eq!(image.base, BaseChannels::Y);
        assert_eq!(image.pixel(0, 0), [0.3, 0.3, 0.3, 1.0]);
        let id = image.extra_channel("id").unwrap();
        assert_eq!((id.format, id.data[0]), (SampleFormat::U32, 42.0));
        // ...and it writes back as uint.
        let out = dir.path().join("luma2.exr");
        write_image(&out, &image, &WriteOptions::default()).unwrap();
        let again = read_image(&out).unwrap();
        assert_eq!(again.extra_channel("id").unwrap().format, SampleFormat::U32);
        assert_eq!(again.metadata.format, Some(SampleFormat::F32));
    }

    #[test]
    fn parts_with_other_windows_are_fitted_to_the_colour_part() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("windows.exr");
        let part = |name: &str, position: (i32, i32), size: usize, channel: &str, value: f32| {
            let mut attributes = LayerAttributes::named(name);
            attributes.layer_position = Vec2(position.0, position.1);
            let list = SmallVec::from_vec(vec![AnyChannel::new(
                channel,
                FlatSamples::F32(vec![value; size * size]),
            )]);
            Layer::new(
                Vec2(size, size),
                attributes,
                Encoding::SMALL_LOSSLESS,
                AnyChannels::sort(list),
            )
        };
        let layers: SmallVec<[Layer<AnyChannels<FlatSamples>>; 2]> = SmallVec::from_vec(vec![
            part("mask", (2, 2), 2, "A", 0.5),
            part("", (0, 0), 4, "Y", 0.25),
        ]);
        let image =
            ::exr::image::Image::from_layers(ImageAttributes::with_size(Vec2(4, 4)), layers);
        image.write().to_file(&path).unwrap();

        let image = read_image(&path).unwrap();
        assert_eq!(image.base, BaseChannels::Y);
        assert_eq!(image.data_window, Rect::from_size(4, 4));
        let mask = image.extra_channel("mask.A").unwrap();
        #[rustfmt::skip]
        assert_eq!(mask.data, [
            0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.5, 0.5,
            0.0, 0.0, 0.5, 0.5,
        ]);
        assert_eq!(probe(&path).unwrap().data_window, Rect::from_size(4, 4));
    }

    #[test]
    fn attributes_round_trip_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attrs.exr");
        let mut image = ramp(4, 4, BaseChannels::Rgba);
        let attrs = [
            ("owner", "someone"),
            ("comments", "plate v2"),
            ("framesPerSecond", "24000/1001"),
            ("timeCode", "01:02:03:04"),
            ("pixelAspectRatio", "2"),
            ("screenWindowCenter", "0.5 -0.25"),
            ("chromaticities", "0.64 0.33 0.3 0.6 0.15 0.06 0.3127 0.329"),
            ("worldToCamera", "1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1"),
            ("nuke/node_hash", "abc123"),
            ("dpx:transfer", "2"),
        ];
        for (k, v) in attrs {
            image.metadata.attributes.insert(k.into(), v.into());
        }
        write_image(&path, &image, &WriteOptions::default()).unwrap();
        let back = read_image(&path).unwrap();
        for (k, v) in attrs {
            assert_eq!(
                back.metadata.attributes.get(k).map(String::as_str),
                Some(v),
                "{k}"
            );
        }
        // Written with their standard types: the exr crate sees them typed.
        let meta = MetaData::read_from_file(&path, false).unwrap();
        let header = &meta.headers[0];
        assert_eq!(header.own_attributes.frames_per_second, Some((24000, 1001)));
        assert_eq!(header.shared_attributes.pixel_aspect, 2.0);
        assert_eq!(header.shared_attributes.time_code.unwrap().frame, 4);
        assert!(!back.metadata.attributes.contains_key("dataWindow"));
    }

    /// Offset of an attribute's value in a file (`name` includes its NUL).
    fn attribute_offset(bytes: &[u8], name: &[u8]) -> usize {
        let pos = bytes
            .windows(name.len())
            .position(|w| w == name)
            .expect("attribute present");
        // name\0 type\0 size(4) value
        let type_start = pos + name.len();
        let type_len = bytes[type_start..].iter().position(|&b| b == 0).unwrap();
        type_start + type_len + 1 + 4
    }

    #[test]
    fn hostile_header_is_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.exr");
        write_image(
            &path,
            &ramp(8, 8, BaseChannels::Rgb),
            &WriteOptions::default(),
        )
        .unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let at = attribute_offset(&bytes, b"dataWindow\0");
        // box2i: xMin, yMin, xMax, yMax
        bytes[at + 8..at + 12].copy_from_slice(&99_999i32.to_le_bytes());
        bytes[at + 12..at + 16].copy_from_slice(&99_999i32.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        for err in [read_image(&path).unwrap_err(), probe(&path).unwrap_err()] {
            assert!(matches!(err, IoError::Limits { .. }), "{err:?}");
            assert!(err.to_string().contains("100000x100000"), "{err}");
        }
    }

    #[test]
    fn truncated_and_corrupt_files_are_decode_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.exr");
        write_image(&path, &wide_image(64, 64), &WriteOptions::default()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let expect_decode_error = |what: &str| match read_image(&path) {
            Ok(_) => panic!("{what}: read without error"),
            Err(err) => {
                assert!(matches!(err, IoError::Decode { .. }), "{what}: {err:?}");
                assert!(err.to_string().contains("cut.exr"), "{err}");
            }
        };
        for keep in [bytes.len() - 1, bytes.len() / 2, 400, 20, 4] {
            std::fs::write(&path, &bytes[..keep]).unwrap();
            expect_decode_error(&format!("cut at {keep}"));
        }
        // An unknown compression code in the header.
        let mut bad = bytes.clone();
        let at = attribute_offset(&bad, b"compression\0");
        bad[at] = 0x55;
        std::fs::write(&path, &bad).unwrap();
        expect_decode_error("compression 0x55");
        // An offset table pointing past the end of the file. The table
        // (4 chunks: 64 lines of 16-line ZIP blocks) starts where its first
        // entry, the first chunk's offset, points just past it.
        let mut bad = bytes.clone();
        let table = (0..bad.len() - 8)
            .find(|&t| u64::from_le_bytes(bad[t..t + 8].try_into().unwrap()) == (t + 32) as u64)
            .expect("offset table found");
        bad[table..table + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        std::fs::write(&path, &bad).unwrap();
        expect_decode_error("bad offset table");
    }

    #[test]
    fn fit_window_crops_and_pads() {
        let from = Rect {
            x: 1,
            y: 1,
            width: 2,
            height: 2,
        };
        let to = Rect::from_size(3, 3);
        let out = fit_window(vec![1.0, 2.0, 3.0, 4.0], from, to);
        assert_eq!(out, [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0]);
        let back = fit_window(out, to, from);
        assert_eq!(back, [1.0, 2.0, 3.0, 4.0]);
        let far = Rect {
            x: 10,
            y: 10,
            width: 1,
            height: 1,
        };
        assert_eq!(fit_window(vec![5.0], far, to), vec![0.0; 9]);
    }

    #[test]
    fn time_codes_parse() {
        let t = parse_time_code("10:59:58;29").unwrap();
        assert!(t.drop_frame);
        assert_eq!(format_time_code(&t), "10:59:58;29");
        assert!(parse_time_code("25:00:00:00").is_none());
        assert!(parse_time_code("1:2:3").is_none());
    }
}
