//! Helpers shared by the CLI test files: run the binary, find testdata,
//! read back and compare images.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use morph_core::Image;

/// The binary, with logging settings from the environment removed.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_morph-render"));
    c.env_remove("MORPH_LOG");
    c.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    c
}

/// A path under the repository's `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run morph-render")
}

/// The run's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The run's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A path as `&str`.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts success, printing stderr otherwise.
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        stderr(o)
    );
}

/// Reads an image.
pub fn read(p: &Path) -> Image {
    morph_io::format::read_image(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// PSNR of RGB (peak 1) over the pixels at least `border` from the edge.
pub fn psnr(x: &Image, y: &Image, border: usize) -> f64 {
    let (w, h) = (x.width() as usize, x.height() as usize);
    let (mut se, mut n) = (0.0f64, 0usize);
    for yy in border..h - border {
        for xx in border..w - border {
            let (p, q) = (x.pixels()[yy * w + xx], y.pixels()[yy * w + xx]);
            for c in 0..3 {
                se += ((p[c] - q[c]) as f64).powi(2);
            }
            n += 3;
        }
    }
    10.0 * (1.0 / (se / n as f64).max(1e-12)).log10()
}

/// Copies `testdata/<dir>/<name>.<frame>.<ext>` for each frame into `to`,
/// renumbered by `renumber`.
pub fn copy_frames(
    dir: &str,
    name: &str,
    ext: &str,
    frames: &[i64],
    to: &Path,
    renumber: impl Fn(i64) -> i64,
) {
    for &f in frames {
        let src = testdata(&format!("{dir}/{name}.{f:04}.{ext}"));
        let dst = to.join(format!("{name}.{:04}.{ext}", renumber(f)));
        std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    }
}
