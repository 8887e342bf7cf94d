//! morph-render: the command line over image sequences.
//!
//! Thin by design (ripgrep's layout): `args` parses, `commands/*` turn the
//! arguments into validated parameters and call the `morph` engine, `render`
//! runs a command over the frames of a sequence with atomic writes,
//! `--skip-existing`, progress and `--json` events. No image maths here.
//!
//! Exit codes: 0 ok, 1 a frame failed, 2 bad arguments or input.

mod args;
mod commands;
mod events;
mod render;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

/// Why the command failed, and so which exit code it gets.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or input found before rendering (exit 2).
    Usage(anyhow::Error),
    /// A frame failed while rendering (exit 1).
    Frame(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Usage(e.into())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    init_logging(&cli.global);
    if let Some(n) = cli.global.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
    {
        eprintln!("error: --threads {n}: {e}");
        return ExitCode::from(2);
    }
    let json = cli.global.json;
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let (code, err) = match failure {
                Failure::Usage(e) => (2, e),
                Failure::Frame(e) => (1, e),
            };
            report_error(&err, json);
            ExitCode::from(code)
        }
    }
}

/// Prints an error with its cause chain (`error: ...` then `  caused by: ...`).
fn report_error(err: &anyhow::Error, json: bool) {
    if json {
        events::Event::Error {
            frame: None,
            message: &format!("{err:#}"),
        }
        .emit();
    }
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

fn init_logging(global: &args::Global) {
    use tracing_subscriber::EnvFilter;
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = EnvFilter::try_from_env("MORPH_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
