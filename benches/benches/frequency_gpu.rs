//! Frequency node (SPEC §4) on the GPU: 2 bands, box and Gaussian, radius
//! 5 / 50 / 1000, at 1920×1080 and 3840×2160 RGBA f32. The CPU groups are in
//! `benches/frequency.rs`.
//!
//! Ids, throughput in pixels:
//! - `frequency/gpu/<W>x<H>/<filter>/r<R>` — `morph_gpu::ops::frequency::frequency`:
//!   upload, both blur passes, the band kernel, one read-back of Low and
//!   High, waiting for completion: what a frame costs end to end;
//! - `frequency/gpu-kernel/<W>x<H>/<filter>/r<R>` — the passes alone on an
//!   input kept on the device (one frame, submit, wait; no transfers);
//! - `frequency/gpu-timestamp/<W>x<H>/<filter>/r<R>` — the same passes'
//!   device time from timestamp queries, where the adapter has them.
//!
//! The cost per pixel must not grow with the radius. Runs on
//! `GpuContext::shared_for_tests` (the best adapter, software included) and
//! is skipped with a message when there is none.
//!
//! Run: `cargo bench -p morph-benches --bench frequency_gpu`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::params::{Bands, BlurFilter, BlurSize, FrequencyParams};
use morph_core::test_support::pattern_image;
use morph_gpu::GpuContext;
use morph_gpu::ops::frequency::{frequency, frequency_on_device};

const SIZES: &[(u32, u32)] = &[(1920, 1080), (3840, 2160)];
const RADII: [f32; 3] = [5.0, 50.0, 1000.0];
const FILTERS: [BlurFilter; 2] = [BlurFilter::Gaussian, BlurFilter::Box];

fn name(filter: BlurFilter) -> &'static str {
    match filter {
        BlurFilter::Box => "box",
        BlurFilter::Gaussian => "gaussian",
    }
}

fn bench_frequency_gpu(c: &mut Criterion) {
    let ctx = match GpuContext::shared_for_tests() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("frequency/gpu*: skipped: no adapter ({e})");
            return;
        }
    };
    eprintln!(
        "frequency/gpu*: on {} (context created in {:.1} ms)",
        ctx.adapter_summary(),
        ctx.creation_time().as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group("frequency");
    group.sample_size(10);
    for &(w, h) in SIZES {
        let image = pattern_image(w, h, 1);
        group.throughput(Throughput::Elements(w as u64 * h as u64));
        // The input kept on the device for the kernel groups.
        let mut frame = ctx.frame("bench setup").unwrap();
        let input = frame.upload(&image).unwrap();
        frame.finish().unwrap();
        for filter in FILTERS {
            for r in RADII {
                let params = FrequencyParams {
                    bands: Bands::Two,
                    filter,
                    low: BlurSize::uniform(r),
                    mid: BlurSize::uniform(0.0),
                    centre_scale: true,
                };
                let id = format!("{w}x{h}/{}/r{r}", name(filter));
                group.bench_function(BenchmarkId::new("gpu", &id), |b| {
                    b.iter(|| frequency(&ctx, black_box(&image), &params).unwrap())
                });
                group.bench_function(BenchmarkId::new("gpu-kernel", &id), |b| {
                    b.iter(|| {
                        let mut frame = ctx.frame("kernel").unwrap();
                        frequency_on_device(&mut frame, black_box(&input), &params).unwrap();
                        frame.finish().unwrap();
                    })
                });
                if ctx.supports_timestamps() {
                    group.bench_function(BenchmarkId::new("gpu-timestamp", &id), |b| {
                        b.iter_custom(|iters| {
                            let mut total = Duration::ZERO;
                            for _ in 0..iters {
                                let mut frame = ctx.frame("timed kernel").unwrap();
                                frame.enable_timing();
                                frequency_on_device(&mut frame, black_box(&input), &params)
                                    .unwrap();
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
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench_frequency_gpu);
criterion_main!(benches);
