//! `morph-render stmap`: the STMap node over a sequence.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use morph::{BackendKind, Engine};
use morph_core::ops::stmap::{Geometry, PreparedStMap, StMapInputs};
use morph_core::params::{FramingMode, RepeatMode, StMapFilter, StMapParams};
use morph_core::{Image, SampleFormat};
use morph_io::sequence;

use crate::Failure;
use crate::args::{FilterArg, FramingArg, Global, RepeatArg, StmapArgs};
use crate::events::Event;
use crate::render::{self, FrameOutput, LoopSettings};

fn repeat(r: RepeatArg) -> RepeatMode {
    match r {
        RepeatArg::Off => RepeatMode::Off,
        RepeatArg::Mirrored => RepeatMode::Mirrored,
        RepeatArg::Tiled => RepeatMode::Tiled,
        RepeatArg::Last => RepeatMode::Last,
    }
}

/// Parses `X,Y` into two floats.
pub fn pair(flag: &str, text: &str) -> anyhow::Result<(f32, f32)> {
    let (x, y) = text
        .split_once(',')
        .with_context(|| format!("{flag} {text}: expected X,Y"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<f32>()
            .with_context(|| format!("{flag} {text}: expected two numbers X,Y"))
    };
    Ok((parse(x)?, parse(y)?))
}

/// Reads an STMap and checks its sample format (SPEC §3: 32-bit float; half
/// accepted with a warning; integer maps are too coarse and refused).
fn read_stmap(path: &std::path::Path, json: bool) -> anyhow::Result<Image> {
    let map = morph_io::format::read_image(path)?;
    match map.metadata.format {
        Some(SampleFormat::F32) | None => {}
        Some(SampleFormat::F16) => {
            let message = format!(
                "{}: STMap stored as half float: positions are only exact to ~1/2048, \
                 store STMaps as 32-bit float",
                path.display()
            );
            if json {
                Event::Warning {
                    frame: None,
                    message: &message,
                }
                .emit();
            } else {
                tracing::warn!("{message}");
            }
        }
        Some(other) => anyhow::bail!(
            "{}: STMap stored as {}: STMaps must be 32-bit float (half is accepted)",
            path.display(),
            other.name()
        ),
    }
    Ok(map)
}

/// Warps every Front frame through the STMap (one map for all frames when
/// the STMap is a single file; else the map of the same frame number).
pub fn run(global: &Global, args: &StmapArgs) -> Result<(), Failure> {
    let (offset_x, offset_y) = match &args.offset {
        Some(text) => pair("--offset", text)?,
        None => (0.0, 0.0),
    };
    let params = StMapParams {
        framing_mode: match args.framing {
            FramingArg::Entire => FramingMode::EntireFront,
            FramingArg::Ratio => FramingMode::StMapToFrontRatio,
            FramingArg::Windows => FramingMode::DataDisplayWindow,
        },
        data_window: None,
        display_window: None,
        offset_x,
        offset_y,
        repeat_x: repeat(args.repeat_x.unwrap_or(args.repeat)),
        repeat_y: repeat(args.repeat_y.unwrap_or(args.repeat)),
        filter_mode: match args.filter {
            FilterArg::Nearest => StMapFilter::Nearest,
            FilterArg::Linear => StMapFilter::Linear,
            FilterArg::Mitchell => StMapFilter::MitchellNetravali,
            FilterArg::CatmullRom => StMapFilter::CatmullRom,
            FilterArg::Aniso => StMapFilter::Anisotropic,
            FilterArg::AnisoLinear => StMapFilter::AnisoLinear,
            FilterArg::Ewa => StMapFilter::Ewa,
            FilterArg::EwaLinear => StMapFilter::EwaLinear,
        },
    };
    let (_, frames, _) = render::plan_input(&args.front, &args.input_opts)?;
    let policy = render::missing_policy(args.input_opts.missing);
    let map_pattern = render::parse_pattern(&args.stmap).context("STMap")?;
    // A single-file STMap is read once and applied to every frame.
    let static_map = if map_pattern.is_single_file() {
        let map = Arc::new(read_stmap(&map_pattern.path(0), global.json)?);
        params.validate(map.width(), map.height())?;
        Some(map)
    } else {
        None
    };
    let frame_numbers: Vec<i64> = frames.iter().map(|f| f.frame).collect();
    let map_frames = match static_map {
        Some(_) => Vec::new(),
        None => {
            let planned = sequence::resolve(&map_pattern, &frame_numbers, policy)?;
            render::check_headers(&planned).context("STMap")?;
            planned
        }
    };
    let matte_frames = match &args.matte {
        Some(path) => {
            let pattern = render::parse_pattern(path).context("--matte")?;
            let planned = sequence::resolve(&pattern, &frame_numbers, policy)?;
            render::check_headers(&planned).context("--matte")?;
            Some(planned)
        }
        None => None,
    };
    let out = render::plan_output(&args.output_opts.output, frames.len())?;
    let out_matte = args
        .out_matte
        .as_deref()
        .map(|p| render::plan_output(p, frames.len()).context("--out-matte"))
        .transpose()?;
    let write = render::write_options(&args.output_opts)?;
    let engine = Engine::new(super::platform(args.platform))?;
    let settings = LoopSettings {
        command: "stmap",
        json: global.json,
        quiet: global.quiet,
        skip_existing: args.output_opts.skip_existing,
        keep_going: args.output_opts.keep_going,
    };
    // A static map over several frames on the CPU is prepared once (its
    // positions and weights kept, PreparedStMap), again only if a Front's
    // size or windows change the framing.
    let prepare = static_map.is_some() && frames.len() > 1;
    let mut prepared: Option<PreparedStMap<'_>> = None;
    let outputs = |f: i64| {
        let mut v = vec![out.path(f)];
        v.extend(out_matte.as_ref().map(|m| m.path(f)));
        v
    };
    render::run_frames(
        &settings,
        &frames,
        out.to_string(),
        outputs,
        &write,
        |source| {
            let t = Instant::now();
            let front = morph_io::format::read_image(&source.path)?;
            let map = match &static_map {
                Some(map) => Arc::clone(map),
                None => Arc::new(read_stmap(
                    &render::path_for(&map_frames, source.frame, "STMap")?,
                    global.json,
                )?),
            };
            let matte = match &matte_frames {
                Some(list) => Some(morph_io::format::read_image(&render::path_for(
                    list,
                    source.frame,
                    "--matte",
                )?)?),
                None => None,
            };
            let read_ms = render::ms_since(t);
            let t = Instant::now();
            let inputs = StMapInputs {
                front: &front,
                stmap: &map,
                matte: matte.as_ref(),
            };
            let result = match &static_map {
                Some(map) if prepare && matches!(engine.backend(), BackendKind::Cpu) => {
                    if !prepared.as_ref().is_some_and(|p| p.fits(&front)) {
                        prepared = Some(PreparedStMap::new(Geometry::of(&front), map, &params)?);
                    }
                    let p = prepared.as_ref().expect("prepared above");
                    engine.stmap_prepared(p, &front, matte.as_ref(), None)?
                }
                _ => engine.stmap(&inputs, &params)?,
            };
            let compute_ms = render::ms_since(t);
            let mut images = vec![(out.path(source.frame), result.result)];
            if let (Some(pattern), Some(m)) = (&out_matte, result.matte) {
                images.push((pattern.path(source.frame), m));
            }
            Ok(FrameOutput {
                images,
                read_ms,
                compute_ms,
            })
        },
    )
}
