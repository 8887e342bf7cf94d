//! STMap on the CPU and the GPU, every filter, at 1080p and 4K RGBA f32.
//!
//! Ids are `stmap/<backend>/<W>x<H>/<filter>` (1920x1080 and 3840x2160),
//! throughput in pixels:
//! - `stmap/cpu/..` — `morph_core::ops::stmap::stmap` (rayon);
//! - `stmap/cpu-sequence/..` (nearest, linear, catmull-rom) — one frame of a
//!   sequence with a static map: `PreparedStMap::apply_reusing` (prepared
//!   once outside the loop, the previous frame's buffer recycled);
//! - `stmap/gpu/..` — `morph_gpu::ops::stmap::stmap`: upload of Front and
//!   STMap, kernel, read-back, waiting for completion;
//! - `stmap/gpu-kernel/..` — the kernel alone on inputs kept on the device
//!   (one frame, submit, wait; no transfers);
//! - `stmap/gpu-timestamp/..` — the same kernel's device time from
//!   timestamp queries (no submission or wait overhead), where the adapter
//!   has them. Its throughput is in **bytes**: the least the kernel must
//!   move — the STMap read, the result written and every Front texel the
//!   filter's taps reach read once (counted on the CPU for this map; for
//!   EWA and Anisotropic the bilinear footprint, a lower bound) — so
//!   criterion's throughput over the memory bandwidth (3.35 TB/s on an
//!   H100 SXM) is the fraction the GPU goal asks for (criterion
//!   prints binary units: 1 GiB/s = 1.074 GB/s). The byte count is also
//!   printed (4K linear: 365.7 MB).
//!
//! The GPU groups run on `GpuContext::shared_for_tests` and are skipped with
//! a message when there is no adapter. The map is
//! the one `benches/opencv_remap_compare.py` gives OpenCV's `remap`: a 0.9×
//! zoom with a 0.3 rad rotation about the centre, Repeat Off (so part of the
//! frame is outside, as in a real re-projection); the output image is
//! allocated in each iteration, as `remap` allocates its own (but in
//! `cpu-sequence`, which recycles the last frame's).
//!
//! Fixtures: `morph_core::test_support::random_image` (seeded) for the Front.
//!
//! Recorded figures, ms per 1080p frame. The H100 column is criterion's
//! median (2026-11-22, before the CPU fast path below, so its CPU rows are
//! old); the dev VM column is the `stmap_bench` example's minimum wall time
//! over 21 runs (2026-11-23, three runs of the script, after the 12-byte taps and
//! Nearest's 4-row bands), timed in the same run
//! as OpenCV by `benches/opencv_remap_compare.py`, 1 / 2 rayon threads:
//!
//! | id | 2-core dev VM (AMD EPYC, KVM), 1 / 2 threads | H100 host (16 cores) + H100 |
//! |---|---|---|
//! | cpu/nearest | 11.2–12.1 / 6.9–7.8 | 3.9 |
//! | cpu/linear | 16.0–16.1 / 8.7–8.9 | 5.5 |
//! | cpu/mitchell | 32.7–32.9 / 17.3–17.6 | — |
//! | cpu/catmull-rom | 32.2–32.6 / 17.0–17.2 | 9.9 |
//! | cpu-sequence/nearest | 5.4–6.0 / 4.0–4.2 | — |
//! | cpu-sequence/linear | **9.1–9.4 / 4.8–5.2** | — |
//! | cpu-sequence/catmull-rom | 24.9–25.4 / 12.6–12.7 | — |
//! | cpu/anisotropic | 69.6 / 35.7 (5 runs, 2026-11-22) | — |
//! | cpu/ewa | 219.7 / 112.0 (5 runs, 2026-11-22) | 30.8 |
//! | gpu-kernel/linear | — | 0.13 |
//! | gpu-kernel/catmull-rom | — | 0.17 |
//! | gpu-kernel/ewa | — | 0.15 |
//! | gpu/linear (upload + kernel + read-back) | — | 48 |
//! | gpu-kernel/3840x2160/linear, catmull-rom, ewa | — | 0.230, 0.346, 0.361 |
//! | gpu/3840x2160/linear | — | 221; 128 on 2026-11-23 (staged uploads, parallel read-back) |
//! | gpu/1920x1080/linear (2026-11-23) | — | 30.1 |
//! | gpu-timestamp/1920x1080/ nearest, linear, mitchell, catmull-rom, anisotropic, ewa (2026-11-23) | — | 0.040, 0.059, 0.062, 0.062, 0.055, 0.073 |
//! | gpu-timestamp/3840x2160/ same filters (2026-11-23) | — | 0.144, **0.146**, 0.211, 0.210, 0.181, 0.253 |
//!
//! 4K linear moves at least 365.7 MB in 146.4 µs: 2.50 TB/s, 75 % of the
//! H100's 3.35 TB/s (the goal: ≥ 60 %).
//!
//! Criterion itself on the dev VM (2 threads, its median, `--measurement-time
//! 2`, 2026-11-23, last run of the day): cpu/1920x1080/ nearest, linear,
//! catmull-rom 7.8, 9.5, 19.0 ms; cpu-sequence/1920x1080/ the same 4.9, 5.6,
//! 13.6 ms.
//!
//! OpenCV 5.0 `remap` in the same runs (min wall, 1 / 2 threads):
//! INTER_NEAREST 4.7–4.8 / 3.2–3.3, INTER_LINEAR 8.8–11.5 / 6.2–6.9 (into a
//! reused `dst`: 10.1–10.9 / 6.3–7.3; with `convertMaps` CV_16SC2 maps 28–31
//! / 17–18), INTER_CUBIC 47.9–48.5 / 23.4–23.9. Ratios ours / OpenCV on the
//! minimum: a frame of a sequence, linear **0.86–0.90 / 0.66–0.75** (median
//! 0.64–0.89 / 0.66–0.69), Catmull-Rom 0.52 / 0.53–0.54; one `stmap()` call,
//! linear 1.41–1.80 / 1.30–1.41 (median 1.17–1.32 / 1.07–1.19), Catmull-Rom
//! 0.67–0.68 / 0.72–0.73, Mitchell 0.68 / 0.72–0.73, nearest 2.3–2.5 /
//! 2.1–2.4 (a sequence frame 1.14–1.38). Before the fast path the same
//! harness gave linear 28.3 /
//! 14.6 ms and Catmull-Rom 55.0 / 28.4 ms. OpenCV's kernels use AVX2 /
//! AVX-512 chosen at run time; ours are exact f32 at baseline x86-64 (SSE2)
//! without `unsafe` (an `x86-64-v3` build of the same code is 7–8 % faster:
//! the width of SIMD is not what holds the one-off frame back; the first
//! pass's arithmetic and the Front's memory latency are, see
//! `crates/morph-core/src/ops/stmap/fast.rs`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::Image;
use morph_core::ops::stmap::StMapInputs;
use morph_core::ops::stmap::{Geometry, PreparedStMap, StMapFraming, stmap as cpu_stmap};
use morph_core::params::{StMapFilter, StMapParams};
use morph_core::test_support::{random_image, rotation_stmap};
use morph_gpu::GpuContext;
use morph_gpu::ops::stmap::{stmap as gpu_stmap, stmap_on_device};

const FILTERS: &[(&str, StMapFilter)] = &[
    ("nearest", StMapFilter::Nearest),
    ("linear", StMapFilter::Linear),
    ("mitchell", StMapFilter::MitchellNetravali),
    ("catmull-rom", StMapFilter::CatmullRom),
    ("anisotropic", StMapFilter::Anisotropic),
    ("ewa", StMapFilter::Ewa),
];

/// Sizes the issue asks for: 1080p and 4K.
const SIZES: &[(u32, u32)] = &[(1920, 1080), (3840, 2160)];

/// The least bytes a GPU kernel moves for this warp: the STMap read, the
/// result written, and each Front texel the filter's taps reach read once
/// (Repeat Off: taps outside the Front read nothing). The taps of texel
/// cell `i` span `i + lo ..= i + hi`; EWA and Anisotropic are counted with
/// the bilinear span (0, 1), a lower bound for them.
fn bytes_moved(front: &Image, map: &Image, params: &StMapParams) -> u64 {
    let framing = StMapFraming::new(front, map, params).unwrap();
    let (fw, fh) = (front.width() as i64, front.height() as i64);
    let (lo, hi) = match params.filter_mode {
        StMapFilter::Nearest => (0, 0),
        StMapFilter::MitchellNetravali | StMapFilter::CatmullRom => (-1, 2),
        _ => (0, 1),
    };
    let mut reached = vec![false; (fw * fh) as usize];
    for st in map.pixels() {
        let Some([u, v]) = framing.sample_position(st[0], st[1]) else {
            continue;
        };
        // Nearest reads texel ⌊u⌋; the others start at ⌊u − ½⌋.
        let c = if params.filter_mode == StMapFilter::Nearest {
            0.0
        } else {
            0.5
        };
        let (i, j) = ((u - c).floor() as i64, (v - c).floor() as i64);
        for y in (j + lo).max(0)..=(j + hi).min(fh - 1) {
            for x in (i + lo).max(0)..=(i + hi).min(fw - 1) {
                reached[(y * fw + x) as usize] = true;
            }
        }
    }
    let texels = reached.iter().filter(|&&r| r).count() as u64;
    16 * (2 * map.width() as u64 * map.height() as u64 + texels)
}

fn bench_stmap(c: &mut Criterion) {
    let mut group = c.benchmark_group("stmap");
    group.sample_size(10);
    let ctx = match GpuContext::shared_for_tests() {
        Ok(ctx) => {
            eprintln!("stmap/gpu*: on {}", ctx.adapter_summary());
            Some(ctx)
        }
        Err(e) => {
            eprintln!("stmap/gpu*: skipped: no adapter ({e})");
            None
        }
    };
    for &(w, h) in SIZES {
        let front = random_image(w, h, 1, 0.0, 1.0);
        let map = rotation_stmap(w, h, 0.3, 0.9);
        let inputs = StMapInputs {
            front: &front,
            stmap: &map,
            matte: None,
        };
        group.throughput(Throughput::Elements(w as u64 * h as u64));
        for &(name, filter) in FILTERS {
            let params = StMapParams {
                filter_mode: filter,
                ..Default::default()
            };
            group.bench_function(BenchmarkId::new("cpu", format!("{w}x{h}/{name}")), |b| {
                b.iter(|| cpu_stmap(black_box(&inputs), &params).unwrap())
            });
            // A frame of a sequence with this static map: prepared once,
            // each frame written into the previous one's buffer.
            if matches!(name, "nearest" | "linear" | "catmull-rom") {
                let prepared = PreparedStMap::new(Geometry::of(&front), &map, &params).unwrap();
                let mut recycled = None;
                let id = format!("{w}x{h}/{name}");
                group.bench_function(BenchmarkId::new("cpu-sequence", id), |b| {
                    b.iter(|| {
                        let out = prepared
                            .apply_reusing(black_box(&front), None, recycled.take())
                            .unwrap();
                        recycled = Some(out.result);
                    })
                });
            }
        }
        let Some(ctx) = &ctx else { continue };
        let mut frame = ctx.frame("bench setup").unwrap();
        let front_gpu = frame.upload(&front).unwrap();
        let map_gpu = frame.upload(&map).unwrap();
        frame.finish().unwrap();
        for &(name, filter) in FILTERS {
            let params = StMapParams {
                filter_mode: filter,
                ..Default::default()
            };
            let id = format!("{w}x{h}/{name}");
            group.bench_function(BenchmarkId::new("gpu", &id), |b| {
                b.iter(|| gpu_stmap(ctx, black_box(&inputs), &params).unwrap())
            });
            let framing = StMapFraming::new(&front, &map, &params).unwrap();
            group.bench_function(BenchmarkId::new("gpu-kernel", &id), |b| {
                b.iter(|| {
                    let mut frame = ctx.frame("kernel").unwrap();
                    stmap_on_device(&mut frame, &front_gpu, &map_gpu, None, &framing, &params)
                        .unwrap();
                    frame.finish().unwrap();
                })
            });
            if ctx.supports_timestamps() {
                let bytes = bytes_moved(&front, &map, &params);
                eprintln!(
                    "stmap/gpu-timestamp/{id}: moves at least {:.1} MB",
                    bytes as f64 / 1e6
                );
                group.throughput(Throughput::Bytes(bytes));
                group.bench_function(BenchmarkId::new("gpu-timestamp", &id), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let mut frame = ctx.frame("timed kernel").unwrap();
                            frame.enable_timing();
                            stmap_on_device(
                                &mut frame,
                                black_box(&front_gpu),
                                &map_gpu,
                                None,
                                &framing,
                                &params,
                            )
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
                group.throughput(Throughput::Elements(w as u64 * h as u64));
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench_stmap);
criterion_main!(benches);
