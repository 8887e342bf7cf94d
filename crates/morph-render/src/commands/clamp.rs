//! `morph-render clamp`: the Clamp node over a sequence.

use std::time::Instant;

use morph::Engine;
use morph_core::params::ClampParams;

use crate::Failure;
use crate::args::{ClampArgs, Global};
use crate::render::{self, FrameOutput, LoopSettings};

/// Clamps every frame of the input sequence into the output sequence.
pub fn run(global: &Global, args: &ClampArgs) -> Result<(), Failure> {
    let params = ClampParams {
        min_clamp: !args.no_min,
        max_clamp: !args.no_max,
        min_value: args.min,
        max_value: args.max,
    };
    params.validate()?;
    let (_, frames, _) = render::plan_input(&args.input, &args.input_opts)?;
    let out = render::plan_output(&args.output_opts.output, frames.len())?;
    let write = render::write_options(&args.output_opts)?;
    let engine = Engine::new(super::platform(args.platform))?;
    let settings = LoopSettings {
        command: "clamp",
        json: global.json,
        quiet: global.quiet,
        skip_existing: args.output_opts.skip_existing,
        keep_going: args.output_opts.keep_going,
    };
    render::run_frames(
        &settings,
        &frames,
        out.to_string(),
        |f| vec![out.path(f)],
        &write,
        |source| {
            let t = Instant::now();
            let image = morph_io::format::read_image(&source.path)?;
            let read_ms = render::ms_since(t);
            let t = Instant::now();
            let result = engine.clamp(&image, &params)?;
            Ok(FrameOutput {
                images: vec![(out.path(source.frame), result)],
                read_ms,
                compute_ms: render::ms_since(t),
            })
        },
    )
}
