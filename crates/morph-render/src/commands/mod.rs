//! One module per subcommand: arguments → validated parameters → engine.

mod clamp;
mod devices;
mod flow;
mod frequency;
mod info;
mod interpolate;
mod motion_blur;
mod stmap;

use crate::Failure;
use crate::args::{Cli, Command, PlatformArg};
use morph_core::params::RenderingPlatform;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Clamp(args) => clamp::run(global, &args),
        Command::Info(args) => info::run(global, &args),
        Command::Devices => devices::run(global),
        Command::Retime(args) => interpolate::retime(global, &args),
        Command::Morph(args) => interpolate::morph(global, &args),
        Command::Interpolate(args) => interpolate::interpolate(global, &args),
        Command::Flow(args) => flow::run(global, &args),
        Command::MotionBlur(args) => motion_blur::run(global, &args),
        Command::Stmap(args) => stmap::run(global, &args),
        Command::Frequency(args) => frequency::run(global, &args),
        Command::FrequencyMerge(args) => frequency::merge(global, &args),
    }
}

/// `--quality` as the analysis resolution (motion_analysis_quality).
pub fn quality(arg: crate::args::QualityArg) -> morph_core::params::AnalysisQuality {
    use crate::args::QualityArg;
    use morph_core::params::AnalysisQuality;
    match arg {
        QualityArg::Sixteenth => AnalysisQuality::Sixteenth,
        QualityArg::Eighth => AnalysisQuality::Eighth,
        QualityArg::Quarter => AnalysisQuality::Quarter,
        QualityArg::Half => AnalysisQuality::Half,
        QualityArg::Full => AnalysisQuality::Full,
    }
}

/// A warning: an event with `--json`, else the log.
pub fn warn(global: &crate::args::Global, frame: Option<i64>, message: &str) {
    if global.json {
        crate::events::Event::Warning { frame, message }.emit();
    } else {
        tracing::warn!(frame, "{message}");
    }
}

/// `--platform` as the engine's rendering platform.
pub fn platform(arg: PlatformArg) -> RenderingPlatform {
    match arg {
        PlatformArg::Auto => RenderingPlatform::Auto,
        PlatformArg::Gpu => RenderingPlatform::Gpu,
        PlatformArg::Cpu => RenderingPlatform::Cpu,
    }
}
