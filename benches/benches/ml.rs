//! Machine-Learning interpolation (morph-ml) through ONNX Runtime.
//!
//! Ids are `ml/<provider>/<W>x<H>/<precision>`, throughput in pixels:
//! - `ml/cpu/..` — `MlInterpolator::interpolate` on ONNX Runtime's CPU
//!   provider, end to end (range mapping, padding, the model, cropping;
//!   opaque frames, so one model pass);
//! - `ml/gpu/..` — the same on the CUDA provider; skipped with a message
//!   when the runtime has no CUDA provider (the PyPI `onnxruntime` wheel
//!   has none; `onnxruntime-gpu` does);
//! - `ml/session-start/{cold,cached}` — building the 1920×1088 session
//!   without and with the engine cache (`ml_engine_cache`).
//!
//! Fixtures: `morph_core::test_support::pattern_image` and a copy shifted
//! 6 px right. The runtime is found as morph-ml finds it (`ORT_DYLIB_PATH`
//! or scripts/setup-onnxruntime.sh's `.onnxruntime/`); without one the whole
//! bench is skipped with a message.
//!
//! Figures seen on 2026-11-22 (median of 10; release build; ONNX Runtime
//! 1.31.1 CPU provider, default threads; dev VM, 2 cores shared with other
//! builds, load average 3–5 during the run):
//!
//! | id | dev VM |
//! |---|---|
//! | ml/cpu/1280x720/fp32 | 710 ms |
//! | ml/cpu/1920x1080/fp32 | 2.15 s |
//! | ml/cpu/1280x720/fp16 | 1.28 s |
//! | ml/cpu/1920x1080/fp16 | 2.30 s |
//! | ml/session-start/cold (1920×1088) | 49.8 ms |
//! | ml/session-start/cached (1920×1088) | 10.3 ms (4.8× faster) |
//!
//! fp16 is slower on the CPU (few fp16 kernels; the point of fp16 is the
//! CUDA provider). `ml/gpu/*` was not measured: the PyPI `onnxruntime`
//! wheel has no CUDA provider and no GPU machine was at hand.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::Image;
use morph_core::test_support::pattern_image;
use morph_ml::{MlInterpolator, MlOptions, Provider};

const SIZES: &[(u32, u32)] = &[(1280, 720), (1920, 1080)];

fn pair(w: u32, h: u32) -> (Image, Image) {
    let a = pattern_image(w + 6, h, 3);
    let crop = |dx: u32| {
        let pixels = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x + dx, y)))
            .map(|(x, y)| a.pixel(x, y))
            .collect();
        Image::from_pixels(w, h, pixels)
    };
    (crop(6), crop(0))
}

fn bench_ml(c: &mut Criterion) {
    let mut group = c.benchmark_group("ml");
    group.sample_size(10);
    match morph_ml::runtime_status() {
        Ok(s) => eprintln!("ml: {s}"),
        Err(e) => {
            eprintln!("ml/*: skipped: {e}");
            return;
        }
    }
    let cuda = morph_ml::runtime_status().is_ok_and(|s| s.contains("CUDA available"));
    for (provider, name) in [(Provider::Cpu, "cpu"), (Provider::Cuda, "gpu")] {
        if provider == Provider::Cuda && !cuda {
            eprintln!("ml/gpu/*: skipped: this ONNX Runtime has no CUDA execution provider");
            continue;
        }
        for fp16 in [false, true] {
            let opts = MlOptions {
                fp16,
                provider,
                ..MlOptions::default()
            };
            let ml = match MlInterpolator::load(&opts) {
                Ok(ml) => ml,
                Err(e) => {
                    eprintln!("ml/{name}: skipped: {e}");
                    continue;
                }
            };
            let precision = if fp16 { "fp16" } else { "fp32" };
            for &(w, h) in SIZES {
                let (a, b) = pair(w, h);
                ml.interpolate(&a, &b, 0.5).unwrap(); // session start, not timed
                group.throughput(Throughput::Elements(w as u64 * h as u64));
                group.bench_function(
                    BenchmarkId::new(name, format!("{w}x{h}/{precision}")),
                    |bench| {
                        bench.iter(|| ml.interpolate(black_box(&a), black_box(&b), 0.5).unwrap())
                    },
                );
            }
        }
    }

    group.finish();

    // Session start for a 1080p frame, without and with the engine cache
    // (a new group: no pixel throughput here).
    let mut group = c.benchmark_group("ml");
    group.sample_size(10);
    let dir = std::env::temp_dir().join(format!("morph-ml-bench-cache-{}", std::process::id()));
    let cached = MlOptions {
        engine_cache: Some(dir.clone()),
        ..MlOptions::default()
    };
    group.bench_function(BenchmarkId::new("session-start", "cold"), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = std::fs::remove_dir_all(&dir);
                let ml = MlInterpolator::load(&cached).unwrap();
                let t = Instant::now();
                assert!(!ml.warm_up(1920, 1088).unwrap());
                total += t.elapsed();
            }
            total
        })
    });
    group.bench_function(BenchmarkId::new("session-start", "cached"), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let ml = MlInterpolator::load(&cached).unwrap();
                let t = Instant::now();
                assert!(ml.warm_up(1920, 1088).unwrap());
                total += t.elapsed();
            }
            total
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
    group.finish();
}

criterion_group!(benches, bench_ml);
criterion_main!(benches);
