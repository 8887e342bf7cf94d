//! Image file I/O: reading and writing a 1920×1080 frame in the formats a
//! render reads and writes most (EXR half/float with ZIP and PIZ, PNG 8/16,
//! TIFF 16, DPX 10-bit).
//!
//! Ids are `io/<format>/<read|write>/<W>x<H>`, throughput in pixels. Writes
//! go through `write_image`, so they include the atomic temp-file + fsync +
//! rename; files live under Cargo's target tmp directory. The fixture is the
//! seeded `pattern_image` (smooth, like a real plate), so compressed sizes
//! and timings are realistic rather than those of noise.
//!
//! Dev VM (2 cores), 2026-11-23, median, write / read:
//!
//! | case | ZIP deflated by the exr crate (miniz_oxide) | by zlib-rs (`format::exr_zip`) |
//! |---|---|---|
//! | `exr_zip_half` | 182.7 / 71.7 ms | 122.4 / 81.1 ms |
//! | `exr_zip_float` | 408.9 / 84.2 ms | 269.7 / 92.5 ms |
//!
//! (Reads did not change; their spread is the VM's.)

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use morph_core::test_support::pattern_image;
use morph_core::{Image, SampleFormat};
use morph_io::format::{ExrCompression, WriteOptions, read_image, write_image};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

/// The cases: id, file extension, options.
fn cases() -> Vec<(&'static str, &'static str, WriteOptions)> {
    let opts = |sample_format, exr_compression| WriteOptions {
        sample_format: Some(sample_format),
        exr_compression,
    };
    use ExrCompression::{Piz, Zip};
    use SampleFormat::{F16, F32, U8, U10, U16};
    vec![
        ("exr_zip_half", "exr", opts(F16, Zip)),
        ("exr_zip_float", "exr", opts(F32, Zip)),
        ("exr_piz_half", "exr", opts(F16, Piz)),
        ("png8", "png", opts(U8, Zip)),
        ("png16", "png", opts(U16, Zip)),
        ("tiff16", "tif", opts(U16, Zip)),
        ("dpx10", "dpx", opts(U10, Zip)),
    ]
}

fn dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("morph-io-bench");
    std::fs::create_dir_all(&dir).expect("bench directory");
    dir
}

fn io(c: &mut Criterion) {
    let image: Image = pattern_image(WIDTH, HEIGHT, 7);
    let dir = dir();
    let size = format!("{WIDTH}x{HEIGHT}");
    for (id, ext, options) in cases() {
        let path = dir.join(format!("{id}.{ext}"));
        let mut group = c.benchmark_group(format!("io/{id}"));
        group.sample_size(10);
        group.warm_up_time(std::time::Duration::from_millis(500));
        group.measurement_time(std::time::Duration::from_secs(2));
        group.throughput(Throughput::Elements(u64::from(WIDTH) * u64::from(HEIGHT)));
        group.bench_function(BenchmarkId::new("write", &size), |b| {
            b.iter(|| write_image(black_box(&path), black_box(&image), &options).expect("write"));
        });
        group.bench_function(BenchmarkId::new("read", &size), |b| {
            b.iter(|| read_image(black_box(&path)).expect("read"));
        });
        group.finish();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, io);
criterion_main!(benches);
