//! `morph-render frequency` and `frequency-merge`: the Frequency node.

use std::time::Instant;

use anyhow::Context;
use morph::Engine;
use morph_core::SampleFormat;
use morph_core::params::{Bands, BlurFilter, BlurSize, FrequencyParams};

use crate::Failure;
use crate::args::{BlurFilterArg, FrequencyArgs, Global, MergeArgs};
use crate::render::{self, FrameOutput, LoopSettings};

/// Parses `R` or `W,H` into a per-axis radius.
fn blur_size(flag: &str, text: &str) -> anyhow::Result<BlurSize> {
    let parse = |s: &str| -> anyhow::Result<f32> {
        s.trim()
            .parse::<f32>()
            .with_context(|| format!("{flag} {text}: expected a radius `R` or `W,H` in pixels"))
    };
    Ok(match text.split_once(',') {
        Some((w, h)) => BlurSize {
            width: parse(w)?,
            height: parse(h)?,
        },
        None => BlurSize::uniform(parse(text)?),
    })
}

/// Without Centre & Scale, Mid and High are signed: only formats that
/// store floats (EXR, TIFF) can hold them.
fn signed_output_allowed(flag: &str, pattern: &morph_io::sequence::Pattern) -> anyhow::Result<()> {
    use morph_io::format::FileFormat;
    match FileFormat::from_path(&pattern.path(0))? {
        FileFormat::Exr | FileFormat::Tiff => Ok(()),
        other => anyhow::bail!(
            "{flag} {pattern}: {other} cannot store the negative values of a band; \
             write EXR or TIFF, or use --centre-scale"
        ),
    }
}

/// Splits every frame into Low, (Mid) and High.
pub fn run(global: &Global, args: &FrequencyArgs) -> Result<(), Failure> {
    let params = FrequencyParams {
        bands: if args.mid.is_some() {
            Bands::Three
        } else {
            Bands::Two
        },
        filter: match args.filter {
            BlurFilterArg::Box => BlurFilter::Box,
            BlurFilterArg::Gaussian => BlurFilter::Gaussian,
        },
        low: blur_size("--low-size", &args.low_size)?,
        mid: blur_size("--mid-size", &args.mid_size)?,
        centre_scale: args.centre_scale,
    };
    params.validate()?;
    let (_, frames, _) = render::plan_input(&args.input, &args.input_opts)?;
    let low = render::plan_output(&args.low, frames.len()).context("--low")?;
    let mid = args
        .mid
        .as_deref()
        .map(|m| render::plan_output(m, frames.len()).context("--mid"))
        .transpose()?;
    let high = render::plan_output(&args.high, frames.len()).context("--high")?;
    if !params.centre_scale {
        signed_output_allowed("--high", &high)?;
        if let Some(m) = &mid {
            signed_output_allowed("--mid", m)?;
        }
    }
    let write = render::write_options_from(&args.compression, None)?;
    let engine = Engine::new(super::platform(args.platform))?;
    let settings = LoopSettings {
        command: "frequency",
        json: global.json,
        quiet: global.quiet,
        skip_existing: args.skip_existing,
        keep_going: false,
    };
    let outputs = |f: i64| {
        let mut v = vec![low.path(f), high.path(f)];
        v.extend(mid.as_ref().map(|m| m.path(f)));
        v
    };
    render::run_frames(
        &settings,
        &frames,
        low.to_string(),
        outputs,
        &write,
        |source| {
            let t = Instant::now();
            let image = morph_io::format::read_image(&source.path)?;
            let read_ms = render::ms_since(t);
            let t = Instant::now();
            let mut bands = engine.frequency(&image, &params)?;
            let compute_ms = render::ms_since(t);
            if !params.centre_scale {
                // Signed bands: never store them in the source's integer
                // format (SPEC §4: "stored as float").
                for band in std::iter::once(&mut bands.high).chain(bands.mid.as_mut()) {
                    if !band.metadata.format.is_some_and(SampleFormat::is_float) {
                        band.metadata.format = Some(SampleFormat::F32);
                    }
                }
            }
            let mut images = vec![(low.path(source.frame), bands.low)];
            if let (Some(pattern), Some(band)) = (&mid, bands.mid) {
                images.push((pattern.path(source.frame), band));
            }
            images.push((high.path(source.frame), bands.high));
            Ok(FrameOutput {
                images,
                read_ms,
                compute_ms,
            })
        },
    )
}

/// Recombines bands: output = Low + Mid + High (undoing Centre & Scale).
pub fn merge(global: &Global, args: &MergeArgs) -> Result<(), Failure> {
    let (_, frames, low_info) = render::plan_input(&args.low, &args.input_opts)?;
    let frame_numbers: Vec<i64> = frames.iter().map(|f| f.frame).collect();
    let band_frames = |path: &std::path::Path, what: &str| -> Result<_, Failure> {
        let pattern = render::parse_pattern(path)?;
        let planned = morph_io::sequence::resolve(
            &pattern,
            &frame_numbers,
            render::missing_policy(args.input_opts.missing),
        )
        .with_context(|| what.to_owned())?;
        let info = render::check_headers(&planned).with_context(|| what.to_owned())?;
        if (info.width, info.height) != (low_info.width, low_info.height) {
            return Err(Failure::Usage(anyhow::anyhow!(
                "{what} {} is {}x{}, the Low band is {}x{}",
                path.display(),
                info.width,
                info.height,
                low_info.width,
                low_info.height
            )));
        }
        Ok(planned)
    };
    let high = band_frames(&args.high, "--high")?;
    let mid = args
        .mid
        .as_deref()
        .map(|m| band_frames(m, "--mid"))
        .transpose()?;
    let out = render::plan_output(&args.output_opts.output, frames.len())?;
    let write = render::write_options(&args.output_opts)?;
    let settings = LoopSettings {
        command: "frequency-merge",
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
            let low = morph_io::format::read_image(&source.path)?;
            let high =
                morph_io::format::read_image(&render::path_for(&high, source.frame, "--high")?)?;
            let mid = match &mid {
                Some(list) => Some(morph_io::format::read_image(&render::path_for(
                    list,
                    source.frame,
                    "--mid",
                )?)?),
                None => None,
            };
            let read_ms = render::ms_since(t);
            let t = Instant::now();
            let result =
                morph_core::ops::frequency::merge(&low, mid.as_ref(), &high, args.centre_scale)?;
            Ok(FrameOutput {
                images: vec![(out.path(source.frame), result)],
                read_ms,
                compute_ms: render::ms_since(t),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::blur_size;

    #[test]
    fn parses_radius_forms() {
        assert_eq!(blur_size("--low-size", "5").unwrap().width, 5.0);
        let b = blur_size("--low-size", "3.5,20").unwrap();
        assert_eq!((b.width, b.height), (3.5, 20.0));
        let e = blur_size("--low-size", "big").unwrap_err().to_string();
        assert!(e.contains("--low-size big"), "{e}");
    }
}
