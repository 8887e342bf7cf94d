//! `morph-render info`: what a sequence holds.

use anyhow::Context;
use morph_io::format;
use morph_io::sequence::{self, FrameRange, MissingPolicy};
use serde_json::json;

use crate::Failure;
use crate::args::{Global, InfoArgs};
use crate::render::parse_pattern;

/// Prints the frames on disk and the first frame's header; with `--json` one
/// JSON object.
pub fn run(global: &Global, args: &InfoArgs) -> Result<(), Failure> {
    let pattern = parse_pattern(&args.input)?;
    let on_disk = if pattern.is_single_file() {
        Vec::new()
    } else {
        sequence::discover(&pattern)?
    };
    let range = args
        .frames
        .as_deref()
        .map(FrameRange::parse)
        .transpose()
        .context("--frames")?;
    let planned = sequence::plan(&pattern, range.as_ref(), MissingPolicy::Skip)?;
    let first = planned.first().context("no frames")?;
    let info = format::probe(&first.path)?;
    let missing: Vec<i64> = match &range {
        Some(r) => {
            let have: std::collections::HashSet<i64> = planned.iter().map(|f| f.frame).collect();
            r.frames()
                .into_iter()
                .filter(|f| !have.contains(f))
                .collect()
        }
        None => Vec::new(),
    };
    let frames_text = if pattern.is_single_file() {
        "single file".to_owned()
    } else {
        let list: Vec<i64> = planned.iter().map(|f| f.frame).collect();
        compact_ranges(&list)
    };
    if global.json {
        let value = json!({
            "pattern": pattern.to_string(),
            "frames": planned.iter().map(|f| f.frame).collect::<Vec<_>>(),
            "frames_on_disk": on_disk.len(),
            "missing": missing,
            "format": info.format.name(),
            "width": info.width,
            "height": info.height,
            "channels": info.channels,
            "layers": info.layers,
            "sample_format": info.sample_format.name(),
            "compression": info.compression,
            "data_window": window_json(&info.data_window),
            "display_window": window_json(&info.display_window),
        });
        println!("{value}");
        return Ok(());
    }
    println!("pattern:        {pattern}");
    println!("frames:         {frames_text} ({} found)", planned.len());
    if !missing.is_empty() {
        println!("missing:        {}", compact_ranges(&missing));
    }
    println!("format:         {}", info.format.name());
    println!("size:           {}x{}", info.width, info.height);
    println!("channels:       {}", info.channels.join(", "));
    if !info.layers.is_empty() {
        println!("layers:         {}", info.layers.join(", "));
    }
    println!("sample format:  {}", info.sample_format.name());
    if let Some(c) = &info.compression {
        println!("compression:    {c}");
    }
    println!("data window:    {}", info.data_window);
    println!("display window: {}", info.display_window);
    Ok(())
}

fn window_json(r: &morph_core::Rect) -> serde_json::Value {
    json!({"min_x": r.x, "min_y": r.y, "max_x": r.max_x(), "max_y": r.max_y()})
}

/// `1001-1004,1006,1008-1010` from a sorted frame list.
fn compact_ranges(frames: &[i64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let start = frames[i];
        let mut end = start;
        while i + 1 < frames.len() && frames[i + 1] == end + 1 {
            i += 1;
            end = frames[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::compact_ranges;

    #[test]
    fn compacts() {
        assert_eq!(compact_ranges(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
        assert_eq!(compact_ranges(&[-2, -1, 0]), "-2-0");
        assert_eq!(compact_ranges(&[]), "");
    }
}
