//! Optical flow (issue #4), one field A → B, on the CPU and the GPU at
//! 1280×720, 1920×1080 and 3840×2160, analysis quality 1/4, 1/2 and full.
//!
//! Ids are `flow/<backend>/<W>x<H>/<quality>`, throughput in pixels:
//! - `flow/cpu/..` — `morph_core::ops::flow::estimate_flow_one_way` (rayon);
//! - `flow/gpu/..` — `morph_gpu::ops::flow::flow_one_way`: upload of both
//!   frames, every pass, read-back of the vectors, waiting for completion;
//! - `flow/gpu-kernel/..` — `flow_on_device` on frames kept on the device
//!   (one frame, submit, wait; no transfers): the per-field cost when a
//!   sequence keeps its frames on the device;
//! - `flow/gpu-timestamp/..` — the sum of the compute passes' device
//!   times from timestamp queries, where the adapter has them (a field is
//!   about 10 passes, one per pyramid, per level and for the upsampling,
//!   so every dispatch is covered; the gaps between passes are not).
//!
//! The pairs are `fixtures::translation_pair` (a photo moved by (6.3, −3.7)
//! px). The GPU groups run only on a hardware adapter (software adapters
//! such as lavapipe give meaningless figures) and are skipped with a
//! message otherwise. Full-resolution 4K on the CPU has 9× the pixels of
//! 720p (629 ms below), so expect seconds per field: filter the run (e.g.
//! `-- flow/cpu/1280x720`) when that is not what you are after.
//!
//! Recorded figures (criterion's median estimate, ms per field):
//!
//! | id | 2-core dev VM, 2026-11-22, load average ≈ 8 (shared) |
//! |---|---|
//! | cpu/1280x720/1/4 | 45 |
//! | cpu/1280x720/1/2 | 181 |
//! | cpu/1280x720/full | 629 |
//!
//! The VM's figures are inflated by the other jobs sharing its two cores
//! (the estimator's own 1080p comparison in `morph_core::ops::flow` was
//! taken on a quiet machine). No hardware GPU was at hand: the GPU rows
//! are still to be recorded on one, with the device named.
//!
//! Run: `cargo bench -p morph-benches --bench flow`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::ops::flow::fixtures::translation_pair;
use morph_core::ops::flow::{FlowParams, estimate_flow_one_way};
use morph_core::params::AnalysisQuality;
use morph_gpu::GpuContext;
use morph_gpu::ops::flow::{FlowDirections, flow_on_device, flow_one_way};

const SIZES: &[(u32, u32)] = &[(1280, 720), (1920, 1080), (3840, 2160)];
const QUALITIES: &[(&str, AnalysisQuality)] = &[
    ("1/4", AnalysisQuality::Quarter),
    ("1/2", AnalysisQuality::Half),
    ("full", AnalysisQuality::Full),
];

fn bench_flow(c: &mut Criterion) {
    let ctx = match GpuContext::shared_for_tests() {
        Ok(ctx) if !ctx.is_software() => {
            eprintln!("flow/gpu*: on {}", ctx.adapter_summary());
            Some(ctx)
        }
        Ok(ctx) => {
            eprintln!(
                "flow/gpu*: skipped: only a software adapter ({}); its timings mean nothing",
                ctx.adapter_summary()
            );
            None
        }
        Err(e) => {
            eprintln!("flow/gpu*: skipped: no adapter ({e})");
            None
        }
    };
    let mut group = c.benchmark_group("flow");
    group.sample_size(10);
    for &(w, h) in SIZES {
        let pair = translation_pair(w as usize, h as usize, 6.3, -3.7);
        group.throughput(Throughput::Elements(w as u64 * h as u64));
        for &(qname, q) in QUALITIES {
            let params = FlowParams::with_quality(q);
            let id = format!("{w}x{h}/{qname}");
            group.bench_function(BenchmarkId::new("cpu", &id), |b| {
                b.iter(|| estimate_flow_one_way(black_box(&pair.a), &pair.b, &params).unwrap())
            });
        }
        let Some(ctx) = &ctx else { continue };
        let mut frame = ctx.frame("bench setup").unwrap();
        let a = frame.upload(&pair.a).unwrap();
        let b = frame.upload(&pair.b).unwrap();
        frame.finish().unwrap();
        for &(qname, q) in QUALITIES {
            let params = FlowParams::with_quality(q);
            let id = format!("{w}x{h}/{qname}");
            group.bench_function(BenchmarkId::new("gpu", &id), |bn| {
                bn.iter(|| flow_one_way(ctx, black_box(&pair.a), &pair.b, &params).unwrap())
            });
            group.bench_function(BenchmarkId::new("gpu-kernel", &id), |bn| {
                bn.iter(|| {
                    let mut frame = ctx.frame("flow kernel").unwrap();
                    flow_on_device(&mut frame, &a, &b, &params, FlowDirections::Forward).unwrap();
                    frame.finish().unwrap();
                })
            });
            if ctx.supports_timestamps() {
                group.bench_function(BenchmarkId::new("gpu-timestamp", &id), |bn| {
                    bn.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let mut frame = ctx.frame("flow timed").unwrap();
                            frame.enable_timing();
                            flow_on_device(&mut frame, &a, &b, &params, FlowDirections::Forward)
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
    group.finish();
}

criterion_group!(benches, bench_flow);
criterion_main!(benches);
