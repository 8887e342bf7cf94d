//! Frequency node (SPEC §4) and its blurs on the CPU: 1920×1080 RGBA f32,
//! radius 5 / 50 / 1000, box and Gaussian, 2 and 3 bands. The cost per pixel
//! must not grow with the radius, so the three radii should time alike.
//!
//! Run: `cargo bench -p morph-benches --bench frequency`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use morph_core::ops::blur::blur;
use morph_core::ops::frequency::frequency;
use morph_core::params::{Bands, BlurFilter, BlurSize, FrequencyParams};
use morph_core::test_support::pattern_image;

const SIZE: (u32, u32) = (1920, 1080);
const RADII: [f32; 3] = [5.0, 50.0, 1000.0];
const FILTERS: [BlurFilter; 2] = [BlurFilter::Box, BlurFilter::Gaussian];

fn name(filter: BlurFilter) -> &'static str {
    match filter {
        BlurFilter::Box => "box",
        BlurFilter::Gaussian => "gaussian",
    }
}

fn blurs(c: &mut Criterion) {
    let img = pattern_image(SIZE.0, SIZE.1, 1);
    let mut group = c.benchmark_group(format!("blur/cpu/{}x{}", SIZE.0, SIZE.1));
    group.throughput(Throughput::Elements(SIZE.0 as u64 * SIZE.1 as u64));
    for filter in FILTERS {
        for r in RADII {
            group.bench_function(format!("{}/r{r}", name(filter)), |b| {
                b.iter(|| blur(black_box(&img), filter, BlurSize::uniform(r)))
            });
        }
    }
    group.finish();
}

fn frequency_bands(c: &mut Criterion) {
    let img = pattern_image(SIZE.0, SIZE.1, 2);
    let mut group = c.benchmark_group(format!("frequency/cpu/{}x{}", SIZE.0, SIZE.1));
    group.throughput(Throughput::Elements(SIZE.0 as u64 * SIZE.1 as u64));
    for (bands, label) in [(Bands::Two, "2bands"), (Bands::Three, "3bands")] {
        for filter in FILTERS {
            for r in RADII {
                // Three bands: Mid's blur at a third of Low's radius.
                let params = FrequencyParams {
                    bands,
                    filter,
                    low: BlurSize::uniform(r),
                    mid: BlurSize::uniform(r / 3.0),
                    centre_scale: true,
                };
                group.bench_function(format!("{label}/{}/r{r}", name(filter)), |b| {
                    b.iter(|| frequency(black_box(&img), &params).expect("valid params"))
                });
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = blurs, frequency_bands
}
criterion_main!(benches);
