//! `interpolate`, `retime` and `morph` end to end on the bundled testdata:
//! frame counts and numbering, exact input frames, a dropped middle frame
//! rebuilt, Morph range/mix/freeze, channels carried, bad input refused.

mod common;

use common::*;

/// The pan sequence's frames 1001 and 1003 in a fresh directory (1002, the
/// true middle, left out), and that middle frame's path.
fn pan_without_middle(dir: &std::path::Path) -> std::path::PathBuf {
    copy_frames("pan", "pan", "png", &[1001, 1003], dir, |f| f);
    testdata("pan/pan.1002.png")
}

#[test]
fn interpolate_rebuilds_a_dropped_frame_and_prints_compute_ms() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mid.png");
    let o = run(&[
        "interpolate",
        s(&testdata("pan/pan.1001.png")),
        s(&testdata("pan/pan.1003.png")),
        "--time",
        "0.5",
        "--platform",
        "cpu",
        "-o",
        s(&out),
    ]);
    ok(&o);
    assert!(stdout(&o).contains("compute_ms="), "{}", stdout(&o));
    let got = read(&out);
    let truth = read(&testdata("pan/pan.1002.png"));
    let a = read(&testdata("pan/pan.1001.png"));
    let (p, p_a) = (psnr(&got, &truth, 8), psnr(&a, &truth, 8));
    // Measured 39.4 dB (2026-11-22); frame A itself scores 21.8.
    assert!(p > 36.0 && p > p_a + 10.0, "PSNR {p:.2} (A alone {p_a:.2})");
}

#[test]
fn interpolate_at_the_ends_copies_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    for (t, which) in [("0", "pan.1001.png"), ("1", "pan.1002.png")] {
        let out = dir.path().join(format!("t{t}.png"));
        ok(&run(&[
            "interpolate",
            s(&testdata("pan/pan.1001.png")),
            s(&testdata("pan/pan.1002.png")),
            "--time",
            t,
            "--platform",
            "cpu",
            "-o",
            s(&out),
        ]));
        assert_eq!(
            read(&out).pixels(),
            read(&testdata(&format!("pan/{which}"))).pixels()
        );
    }
}

#[test]
fn retime_factor_counts_numbers_and_keeps_input_frames() {
    let dir = tempfile::tempdir().unwrap();
    let truth = pan_without_middle(dir.path());
    let out = dir.path().join("out/slow.####.png");
    let o = run(&[
        "--json",
        "retime",
        s(&dir.path().join("pan.####.png")),
        "--factor",
        "2",
        "--platform",
        "cpu",
        "-o",
        s(&out),
    ]);
    ok(&o);
    // Input frames 1001 and 1003 (a gap the retime spans): (1003 − 1001)·2
    // + 1 = 5 outputs numbered from 1001.
    let events = stdout(&o);
    assert_eq!(events.matches("\"event\":\"frame\"").count(), 5, "{events}");
    for f in 1001..=1005 {
        assert!(
            dir.path().join(format!("out/slow.{f}.png")).exists(),
            "frame {f}"
        );
    }
    assert_eq!(
        read(&dir.path().join("out/slow.1001.png")).pixels(),
        read(&testdata("pan/pan.1001.png")).pixels()
    );
    assert_eq!(
        read(&dir.path().join("out/slow.1005.png")).pixels(),
        read(&testdata("pan/pan.1003.png")).pixels()
    );
    // Output 1003 is input time 1002: the dropped frame.
    let p = psnr(
        &read(&dir.path().join("out/slow.1003.png")),
        &read(&truth),
        8,
    );
    assert!(p > 36.0, "PSNR {p:.2}");
}

#[test]
fn retime_speed_and_fps_give_the_planned_frame_counts() {
    let dir = tempfile::tempdir().unwrap();
    let input = testdata("pan/pan.####.png");
    // 8 frames (7 intervals): speed 0.5 → 15, 24 → 60 fps → 7·2.5 + 1 = 18.
    for (flags, count) in [
        (vec!["--speed", "0.5"], 15),
        (vec!["--fps-from", "24", "--fps-to", "60"], 18),
        (vec!["--speed", "2"], 4),
    ] {
        let out = dir.path().join(format!("r{count}/f.####.png"));
        let mut args = vec![
            "retime",
            s(&input),
            "--start-frame",
            "1",
            "--platform",
            "cpu",
        ];
        args.extend(flags.iter().copied());
        args.extend(["-o", s(&out), "--quality", "1/8"]);
        ok(&run(&args));
        let written = std::fs::read_dir(out.parent().unwrap()).unwrap().count();
        assert_eq!(written, count, "{flags:?}");
        assert!(
            out.parent()
                .unwrap()
                .join(format!("f.{count:04}.png"))
                .exists()
        );
    }
}

#[test]
fn retime_carries_alpha_and_extra_layers() {
    let dir = tempfile::tempdir().unwrap();
    copy_frames("sprite", "sprite", "exr", &[1, 3], dir.path(), |f| f);
    let out = dir.path().join("o.####.exr");
    ok(&run(&[
        "retime",
        s(&dir.path().join("sprite.####.exr")),
        "--factor",
        "2",
        "--quality",
        "1/2",
        "--platform",
        "cpu",
        "-o",
        s(&out),
    ]));
    // Output 3 is input time 2: the dropped frame.
    let mid = read(&dir.path().join("o.0003.exr"));
    let truth = read(&testdata("sprite/sprite.0002.exr"));
    assert_eq!(mid.channel_names(), truth.channel_names());
    let p = psnr(&mid, &truth, 8);
    // Measured 26.9 dB (2026-11-22; linear half float up to 2.3, peak 1;
    // the cat's fur and the 1-px anti-aliased rim of a sprite moving 7 px
    // over a background moving −2.5 px; a blend scores 20.2).
    assert!(p > 25.5, "PSNR {p:.2}");
    let (z, zt) = (
        &mid.extra_channel("depth.Z").unwrap().data,
        &truth.extra_channel("depth.Z").unwrap().data,
    );
    let mae: f32 = z.iter().zip(zt).map(|(a, b)| (a - b).abs()).sum::<f32>() / z.len() as f32;
    let zt_mean = zt.iter().sum::<f32>() / zt.len() as f32;
    assert!(
        mae < 0.02 * zt_mean.abs().max(1.0),
        "depth MAE {mae} (mean depth {zt_mean})"
    );
}

/// Clip B = the pan clip one frame later (B's frame f is pan's f + 1).
fn morph_clips(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let frames: Vec<i64> = (1001..=1008).collect();
    copy_frames("pan", "pan", "png", &frames, &a, |f| f);
    copy_frames("pan", "pan", "png", &frames[1..], &b, |f| f - 1);
    (a.join("pan.####.png"), b.join("pan.####.png"))
}

#[test]
fn morph_range_mix_and_freeze_frame_by_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = morph_clips(dir.path());
    let out = dir.path().join("o/m.####.png");
    ok(&run(&[
        "morph",
        s(&a),
        s(&b),
        "--range",
        "1002-1006",
        "--mix-to-range",
        "--freeze-last",
        "--platform",
        "cpu",
        "--quality",
        "1/8",
        "-o",
        s(&out),
    ]));
    let frame = |f: i64| read(&dir.path().join(format!("o/m.{f}.png")));
    let pan = |f: i64| read(&testdata(&format!("pan/pan.{f}.png")));
    // Common frames 1001..=1007. Before the range: A; after: B (pan f + 1).
    assert_eq!(frame(1001).pixels(), pan(1001).pixels());
    assert_eq!(frame(1007).pixels(), pan(1008).pixels());
    // Range start: mix 0 → A; range end: mix 100 → B frozen at 1006 (pan 1007).
    assert_eq!(frame(1002).pixels(), pan(1002).pixels());
    assert_eq!(frame(1006).pixels(), pan(1007).pixels());
    // Middle (mix 50 at 1004): between A's 1004 and B frozen at pan 1007,
    // so halfway from pan 1004 to pan 1007: close to neither end.
    let mid = frame(1004);
    let (to_a, to_b) = (psnr(&mid, &pan(1004), 8), psnr(&mid, &pan(1007), 8));
    assert!(to_a < 30.0 && to_b < 30.0, "{to_a:.1} {to_b:.1}");
    assert!(!dir.path().join("o/m.1008.png").exists());
}

#[test]
fn morph_constant_mix_is_the_in_between_of_a_and_b() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = morph_clips(dir.path());
    let out = dir.path().join("o/m.####.png");
    ok(&run(&[
        "morph",
        s(&a),
        s(&b),
        "--mix",
        "50",
        "--frames",
        "1003",
        "--platform",
        "cpu",
        "-o",
        s(&out),
    ]));
    // A's 1003 = pan 1003, B's 1003 = pan 1004: mix 50 is pan's motion
    // halfway, i.e. between the two: compare with the interpolate command.
    let via_interpolate = dir.path().join("i.png");
    ok(&run(&[
        "interpolate",
        s(&testdata("pan/pan.1003.png")),
        s(&testdata("pan/pan.1004.png")),
        "--platform",
        "cpu",
        "--cut-rule",
        "dissolve",
        "-o",
        s(&via_interpolate),
    ]));
    assert_eq!(
        read(&dir.path().join("o/m.1003.png")).pixels(),
        read(&via_interpolate).pixels()
    );
}

#[test]
fn bad_attributes_exit_2_naming_attribute_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = morph_clips(dir.path());
    let out = dir.path().join("o.####.png");
    let pan = testdata("pan/pan.####.png");
    let one = testdata("pan/pan.1001.png");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["retime", s(&pan), "--factor", "0", "-o", s(&out)],
            "factor",
        ),
        (
            vec!["retime", s(&pan), "--speed=-2", "-o", s(&out)],
            "speed",
        ),
        (vec!["retime", s(&pan), "-o", s(&out)], "--factor"),
        (
            vec![
                "interpolate",
                s(&one),
                s(&one),
                "--time",
                "1.5",
                "-o",
                "x.png",
            ],
            "time",
        ),
        (
            vec!["morph", s(&a), s(&b), "--mix", "101", "-o", s(&out)],
            "mix",
        ),
        (
            vec!["morph", s(&a), s(&b), "--range", "990-1005", "-o", s(&out)],
            "range_first_frame",
        ),
        (
            vec![
                "morph",
                s(&a),
                s(&b),
                "--mix-keys",
                "1001:0,x",
                "-o",
                s(&out),
            ],
            "--mix-keys",
        ),
        (
            vec![
                "morph",
                s(&a),
                s(&b),
                "--motion-blur",
                "--samples",
                "2",
                "-o",
                s(&out),
            ],
            "samples",
        ),
    ];
    for (args, needle) in cases {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| {
        let n = e.unwrap().file_name();
        !n.to_string_lossy().starts_with("o.")
    }));
}

#[test]
fn missing_and_mismatched_inputs_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    copy_frames("pan", "pan", "png", &[1001, 1002, 1004], dir.path(), |f| f);
    let out = dir.path().join("o/r.####.png");
    let input = dir.path().join("pan.####.png");
    let o = run(&[
        "retime",
        s(&input),
        "--frames",
        "1001-1004",
        "--factor",
        "2",
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("1003"), "{}", stderr(&o));
    assert!(
        !out.parent().unwrap().exists()
            || std::fs::read_dir(out.parent().unwrap()).unwrap().count() == 0
    );
    // With --missing skip the gap is spanned: (1004 − 1001)·2 + 1 outputs.
    ok(&run(&[
        "retime",
        s(&input),
        "--frames",
        "1001-1004",
        "--missing",
        "skip",
        "--factor",
        "2",
        "--quality",
        "1/8",
        "--platform",
        "cpu",
        "-o",
        s(&out),
    ]));
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 7);
    // Frames of different sizes.
    let o = run(&[
        "interpolate",
        s(&testdata("pan/pan.1001.png")),
        s(&testdata("sprite/sprite.0001.exr")),
        "-o",
        s(&dir.path().join("x.exr")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("differ in size"), "{}", stderr(&o));
    assert!(!dir.path().join("x.exr").exists());
}

#[test]
fn nan_input_is_refused_with_file_and_pixel_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = read(&testdata("sprite/sprite.0001.exr"));
    img.metadata.format = Some(morph_core::SampleFormat::F32);
    let w = img.width() as usize;
    img.pixels_mut()[5 * w + 7][1] = f32::NAN;
    let bad = dir.path().join("bad.exr");
    morph_io::format::write_image(&bad, &img, &Default::default()).unwrap();
    let out = dir.path().join("mid.exr");
    let o = run(&[
        "interpolate",
        s(&bad),
        s(&testdata("sprite/sprite.0002.exr")),
        "--platform",
        "cpu",
        "-o",
        s(&out),
    ]);
    assert_ne!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains("bad.exr") && err.contains("(7, 5)") && err.contains("NaN"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn skip_existing_resumes_a_retime() {
    let dir = tempfile::tempdir().unwrap();
    copy_frames("pan", "pan", "png", &[1001, 1002], dir.path(), |f| f);
    let out = dir.path().join("r.####.png");
    let input = dir.path().join("pan.####.png");
    let args = [
        "--json",
        "retime",
        s(&input),
        "--factor",
        "3",
        "--quality",
        "1/8",
        "--platform",
        "cpu",
        "--skip-existing",
        "-o",
        s(&out),
    ];
    ok(&run(&args));
    std::fs::remove_file(dir.path().join("r.1002.png")).unwrap();
    let o = run(&args);
    ok(&o);
    let events = stdout(&o);
    assert_eq!(events.matches("\"event\":\"skip\"").count(), 3, "{events}");
    assert_eq!(events.matches("\"event\":\"frame\"").count(), 1, "{events}");
}

/// Whether ONNX Runtime can be found (as morph-ml looks for it); with
/// `MORPH_REQUIRE_ORT=1` (scripts/test.sh) a missing runtime is a failure.
fn ort_available() -> bool {
    let found = morph_ml_runtime_found();
    if !found {
        assert!(
            std::env::var("MORPH_REQUIRE_ORT").as_deref() != Ok("1"),
            "MORPH_REQUIRE_ORT=1 but ONNX Runtime was not found"
        );
        eprintln!("skipped: ONNX Runtime not found (scripts/setup-onnxruntime.sh)");
    }
    found
}

fn morph_ml_runtime_found() -> bool {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return std::path::Path::new(&p).is_file();
    }
    testdata("../.onnxruntime/libonnxruntime.so").exists()
}

#[test]
fn machine_learning_method_rebuilds_a_dropped_frame() {
    if !ort_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mid.png");
    let o = run(&[
        "interpolate",
        s(&testdata("pan/pan.1001.png")),
        s(&testdata("pan/pan.1003.png")),
        "--method",
        "ml",
        "--engine-cache",
        s(&dir.path().join("cache")),
        "--platform",
        "cpu",
        "-o",
        s(&out),
    ]);
    ok(&o);
    assert!(stdout(&o).contains("compute_ms="));
    let truth = read(&testdata("pan/pan.1002.png"));
    let (a, b) = (
        read(&testdata("pan/pan.1001.png")),
        read(&testdata("pan/pan.1003.png")),
    );
    let blend = morph_core::ops::interpolate::dissolve(&a, &b, 0.5);
    let (p, p_blend) = (psnr(&read(&out), &truth, 8), psnr(&blend, &truth, 8));
    // Measured 27.4 dB against the blend's 23 (the shipped model is small
    // and briefly trained; Motion Vectors reaches 39 here).
    assert!(p > p_blend + 2.0, "ML {p:.2} dB, blend {p_blend:.2} dB");
    // The engine cache was written.
    assert!(std::fs::read_dir(dir.path().join("cache")).unwrap().count() > 0);
}

#[test]
fn machine_learning_with_a_missing_model_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "retime",
        s(&testdata("pan/pan.####.png")),
        "--factor",
        "2",
        "--method",
        "ml",
        "--model",
        "/nonexistent/net.onnx",
        "-o",
        s(&dir.path().join("o.####.png")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("/nonexistent/net.onnx") || err.contains("ONNX Runtime"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Mean absolute horizontal gradient of R (a sharpness measure).
fn sharpness(img: &morph_core::Image) -> f64 {
    let w = img.width() as usize;
    let p = img.pixels();
    let mut sum = 0.0f64;
    for (k, px) in p.iter().enumerate() {
        if k % w + 1 < w {
            sum += (p[k + 1][0] - px[0]).abs() as f64;
        }
    }
    sum / p.len() as f64
}

#[test]
fn retime_with_motion_blur_blurs_every_output_frame() {
    let dir = tempfile::tempdir().unwrap();
    let input = testdata("sprite/sprite.####.exr");
    let render = |name: &str, extra: &[&str]| {
        let out = dir.path().join(format!("{name}/o.####.exr"));
        let mut args = vec![
            "retime",
            s(&input),
            "--frames",
            "1-3",
            "--factor",
            "2",
            "--platform",
            "cpu",
            "-o",
            s(&out),
        ];
        args.extend_from_slice(extra);
        ok(&run(&args));
    };
    render("sharp", &[]);
    render(
        "blur",
        &["--motion-blur", "--samples", "9", "--shutter", "1"],
    );
    for f in 1..=5 {
        let sharp = read(&dir.path().join(format!("sharp/o.{f:04}.exr")));
        let blur = read(&dir.path().join(format!("blur/o.{f:04}.exr")));
        let (s0, s1) = (sharpness(&sharp), sharpness(&blur));
        // Input frames (1, 3, 5) are blurred too, not only the in-betweens.
        assert!(s1 < 0.9 * s0, "frame {f}: sharpness {s1:.4} vs {s0:.4}");
        assert_eq!(blur.channel_names(), sharp.channel_names());
    }
    let o = run(&[
        "retime",
        s(&input),
        "--factor",
        "2",
        "--motion-blur",
        "--shutter",
        "0.01",
        "-o",
        s(&dir.path().join("x/o.####.exr")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shutter") && stderr(&o).contains("0.05"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn morph_motion_blur_follows_the_change_of_mix() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = morph_clips(dir.path());
    let render = |name: &str, extra: &[&str]| {
        let out = dir.path().join(format!("{name}/m.####.png"));
        let mut args = vec![
            "morph",
            s(&a),
            s(&b),
            "--frames",
            "1002-1004",
            "--platform",
            "cpu",
            "-o",
            s(&out),
            "--quality",
            "1/8",
        ];
        args.extend_from_slice(extra);
        ok(&run(&args));
    };
    // A constant mix does not move between frames: nothing to blur.
    render("still", &["--mix", "50"]);
    render("still_blur", &["--mix", "50", "--motion-blur"]);
    let f = |name: &str| read(&dir.path().join(format!("{name}/m.1003.png")));
    assert_eq!(f("still").pixels(), f("still_blur").pixels());
    // A mix sweeping over the range moves the in-between: blurred.
    render("sweep", &["--mix-keys", "1002:0,1004:100"]);
    render(
        "sweep_blur",
        &[
            "--mix-keys",
            "1002:0,1004:100",
            "--motion-blur",
            "--shutter",
            "2",
        ],
    );
    assert!(sharpness(&f("sweep_blur")) < 0.95 * sharpness(&f("sweep")));
}
