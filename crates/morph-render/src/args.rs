//! Command-line arguments (clap derive). Parsing only: every value is turned
//! into validated engine parameters in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// GPU frame interpolation and image processing over image sequences.
///
/// Sequences are patterns such as `shot.####.exr`, `shot.%04d.exr`,
/// `shot.@@@.png` or `shot.$F4.exr`, or single files. Frame ranges:
/// `1001-1100`, `1001-1100x2`, `1,5,10-20`.
///
/// Exit codes: 0 ok, 1 a frame failed, 2 bad arguments or input.
#[derive(Debug, Parser)]
#[command(name = "morph-render", version, max_term_width = 100)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: Global,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Print one JSON event per line on stdout (start, frame, skip, warning,
    /// error, finish) for render workers, instead of a progress bar.
    #[arg(long, global = true)]
    pub json: bool,
    /// Threads for the CPU pool (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Only print errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More log output (-v info, -vv debug); MORPH_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The subcommands (SPEC §7).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Retime one clip: slow motion, speed change or fps conversion.
    Retime(RetimeArgs),
    /// Transition from clip A to clip B over a frame range (Morph node).
    Morph(MorphArgs),
    /// One in-between frame of two frames at --time.
    Interpolate(InterpolateArgs),
    /// Motion vectors between two frames, as .flo or EXR.
    Flow(FlowArgs),
    /// Motion blur along the motion vectors of a sequence.
    ///
    /// For each frame, optical flow to the next and to the previous frame
    /// (each pair computed once) gives the vectors; `--samples` taps over
    /// `--shutter` frames centred on the frame follow them, with the
    /// neighbouring frames filling in background revealed behind moving
    /// objects. The first and last frames use the one field they have,
    /// negated, for the missing side; a single frame is written unchanged
    /// with a warning. Out-of-range --samples (3..=25) or --shutter
    /// (0.05..=10) exit 2 naming the allowed range.
    ///
    /// Example: morph-render motion-blur 'shot.####.exr' -o 'blur.####.exr'
    /// --samples 9 --shutter 0.5 --reference 960,540
    MotionBlur(MotionBlurArgs),
    /// Warp a Front image through an STMap (UV map).
    Stmap(StmapArgs),
    /// Split images into Low, (Mid) and High frequency bands.
    Frequency(FrequencyArgs),
    /// Recombine frequency bands: Low + Mid + High.
    #[command(name = "frequency-merge", visible_alias = "merge")]
    FrequencyMerge(MergeArgs),
    /// Clamp every channel, alpha included, to [min, max].
    Clamp(ClampArgs),
    /// Describe a sequence: frames on disk, size, channels, windows, format.
    Info(InfoArgs),
    /// List the GPU adapters and what Auto would pick.
    Devices,
}

/// Options for reading an input sequence.
#[derive(Debug, Args)]
pub struct InputOpts {
    /// Frames to render (default: every frame found on disk).
    #[arg(short = 'f', long, value_name = "RANGE", allow_hyphen_values = true)]
    pub frames: Option<String>,
    /// What to do about input frames missing on disk.
    #[arg(long, value_enum, default_value_t = MissingArg::Error)]
    pub missing: MissingArg,
}

/// Options for writing an output sequence.
#[derive(Debug, Args)]
pub struct OutputOpts {
    /// Output file or sequence pattern (same frame numbers as the input).
    #[arg(short, long, value_name = "PATTERN")]
    pub output: PathBuf,
    /// Leave outputs that already exist alone, so a render can resume.
    #[arg(long)]
    pub skip_existing: bool,
    /// Keep rendering the other frames after one fails (exit code 1 at the end).
    #[arg(long)]
    pub keep_going: bool,
    /// EXR compression: none, rle, zips, zip, piz (lossless); pxr24
    /// (lossless for half, lossy for float); b44, b44a, dwaa, dwab (lossy).
    /// zip is what Nuke and oiiotool write; piz is often smaller and faster
    /// to write on grainy plates.
    #[arg(long, value_name = "NAME", default_value = "zip")]
    pub compression: String,
    /// Sample format of the output (default: the input's, or the format's
    /// natural one).
    #[arg(long, value_enum, value_name = "DEPTH")]
    pub depth: Option<DepthArg>,
}

/// `--missing`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MissingArg {
    /// Stop with an error naming the missing frame.
    Error,
    /// Leave missing frames out.
    Skip,
    /// Use the nearest earlier frame (else the nearest later one).
    Hold,
}

/// `--depth`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DepthArg {
    /// 8-bit integer.
    #[value(name = "8")]
    U8,
    /// 10-bit integer (DPX).
    #[value(name = "10")]
    U10,
    /// 16-bit integer.
    #[value(name = "16")]
    U16,
    /// Half float.
    Half,
    /// 32-bit float.
    Float,
}

/// `--platform` (the Morph node's rendering_platform).
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum PlatformArg {
    /// A hardware GPU if there is one, else the CPU (the reason is logged).
    #[default]
    Auto,
    /// wgpu compute; any adapter, software ones included; an error if none.
    Gpu,
    /// The rayon CPU implementation.
    Cpu,
}

/// `--quality` (motion_analysis_quality).
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum QualityArg {
    /// Use 1/16 resolution.
    #[value(name = "1/16")]
    Sixteenth,
    /// Use 1/8 resolution.
    #[value(name = "1/8")]
    Eighth,
    /// Use 1/4 resolution.
    #[default]
    #[value(name = "1/4")]
    Quarter,
    /// Use 1/2 resolution.
    #[value(name = "1/2")]
    Half,
    /// Use full resolution.
    Full,
}

/// Options of the commands that interpolate frames.
#[derive(Debug, Args)]
pub struct InterpolationOpts {
    /// Where the work runs.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
    /// Resolution the motion is analysed at.
    #[arg(long, value_enum, default_value_t = QualityArg::Quarter)]
    pub quality: QualityArg,
    /// Interpolation method: motion vectors or a machine-learning model.
    #[arg(long, visible_alias = "interpolation", value_enum, default_value_t = MethodArg::Mv)]
    pub method: MethodArg,
    /// ONNX model for --method ml (default: the shipped model).
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Run the ML model in fp16.
    #[arg(long)]
    pub fp16: bool,
    /// Directory for the ML engine cache.
    #[arg(long, value_name = "DIR")]
    pub engine_cache: Option<PathBuf>,
    /// At a detected scene cut (no correspondence between the two frames):
    /// show the nearest frame (default for retime and interpolate),
    /// cross-dissolve (default for morph), or warp anyway.
    #[arg(long, value_enum, value_name = "RULE")]
    pub cut_rule: Option<CutRuleArg>,
}

/// `--cut-rule`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CutRuleArg {
    /// A before the middle of the interval, B from the middle on.
    Nearest,
    /// Cross-fade (1 − t)·A + t·B.
    Dissolve,
    /// Ignore the detection and warp.
    Warp,
}

/// `--method`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodArg {
    /// Optical flow and warping (Motion Vectors).
    Mv,
    /// An ONNX model (Machine Learning).
    Ml,
}

/// Motion-blur options shared by retime, morph and motion-blur.
#[derive(Debug, Args)]
pub struct BlurOpts {
    /// Taps along the shutter interval, 3..=25.
    #[arg(long, default_value_t = 9)]
    pub samples: u32,
    /// Shutter length in frames, 0.05..=10, centred on the output time.
    #[arg(long, default_value_t = 0.5)]
    pub shutter: f32,
}

/// `retime`.
///
/// Output frame k (counted from 0) shows input time `first + k·speed`;
/// times between input frames are interpolated from the two frames around
/// them, with one flow computation per input pair. Outputs are numbered from
/// --start-frame (default: the first input frame).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    morph-render retime shot.####.exr -o slow.####.exr --factor 4\n  \
    morph-render retime shot.####.exr -o half.####.exr --speed 0.5\n  \
    morph-render retime shot.####.exr -o shot60.####.exr --fps-from 24 --fps-to 60")]
pub struct RetimeArgs {
    /// Input sequence.
    pub input: PathBuf,
    /// Input frames and missing-frame policy.
    #[command(flatten)]
    pub input_opts: InputOpts,
    /// Output options.
    #[command(flatten)]
    pub output_opts: OutputOpts,
    /// Slow motion: N-1 in-betweens per input pair.
    #[arg(long, value_name = "N", conflicts_with_all = ["speed", "fps_from"])]
    pub factor: Option<u32>,
    /// Any speed: output frame k samples input time k·speed.
    #[arg(long, value_name = "S", conflicts_with = "fps_from")]
    pub speed: Option<f64>,
    /// fps conversion: source frame rate (with --fps-to).
    #[arg(long, value_name = "FPS", requires = "fps_to")]
    pub fps_from: Option<f64>,
    /// fps conversion: target frame rate.
    #[arg(long, value_name = "FPS", requires = "fps_from")]
    pub fps_to: Option<f64>,
    /// Number of the first output frame (default: the first input frame).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub start_frame: Option<i64>,
    /// Interpolation options.
    #[command(flatten)]
    pub interp: InterpolationOpts,
    /// Add motion blur along the vectors (--shutter in output frames;
    /// input frames kept by the retime are blurred too).
    #[arg(long)]
    pub motion_blur: bool,
    /// Motion-blur options.
    #[command(flatten)]
    pub blur: BlurOpts,
}

/// `morph`.
///
/// Output frame f is A's frame f before the range, B's after it, and inside
/// it the in-between at t = mix(f)/100 of A's frame f (A's range-start
/// frame with --freeze-first) and B's frame f (B's range-end frame with
/// --freeze-last).
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    morph-render morph a.####.exr b.####.exr -o t.####.exr --range 1001-1024 --mix-to-range")]
pub struct MorphArgs {
    /// Clip A (Front, outgoing).
    pub a: PathBuf,
    /// Clip B (Back, incoming).
    pub b: PathBuf,
    /// Output frames (default: the frames both clips have on disk).
    #[arg(short = 'f', long, value_name = "RANGE", allow_hyphen_values = true)]
    pub frames: Option<String>,
    /// Output options.
    #[command(flatten)]
    pub output_opts: OutputOpts,
    /// Transition range (Custom Range); default All Frames.
    #[arg(long, value_name = "FIRST-LAST")]
    pub range: Option<String>,
    /// Constant mix 0..=100 (0 = A, 100 = B).
    #[arg(long, value_name = "PERCENT", conflicts_with_all = ["mix_keys", "mix_to_range"])]
    pub mix: Option<f32>,
    /// Mix keyframes `frame:value,...`, linear between keys.
    #[arg(long, value_name = "KEYS", conflicts_with = "mix_to_range")]
    pub mix_keys: Option<String>,
    /// Mix 0 at the range's first frame to 100 at its last.
    #[arg(long)]
    pub mix_to_range: bool,
    /// Hold A at its frame at range start.
    #[arg(long)]
    pub freeze_first: bool,
    /// Hold B at its frame at range end.
    #[arg(long)]
    pub freeze_last: bool,
    /// Missing-frame policy.
    #[arg(long, value_enum, default_value_t = MissingArg::Error)]
    pub missing: MissingArg,
    /// Interpolation options.
    #[command(flatten)]
    pub interp: InterpolationOpts,
    /// Add motion blur along the in-between's motion as the mix changes
    /// from frame to frame (a constant mix does not move: no blur).
    #[arg(long)]
    pub motion_blur: bool,
    /// Motion-blur options.
    #[command(flatten)]
    pub blur: BlurOpts,
}

/// `interpolate`.
///
/// Prints `compute_ms=<n>`: the in-process time of the in-between, flow
/// included, without file I/O.
#[derive(Debug, Args)]
pub struct InterpolateArgs {
    /// Frame A (time 0).
    pub a: PathBuf,
    /// Frame B (time 1).
    pub b: PathBuf,
    /// Output time in [0, 1].
    #[arg(long, default_value_t = 0.5)]
    pub time: f32,
    /// Output options.
    #[command(flatten)]
    pub output_opts: OutputOpts,
    /// Interpolation options.
    #[command(flatten)]
    pub interp: InterpolationOpts,
}

/// `flow`.
#[derive(Debug, Args)]
pub struct FlowArgs {
    /// Frame (or sequence) A.
    pub a: PathBuf,
    /// Frame B (omit to use consecutive frames of sequence A).
    pub b: Option<PathBuf>,
    /// Output `.flo` (forward a→b) or `.exr` (forward and backward layers).
    #[arg(short, long, value_name = "PATTERN")]
    pub output: PathBuf,
    /// Also write a colour-wheel visualisation to this PNG.
    #[arg(long, value_name = "PNG")]
    pub visualize: Option<PathBuf>,
    /// Write EXR vectors with +v down instead of Nuke's +v up.
    #[arg(long)]
    pub y_down: bool,
    /// Where the work runs.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
    /// Resolution the motion is analysed at.
    #[arg(long, value_enum, default_value_t = QualityArg::Quarter)]
    pub quality: QualityArg,
}

/// `motion-blur`.
#[derive(Debug, Args)]
pub struct MotionBlurArgs {
    /// Input sequence.
    pub input: PathBuf,
    /// Input frames and missing-frame policy.
    #[command(flatten)]
    pub input_opts: InputOpts,
    /// Output options.
    #[command(flatten)]
    pub output_opts: OutputOpts,
    /// Motion-blur options.
    #[command(flatten)]
    pub blur: BlurOpts,
    /// Reference point `X,Y` in pixels (x from the left, y from the bottom,
    /// 0..=10000, clamped into the frame): its motion is subtracted from
    /// every vector, so it stays sharp and the rest blurs relative to it.
    #[arg(long, value_name = "X,Y")]
    pub reference: Option<String>,
    /// Draw a crosshair on the reference point (previews only, never for
    /// final renders); needs --reference.
    #[arg(long)]
    pub show_reference: bool,
    /// Crosshair colour `R,G,B` in 0..1 (with --show-reference).
    #[arg(long, value_name = "R,G,B", default_value = "1,0,0")]
    pub reference_colour: String,
    /// Where the work runs.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
    /// Resolution the motion is analysed at.
    #[arg(long, value_enum, default_value_t = QualityArg::Quarter)]
    pub quality: QualityArg,
}

/// `stmap`.
#[derive(Debug, Args)]
pub struct StmapArgs {
    /// Front image or sequence.
    pub front: PathBuf,
    /// STMap (R = s, G = t, float EXR); a single file is read once and applied to
    /// every frame (on the CPU its positions and weights are computed once too).
    pub stmap: PathBuf,
    /// Input frames and missing-frame policy.
    #[command(flatten)]
    pub input_opts: InputOpts,
    /// Output options.
    #[command(flatten)]
    pub output_opts: OutputOpts,
    /// Filter.
    #[arg(long, value_enum, default_value_t = FilterArg::Linear)]
    pub filter: FilterArg,
    /// Repeat mode outside the Front, on both axes.
    #[arg(long, value_enum, default_value_t = RepeatArg::Off)]
    pub repeat: RepeatArg,
    /// Repeat mode on the horizontal axis (overrides --repeat).
    #[arg(long, value_enum)]
    pub repeat_x: Option<RepeatArg>,
    /// Repeat mode on the vertical axis (overrides --repeat).
    #[arg(long, value_enum)]
    pub repeat_y: Option<RepeatArg>,
    /// Framing mode.
    #[arg(long, value_enum, default_value_t = FramingArg::Entire)]
    pub framing: FramingArg,
    /// Matte sequence warped like the Front.
    #[arg(long, value_name = "PATTERN")]
    pub matte: Option<PathBuf>,
    /// Where to write the warped matte.
    #[arg(long, value_name = "PATTERN", requires = "matte")]
    pub out_matte: Option<PathBuf>,
    /// Offset `X,Y` in pixels added to the sample position.
    #[arg(long, value_name = "X,Y")]
    pub offset: Option<String>,
    /// Where the work runs.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
}

/// `--filter` for stmap.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FilterArg {
    /// Point sampling.
    Nearest,
    /// Bilinear.
    Linear,
    /// Bicubic B = C = 1/3.
    Mitchell,
    /// Bicubic B = 0, C = 1/2.
    CatmullRom,
    /// Probes along the footprint's major axis.
    Aniso,
    /// Anisotropic, bilinear where the map magnifies.
    AnisoLinear,
    /// Elliptical weighted average.
    Ewa,
    /// EWA, bilinear where the map magnifies.
    EwaLinear,
}

/// `--repeat` for stmap.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RepeatArg {
    /// Transparent black outside.
    Off,
    /// Mirror at the edges.
    Mirrored,
    /// Wrap around.
    Tiled,
    /// Clamp to the edge pixel.
    Last,
}

/// `--framing` for stmap.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FramingArg {
    /// (0,0)-(1,1) spans the whole Front.
    Entire,
    /// s, t scaled by STMap size / Front size, centred.
    Ratio,
    /// (0,0)-(1,1) spans the display window; output covers the data window.
    Windows,
}

/// `frequency`.
#[derive(Debug, Args)]
pub struct FrequencyArgs {
    /// Input sequence.
    pub input: PathBuf,
    /// Input frames and missing-frame policy.
    #[command(flatten)]
    pub input_opts: InputOpts,
    /// Low band output pattern.
    #[arg(long, value_name = "PATTERN")]
    pub low: PathBuf,
    /// Mid band output pattern (3 bands).
    #[arg(long, value_name = "PATTERN")]
    pub mid: Option<PathBuf>,
    /// High band output pattern.
    #[arg(long, value_name = "PATTERN")]
    pub high: PathBuf,
    /// Blur filter.
    #[arg(long, value_enum, default_value_t = BlurFilterArg::Gaussian)]
    pub filter: BlurFilterArg,
    /// Low blur radius in pixels, `R` or `W,H` (0..=1000).
    #[arg(long, value_name = "R|W,H", default_value = "10")]
    pub low_size: String,
    /// Mid blur radius in pixels, `R` or `W,H` (3 bands).
    #[arg(long, value_name = "R|W,H", default_value = "3")]
    pub mid_size: String,
    /// Store Mid and High as 0.5 + 0.5·band.
    #[arg(long)]
    pub centre_scale: bool,
    /// Leave outputs that already exist alone.
    #[arg(long)]
    pub skip_existing: bool,
    /// EXR compression: none, rle, zips, zip, piz (lossless); pxr24
    /// (lossless for half, lossy for float); b44, b44a, dwaa, dwab (lossy).
    /// zip is what Nuke and oiiotool write; piz is often smaller and faster
    /// to write on grainy plates.
    #[arg(long, value_name = "NAME", default_value = "zip")]
    pub compression: String,
    /// Where the work runs.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
}

/// `--filter` for frequency.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BlurFilterArg {
    /// Box average.
    Box,
    /// Gaussian, σ = r/3.
    Gaussian,
}

/// `frequency-merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Low band sequence.
    #[arg(long, value_name = "PATTERN")]
    pub low: PathBuf,
    /// Mid band sequence.
    #[arg(long, value_name = "PATTERN")]
    pub mid: Option<PathBuf>,
    /// High band sequence.
    #[arg(long, value_name = "PATTERN")]
    pub high: PathBuf,
    /// The bands were written with --centre-scale (undo it).
    #[arg(long)]
    pub centre_scale: bool,
    /// Input frames and missing-frame policy.
    #[command(flatten)]
    pub input_opts: InputOpts,
    /// Output options.
    #[command(flatten)]
    pub output_opts: OutputOpts,
}

/// `clamp`.
#[derive(Debug, Args)]
pub struct ClampArgs {
    /// Input sequence.
    pub input: PathBuf,
    /// Input frames and missing-frame policy.
    #[command(flatten)]
    pub input_opts: InputOpts,
    /// Output options.
    #[command(flatten)]
    pub output_opts: OutputOpts,
    /// Lower bound (min_value).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub min: f32,
    /// Upper bound (max_value).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub max: f32,
    /// Switch the lower bound off (min_clamp = off).
    #[arg(long)]
    pub no_min: bool,
    /// Switch the upper bound off (max_clamp = off).
    #[arg(long)]
    pub no_max: bool,
    /// Where the work runs.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
}

/// `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Sequence pattern or file.
    pub input: PathBuf,
    /// Only these frames.
    #[arg(short = 'f', long, value_name = "RANGE", allow_hyphen_values = true)]
    pub frames: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
