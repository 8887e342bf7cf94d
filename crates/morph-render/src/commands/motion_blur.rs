//! `morph-render motion-blur`: motion blur along the motion vectors of a
//! sequence (SPEC §2 `motion_blur`, `samples`, `shutter`, `reference`).
//!
//! For output frame `n` (the sequence's frames in order, after `--frames`
//! and `--missing`): forward = flow(n → n+1), backward = flow(n → n−1),
//! each pair's flow computed once with `Engine::flow` and used twice
//! (flow(n, n+1) gives the forward vectors and forward occlusion of `n` and
//! the backward vectors and backward occlusion of `n+1`). The neighbouring
//! frames and occlusion maps go to `Engine::motion_blur_with`, so
//! background revealed behind moving objects comes from the neighbours. At
//! the ends of the sequence the missing field is the other one negated
//! (constant motion) and there is no neighbour on that side. A single frame
//! has no motion: it is written unchanged, with a warning. Neighbours more
//! than one frame number apart (`--frames 1-99x2`, `--missing skip` over a
//! gap) have their vectors divided by the distance, since the shutter is in
//! frames, and are not used for revealed background.
//!
//! Decoded frames and flows are kept only while a later frame needs them
//! (at most three frames and two flows), and `--skip-existing` skips the
//! flow of frames that are not rendered when nothing else needs it.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, bail};
use morph::Engine;
use morph_core::ops::flow::{FlowParams, FlowResult};
use morph_core::ops::motion_blur::{MotionBlurInputs, draw_reference_crosshair};
use morph_core::params::{MotionBlurParams, ReferencePoint};
use morph_core::{FlowField, Image};
use morph_io::sequence::FrameSource;

use crate::Failure;
use crate::args::{Global, MotionBlurArgs};
use crate::render::{self, FrameOutput, LoopSettings};

/// Parses `X,Y` (integers; the range is checked by
/// `MotionBlurParams::validate`).
fn parse_reference(text: &str) -> anyhow::Result<ReferencePoint> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let parsed = match parts.as_slice() {
        [x, y] => x.parse::<i32>().ok().zip(y.parse::<i32>().ok()),
        _ => None,
    };
    let (x, y) = parsed.with_context(|| {
        format!("--reference {text}: expected X,Y in pixels (integers, x from the left, y from the bottom)")
    })?;
    Ok(ReferencePoint { x, y })
}

/// Parses `R,G,B` (floats; the range is checked by `validate`).
fn parse_colour(text: &str) -> anyhow::Result<[f32; 3]> {
    let values: Vec<f32> = text
        .split(',')
        .map(|v| v.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .ok()
        .filter(|v: &Vec<f32>| v.len() == 3)
        .with_context(|| format!("--reference-colour {text}: expected R,G,B in 0..1"))?;
    Ok([values[0], values[1], values[2]])
}

/// The validated node parameters from the arguments.
fn blur_params(args: &MotionBlurArgs) -> anyhow::Result<MotionBlurParams> {
    let reference = args.reference.as_deref().map(parse_reference).transpose()?;
    if args.show_reference && reference.is_none() {
        bail!("--show-reference draws the reference point: give --reference X,Y too");
    }
    let params = MotionBlurParams {
        samples: args.blur.samples,
        shutter: args.blur.shutter,
        reference,
        reference_colour: parse_colour(&args.reference_colour)?,
    };
    params.validate()?;
    Ok(params)
}

/// The sequence's decoded frames and pair flows, computed on demand and
/// dropped once no later frame needs them.
struct Sequence<'a> {
    frames: &'a [FrameSource],
    engine: &'a Engine,
    flow: FlowParams,
    images: BTreeMap<usize, Image>,
    /// `flows[i]` = flow between frames `i` and `i + 1`.
    flows: BTreeMap<usize, FlowResult>,
}

impl Sequence<'_> {
    fn image(&mut self, i: usize) -> anyhow::Result<&Image> {
        if !self.images.contains_key(&i) {
            let path = &self.frames[i].path;
            let image = morph_io::format::read_image(path)?;
            self.images.insert(i, image);
        }
        Ok(&self.images[&i])
    }

    fn flow(&mut self, i: usize) -> anyhow::Result<&FlowResult> {
        if !self.flows.contains_key(&i) {
            self.image(i)?;
            self.image(i + 1)?;
            let result = self
                .engine
                .flow(&self.images[&i], &self.images[&(i + 1)], &self.flow)
                .with_context(|| {
                    format!(
                        "optical flow between frames {} and {}",
                        self.frames[i].frame,
                        self.frames[i + 1].frame
                    )
                })?;
            self.flows.insert(i, result);
        }
        Ok(&self.flows[&i])
    }

    /// Forgets what frames before `i − 1` needed.
    fn evict_before(&mut self, i: usize) {
        let keep = i.saturating_sub(1);
        self.images.retain(|&k, _| k >= keep);
        self.flows.retain(|&k, _| k >= keep);
    }
}

/// `field` times `k` (−1 negates; `1/gap` turns vectors spanning `gap`
/// frames into vectors per frame).
fn scaled(field: &FlowField, k: f32) -> FlowField {
    let v = field
        .vectors()
        .iter()
        .map(|v| [k * v[0], k * v[1]])
        .collect();
    FlowField::from_vectors(field.width(), field.height(), v).expect("same size")
}

/// Blurs every frame of the input sequence into the output sequence.
pub fn run(global: &Global, args: &MotionBlurArgs) -> Result<(), Failure> {
    let params = blur_params(args)?;
    let flow = FlowParams::with_quality(super::quality(args.quality));
    flow.validate()?;
    let (_, frames, _) = render::plan_input(&args.input, &args.input_opts)?;
    let out = render::plan_output(&args.output_opts.output, frames.len())?;
    let write = render::write_options(&args.output_opts)?;
    let engine = Engine::new(super::platform(args.platform))?;
    if frames.len() == 1 {
        super::warn(
            global,
            Some(frames[0].frame),
            "a single frame has no motion: it is written unchanged",
        );
    }
    let settings = LoopSettings {
        command: "motion-blur",
        json: global.json,
        quiet: global.quiet,
        skip_existing: args.output_opts.skip_existing,
        keep_going: args.output_opts.keep_going,
    };
    let mut seq = Sequence {
        frames: &frames,
        engine: &engine,
        flow,
        images: BTreeMap::new(),
        flows: BTreeMap::new(),
    };
    let last = frames.len() - 1;
    render::run_frames(
        &settings,
        &frames,
        out.to_string(),
        |f| vec![out.path(f)],
        &write,
        |source| {
            let i = frames
                .iter()
                .position(|f| f.frame == source.frame)
                .context("frame not planned")?;
            seq.evict_before(i);
            let t = Instant::now();
            seq.image(i)?;
            if i > 0 {
                seq.image(i - 1)?;
            }
            if i < last {
                seq.image(i + 1)?;
            }
            let read_ms = render::ms_since(t);
            let t = Instant::now();
            if i > 0 {
                seq.flow(i - 1)?;
            }
            if i < last {
                seq.flow(i)?;
            }
            let after = (i < last).then(|| &seq.flows[&i]);
            let before = i.checked_sub(1).map(|k| &seq.flows[&k]);
            let image = &seq.images[&i];
            // Frames more than one frame number apart (`--frames 1-99x2`,
            // `--missing skip` over a gap): the flow spans the gap, the
            // shutter is in frames, so the vectors are divided by it, and
            // that neighbour is not used for revealed background (it is not
            // one frame away).
            let gap = |a: usize, b: usize| (frames[b].frame - frames[a].frame).max(1) as f32;
            let gap_after = if i < last { gap(i, i + 1) } else { 1.0 };
            let gap_before = if i > 0 { gap(i - 1, i) } else { 1.0 };
            let per_frame = |f: &FlowField, g: f32| {
                if g == 1.0 {
                    f.clone()
                } else {
                    scaled(f, 1.0 / g)
                }
            };
            let (forward, backward) = match (after, before) {
                (Some(a), Some(b)) => (
                    per_frame(&a.forward, gap_after),
                    per_frame(&b.backward, gap_before),
                ),
                (Some(a), None) => {
                    let f = per_frame(&a.forward, gap_after);
                    let b = scaled(&f, -1.0);
                    (f, b)
                }
                (None, Some(b)) => {
                    let b = per_frame(&b.backward, gap_before);
                    (scaled(&b, -1.0), b)
                }
                (None, None) => {
                    let zero = FlowField::zeros(image.width(), image.height());
                    (zero.clone(), zero)
                }
            };
            let inputs = MotionBlurInputs {
                previous: (i > 0 && gap_before == 1.0).then(|| &seq.images[&(i - 1)]),
                next: (i < last && gap_after == 1.0).then(|| &seq.images[&(i + 1)]),
                forward_occlusion: after.map(|a| &a.occlusion_forward[..]),
                backward_occlusion: before.map(|b| &b.occlusion_backward[..]),
                ..MotionBlurInputs::new(image, &forward, &backward)
            };
            let mut result = engine.motion_blur_with(&inputs, &params)?;
            if args.show_reference
                && let Some(p) = params.reference
            {
                draw_reference_crosshair(&mut result, p, params.reference_colour);
            }
            Ok(FrameOutput {
                images: vec![(out.path(source.frame), result)],
                read_ms,
                compute_ms: render::ms_since(t),
            })
        },
    )
}
