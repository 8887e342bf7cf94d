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
    // Every EXR compression the writer takes is named where it is chosen.
    let clamp = stdout(&run(&["clamp", "--help"]));
    for c in morph_io::format::ExrCompression::ALL {
        assert!(clamp.contains(c.name()), "clamp --help lacks {}", c.name());
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

/// `clamp` of the plate's frames `range` into `dir`/o.####.png, where a
/// directory stands in the way of frame 1002's output, so its write fails.
fn clamp_with_a_blocked_frame(dir: &Path, range: &str, extra: &[&str]) -> Output {
    std::fs::create_dir(dir.join("o.1002.png")).unwrap();
    let input = testdata("pan/pan.####.png");
    let output = dir.join("o.####.png");
    let mut args = vec!["clamp", s(&input), "-f", range, "-o", s(&output)];
    args.extend(extra);
    run(&args)
}

#[test]
fn a_frame_that_cannot_be_written_exits_1_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = clamp_with_a_blocked_frame(dir.path(), "1001-1003", &["--keep-going"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("frame 1002"), "{}", stderr(&o));
    assert!(dir.path().join("o.1001.png").is_file());
    assert!(dir.path().join("o.1003.png").is_file(), "--keep-going");
}

/// Writes run one frame behind the work: without --keep-going a failed write
/// still stops the render there (the next frame, already computed, is not
/// written), and the events stay in frame order.
#[test]
fn a_failed_write_stops_the_render_without_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let o = clamp_with_a_blocked_frame(dir.path(), "1001-1005", &["--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let kinds: Vec<(&str, i64)> = events
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["frame"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("start", -1),
            ("frame", 1001),
            ("error", 1002),
            ("finish", -1),
            ("error", -1)
        ],
        "{}",
        stdout(&o)
    );
    assert_eq!(events[3]["done"], 1);
    assert_eq!(events[3]["failed"], 1);
    let message = events[2]["message"].as_str().unwrap();
    assert!(message.contains("o.1002.png"), "{message}");
    assert_eq!(
        message.matches("os error").count(),
        1,
        "the cause once: {message}"
    );
    assert!(dir.path().join("o.1001.png").is_file());
    for f in 1003..=1005 {
        let p = dir.path().join(format!("o.{f}.png"));
        assert!(!p.exists(), "{} written after the failure", p.display());
    }
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

/// Frame 1001 of the pan plate through `map` (Linear, Repeat Last) on
/// `platform`, written as the float EXR `{name}.1001.exr` in `dir` and read
/// back.
fn stmap_pan_1001(dir: &Path, map: &Path, name: &str, platform: &str) -> morph_core::Image {
    let out = dir.join(format!("{name}.####.exr"));
    let o = run(&[
        "stmap",
        s(&testdata("pan/pan.####.png")),
        s(map),
        "-f",
        "1001",
        "-o",
        s(&out),
        "--filter",
        "linear",
        "--repeat",
        "last",
        "--platform",
        platform,
        "--depth",
        "float",
    ]);
    assert!(o.status.success(), "{platform}: {}", stderr(&o));
    morph_io::format::read_image(&dir.join(format!("{name}.1001.exr"))).unwrap()
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
    let got = stmap_pan_1001(dir.path(), &shift, "sh", "auto");
    let src = morph_io::format::read_image(&testdata("pan/pan.1001.png")).unwrap();
    for y in [0, 100, 239] {
        for x in [0, 50, 316] {
            assert_eq!(got.pixel(x, y), src.pixel(x + 3, y), "({x}, {y})");
        }
    }
}

/// A static STMap over a sequence is prepared once (and again when a frame's
/// data window moves, under the windows framing): every frame equals the
/// same frame run on its own, which takes the unprepared path.
#[test]
fn stmap_sequence_with_a_static_map_matches_single_frames() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("shift.exr");
    // Samples 1.25 px right, 0.5 px down: every pixel interpolates.
    write_stmap(&map, 48, 36, 1.25, 0.5, morph_core::SampleFormat::F32);
    let (w, h) = (48, 36);
    for (f, (x, y)) in [(1, (0, 0)), (2, (0, 0)), (3, (3, -2)), (4, (3, -2))] {
        let pixels = (0..w * h)
            .map(|i| {
                let v = |k: u32| ((i * 7 + k * 13 + f * 31) % 97) as f32 / 97.0;
                [v(0), v(1), v(2), 1.0]
            })
            .collect();
        let mut img = morph_core::Image::from_pixels(w, h, pixels);
        img.data_window.x = x;
        img.data_window.y = y;
        let path = dir.path().join(format!("in.{f:04}.exr"));
        morph_io::format::write_image(&path, &img, &Default::default()).unwrap();
        let back = morph_io::format::read_image(&path).unwrap();
        assert_eq!(
            (back.data_window.x, back.data_window.y),
            (x, y),
            "the premise"
        );
    }
    let args = |frames: &str, out: &Path| {
        run(&[
            "stmap",
            s(&dir.path().join("in.####.exr")),
            s(&map),
            "-f",
            frames,
            "-o",
            s(out),
            "--filter",
            "catmull-rom",
            "--repeat",
            "mirrored",
            "--framing",
            "windows",
            "--platform",
            "cpu",
            "--depth",
            "float",
        ])
    };
    let seq = dir.path().join("seq.####.exr");
    let o = args("1-4", &seq);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in 1..=4 {
        let one = dir.path().join(format!("one{f}.####.exr"));
        let o = args(&f.to_string(), &one);
        assert!(o.status.success(), "{}", stderr(&o));
        let read = |p: &Path| morph_io::format::read_image(p).unwrap();
        let a = read(&dir.path().join(format!("seq.{f:04}.exr")));
        let b = read(&dir.path().join(format!("one{f}.{f:04}.exr")));
        assert_eq!(a.pixels(), b.pixels(), "frame {f}");
    }
}

/// Whether `morph-render devices` lists an adapter; without one the GPU
/// tests are skipped unless `MORPH_REQUIRE_GPU=1`, as the library's are.
fn gpu_adapter() -> bool {
    let found = !stdout(&run(&["devices"])).starts_with("no GPU adapters");
    if !found {
        assert!(
            std::env::var("MORPH_REQUIRE_GPU").as_deref() != Ok("1"),
            "MORPH_REQUIRE_GPU=1 but no GPU adapter was found"
        );
        eprintln!("skipped: no GPU adapter");
    }
    found
}

/// `--platform gpu` end to end: the identity map gives the plate back bit
/// for bit and the GPU's 3-px shift matches the CPU's (a 320x240 frame is
/// over 1 MiB, so the uploads go through the staging buffers).
#[test]
fn stmap_on_the_gpu_matches_the_cpu() {
    if !gpu_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("identity.exr");
    write_stmap(&identity, 320, 240, 0.0, 0.0, morph_core::SampleFormat::F32);
    let shift = dir.path().join("shift.exr");
    write_stmap(&shift, 320, 240, 3.0, 0.0, morph_core::SampleFormat::F32);
    let src = morph_io::format::read_image(&testdata("pan/pan.1001.png")).unwrap();
    let identity = stmap_pan_1001(dir.path(), &identity, "identity", "gpu");
    assert_eq!(identity.pixels(), src.pixels(), "identity");
    let gpu = stmap_pan_1001(dir.path(), &shift, "gpu", "gpu");
    let cpu = stmap_pan_1001(dir.path(), &shift, "cpu", "cpu");
    let worst = gpu
        .pixels()
        .iter()
        .zip(cpu.pixels())
        .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-6, "GPU vs CPU shift: {worst}");
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

/// Known motion of `testdata/pan` in px per frame, +y down (truth.json).
const PAN_MOTION: [f32; 2] = [1.75, 0.5];

/// Mean vector of a field.
fn mean_vector(field: &morph_core::FlowField) -> [f32; 2] {
    let n = field.vectors().len() as f64;
    let sum = field.vectors().iter().fold([0.0f64; 2], |s, v| {
        [s[0] + f64::from(v[0]), s[1] + f64::from(v[1])]
    });
    [(sum[0] / n) as f32, (sum[1] / n) as f32]
}

fn assert_near_motion(got: [f32; 2], want: [f32; 2], what: &str) {
    let err = (got[0] - want[0]).hypot(got[1] - want[1]);
    assert!(err < 0.15, "{what}: mean {got:?}, truth {want:?}");
}

#[test]
fn flow_pair_to_flo_matches_the_known_pan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pan.flo");
    let vis = dir.path().join("vis.png");
    let o = run(&[
        "flow",
        s(&testdata("pan/pan.1001.png")),
        s(&testdata("pan/pan.1002.png")),
        "-o",
        s(&out),
        "--visualize",
        s(&vis),
        "--platform",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("compute_ms="), "{}", stdout(&o));
    let field = morph_io::flow::read_flo(&out).unwrap();
    assert_eq!((field.width(), field.height()), (320, 240));
    assert_near_motion(mean_vector(&field), PAN_MOTION, ".flo forward");
    let picture = morph_io::format::read_image(&vis).unwrap();
    assert_eq!(picture.size(), field.size());
    assert_eq!(picture.metadata.format, Some(morph_core::SampleFormat::U8));
}

#[test]
fn flow_exr_has_both_layers_with_v_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pan.exr");
    let o = run(&[
        "flow",
        s(&testdata("pan/pan.1001.png")),
        s(&testdata("pan/pan.1002.png")),
        "-o",
        s(&out),
        "--platform",
        "cpu",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("compute_ms="), "{}", stderr(&o));
    let image = morph_io::format::read_image(&out).unwrap();
    let names = image.channel_names();
    for c in [
        "R",
        "G",
        "B",
        "forward.u",
        "forward.v",
        "backward.u",
        "backward.v",
    ] {
        assert!(names.iter().any(|n| n == c), "{c} missing from {names:?}");
    }
    // Nuke convention: +v up, so the pan's 0.5 px down is forward.v ≈ −0.5.
    let v = &image.extra_channel("forward.v").unwrap().data;
    let mean_v = v.iter().sum::<f32>() / v.len() as f32;
    assert!(
        (mean_v + PAN_MOTION[1]).abs() < 0.15,
        "forward.v mean {mean_v}"
    );
    let vectors = morph_io::flow::vectors_from_image(&out, &image, false).unwrap();
    assert_near_motion(mean_vector(&vectors.forward), PAN_MOTION, "forward");
    let backward = vectors.backward.expect("backward layer");
    assert_near_motion(
        mean_vector(&backward),
        [-PAN_MOTION[0], -PAN_MOTION[1]],
        "backward",
    );
}

#[test]
fn flow_over_a_sequence_writes_one_file_per_pair() {
    let dir = tempfile::tempdir().unwrap();
    for f in [1001, 1002, 1003] {
        let name = format!("pan.{f}.png");
        std::fs::copy(testdata(&format!("pan/{name}")), dir.path().join(&name)).unwrap();
    }
    let o = run(&[
        "flow",
        s(&dir.path().join("pan.####.png")),
        "-o",
        s(&dir.path().join("out/v.####.flo")),
        "--visualize",
        s(&dir.path().join("out/vis.####.png")),
        "--quality",
        "1/8",
        "--platform",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).matches("compute_ms=").count(),
        2,
        "{}",
        stdout(&o)
    );
    let mut names: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["v.1001.flo", "v.1002.flo", "vis.1001.png", "vis.1002.png"]
    );
}

#[test]
fn flow_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let pan = testdata("pan/pan.1001.png");
    let sprite = testdata("sprite/sprite.0001.exr");
    let o = run(&[
        "flow",
        s(&pan),
        s(&sprite),
        "-o",
        s(&dir.path().join("x.flo")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("pan.1001.png") && err.contains("sprite.0001.exr"),
        "{err}"
    );
    assert!(err.contains("320x240") && err.contains("256x160"), "{err}");
    // Not a vector format.
    let o = run(&["flow", s(&pan), s(&pan), "-o", s(&dir.path().join("x.png"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(".flo or .exr"), "{}", stderr(&o));
    // One single file and no B.
    let o = run(&["flow", s(&pan), "-o", s(&dir.path().join("x.flo"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("frame B"), "{}", stderr(&o));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn frequency_bands_recombine_through_files() {
    let dir = tempfile::tempdir().unwrap();
    // A float source so the files hold the bands without rounding.
    let mut src = morph_io::format::read_image(&testdata("sprite/sprite.0001.exr")).unwrap();
    src.metadata.format = Some(morph_core::SampleFormat::F32);
    let input = dir.path().join("src.0001.exr");
    morph_io::format::write_image(&input, &src, &Default::default()).unwrap();
    let p = |name: &str| dir.path().join(name);
    let o = run(&[
        "frequency",
        s(&p("src.####.exr")),
        "--low",
        s(&p("low.####.exr")),
        "--mid",
        s(&p("mid.####.exr")),
        "--high",
        s(&p("high.####.exr")),
        "--filter",
        "box",
        "--low-size",
        "12,4",
        "--mid-size",
        "2.5",
        "--platform",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "frequency-merge",
        "--low",
        s(&p("low.####.exr")),
        "--mid",
        s(&p("mid.####.exr")),
        "--high",
        s(&p("high.####.exr")),
        "-o",
        s(&p("merged.####.exr")),
        "--depth",
        "float",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let merged = morph_io::format::read_image(&p("merged.0001.exr")).unwrap();
    let worst = merged
        .as_flat()
        .iter()
        .zip(src.as_flat())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "Low + Mid + High differs from F by {worst}");
    let high = morph_io::format::read_image(&p("high.0001.exr")).unwrap();
    assert!(high.as_flat().iter().any(|v| *v < 0.0), "bands are signed");
}

#[test]
fn signed_bands_need_a_float_format_or_centre_scale() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let args = |centre: bool| {
        let mut v = vec![
            "frequency".to_owned(),
            testdata("pan/pan.####.png").to_str().unwrap().to_owned(),
            "-f".into(),
            "1001".into(),
            "--low".into(),
            s(&p("low.####.png")).to_owned(),
            "--high".into(),
            s(&p("high.####.png")).to_owned(),
        ];
        if centre {
            v.push("--centre-scale".into());
        }
        v
    };
    let o = bin().args(args(false)).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--centre-scale"), "{}", stderr(&o));
    let o = bin().args(args(true)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let high = morph_io::format::read_image(&p("high.1001.png")).unwrap();
    let mean = high.as_flat().iter().sum::<f32>() / high.as_flat().len() as f32;
    assert!((mean - 0.6).abs() < 0.15, "centred high band, mean {mean}");
}

// ---------------------------------------------------------------------------
// motion-blur (issue #6)

fn read(path: &Path) -> morph_core::Image {
    morph_io::format::read_image(path).unwrap()
}

/// Mean absolute RGB difference over a square of radius `r` around (x, y).
fn mean_diff(a: &morph_core::Image, b: &morph_core::Image, x: u32, y: u32, r: u32) -> f32 {
    let (mut sum, mut n) = (0.0, 0);
    for yy in y - r..=y + r {
        for xx in x - r..=x + r {
            let (p, q) = (a.pixel(xx, yy), b.pixel(xx, yy));
            for c in 0..3 {
                sum += (p[c] - q[c]).abs();
                n += 1;
            }
        }
    }
    sum / n as f32
}

#[test]
fn motion_blur_sprite_sequence_with_json_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blur.####.exr");
    let sprite = testdata("sprite/sprite.####.exr");
    let args = [
        "--json",
        "motion-blur",
        s(&sprite),
        "-f",
        "2-4",
        "-o",
        s(&out),
        "--samples",
        "9",
        "--shutter",
        "2",
        "--platform",
        "cpu",
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.iter().filter(|e| e["event"] == "frame").count(), 3);
    let input = read(&testdata("sprite/sprite.0003.exr"));
    let blurred = read(&dir.path().join("blur.0003.exr"));
    // Layout kept: alpha and the depth.Z layer, blurred with the same
    // weights as RGB (the sprite's edge moves, so both change there).
    assert_eq!(blurred.channel_names(), input.channel_names());
    assert_eq!(blurred.size(), input.size());
    // The sprite (centre (77, 63) on frame 3, radius 36, moving (3.5, 1.5)
    // px per frame) is blurred; so is its leading edge, alpha and depth.
    assert!(mean_diff(&blurred, &input, 77, 63, 10) > 0.01);
    let edge = (77 + 36, 63);
    let (a_in, a_out) = (
        input.pixel(edge.0, edge.1)[3],
        blurred.pixel(edge.0, edge.1)[3],
    );
    assert!(
        (a_in - a_out).abs() > 0.05,
        "alpha at the edge {a_in} -> {a_out}"
    );
    let z = |img: &morph_core::Image| {
        img.extra_channel("depth.Z").unwrap().data[(edge.1 * 256 + edge.0) as usize]
    };
    assert!(
        (z(&input) - z(&blurred)).abs() > 0.1,
        "depth.Z {} -> {}",
        z(&input),
        z(&blurred)
    );

    // Resume: every output exists, nothing is recomputed.
    let mut resume = args.to_vec();
    resume.push("--skip-existing");
    let o = run(&resume);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).matches("\"event\":\"skip\"").count(), 3);
}

#[test]
fn motion_blur_reference_point_stays_sharp() {
    let dir = tempfile::tempdir().unwrap();
    let input = read(&testdata("sprite/sprite.0003.exr"));
    let sprite = testdata("sprite/sprite.####.exr");
    let render = |name: &str, extra: &[&str]| {
        let out = dir.path().join(format!("{name}.####.exr"));
        let mut args = vec![
            "motion-blur",
            s(&sprite),
            "-f",
            "2-4",
            "-o",
            s(&out),
            "--samples",
            "9",
            "--shutter",
            "2",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        read(&dir.path().join(format!("{name}.0003.exr")))
    };
    // The sprite's centre (77, 63) from the bottom of a 160-row frame.
    let plain = render("plain", &[]);
    let reference = render("ref", &["--reference", "77,96"]);
    let around_plain = mean_diff(&plain, &input, 77, 63, 6);
    let around_ref = mean_diff(&reference, &input, 77, 63, 6);
    eprintln!(
        "sprite centre, mean difference to the input: {around_ref} with the reference, {around_plain} without"
    );
    assert!(
        around_ref < 0.25 * around_plain,
        "sprite centre: {around_ref} with the reference, {around_plain} without"
    );
    // The background now moves relative to the sprite: blurred more.
    assert!(mean_diff(&reference, &input, 200, 120, 8) > mean_diff(&plain, &input, 200, 120, 8));
    // The crosshair is drawn only when asked for.
    let shown = render(
        "shown",
        &[
            "--reference",
            "77,96",
            "--show-reference",
            "--reference-colour",
            "0,1,0",
        ],
    );
    assert_eq!(shown.pixel(77 + 5, 63), [0.0, 1.0, 0.0, 1.0]);
    assert_ne!(reference.pixel(77 + 5, 63), [0.0, 1.0, 0.0, 1.0]);
}

#[test]
fn motion_blur_single_frame_is_unchanged_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "--json",
        "motion-blur",
        s(&testdata("sprite/sprite.####.exr")),
        "-f",
        "4",
        "-o",
        s(&dir.path().join("one.####.exr")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("single frame has no motion"),
        "{}",
        stdout(&o)
    );
    let input = read(&testdata("sprite/sprite.0004.exr"));
    let output = read(&dir.path().join("one.0004.exr"));
    assert_eq!(output.pixels(), input.pixels());
    assert_eq!(output.extra, input.extra);
}

#[test]
fn motion_blur_refuses_bad_settings_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.####.png");
    let pan = testdata("pan/pan.####.png");
    let base = ["motion-blur", s(&pan), "-o", s(&out)];
    for (extra, expect) in [
        (
            &["--samples", "26"][..],
            "samples = 26 is not allowed: allowed range 3..=25",
        ),
        (&["--samples", "2"][..], "samples = 2"),
        (
            &["--shutter", "0.01"][..],
            "shutter = 0.01 is not allowed: allowed range 0.05..=10",
        ),
        (&["--shutter", "10.5"][..], "shutter = 10.5"),
        (&["--reference", "5"][..], "--reference 5: expected X,Y"),
        (
            &["--reference", "5,20000"][..],
            "reference_position_y = 20000",
        ),
        (&["--show-reference"][..], "give --reference X,Y too"),
        (
            &["--reference", "1,1", "--reference-colour", "2,0,0"][..],
            "reference_colour = 2",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{extra:?}: {}", stderr(&o));
    }
    assert!(!dir.path().join("o.1001.png").exists());
}

#[test]
fn motion_blur_help_names_the_ranges() {
    let o = run(&["motion-blur", "--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for needle in [
        "--samples",
        "--shutter",
        "--reference",
        "--show-reference",
        "3..=25",
        "0.05..=10",
    ] {
        assert!(
            text.contains(needle),
            "motion-blur --help lacks {needle}:\n{text}"
        );
    }
}

#[test]
fn motion_blur_stepped_frames_use_vectors_per_frame() {
    // Frames 2, 4, 6 are two frame numbers apart: the flow spans two
    // frames, and the blur of frame 4 must still be that of one frame's
    // motion, close to the render of the consecutive frames 3-5.
    let dir = tempfile::tempdir().unwrap();
    let sprite = testdata("sprite/sprite.####.exr");
    let render = |name: &str, frames: &str| {
        let out = dir.path().join(format!("{name}.####.exr"));
        let o = run(&[
            "motion-blur",
            s(&sprite),
            "-f",
            frames,
            "-o",
            s(&out),
            "--shutter",
            "2",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        read(&dir.path().join(format!("{name}.0004.exr")))
    };
    let input = read(&testdata("sprite/sprite.0004.exr"));
    let consecutive = render("c", "3-5");
    let stepped = render("s", "2-6x2");
    // Around the sprite's leading edge on frame 4 (centre (80.5, 64.5)).
    let (x, y) = (80 + 36, 64);
    let blur = mean_diff(&consecutive, &input, x, y, 6);
    let apart = mean_diff(&stepped, &consecutive, x, y, 6);
    eprintln!("frame 4 edge: blur {blur}, stepped vs consecutive {apart}");
    assert!(
        apart < 0.35 * blur,
        "blur {blur}, stepped vs consecutive {apart}"
    );
}
