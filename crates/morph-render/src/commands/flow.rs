//! `morph-render flow`: motion vectors between two frames, or between the
//! consecutive frames of a sequence, as `.flo` (forward only) or EXR
//! (`forward.u/v` and `backward.u/v`, +v up unless `--y-down`), with an
//! optional colour-wheel PNG.
//!
//! Two frames `A B` give one output. With `B` omitted, `A` must be a
//! sequence pattern: each frame on disk and the next one on disk give the
//! output of the first's frame number (a gap in the sequence gives a
//! warning, and the vectors span it). The time of each flow computation is
//! printed as `compute_ms=<ms> frame=<n>`: on stdout, or on stderr with
//! `--json` (whose stdout carries only events).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use morph::Engine;
use morph_core::ops::flow::FlowParams;
use morph_io::format::{self, FileFormat, WriteOptions};
use morph_io::sequence::{self, FrameSource, Pattern};

use crate::Failure;
use crate::args::{FlowArgs, Global, InputOpts, MissingArg};
use crate::render::{self, FrameOutput, LoopSettings};

/// What `--output` holds, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VectorFormat {
    /// Middlebury `.flo`: forward vectors only.
    Flo,
    /// EXR: A's colour plus forward and backward vector layers.
    Exr,
}

impl VectorFormat {
    fn from_path(path: &Path) -> anyhow::Result<VectorFormat> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext.to_ascii_lowercase().as_str() {
            "flo" => Ok(VectorFormat::Flo),
            "exr" => Ok(VectorFormat::Exr),
            _ => bail!(
                "--output {}: vectors are written as .flo or .exr",
                path.display()
            ),
        }
    }
}

/// One flow to compute: frame A (its number numbers the outputs) and B.
struct Pair {
    a: FrameSource,
    b: PathBuf,
}

/// The pairs to compute, checked up front (exit 2 on bad input).
fn plan_pairs(args: &FlowArgs) -> anyhow::Result<Vec<Pair>> {
    let a_pattern = render::parse_pattern(&args.a).context("frame A")?;
    match &args.b {
        Some(b) => {
            if !a_pattern.is_single_file() {
                bail!(
                    "{} is a sequence pattern: give two frames A B, or only a sequence A",
                    args.a.display()
                );
            }
            let (ia, ib) = (format::probe(&args.a)?, format::probe(b)?);
            if (ia.width, ia.height) != (ib.width, ib.height) {
                bail!(
                    "frames differ in size: {} is {}x{}, {} is {}x{}",
                    args.a.display(),
                    ia.width,
                    ia.height,
                    b.display(),
                    ib.width,
                    ib.height
                );
            }
            Ok(vec![Pair {
                a: FrameSource {
                    frame: 0,
                    path: args.a.clone(),
                    held_from: None,
                },
                b: b.clone(),
            }])
        }
        None => {
            if a_pattern.is_single_file() {
                bail!(
                    "{} is a single file: give frame B too, or a sequence pattern such as name.####.exr",
                    args.a.display()
                );
            }
            let opts = InputOpts {
                frames: None,
                missing: MissingArg::Error,
            };
            let (_, frames, _) = render::plan_input(&args.a, &opts).map_err(|f| match f {
                Failure::Usage(e) | Failure::Frame(e) => e,
            })?;
            if frames.len() < 2 {
                bail!(
                    "{}: flow needs at least two frames, found {}",
                    args.a.display(),
                    frames.len()
                );
            }
            Ok(frames
                .windows(2)
                .map(|w| Pair {
                    a: w[0].clone(),
                    b: w[1].path.clone(),
                })
                .collect())
        }
    }
}

/// Parses an output pattern for `count` outputs and creates its directory.
fn plan_output_pattern(flag: &str, path: &Path, count: usize) -> anyhow::Result<Pattern> {
    let pattern = render::parse_pattern(path).with_context(|| flag.to_owned())?;
    sequence::check_output(&pattern, count).with_context(|| flag.to_owned())?;
    if let Some(dir) = pattern.path(0).parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating output directory {}", dir.display()))?;
    }
    Ok(pattern)
}

/// Computes and writes the vectors of every pair.
pub fn run(global: &Global, args: &FlowArgs) -> Result<(), Failure> {
    let params = FlowParams::with_quality(super::quality(args.quality));
    params.validate()?;
    let kind = VectorFormat::from_path(&args.output)?;
    let pairs = plan_pairs(args)?;
    let out = plan_output_pattern("--output", &args.output, pairs.len())?;
    let vis = match &args.visualize {
        Some(path) => {
            let format = FileFormat::from_path(path).context("--visualize")?;
            if !format.can_write() {
                return Err(Failure::Usage(anyhow::anyhow!(
                    "--visualize {}: cannot write {}",
                    path.display(),
                    format.name()
                )));
            }
            Some(plan_output_pattern("--visualize", path, pairs.len())?)
        }
        None => None,
    };
    let engine = Engine::new(super::platform(args.platform))?;
    let mut last_b: Option<(std::path::PathBuf, morph_core::Image)> = None;
    let settings = LoopSettings {
        command: "flow",
        json: global.json,
        quiet: global.quiet,
        skip_existing: false,
        keep_going: false,
    };
    let frames: Vec<FrameSource> = pairs.iter().map(|p| p.a.clone()).collect();
    let outputs = |f: i64| {
        let mut v = vec![out.path(f)];
        v.extend(vis.as_ref().map(|p| p.path(f)));
        v
    };
    let mut next = pairs.iter();
    render::run_frames(
        &settings,
        &frames,
        out.to_string(),
        outputs,
        &WriteOptions::default(),
        |source| {
            let pair = next.next().context("no pair for this frame")?;
            debug_assert_eq!(pair.a.frame, source.frame);
            if let Some(frame_b) = sequence_frame(&args.a, &pair.b, args.b.is_none())
                && frame_b != source.frame + 1
            {
                let message = format!(
                    "frame {} is missing: vectors span {}..{frame_b}",
                    source.frame + 1,
                    source.frame
                );
                super::warn(global, Some(source.frame), &message);
            }
            let t = Instant::now();
            // Over a sequence, this pair's A is the last pair's B: reuse the
            // decoded frame instead of reading every frame twice.
            let a = match last_b.take() {
                Some((path, image)) if path == source.path => image,
                _ => format::read_image(&source.path)?,
            };
            let b = format::read_image(&pair.b)?;
            let read_ms = render::ms_since(t);
            let t = Instant::now();
            let (forward, backward) = match kind {
                VectorFormat::Flo => (engine.flow_one_way(&a, &b, &params)?, None),
                VectorFormat::Exr => {
                    let r = engine.flow(&a, &b, &params)?;
                    (r.forward, Some(r.backward))
                }
            };
            let compute_ms = render::ms_since(t);
            last_b = Some((pair.b.clone(), b));
            if !global.quiet {
                let line = format!("compute_ms={compute_ms:.1} frame={}", source.frame);
                if global.json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
            let path = out.path(source.frame);
            let mut images = Vec::new();
            match kind {
                VectorFormat::Flo => morph_io::flow::write_flo(&path, &forward)?,
                VectorFormat::Exr => images.push((
                    path,
                    morph_io::flow::vectors_image(&a, &forward, backward.as_ref(), args.y_down)?,
                )),
            }
            if let Some(vis) = &vis {
                images.push((
                    vis.path(source.frame),
                    morph_io::flow::visualize(&forward, None),
                ));
            }
            Ok(FrameOutput {
                images,
                read_ms,
                compute_ms,
            })
        },
    )
}

/// B's frame number in sequence mode, for the gap warning.
fn sequence_frame(a: &Path, b: &Path, sequence_mode: bool) -> Option<i64> {
    if !sequence_mode {
        return None;
    }
    render::parse_pattern(a).ok()?.frame_of(b)
}
