//! morph-ml end to end through ONNX Runtime: the shipped model in both
//! precisions, exact padding/cropping, seamless tiling, the engine cache,
//! the alpha/extra-channel rule, scene-linear input, and every error a user
//! can hit (missing library, not ONNX Runtime, missing model, wrong interface).
//!
//! Tests that need the runtime find it as the library does (ORT_DYLIB_PATH,
//! then `.onnxruntime/` made by scripts/setup-onnxruntime.sh). Without it they
//! print `skipped: no ONNX Runtime` — or fail when `MORPH_REQUIRE_ORT=1`,
//! which scripts/test.sh sets after installing it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use morph_core::{Image, SampleFormat};
use morph_ml::{MlError, MlInterpolator, MlOptions, Provider, default_model_path};

/// fp16 vs fp32 on the same input: at least this PSNR (dB). Measured 66.8 dB
/// on the 67×45 pair below (dev VM, ONNX Runtime 1.31.1 CPU); the margin
/// leaves room for other CPUs' and GPUs' fp16 kernels.
const FP16_MIN_PSNR: f64 = 50.0;

/// The model against a plain blend on a known 8.9-px motion (67×45,
/// texture of sines, 8 px border excluded): at least this many dB better.
/// Measured 27.9 dB vs 17.0 dB.
const MODEL_OVER_BLEND_DB: f64 = 6.0;

/// Tiled vs untiled (256×160, 128×128 tiles, 32-px overlap, 6 tiles): at
/// least this PSNR (dB) and at most this largest difference. Measured 46.8 dB
/// and 0.075: the model's receptive field makes a tile differ near its cut
/// edges, which the feathered overlap fades out.
const TILED_MIN_PSNR: f64 = 40.0;
const TILED_MAX_DIFF: f32 = 0.15;

fn require_ort() -> bool {
    std::env::var("MORPH_REQUIRE_ORT").is_ok_and(|v| v == "1")
}

/// The interpolator for `opts`, or `None` (test skipped) when the runtime is
/// missing and not required.
fn load(opts: &MlOptions) -> Option<MlInterpolator> {
    match MlInterpolator::load(opts) {
        Ok(m) => Some(m),
        Err(
            e @ (MlError::RuntimeMissing { .. }
            | MlError::NotOnnxRuntime { .. }
            | MlError::RuntimeTooOld { .. }),
        ) if !require_ort() => {
            eprintln!("skipped: no ONNX Runtime ({e})");
            None
        }
        Err(e) => panic!("loading {}: {e}", opts.model.display()),
    }
}

fn opts() -> MlOptions {
    MlOptions {
        threads: 2,
        ..MlOptions::default()
    }
}

/// A smooth but detailed texture at continuous coordinates, so a shifted
/// copy is exact: sums of sines of different frequencies per channel.
fn texture(x: f32, y: f32) -> [f32; 4] {
    let v = |a: f32, b: f32, c: f32, p: f32| (a * x + b * y + p).sin() * c;
    [
        0.5 + v(0.31, 0.07, 0.2, 0.0) + v(0.05, 0.23, 0.15, 1.0) + v(0.71, -0.4, 0.08, 2.0),
        0.5 + v(-0.19, 0.29, 0.2, 0.5) + v(0.43, 0.11, 0.12, 1.7) + v(0.09, 0.6, 0.08, 0.3),
        0.5 + v(0.13, -0.37, 0.2, 2.1) + v(0.27, 0.21, 0.15, 0.9) + v(0.55, 0.51, 0.08, 1.1),
        1.0,
    ]
}

/// The texture translated by (dx, dy).
fn shifted(w: u32, h: u32, dx: f32, dy: f32) -> Image {
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| texture(x as f32 - dx, y as f32 - dy)))
        .collect();
    Image::from_pixels(w, h, pixels)
}

/// PSNR over RGB of the region at least `border` pixels inside the frame.
fn psnr(a: &Image, b: &Image, border: u32) -> f64 {
    let (w, h) = (a.width(), a.height());
    let mut se = 0.0f64;
    let mut n = 0usize;
    for y in border..h - border {
        for x in border..w - border {
            let (p, q) = (a.pixel(x, y), b.pixel(x, y));
            for c in 0..3 {
                se += ((p[c] - q[c]) as f64).powi(2);
                n += 1;
            }
        }
    }
    10.0 * (1.0 / (se / n as f64).max(1e-12)).log10()
}

fn max_diff(a: &Image, b: &Image) -> f32 {
    a.pixels()
        .iter()
        .zip(b.pixels())
        .flat_map(|(p, q)| (0..4).map(move |c| (p[c] - q[c]).abs()))
        .fold(0.0, f32::max)
}

fn blend(a: &Image, b: &Image, t: f32) -> Image {
    a.with_pixels(
        a.pixels()
            .iter()
            .zip(b.pixels())
            .map(|(p, q)| std::array::from_fn(|c| (1.0 - t) * p[c] + t * q[c]))
            .collect(),
    )
}

#[test]
fn shipped_model_runs_in_both_precisions_and_beats_a_blend() {
    let Some(fp32) = load(&opts()) else { return };
    let Some(fp16) = load(&MlOptions {
        fp16: true,
        ..opts()
    }) else {
        return;
    };
    assert_eq!(fp32.info().input_precision, morph_ml::Precision::F32);
    assert_eq!(fp16.info().input_precision, morph_ml::Precision::F16);
    assert!(fp16.model_path().to_string_lossy().ends_with("_fp16.onnx"));

    // Odd size, 8 px of motion to the right and 4 down between the frames.
    let (w, h) = (67, 45);
    let a = shifted(w, h, 0.0, 0.0);
    let b = shifted(w, h, 8.0, 4.0);
    let truth = shifted(w, h, 4.0, 2.0);
    let out32 = fp32.interpolate(&a, &b, 0.5).unwrap();
    let out16 = fp16.interpolate(&a, &b, 0.5).unwrap();
    assert_eq!(out32.size(), a.size());
    assert!(out32.pixels().iter().flatten().all(|v| v.is_finite()));
    let agree = psnr(&out16, &out32, 0);
    let model = psnr(&out32, &truth, 8);
    let plain = psnr(&blend(&a, &b, 0.5), &truth, 8);
    eprintln!("fp16 vs fp32 {agree:.1} dB; vs truth: model {model:.1} dB, blend {plain:.1} dB");
    assert!(agree >= FP16_MIN_PSNR, "fp16 vs fp32 {agree:.1} dB");
    assert!(
        model > plain + MODEL_OVER_BLEND_DB,
        "model {model:.1} dB vs blend {plain:.1} dB"
    );
}

#[test]
fn padding_and_cropping_are_exact_for_odd_sizes() {
    let Some(ml) = load(&opts()) else { return };
    let (w, h) = (67u32, 45u32);
    let a = shifted(w, h, 0.0, 0.0);
    let b = shifted(w, h, 3.0, -2.0);
    let out = ml.interpolate(&a, &b, 0.3).unwrap();
    // The same frames padded by hand to 96×64 (repeating the last column and
    // row, as the engine pads) need no padding; their top-left 67×45 must
    // be the odd-size result bit for bit.
    let pad = |img: &Image| {
        let pixels = (0..64u32)
            .flat_map(|y| (0..96u32).map(move |x| (x.min(w - 1), y.min(h - 1))))
            .map(|(x, y)| img.pixel(x, y))
            .collect();
        Image::from_pixels(96, 64, pixels)
    };
    let big = ml.interpolate(&pad(&a), &pad(&b), 0.3).unwrap();
    for y in 0..h {
        for x in 0..w {
            assert_eq!(out.pixel(x, y), big.pixel(x, y), "pixel ({x}, {y})");
        }
    }
}

#[test]
fn tiling_is_seamless() {
    let Some(whole) = load(&opts()) else { return };
    let Some(tiled) = load(&MlOptions {
        tile_budget_pixels: 128 * 128,
        tile_overlap: 32,
        ..opts()
    }) else {
        return;
    };
    let (w, h) = (256, 160);
    let a = shifted(w, h, 0.0, 0.0);
    let b = shifted(w, h, 6.0, 3.0);
    let plan = morph_ml::tiling::plan(w, h, 32, 128 * 128, 32, None).unwrap();
    assert!(plan.len() >= 4, "the test must really tile: {plan:?}");
    let x = whole.interpolate(&a, &b, 0.5).unwrap();
    let y = tiled.interpolate(&a, &b, 0.5).unwrap();
    let p = psnr(&x, &y, 0);
    let d = max_diff(&x, &y);
    eprintln!(
        "tiled vs untiled: {p:.1} dB, max diff {d:.4} ({} tiles)",
        plan.len()
    );
    assert!(p >= TILED_MIN_PSNR, "tiled vs untiled {p:.1} dB");
    assert!(d <= TILED_MAX_DIFF, "tiled vs untiled max diff {d}");
}

#[test]
fn engine_cache_second_start_uses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cached = MlOptions {
        engine_cache: Some(dir.path().to_owned()),
        ..opts()
    };
    let Some(first) = load(&cached) else { return };
    let t0 = Instant::now();
    assert!(!first.warm_up(96, 64).unwrap(), "empty cache cannot hit");
    let cold = t0.elapsed();
    let entries: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let name = entries[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("ifnet_lite-") && name.ends_with("-cpu-fp32-96x64.onnx"),
        "{name}"
    );

    let second = load(&cached).unwrap();
    let t1 = Instant::now();
    assert!(
        second.warm_up(96, 64).unwrap(),
        "second start must hit the cache"
    );
    let warm = t1.elapsed();
    eprintln!("session start: cold {cold:?}, from cache {warm:?}");

    // Same results with and without the cache.
    let a = shifted(80, 50, 0.0, 0.0);
    let b = shifted(80, 50, 4.0, 0.0);
    let plain = load(&opts()).unwrap().interpolate(&a, &b, 0.5).unwrap();
    let via_cache = second.interpolate(&a, &b, 0.5).unwrap();
    let d = max_diff(&plain, &via_cache);
    assert!(d < 1e-4, "cached engine differs by {d}");
}

#[test]
fn alpha_and_extra_channels_follow_the_documented_rule() {
    let Some(ml) = load(&opts()) else { return };
    let (w, h) = (64, 48);
    // Opaque frames: alpha stays exactly 1.
    let a = shifted(w, h, 0.0, 0.0);
    let b = shifted(w, h, 2.0, 0.0);
    let out = ml.interpolate(&a, &b, 0.5).unwrap();
    assert!(out.pixels().iter().all(|p| p[3] == 1.0));

    // A matte: an opaque square on a transparent ground, moving 6 px right.
    let matte = |dx: u32| {
        let mut img = shifted(w, h, dx as f32, 0.0);
        for (i, p) in img.pixels_mut().iter_mut().enumerate() {
            let (x, y) = (i as u32 % w, i as u32 / w);
            p[3] = if (16 + dx..36 + dx).contains(&x) && (14..34).contains(&y) {
                1.0
            } else {
                0.0
            };
        }
        img.set_extra_channel(
            "depth.Z",
            SampleFormat::F32,
            vec![1.0 + dx as f32; (w * h) as usize],
        );
        img
    };
    let (a, b) = (matte(0), matte(6));
    let out = ml.interpolate(&a, &b, 0.25).unwrap();
    // Inside the square in both frames: opaque; far outside: transparent.
    assert!(
        (out.pixel(28, 24)[3] - 1.0).abs() < 0.05,
        "{:?}",
        out.pixel(28, 24)
    );
    assert!(out.pixel(4, 4)[3].abs() < 0.05, "{:?}", out.pixel(4, 4));
    assert!(out.pixels().iter().all(|p| (-0.05..=1.05).contains(&p[3])));
    // Extra channel: blended by t: 1 + 0.25·6.
    let z = &out.extra_channel("depth.Z").unwrap().data;
    assert!(z.iter().all(|&v| (v - 2.5).abs() < 1e-6), "{}", z[0]);
}

/// Identical scene-linear frames with a highlight far above 1: the range
/// mapping must bring the highlight back (SPEC §1), and the in-between of
/// two identical frames is the frame itself, to within this mean absolute
/// difference in the compressed domain. Measured 0.0070 (the worst pixel,
/// 0.64, sits on the highlight's hard edge, a 0.6 -> 2.8 step in the
/// compressed domain that the model's sub-pixel flows soften).
const LINEAR_MEAN_COMPRESSED_DIFF: f32 = 0.02;

#[test]
fn scene_linear_values_above_one_survive() {
    let Some(ml) = load(&opts()) else { return };
    // A linear EXR-like frame: the texture at 0.4x, plus a 16x12 specular
    // highlight at 30.
    let mut a = shifted(64, 48, 0.0, 0.0);
    for (i, p) in a.pixels_mut().iter_mut().enumerate() {
        let (x, y) = (i % 64, i / 64);
        let k = if (24..40).contains(&x) && (18..30).contains(&y) {
            60.0
        } else {
            0.4
        };
        for v in &mut p[..3] {
            *v *= k;
        }
    }
    a.metadata.format = Some(SampleFormat::F16);
    let out = ml.interpolate(&a, &a, 0.5).unwrap();
    let max_in = a.pixels().iter().map(|p| p[0]).fold(0.0, f32::max);
    let max_out = out.pixels().iter().map(|p| p[0]).fold(0.0, f32::max);
    let diffs: Vec<f32> = a
        .pixels()
        .iter()
        .zip(out.pixels())
        .flat_map(|(p, q)| (0..3).map(move |c| (p[c], q[c])))
        .map(|(p, q)| (morph_ml::colour::compress(p) - morph_ml::colour::compress(q)).abs())
        .collect();
    let worst = diffs.iter().copied().fold(0.0, f32::max);
    let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
    eprintln!(
        "highlight in {max_in}, out {max_out}; compressed difference mean {mean}, worst {worst}"
    );
    assert!(
        max_in > 20.0 && max_out > 0.9 * max_in,
        "in {max_in}, out {max_out}"
    );
    assert!(
        mean < LINEAR_MEAN_COMPRESSED_DIFF,
        "mean compressed difference {mean}"
    );
}

#[test]
fn bad_arguments_are_refused() {
    let Some(ml) = load(&opts()) else { return };
    let a = shifted(40, 30, 0.0, 0.0);
    let e = ml.interpolate(&a, &a, 1.5).unwrap_err().to_string();
    assert!(e.contains("t = 1.5") && e.contains("0..=1"), "{e}");
    let small = shifted(20, 30, 0.0, 0.0);
    let e = ml.interpolate(&a, &small, 0.5).unwrap_err().to_string();
    assert!(e.contains("size mismatch"), "{e}");
    let mut nan = a.clone();
    nan.pixels_mut()[5][1] = f32::NAN;
    let e = ml.interpolate(&a, &nan, 0.5).unwrap_err().to_string();
    assert!(e.contains("(5, 0)") && e.contains("channel G"), "{e}");
}

#[test]
fn cuda_falls_back_to_cpu_when_the_runtime_has_none() {
    let Some(ml) = load(&MlOptions {
        provider: Provider::Cuda,
        ..opts()
    }) else {
        return;
    };
    let status = morph_ml::runtime_status().unwrap();
    eprintln!("{status}");
    assert!(status.contains("ONNX Runtime"), "{status}");
    if !status.contains("CUDA available") {
        assert_eq!(ml.provider(), Provider::Cpu);
    }
    let a = shifted(40, 30, 0.0, 0.0);
    assert_eq!(ml.interpolate(&a, &a, 0.5).unwrap().size(), a.size());
}

#[test]
fn missing_model_says_which() {
    let e = MlInterpolator::load(&MlOptions {
        model: PathBuf::from("/nonexistent/model.onnx"),
        ..opts()
    })
    .unwrap_err();
    assert!(matches!(e, MlError::ModelMissing { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("/nonexistent/model.onnx") && e.contains("models/train.py"),
        "{e}"
    );
}

#[test]
fn wrong_interface_model_is_refused() {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/wrong_interface.onnx");
    match MlInterpolator::load(&MlOptions { model, ..opts() }) {
        Err(MlError::ModelInterface { reason, .. }) => {
            assert!(
                reason.contains("4 channels") && reason.contains("needs 7"),
                "{reason}"
            );
        }
        Err(e @ MlError::RuntimeMissing { .. }) if !require_ort() => {
            eprintln!("skipped: no ONNX Runtime ({e})")
        }
        other => panic!("expected a wrong-interface error, got {other:?}"),
    }
}

#[test]
fn interpolator_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<MlInterpolator>();
    assert!(default_model_path().ends_with("models/ifnet_lite.onnx"));
}

/// Runs one of the `child_*` tests below in a fresh process (the runtime is
/// loaded once per process) with `ORT_DYLIB_PATH` set; returns its output.
fn run_child(test: &str, dylib: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("ORT_DYLIB_PATH", dylib)
        .env("MORPH_ML_CHILD", "1")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child {test} failed:\n{text}");
    text
}

/// In a child process: prints the load error.
#[test]
fn child_print_load_error() {
    if std::env::var_os("MORPH_ML_CHILD").is_none() {
        return;
    }
    match MlInterpolator::load(&opts()) {
        Ok(_) => println!("LOAD-OK"),
        Err(e) => println!("LOAD-ERROR: {e}"),
    }
}

#[test]
fn missing_library_is_a_clear_error() {
    let text = run_child("child_print_load_error", "/nonexistent/libonnxruntime.so");
    assert!(
        text.contains("LOAD-ERROR: ONNX Runtime library not found"),
        "{text}"
    );
    assert!(text.contains("/nonexistent/libonnxruntime.so"), "{text}");
    assert!(
        text.contains("scripts/setup-onnxruntime.sh") && text.contains("ORT_DYLIB_PATH"),
        "{text}"
    );
}

#[test]
fn a_library_that_is_not_onnx_runtime_is_a_clear_error() {
    // Any shared library that is not ONNX Runtime: the C maths library.
    let Some(libm) = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).is_file()) else {
        eprintln!("skipped: no libm.so.6 at the usual places");
        return;
    };
    let text = run_child("child_print_load_error", libm);
    assert!(text.contains("is not an ONNX Runtime library"), "{text}");
    assert!(
        text.contains("OrtGetApiBase") && text.contains("ORT_DYLIB_PATH"),
        "{text}"
    );
}
