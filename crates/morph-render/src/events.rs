//! What a render reports: `--json` event lines on stdout for render workers,
//! or a progress bar on a terminal.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// One `--json` event; printed as a single line `{"event": "...", ...}`.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// Rendering starts.
    Start {
        /// Subcommand name.
        command: &'a str,
        /// Frames to render.
        frames: usize,
        /// First output pattern.
        output: String,
    },
    /// A frame was written.
    Frame {
        /// Frame number.
        frame: i64,
        /// Files written.
        outputs: Vec<String>,
        /// Reading the inputs, ms.
        read_ms: f64,
        /// Computing, ms.
        compute_ms: f64,
        /// Writing, ms.
        write_ms: f64,
    },
    /// A frame was not rendered because its outputs exist (--skip-existing).
    Skip {
        /// Frame number.
        frame: i64,
        /// Why.
        reason: &'a str,
    },
    /// Something the user should know that did not stop the render.
    Warning {
        /// Frame it concerns, if any.
        frame: Option<i64>,
        /// What happened.
        message: &'a str,
    },
    /// A frame, or the whole command, failed.
    Error {
        /// Frame it concerns, if any.
        frame: Option<i64>,
        /// Error with its cause chain.
        message: &'a str,
    },
    /// Rendering ended.
    Finish {
        /// Frames written.
        done: usize,
        /// Frames skipped.
        skipped: usize,
        /// Frames failed.
        failed: usize,
        /// Wall time, ms.
        elapsed_ms: f64,
    },
}

impl Event<'_> {
    /// Prints the event as one JSON line on stdout.
    pub fn emit(&self) {
        let line = serde_json::to_string(self).expect("events serialise");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Sends events to `--json` or a progress bar (on a terminal) or the log.
pub struct Reporter {
    json: bool,
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// A reporter for `total` frames.
    pub fn new(json: bool, quiet: bool, total: usize) -> Self {
        let bar = (!json && !quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} frames, eta {eta} {msg}",
                )
                .expect("valid template"),
            );
            bar
        });
        Reporter { json, bar }
    }

    /// Reports an event.
    pub fn event(&self, event: Event<'_>) {
        if self.json {
            event.emit();
        }
        match &event {
            Event::Frame { frame, .. } | Event::Skip { frame, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("frame {frame}"));
                    bar.inc(1);
                }
            }
            Event::Warning { frame, message } => self.println(&match frame {
                Some(f) => format!("warning: frame {f}: {message}"),
                None => format!("warning: {message}"),
            }),
            Event::Error {
                frame: Some(f),
                message,
            } => self.println(&format!("error: frame {f}: {message}")),
            Event::Finish { .. } => {
                if let Some(bar) = &self.bar {
                    bar.finish();
                }
            }
            _ => {}
        }
    }

    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if !self.json => eprintln!("{line}"),
            None => {}
        }
    }
}
