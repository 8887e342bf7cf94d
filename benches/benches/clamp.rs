//! Clamp on the CPU and the GPU.
//!
//! Ids are `clamp/<backend>/<W>x<H>`, throughput in pixels:
//! - `clamp/cpu/..` — `morph_core::ops::clamp::clamp` (rayon; includes the
//!   copy of the output image);
//! - `clamp/gpu/..` — `morph_gpu::ops::clamp::clamp`: upload, kernel,
//!   read-back, waiting for completion: what a frame costs end to end;
//! - `clamp/gpu-kernel/..` — the kernel alone on an input kept on the
//!   device (one frame, submit, wait; no transfers);
//! - `clamp/gpu-timestamp/..` — the same passes' device time from timestamp
//!   queries (no submission overhead), where the adapter has them;
//! - `clamp/gpu-upload/..` and `clamp/gpu-readback/..` — the transfers alone.
//!
//! The GPU groups run on `GpuContext::shared_for_tests` (the best adapter,
//! software included) and are skipped with a message when there is none.
//! Fixtures: `morph_core::test_support::pattern_image`, seeded.
//!
//! Figures seen on 2026-11-22 (median; release build):
//!
//! | id | H100 80GB HBM3, Vulkan, driver 580.159.04 | lavapipe (llvmpipe, Mesa 22.3.6), 2 shared cores |
//! |---|---|---|
//! | clamp/cpu/1920x1080 (16 cores / 2 cores) | 4.2 ms | 9.5 ms |
//! | clamp/gpu/1920x1080 | 7.8 ms | 53–89 ms |
//! | clamp/gpu-kernel/1920x1080 | 94 µs | 31–39 ms |
//! | clamp/gpu-timestamp/1920x1080 | 28 µs | 31 ms |
//! | clamp/gpu-upload/1920x1080 | 2.5 ms | 9.4 ms |
//! | clamp/gpu-readback/1920x1080 | 5.3 ms | 20 ms |
//! | clamp/cpu/3840x2160 | 99 ms | 95 ms |
//! | clamp/gpu/3840x2160 | 109 ms | 620 ms |
//! | clamp/gpu-timestamp/3840x2160 | 94 µs (2.8 TB/s) | — |
//! | clamp/gpu-readback/3840x2160 | 85 ms | 197 ms |
//!
//! Context creation: 201 ms on the H100, 34 ms on lavapipe; the first
//! dispatch of a pipeline 51 ms / 65 ms. On the H100 the kernel is ~0.1 %
//! of a round trip: transfers (and the page faults of fresh 132 MB host
//! buffers, which the CPU path pays too at 4K) dominate, so chained ops
//! must keep intermediates on the device.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::params::ClampParams;
use morph_core::test_support::pattern_image;
use morph_gpu::GpuContext;
use morph_gpu::ops::clamp::{clamp, clamp_on_device};

const SIZES: &[(u32, u32)] = &[(1920, 1080), (3840, 2160)];

/// Bounds inside the pattern's range, so both branches of the kernel run.
const PARAMS: ClampParams = ClampParams {
    min_clamp: true,
    max_clamp: true,
    min_value: 0.2,
    max_value: 0.8,
};

fn bench_clamp(c: &mut Criterion) {
    let mut group = c.benchmark_group("clamp");
    group.sample_size(10);
    for &(w, h) in SIZES {
        let image = pattern_image(w, h, 1);
        let id = format!("{w}x{h}");
        group.throughput(Throughput::Elements(w as u64 * h as u64));
        group.bench_function(BenchmarkId::new("cpu", &id), |b| {
            b.iter(|| morph_core::ops::clamp::clamp(black_box(&image), &PARAMS).unwrap())
        });
    }

    let ctx = match GpuContext::shared_for_tests() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("clamp/gpu*: skipped: no adapter ({e})");
            group.finish();
            return;
        }
    };
    eprintln!(
        "clamp/gpu*: on {} (context created in {:.1} ms)",
        ctx.adapter_summary(),
        ctx.creation_time().as_secs_f64() * 1e3
    );
    for &(w, h) in SIZES {
        let image = pattern_image(w, h, 1);
        let id = format!("{w}x{h}");
        group.throughput(Throughput::Elements(w as u64 * h as u64));

        group.bench_function(BenchmarkId::new("gpu", &id), |b| {
            b.iter(|| clamp(&ctx, black_box(&image), &PARAMS).unwrap())
        });

        // Input and output kept on the device between iterations.
        let mut frame = ctx.frame("bench setup").unwrap();
        let input = frame.upload(&image).unwrap();
        let output = clamp_on_device(&mut frame, &input, &PARAMS).unwrap();
        frame.finish().unwrap();

        group.bench_function(BenchmarkId::new("gpu-kernel", &id), |b| {
            b.iter(|| {
                let mut frame = ctx.frame("kernel").unwrap();
                clamp_on_device(&mut frame, black_box(&input), &PARAMS).unwrap();
                frame.finish().unwrap();
            })
        });
        if ctx.supports_timestamps() {
            // Device time of the passes alone (timestamp queries), without
            // submission and wait overhead.
            group.bench_function(BenchmarkId::new("gpu-timestamp", &id), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut frame = ctx.frame("timed kernel").unwrap();
                        frame.enable_timing();
                        clamp_on_device(&mut frame, black_box(&input), &PARAMS).unwrap();
                        total += frame
                            .finish_timed()
                            .unwrap()
                            .iter()
                            .map(|t| t.duration)
                            .sum::<Duration>();
                    }
                    total
                })
            });
        }
        group.bench_function(BenchmarkId::new("gpu-upload", &id), |b| {
            b.iter(|| {
                let mut frame = ctx.frame("upload").unwrap();
                frame.upload(black_box(&image)).unwrap();
                frame.finish().unwrap();
            })
        });
        group.bench_function(BenchmarkId::new("gpu-readback", &id), |b| {
            b.iter(|| {
                ctx.frame("readback")
                    .unwrap()
                    .read(black_box(&output))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_clamp);
criterion_main!(benches);
