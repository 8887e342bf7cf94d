//! `interpolate`, `retime` and `morph`: in-between frames (the Morph node's
//! Motion Vectors mode) over single frames, one clip, or two clips.
//!
//! Each input pair's motion is computed once and reused for every output
//! time between the two frames (the library's `MorphNode`/`Retimer` keep it).
//! Inputs with NaN or infinite samples are refused with the file, pixel and
//! channel named.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use morph::{Engine, MorphNode, Retimer};
use morph_core::Image;
use morph_core::ops::flow::FlowParams;
use morph_core::ops::interpolate::{CutRule, Source};
use morph_core::params::{Interpolation, Mix, MorphParams, RangeMode};
use morph_core::timing::Retime;
use morph_io::format;
use morph_io::sequence::{self, FrameRange, FrameSource, Pattern};

use crate::Failure;
use crate::args::{
    CutRuleArg, Global, InterpolateArgs, InterpolationOpts, MethodArg, MorphArgs, RetimeArgs,
};
use crate::render::{self, FrameOutput, LoopSettings};

/// `--cut-rule`, or the command's default.
fn cut_rule(arg: Option<CutRuleArg>, default: CutRule) -> CutRule {
    match arg {
        None => default,
        Some(CutRuleArg::Nearest) => CutRule::Nearest,
        Some(CutRuleArg::Dissolve) => CutRule::Dissolve,
        Some(CutRuleArg::Warp) => CutRule::Warp,
    }
}

/// The Morph node attributes the interpolation options set.
fn node_params(opts: &InterpolationOpts) -> MorphParams {
    MorphParams {
        interpolation: match opts.method {
            MethodArg::Mv => Interpolation::MotionVectors,
            MethodArg::Ml => Interpolation::MachineLearning,
        },
        rendering_platform: super::platform(opts.platform),
        motion_analysis_quality: super::quality(opts.quality),
        use_16_bit_fp: opts.fp16,
        ml_engine_cache: true,
        ..Default::default()
    }
}

/// The ML options of `--model`, `--fp16` and `--engine-cache` (None unless
/// `--method ml`).
fn ml_options(opts: &InterpolationOpts, params: &MorphParams) -> Option<morph::ml::MlOptions> {
    if params.interpolation != Interpolation::MachineLearning {
        return None;
    }
    let mut ml = morph::ml_options(params);
    if let Some(model) = &opts.model {
        ml.model = model.clone();
    }
    if let Some(dir) = &opts.engine_cache {
        ml.engine_cache = Some(dir.clone());
    }
    Some(ml)
}

/// Reads a frame and refuses non-finite samples, naming file and pixel.
fn read_frame(path: &Path) -> anyhow::Result<Image> {
    let image = format::read_image(path)?;
    image.check_finite().with_context(|| {
        format!(
            "{}: NaN/Inf input (refused, not propagated)",
            path.display()
        )
    })?;
    Ok(image)
}

/// Decoded input frames by path, so a frame used by two pairs (or two
/// output frames) is read once; shared, not copied. Keeps at most
/// `capacity` frames.
struct FrameCache {
    frames: HashMap<PathBuf, (u64, Arc<Image>)>,
    clock: u64,
    capacity: usize,
}

impl FrameCache {
    fn new(capacity: usize) -> Self {
        FrameCache {
            frames: HashMap::new(),
            clock: 0,
            capacity,
        }
    }

    fn get(&mut self, path: &Path) -> anyhow::Result<Arc<Image>> {
        self.clock += 1;
        if let Some((used, image)) = self.frames.get_mut(path) {
            *used = self.clock;
            return Ok(Arc::clone(image));
        }
        let image = Arc::new(read_frame(path)?);
        if self.frames.len() >= self.capacity
            && let Some(oldest) = self
                .frames
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(p, _)| p.clone())
        {
            self.frames.remove(&oldest);
        }
        self.frames
            .insert(path.to_owned(), (self.clock, Arc::clone(&image)));
        Ok(image)
    }
}

/// Prints `compute_ms=<ms> frame=<n>` (stderr with `--json`).
fn print_compute(global: &Global, frame: i64, ms: f64) {
    if global.quiet {
        return;
    }
    let line = format!("compute_ms={ms:.1} frame={frame}");
    if global.json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// Warns when an in-between met a scene cut.
fn note_cut(global: &Global, frame: i64, source: Source, rule: CutRule, t: f32) {
    let applied = match source {
        Source::Dissolve => "dissolving",
        Source::A | Source::B if t != 0.0 && t != 1.0 => "showing the nearest frame",
        _ => return,
    };
    super::warn(
        global,
        Some(frame),
        &format!("scene cut detected between the input frames: {applied} (--cut-rule {rule:?})"),
    );
}

fn settings<'a>(
    global: &Global,
    command: &'a str,
    args: &crate::args::OutputOpts,
) -> LoopSettings<'a> {
    LoopSettings {
        command,
        json: global.json,
        quiet: global.quiet,
        skip_existing: args.skip_existing,
        keep_going: args.keep_going,
    }
}

/// `morph-render interpolate A B --time T -o OUT`.
pub fn interpolate(global: &Global, args: &InterpolateArgs) -> Result<(), Failure> {
    morph_core::ops::interpolate::check_time(args.time)?;
    let params = node_params(&args.interp);
    let rule = cut_rule(args.interp.cut_rule, CutRule::Nearest);
    for p in [&args.a, &args.b] {
        if !render::parse_pattern(p)?.is_single_file() {
            return Err(anyhow::anyhow!(
                "{}: interpolate takes two frames; use retime for a sequence",
                p.display()
            )
            .into());
        }
    }
    let (ia, ib) = (format::probe(&args.a)?, format::probe(&args.b)?);
    if (ia.width, ia.height) != (ib.width, ib.height) {
        return Err(anyhow::anyhow!(
            "frames differ in size: {} is {}x{}, {} is {}x{}",
            args.a.display(),
            ia.width,
            ia.height,
            args.b.display(),
            ib.width,
            ib.height
        )
        .into());
    }
    let out = render::plan_output(&args.output_opts.output, 1)?;
    let write = render::write_options(&args.output_opts)?;
    morph::check_supported(&params)?;
    let flow = FlowParams::with_quality(params.motion_analysis_quality);
    let engine = Engine::new(params.rendering_platform)?;
    let ml = match ml_options(&args.interp, &params) {
        Some(opts) => Some(morph::ml::MlInterpolator::load(&opts)?),
        None => None,
    };
    let frames = [FrameSource {
        frame: 0,
        path: args.a.clone(),
        held_from: None,
    }];
    render::run_frames(
        &settings(global, "interpolate", &args.output_opts),
        &frames,
        out.to_string(),
        |f| vec![out.path(f)],
        &write,
        |source| {
            let t0 = Instant::now();
            let (a, b) = (read_frame(&args.a)?, read_frame(&args.b)?);
            let read_ms = render::ms_since(t0);
            let t0 = Instant::now();
            let (image, source_kind) = match &ml {
                Some(_) if args.time == 0.0 => (a, Source::A),
                Some(_) if args.time == 1.0 => (b, Source::B),
                Some(ml) => (ml.interpolate(&a, &b, args.time)?, Source::Warped),
                None => {
                    // One upload of A and B for the flow and the warp; only
                    // the image is read back.
                    let pair = engine.prepare_pair_with_flow(a, b, &flow)?;
                    engine.interpolate_prepared_image(&pair, args.time, rule)?
                }
            };
            let compute_ms = render::ms_since(t0);
            print_compute(global, source.frame, compute_ms);
            note_cut(global, source.frame, source_kind, rule, args.time);
            Ok(FrameOutput {
                images: vec![(out.path(source.frame), image)],
                read_ms,
                compute_ms,
            })
        },
    )
}

/// `--factor`, `--speed` or `--fps-from/--fps-to` (exactly one).
fn retime_of(args: &RetimeArgs) -> anyhow::Result<Retime> {
    let r = match (args.factor, args.speed, args.fps_from, args.fps_to) {
        (Some(n), None, None, None) => Retime::Factor(n),
        (None, Some(s), None, None) => Retime::Speed(s),
        (None, None, Some(from), Some(to)) => Retime::Fps { from, to },
        _ => bail!("give one of --factor N, --speed S, or --fps-from A --fps-to B"),
    };
    r.validate()?;
    Ok(r)
}

/// `morph-render retime IN -o OUT (--factor N | --speed S | --fps-from A --fps-to B)`.
pub fn retime(global: &Global, args: &RetimeArgs) -> Result<(), Failure> {
    let retime = retime_of(args)?;
    let params = node_params(&args.interp);
    let mut params = params;
    if args.motion_blur {
        params.motion_blur = Some(morph_core::params::MotionBlurParams {
            samples: args.blur.samples,
            shutter: args.blur.shutter,
            ..Default::default()
        });
    }
    let rule = cut_rule(args.interp.cut_rule, CutRule::Nearest);
    let (_, inputs, _) = render::plan_input(&args.input, &args.input_opts)?;
    let numbers: Vec<i64> = inputs.iter().map(|s| s.frame).collect();
    let engine = Engine::new(params.rendering_platform)?;
    let ml = ml_options(&args.interp, &params);
    let retimer = Retimer::with_ml(&engine, &params, retime, numbers, ml)?.with_cut_rule(rule);
    let start = args.start_frame.unwrap_or(inputs[0].frame);
    let out = render::plan_output(&args.output_opts.output, retimer.len())?;
    let write = render::write_options(&args.output_opts)?;
    let path_of: HashMap<i64, &FrameSource> = inputs.iter().map(|s| (s.frame, s)).collect();
    let frames: Vec<FrameSource> = (0..retimer.len())
        .map(|k| FrameSource {
            frame: start + k as i64,
            path: path_of[&retimer.plan(k).a].path.clone(),
            held_from: None,
        })
        .collect();
    let mut cache = FrameCache::new(3);
    render::run_frames(
        &settings(global, "retime", &args.output_opts),
        &frames,
        out.to_string(),
        |f| vec![out.path(f)],
        &write,
        |source| {
            let k = (source.frame - start) as usize;
            let s = retimer.plan(k);
            let t0 = Instant::now();
            let a = cache.get(&path_of[&s.a].path)?;
            let b = if s.b == s.a {
                a.clone()
            } else {
                cache.get(&path_of[&s.b].path)?
            };
            let read_ms = render::ms_since(t0);
            let t0 = Instant::now();
            let (image, kind) = retimer.render_image(k, &a, &b)?;
            let compute_ms = render::ms_since(t0);
            note_cut(global, source.frame, kind, rule, s.t);
            Ok(FrameOutput {
                images: vec![(out.path(source.frame), image)],
                read_ms,
                compute_ms,
            })
        },
    )
}

/// Parses `--mix-keys 1001:0,1024:100`.
fn parse_mix_keys(text: &str) -> anyhow::Result<Mix> {
    let mut keys = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (f, v) = item
            .split_once(':')
            .with_context(|| format!("--mix-keys {text}: `{item}` is not FRAME:VALUE"))?;
        let f: i64 = f
            .trim()
            .parse()
            .with_context(|| format!("--mix-keys: `{f}` is not a frame number"))?;
        let v: f32 = v
            .trim()
            .parse()
            .with_context(|| format!("--mix-keys: `{v}` is not a number"))?;
        keys.push((f, v));
    }
    if keys.is_empty() {
        bail!("--mix-keys {text}: no keys (expected FRAME:VALUE,...)");
    }
    Ok(Mix::Keys(keys))
}

/// The output frames of a morph: `--frames`, or the frames both clips
/// have on disk.
fn morph_frames(args: &MorphArgs, a: &Pattern, b: &Pattern) -> anyhow::Result<Vec<i64>> {
    if let Some(text) = &args.frames {
        return Ok(FrameRange::parse(text).context("--frames")?.frames());
    }
    let on_disk = |p: &Pattern| -> anyhow::Result<Vec<i64>> {
        if p.is_single_file() {
            return Ok(Vec::new());
        }
        Ok(sequence::discover(p)?)
    };
    let (fa, fb) = (on_disk(a)?, on_disk(b)?);
    let frames: Vec<i64> = match (a.is_single_file(), b.is_single_file()) {
        (true, true) => {
            bail!("two single frames: give --frames for the output range, or use interpolate")
        }
        (true, false) => fb,
        (false, true) => fa,
        (false, false) => fa
            .iter()
            .copied()
            .filter(|f| fb.binary_search(f).is_ok())
            .collect(),
    };
    if frames.is_empty() {
        bail!(
            "clips {a} and {b} have no frame number in common: give the output range with --frames"
        );
    }
    Ok(frames)
}

/// `morph-render morph A B -o OUT [--range F-L] [--mix P | --mix-keys K | --mix-to-range]`.
pub fn morph(global: &Global, args: &MorphArgs) -> Result<(), Failure> {
    let (pa, pb) = (
        render::parse_pattern(&args.a).context("clip A")?,
        render::parse_pattern(&args.b).context("clip B")?,
    );
    let frames = morph_frames(args, &pa, &pb)?;
    let clip = (
        *frames.iter().min().expect("not empty"),
        *frames.iter().max().expect("not empty"),
    );
    let mut params = node_params(&args.interp);
    if let Some(text) = &args.range {
        let range = FrameRange::parse(text).context("--range")?;
        params.range_mode = RangeMode::CustomRange;
        params.range_first_frame = range.first();
        params.range_last_frame = range.last();
    }
    if args.motion_blur {
        params.motion_blur = Some(morph_core::params::MotionBlurParams {
            samples: args.blur.samples,
            shutter: args.blur.shutter,
            ..Default::default()
        });
    }
    params.freeze_first_frame = args.freeze_first;
    params.freeze_last_frame = args.freeze_last;
    if let Some(m) = args.mix {
        params.mix = Mix::Constant(m);
    } else if let Some(k) = &args.mix_keys {
        params.mix = parse_mix_keys(k)?;
    } else if args.mix_to_range {
        let (first, last) = params.transition_range(clip);
        params.range_first_frame = first;
        params.range_last_frame = last;
        params.set_mix_to_range();
    }
    let rule = cut_rule(args.interp.cut_rule, CutRule::Dissolve);
    let engine = Engine::new(params.rendering_platform)?;
    let ml = ml_options(&args.interp, &params);
    let node = MorphNode::with_ml(&engine, params, clip, ml)?.with_cut_rule(rule);
    // Every input frame the render needs, resolved up front (missing,
    // corrupt or odd-sized frames stop it before anything is written).
    let policy = render::missing_policy(args.missing);
    let (mut need_a, mut need_b) = (Vec::new(), Vec::new());
    for &f in &frames {
        let p = node.plan(f);
        if p.t < 1.0 {
            need_a.push(p.a);
        }
        if p.t > 0.0 {
            need_b.push(p.b);
        }
    }
    let dedup = |v: &mut Vec<i64>| {
        v.sort_unstable();
        v.dedup();
    };
    dedup(&mut need_a);
    dedup(&mut need_b);
    let src_a = sequence::resolve(&pa, &need_a, policy).context("clip A")?;
    let src_b = sequence::resolve(&pb, &need_b, policy).context("clip B")?;
    let all: Vec<FrameSource> = src_a.iter().chain(&src_b).cloned().collect();
    if !all.is_empty() {
        render::check_headers(&all)?;
    }
    let path_a: HashMap<i64, &FrameSource> = src_a.iter().map(|s| (s.frame, s)).collect();
    let path_b: HashMap<i64, &FrameSource> = src_b.iter().map(|s| (s.frame, s)).collect();
    let out = render::plan_output(&args.output_opts.output, frames.len())?;
    let write = render::write_options(&args.output_opts)?;
    let outputs: Vec<FrameSource> = frames
        .iter()
        .map(|&f| {
            let p = node.plan(f);
            let src = if p.t < 1.0 {
                path_a.get(&p.a)
            } else {
                path_b.get(&p.b)
            };
            FrameSource {
                frame: f,
                path: src.map(|s| s.path.clone()).unwrap_or_default(),
                held_from: None,
            }
        })
        .collect();
    for s in src_a.iter().chain(&src_b) {
        if let Some(from) = s.held_from {
            super::warn(
                global,
                Some(s.frame),
                &format!(
                    "input frame {} missing, holding frame {from}",
                    s.path.display()
                ),
            );
        }
    }
    let mut cache = FrameCache::new(4);
    render::run_frames(
        &settings(global, "morph", &args.output_opts),
        &outputs,
        out.to_string(),
        |f| vec![out.path(f)],
        &write,
        |source| {
            let p = node.plan(source.frame);
            let t0 = Instant::now();
            let a = match path_a.get(&p.a) {
                Some(s) if p.t < 1.0 => Some(cache.get(&s.path)?),
                _ => None,
            };
            let b = match path_b.get(&p.b) {
                Some(s) if p.t > 0.0 => Some(cache.get(&s.path)?),
                _ => None,
            };
            let read_ms = render::ms_since(t0);
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (a, b),
                (Some(a), None) => (a.clone(), a),
                (None, Some(b)) => (b.clone(), b),
                (None, None) => bail!("frame {}: no input frame planned", source.frame),
            };
            let t0 = Instant::now();
            let (image, kind) = node.render_image(source.frame, &a, &b)?;
            let compute_ms = render::ms_since(t0);
            note_cut(global, source.frame, kind, rule, p.t);
            Ok(FrameOutput {
                images: vec![(out.path(source.frame), image)],
                read_ms,
                compute_ms,
            })
        },
    )
}
