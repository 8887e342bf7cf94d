//! Runs a command over the frames of a sequence: skips existing outputs,
//! writes atomically, reports progress and events, and turns a failed frame
//! into exit code 1 (after the other frames with `--keep-going`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::Context;
use morph_core::Image;
use morph_io::format::{self, ImageInfo, WriteOptions};
use morph_io::sequence::{self, FrameRange, FrameSource, MissingPolicy, Pattern};

use crate::Failure;
use crate::args::{InputOpts, MissingArg, OutputOpts};
use crate::events::{Event, Reporter};

/// What one frame produced: the images to write, and where the time went.
pub struct FrameOutput {
    /// (destination, image) pairs, written atomically in order.
    pub images: Vec<(PathBuf, Image)>,
    /// Time spent reading inputs, ms.
    pub read_ms: f64,
    /// Time spent computing, ms.
    pub compute_ms: f64,
}

/// Settings of the frame loop.
pub struct LoopSettings<'a> {
    /// Subcommand name, for events.
    pub command: &'a str,
    /// `--json`.
    pub json: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `--skip-existing`.
    pub skip_existing: bool,
    /// `--keep-going`.
    pub keep_going: bool,
}

/// Converts `--missing` into the library's policy.
pub fn missing_policy(arg: MissingArg) -> MissingPolicy {
    match arg {
        MissingArg::Error => MissingPolicy::Error,
        MissingArg::Skip => MissingPolicy::Skip,
        MissingArg::Hold => MissingPolicy::Hold,
    }
}

/// Parses the input pattern and plans its frames; checks every frame's
/// header up front so a missing, corrupt or odd-sized frame is reported
/// before anything is rendered (exit 2). Returns the frames and the first
/// frame's header.
pub fn plan_input(
    input: &std::path::Path,
    opts: &InputOpts,
) -> Result<(Pattern, Vec<FrameSource>, ImageInfo), Failure> {
    let pattern = parse_pattern(input)?;
    let range = opts
        .frames
        .as_deref()
        .map(FrameRange::parse)
        .transpose()
        .context("--frames")?;
    let frames = sequence::plan(&pattern, range.as_ref(), missing_policy(opts.missing))?;
    let info = check_headers(&frames)?;
    Ok((pattern, frames, info))
}

/// Parses a sequence pattern given on the command line.
pub fn parse_pattern(path: &std::path::Path) -> anyhow::Result<Pattern> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not valid UTF-8", path.display()))?;
    Ok(Pattern::parse(text)?)
}

/// Reads every frame's header; all must decode and have the first one's
/// size.
pub fn check_headers(frames: &[FrameSource]) -> anyhow::Result<ImageInfo> {
    let first = frames.first().context("no input frames")?;
    let info = format::probe(&first.path)?;
    for f in &frames[1..] {
        if f.held_from.is_some() {
            continue;
        }
        let other = format::probe(&f.path)?;
        if (other.width, other.height) != (info.width, info.height) {
            anyhow::bail!(
                "{}: frame is {}x{}, but the sequence's first frame {} is {}x{}",
                f.path.display(),
                other.width,
                other.height,
                first.path.display(),
                info.width,
                info.height
            );
        }
    }
    Ok(info)
}

/// The output pattern, checked against the number of frames it must hold and
/// the formats morph writes; its directory is created if missing.
pub fn plan_output(output: &std::path::Path, frames: usize) -> anyhow::Result<Pattern> {
    let pattern = parse_pattern(output).context("--output")?;
    sequence::check_output(&pattern, frames)?;
    format::FileFormat::from_path(&pattern.path(0))?;
    // Like Nuke's Write node with "create directories": render workers
    // expect the shot's output folder to appear.
    if let Some(dir) = pattern.path(0).parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating output directory {}", dir.display()))?;
    }
    Ok(pattern)
}

/// Write options from `--compression` and `--depth`.
pub fn write_options(opts: &OutputOpts) -> anyhow::Result<WriteOptions> {
    write_options_from(&opts.compression, opts.depth)
}

/// Write options from a compression name and an optional depth.
pub fn write_options_from(
    compression: &str,
    depth: Option<crate::args::DepthArg>,
) -> anyhow::Result<WriteOptions> {
    use crate::args::DepthArg;
    use morph_core::SampleFormat;
    let exr_compression = compression
        .parse()
        .map_err(|e| anyhow::anyhow!("--compression {compression}: {e}"))?;
    Ok(WriteOptions {
        sample_format: depth.map(|d| match d {
            DepthArg::U8 => SampleFormat::U8,
            DepthArg::U10 => SampleFormat::U10,
            DepthArg::U16 => SampleFormat::U16,
            DepthArg::Half => SampleFormat::F16,
            DepthArg::Float => SampleFormat::F32,
        }),
        exr_compression,
    })
}

/// Renders `frames`: for each, unless every output exists and
/// `skip_existing` is set, calls `work` and writes what it returns.
///
/// Writing runs on its own thread, one frame behind the work: frame N is
/// encoded and written while frame N + 1 is read and computed (an EXR
/// write costs more than most ops' compute; on the GPU, far more). At most
/// two frames are held: the one being written and the one waiting for it.
/// Events keep the frames' order (the writer reports them all), a frame's
/// `write_ms` is its own, and without `keep_going` nothing is written after
/// the first failure — read, compute or write — so the frames on disk are
/// the ones before it, as with a serial loop.
///
/// `outputs(frame)` gives the files a frame writes (for `--skip-existing`).
pub fn run_frames(
    settings: &LoopSettings<'_>,
    frames: &[FrameSource],
    first_output: String,
    outputs: impl Fn(i64) -> Vec<PathBuf>,
    write: &WriteOptions,
    mut work: impl FnMut(&FrameSource) -> anyhow::Result<FrameOutput>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let reporter = Reporter::new(settings.json, settings.quiet, frames.len());
    reporter.event(Event::Start {
        command: settings.command,
        frames: frames.len(),
        output: first_output,
    });
    let stop = AtomicBool::new(false);
    let tally = std::thread::scope(|scope| {
        // A rendezvous channel: the work waits for the writer to take its
        // frame, so no more than two frames are in memory.
        let (send, receive) = mpsc::sync_channel::<Step>(0);
        let writer = std::thread::Builder::new()
            .name("morph-writer".into())
            .spawn_scoped(scope, || {
                writer_loop(receive, &reporter, write, settings.keep_going, &stop)
            })
            .expect("spawning the writer thread");
        for source in frames {
            if stop.load(Ordering::Acquire) {
                break;
            }
            if let Some(from) = source.held_from {
                let _ = send.send(Step::Held(source.frame, from));
            }
            let step = if settings.skip_existing && outputs(source.frame).iter().all(|p| p.exists())
            {
                Step::Skip(source.frame)
            } else {
                Step::Frame(source.frame, work(source))
            };
            let fatal = matches!(step, Step::Frame(_, Err(_))) && !settings.keep_going;
            if send.send(step).is_err() || fatal {
                break;
            }
        }
        drop(send);
        // A panic there is passed on as it was.
        writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    reporter.event(Event::Finish {
        done: tally.done,
        skipped: tally.skipped,
        failed: tally.failed,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    });
    match tally.first_error {
        Some(e) => Err(Failure::Frame(e)),
        None => Ok(()),
    }
}

/// What the frame loop hands the writer thread, in frame order.
enum Step {
    /// A missing input frame is held from another: (frame, held from).
    Held(i64, i64),
    /// The frame's outputs exist (`--skip-existing`).
    Skip(i64),
    /// The frame's work: its images, or why it failed.
    Frame(i64, anyhow::Result<FrameOutput>),
}

/// The writer's count of the frames.
#[derive(Default)]
struct Tally {
    done: usize,
    skipped: usize,
    failed: usize,
    first_error: Option<anyhow::Error>,
}

/// The writer thread: writes each frame's images and reports every step;
/// after a failure without `keep_going` it raises `stop` and writes nothing
/// more.
fn writer_loop(
    steps: mpsc::Receiver<Step>,
    reporter: &Reporter,
    write: &WriteOptions,
    keep_going: bool,
    stop: &AtomicBool,
) -> Tally {
    let mut tally = Tally::default();
    for step in steps {
        let (frame, result) = match step {
            Step::Held(frame, from) => {
                reporter.event(Event::Warning {
                    frame: Some(frame),
                    message: &format!("input frame missing, holding frame {from}"),
                });
                continue;
            }
            Step::Skip(frame) => {
                reporter.event(Event::Skip {
                    frame,
                    reason: "outputs exist",
                });
                tally.skipped += 1;
                continue;
            }
            Step::Frame(frame, result) => (frame, result),
        };
        if tally.first_error.is_some() && !keep_going {
            // Computed before the work saw `stop`; not written.
            continue;
        }
        match result.and_then(|out| write_frame(out, write)) {
            Ok((written, read_ms, compute_ms, write_ms)) => {
                tally.done += 1;
                reporter.event(Event::Frame {
                    frame,
                    outputs: written,
                    read_ms,
                    compute_ms,
                    write_ms,
                });
            }
            Err(e) => {
                tally.failed += 1;
                reporter.event(Event::Error {
                    frame: Some(frame),
                    message: &format!("{e:#}"),
                });
                if tally.first_error.is_none() {
                    tally.first_error = Some(e.context(format!("frame {frame} failed")));
                }
                if !keep_going {
                    stop.store(true, Ordering::Release);
                }
            }
        }
    }
    tally
}

type Rendered = (Vec<String>, f64, f64, f64);

/// Writes a frame's images in order; if one fails, removes the ones before
/// it, so a failed frame leaves none of its files.
fn write_frame(out: FrameOutput, write: &WriteOptions) -> anyhow::Result<Rendered> {
    let t = Instant::now();
    let mut written = Vec::with_capacity(out.images.len());
    for (path, image) in &out.images {
        if let Err(e) = format::write_image(path, image, write) {
            // Each file is atomic; also take back this frame's earlier
            // outputs.
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(e.into());
        }
        written.push(path.display().to_string());
    }
    let write_ms = t.elapsed().as_secs_f64() * 1e3;
    Ok((written, out.read_ms, out.compute_ms, write_ms))
}

/// The file planned for `frame` in a secondary input's plan (a band, an
/// STMap or matte sequence resolved against the main input's frames).
pub fn path_for(list: &[FrameSource], frame: i64, what: &str) -> anyhow::Result<PathBuf> {
    list.iter()
        .find(|s| s.frame == frame)
        .map(|s| s.path.clone())
        .with_context(|| format!("{what}: frame {frame} was not planned"))
}

/// Milliseconds since `t`.
pub fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
