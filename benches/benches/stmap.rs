//! STMap on the CPU, every filter, at 1080p RGBA f32.
//!
//! Ids are `stmap/cpu/1920x1080/<filter>`, throughput in pixels. The map is
//! the one `benches/opencv_remap_compare.py` gives OpenCV's `remap`: a 0.9×
//! zoom with a 0.3 rad rotation about the centre, Repeat Off (so part of the
//! frame is outside, as in a real re-projection); the output image is
//! allocated in each iteration, as `remap` allocates its own.
//!
//! Fixtures: `morph_core::test_support::random_image` (seeded) for the Front.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::Image;
use morph_core::ops::stmap::{StMapInputs, stmap};
use morph_core::params::{StMapFilter, StMapParams};
use morph_core::test_support::random_image;

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

fn bench_stmap(c: &mut Criterion) {
    let mut group = c.benchmark_group("stmap");
    group.sample_size(10);
    let (w, h) = (1920u32, 1080u32);
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
            b.iter(|| stmap(black_box(&inputs), &params).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_stmap);
criterion_main!(benches);
