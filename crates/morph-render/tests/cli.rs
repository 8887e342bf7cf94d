//! End-to-end tests of the `morph-render` binary on real files: exit codes,
//! events, resumable renders, missing frames and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_morph-render"));
    c.env_remove("MORPH_LOG");
    c
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run morph-render")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Copies the sprite sequence's frames `frames` into `dir`.
fn copy_sprite(dir: &Path, frames: &[i64]) {
    for f in frames {
        let name = format!("sprite.{f:04}.exr");
        std::fs::copy(testdata(&format!("sprite/{name}")), dir.join(&name)).unwrap();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn help_lists_every_subcommand() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for cmd in [
        "retime",
        "morph",
        "interpolate",
        "flow",
        "motion-blur",
        "stmap",
        "frequency",
        "frequency-merge",
        "clamp",
        "info",
        "devices",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}:\n{text}");
    }
}

#[test]
fn bad_arguments_exit_2() {
    let o = run(&["clamp"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn clamp_sequence_end_to_end_with_json_events() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out/sprite.####.exr");
    let o = run(&[
        "--json",
        "clamp",
        s(&testdata("sprite/sprite.####.exr")),
        "-o",
        s(&out),
        "--max",
        "0.5",
        "--platform",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(events[0]["event"], "start");
    assert_eq!(events[0]["frames"], 6);
    let frames: Vec<_> = events.iter().filter(|e| e["event"] == "frame").collect();
    assert_eq!(frames.len(), 6);
    assert!(frames[0]["compute_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(events.last().unwrap()["event"], "finish");
    assert_eq!(events.last().unwrap()["done"], 6);

    for f in 1..=6 {
        let src =
            morph_io::format::read_image(&testdata(&format!("sprite/sprite.{f:04}.exr"))).unwrap();
        let img = morph_io::format::read_image(&dir.path().join(format!("out/sprite.{f:04}.exr")))
            .unwrap();
        assert_eq!(img.size(), src.size());
        assert_eq!(
            img.channel_names(),
            src.channel_names(),
            "alpha and depth.Z kept"
        );
        let max = img.as_flat().iter().cloned().fold(f32::MIN, f32::max);
        assert!(max <= 0.5, "frame {f}: max {max}");
        let z = &img.extra_channel("depth.Z").unwrap().data;
        assert!(z.iter().all(|v| *v <= 0.5), "extra channels clamped too");
    }
}

#[test]
fn skip_existing_resumes_without_rewriting() {
    let dir = tempfile::tempdir().unwrap();
    let input = testdata("pan/pan.####.png");
    let out = dir.path().join("pan.####.png");
    let args = ["clamp", s(&input), "-o", s(&out), "-f", "1001-1003"];
    assert!(run(&args).status.success());
    let first = dir.path().join("pan.1002.png");
    let stamp = std::fs::metadata(&first).unwrap().modified().unwrap();
    std::fs::remove_file(dir.path().join("pan.1003.png")).unwrap();

    let mut resume = vec!["--json"];
    resume.extend(args);
    resume.push("--skip-existing");
    let o = run(&resume);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.matches("\"event\":\"skip\"").count(), 2, "{text}");
    assert_eq!(text.matches("\"event\":\"frame\"").count(), 1, "{text}");
    assert_eq!(
        std::fs::metadata(&first).unwrap().modified().unwrap(),
        stamp,
        "existing output untouched"
    );
    assert!(dir.path().join("pan.1003.png").exists());
}

#[test]
fn missing_frames_follow_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    copy_sprite(dir.path(), &[1, 2, 4]);
    let input = dir.path().join("sprite.####.exr");
    let out = dir.path().join("out.####.exr");

    let o = run(&["clamp", s(&input), "-f", "1-4", "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing frame 3"), "{}", stderr(&o));
    assert!(
        !dir.path().join("out.0001.exr").exists(),
        "nothing rendered"
    );

    let o = run(&[
        "clamp",
        s(&input),
        "-f",
        "1-4",
        "--missing",
        "skip",
        "-o",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!dir.path().join("out.0003.exr").exists());
    assert!(dir.path().join("out.0004.exr").exists());

    let o = run(&[
        "clamp",
        s(&input),
        "-f",
        "1-4",
        "--missing",
        "hold",
        "-o",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        dir.path().join("out.0003.exr").exists(),
        "held frame rendered"
    );
    assert!(stderr(&o).contains("holding frame 2"), "{}", stderr(&o));
}

#[test]
fn corrupt_frame_is_refused_before_rendering() {
    let dir = tempfile::tempdir().unwrap();
    copy_sprite(dir.path(), &[1, 3]);
    std::fs::write(dir.path().join("sprite.0002.exr"), b"not an exr at all").unwrap();
    let o = run(&[
        "clamp",
        s(&dir.path().join("sprite.####.exr")),
        "-o",
        s(&dir.path().join("out.####.exr")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sprite.0002.exr"), "{}", stderr(&o));
    assert!(!dir.path().join("out.0001.exr").exists());
}

#[test]
fn truncated_frame_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_sprite(dir.path(), &[1, 2]);
    let victim = dir.path().join("sprite.0002.exr");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(&[
        "clamp",
        s(&dir.path().join("sprite.####.exr")),
        "-o",
        s(&dir.path().join("out.####.exr")),
        "--keep-going",
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("sprite.0002.exr"), "{}", stderr(&o));
    assert!(
        !dir.path().join("out.0002.exr").exists(),
        "no partial output"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with("sprite.") && !n.starts_with("out."))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn mismatched_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        testdata("pan/pan.1001.png"),
        dir.path().join("mix.0001.png"),
    )
    .unwrap();
    // Frame 2 is a different size (the 256x160 sprite).
    let sprite = morph_io::format::read_image(&testdata("sprite/sprite.0001.exr")).unwrap();
    morph_io::format::write_image(
        &dir.path().join("mix.0002.png"),
        &sprite,
        &Default::default(),
    )
    .unwrap();
    let o = run(&[
        "clamp",
        s(&dir.path().join("mix.####.png")),
        "-o",
        s(&dir.path().join("o.####.png")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("mix.0002.png"), "{}", stderr(&o));
    assert!(stderr(&o).contains("320x240"), "{}", stderr(&o));
}

#[test]
fn out_of_range_attributes_name_attribute_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "clamp",
        s(&testdata("pan/pan.####.png")),
        "-o",
        s(&dir.path().join("o.####.png")),
        "--min",
        "2",
        "--max",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("min_value = 2"), "{}", stderr(&o));
}

#[test]
fn single_file_output_for_many_frames_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "clamp",
        s(&testdata("pan/pan.####.png")),
        "-o",
        s(&dir.path().join("one.png")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_frame_that_cannot_be_written_exits_1_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where frame 1002's output should go makes its write fail.
    std::fs::create_dir(dir.path().join("o.1002.png")).unwrap();
    let o = run(&[
        "clamp",
        s(&testdata("pan/pan.####.png")),
        "-f",
        "1001-1003",
        "-o",
        s(&dir.path().join("o.####.png")),
        "--keep-going",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("frame 1002"), "{}", stderr(&o));
    assert!(dir.path().join("o.1001.png").is_file());
    assert!(dir.path().join("o.1003.png").is_file(), "--keep-going");
}

#[test]
fn info_describes_a_sequence() {
    let o = run(&["info", s(&testdata("sprite/sprite.####.exr"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("1-6"), "{text}");
    assert!(text.contains("256x160"), "{text}");
    assert!(text.contains("depth.Z"), "{text}");

    let o = run(&["--json", "info", s(&testdata("pan/pan.####.png"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["width"], 320);
    assert_eq!(v["frames"].as_array().unwrap().len(), 8);
}

#[test]
fn unimplemented_commands_say_so() {
    let o = run(&["interpolate", "a.exr", "b.exr", "-o", "c.exr"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not implemented yet"), "{}", stderr(&o));
}

/// Writes an STMap `(s, t)` = identity shifted by `(dx, dy)` pixels (t up).
fn write_stmap(path: &Path, w: u32, h: u32, dx: f32, dy: f32, format: morph_core::SampleFormat) {
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let s = (x as f32 + 0.5 + dx) / w as f32;
            let t = (h as f32 - y as f32 - 0.5 - dy) / h as f32;
            [s, t, 0.0, 1.0]
        })
        .collect();
    let mut map = morph_core::Image::from_pixels(w, h, pixels);
    map.metadata.format = Some(format);
    morph_io::format::write_image(path, &map, &Default::default()).unwrap();
}

#[test]
fn stmap_identity_and_shift_on_a_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("identity.exr");
    write_stmap(&map, 320, 240, 0.0, 0.0, morph_core::SampleFormat::F32);
    let out = dir.path().join("id.####.exr");
    let o = run(&[
        "stmap",
        s(&testdata("pan/pan.####.png")),
        s(&map),
        "-f",
        "1001-1002",
        "-o",
        s(&out),
        "--filter",
        "catmull-rom",
        "--platform",
        "cpu",
        "--depth",
        "float",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [1001, 1002] {
        let src = morph_io::format::read_image(&testdata(&format!("pan/pan.{f}.png"))).unwrap();
        let got = morph_io::format::read_image(&dir.path().join(format!("id.{f}.exr"))).unwrap();
        let differ = got
            .pixels()
            .iter()
            .zip(src.pixels())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(differ, 0, "identity STMap is exact; {differ} pixels differ");
    }

    // A map that samples 3 px to the right shifts the picture left by 3 px.
    let shift = dir.path().join("shift.exr");
    write_stmap(&shift, 320, 240, 3.0, 0.0, morph_core::SampleFormat::F32);
    let out = dir.path().join("sh.####.exr");
    let o = run(&[
        "stmap",
        s(&testdata("pan/pan.####.png")),
        s(&shift),
        "-f",
        "1001",
        "-o",
        s(&out),
        "--filter",
        "linear",
        "--repeat",
        "last",
        "--depth",
        "float",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let src = morph_io::format::read_image(&testdata("pan/pan.1001.png")).unwrap();
    let got = morph_io::format::read_image(&dir.path().join("sh.1001.exr")).unwrap();
    for y in [0, 100, 239] {
        for x in [0, 50, 316] {
            assert_eq!(got.pixel(x, y), src.pixel(x + 3, y), "({x}, {y})");
        }
    }
}

#[test]
fn stmap_formats_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let half = dir.path().join("half.exr");
    write_stmap(&half, 320, 240, 0.0, 0.0, morph_core::SampleFormat::F16);
    let o = run(&[
        "stmap",
        s(&testdata("pan/pan.####.png")),
        s(&half),
        "-f",
        "1001",
        "-o",
        s(&dir.path().join("o.####.exr")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("half float"),
        "warning expected: {}",
        stderr(&o)
    );

    let png = dir.path().join("map.png");
    write_stmap(&png, 320, 240, 0.0, 0.0, morph_core::SampleFormat::U16);
    let o = run(&[
        "stmap",
        s(&testdata("pan/pan.####.png")),
        s(&png),
        "-f",
        "1001",
        "-o",
        s(&dir.path().join("p.####.exr")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("must be 32-bit float"),
        "{}",
        stderr(&o)
    );
}
