//! STMap on the CPU and the GPU, every filter, at 1080p and 4K RGBA f32.
//!
//! Ids are `stmap/<backend>/<W>x<H>/<filter>` (1920x1080 and 3840x2160),
//! throughput in pixels:
//! - `stmap/cpu/..` — `morph_core::ops::stmap::stmap` (rayon);
//! - `stmap/gpu/..` — `morph_gpu::ops::stmap::stmap`: upload of Front and
//!   STMap, kernel, read-back, waiting for completion;
//! - `stmap/gpu-kernel/..` — the kernel alone on inputs kept on the device
//!   (one frame, submit, wait; no transfers).
//!
//! The GPU groups run on `GpuContext::shared_for_tests` and are skipped with
//! a message when there is no adapter. The map is
//! the one `benches/opencv_remap_compare.py` gives OpenCV's `remap`: a 0.9×
//! zoom with a 0.3 rad rotation about the centre, Repeat Off (so part of the
//! frame is outside, as in a real re-projection); the output image is
//! allocated in each iteration, as `remap` allocates its own.
//!
//! Fixtures: `morph_core::test_support::random_image` (seeded) for the Front.
//!
//! Recorded figures (median of criterion's estimate, ms per 1080p frame):
//!
//! | id | 2-core dev VM, shared, 2026-11-22 | H100 host (16 cores) + H100, 2026-11-22 |
//! |---|---|---|
//! | cpu/nearest | ~18 (1 thread, CPU time) | 3.9 |
//! | cpu/linear | ~27 (1 thread, CPU time) | 5.5 |
//! | cpu/catmull-rom | ~54 (1 thread, CPU time) | 9.9 |
//! | cpu/ewa | — | 30.8 |
//! | gpu-kernel/linear | — | 0.13 |
//! | gpu-kernel/catmull-rom | — | 0.17 |
//! | gpu-kernel/ewa | — | 0.15 |
//! | gpu/linear (upload + kernel + read-back) | — | 48 |
//! | gpu-kernel/3840x2160/linear, catmull-rom, ewa | — | 0.230, 0.346, 0.361 |
//! | gpu/3840x2160/linear | — | 221 |
//!
//! OpenCV 5.0 `remap` on the same map and machine (dev VM, 1 thread, CPU
//! time, `benches/opencv_remap_compare.py`): INTER_NEAREST 4.4, INTER_LINEAR
//! 11, INTER_CUBIC 48 — its AVX2/FMA kernels are chosen at run time, ours are
//! baseline x86-64 (SSE2) without `unsafe`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::Image;
use morph_core::ops::stmap::StMapInputs;
use morph_core::ops::stmap::{StMapFraming, stmap as cpu_stmap};
use morph_core::params::{StMapFilter, StMapParams};
use morph_core::test_support::random_image;
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

/// The STMap of a `zoom`× scale and `angle` rotation about the centre of a
/// `w × h` Front (s, t normalised, t from the bottom).
fn rotation_map(w: u32, h: u32, angle: f64, zoom: f64) -> Image {
    let (c, s) = (angle.cos(), angle.sin());
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let (dx, dy) = ((x as f64 + 0.5 - cx) * zoom, (y as f64 + 0.5 - cy) * zoom);
            let (u, v) = (cx + c * dx - s * dy, cy + s * dx + c * dy);
            [
                (u / w as f64) as f32,
                ((h as f64 - v) / h as f64) as f32,
                0.0,
                1.0,
            ]
        })
        .collect();
    Image::from_pixels(w, h, pixels)
}

/// Sizes the issue asks for: 1080p and 4K.
const SIZES: &[(u32, u32)] = &[(1920, 1080), (3840, 2160)];

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
        let map = rotation_map(w, h, 0.3, 0.9);
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
        }
    }
    group.finish();
}

criterion_group!(benches, bench_stmap);
criterion_main!(benches);
