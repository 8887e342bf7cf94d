//! Shared by the parity tests and the benches (feature `test-support`):
//! seeded fixtures, the edge sizes every op is tested at, one
//! [`assert_images_close`] that reports the worst pixels, and the parity
//! harness: test cases written once ([`cases`]) against the [`Backend`]
//! trait and instantiated for every backend by [`testgen_all!`](crate::testgen_all).
//!
//! ```ignore
//! // crates/<backend crate>/tests/parity.rs
//! struct Cpu;
//! impl morph_core::test_support::Backend for Cpu { /* one method per op */ }
//! fn gpu() -> Option<Gpu> { /* None (skip) when there is no adapter */ }
//! morph_core::testgen_all! {
//!     cpu => Some(Cpu),
//!     gpu => gpu(),
//! }
//! // -> tests cpu::clamp_matches_reference, gpu::clamp_matches_reference, ...
//! ```

use std::fmt::Display;

use crate::image::{Image, SampleFormat};
use crate::params::ClampParams;

/// Sizes every op is tested at on every backend: 1×1, 1×N, N×1, widths that
/// do not divide by the 8×8 / 16×16 / 256-wide workgroups, and one large odd
/// frame.
pub const EDGE_SIZES: &[(u32, u32)] = &[
    (1, 1),
    (1, 17),
    (23, 1),
    (7, 5),
    (33, 31),
    (257, 3),
    (129, 130),
    (1001, 563),
];

/// Tolerance for a comparison: `abs` + `rel·|expected|` per sample.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Absolute part.
    pub abs: f32,
    /// Relative part.
    pub rel: f32,
}

impl Tolerance {
    /// Bit-exact (ops with no arithmetic, e.g. clamp).
    pub const EXACT: Tolerance = Tolerance { abs: 0.0, rel: 0.0 };
}

/// A small, fast, seeded generator (SplitMix64) so fixtures are reproducible
/// without pulling a RNG crate into the library.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }
}

/// A seeded random RGBA image with samples in `[lo, hi)`.
pub fn random_image(width: u32, height: u32, seed: u64, lo: f32, hi: f32) -> Image {
    let mut rng = Rng::new(seed);
    let pixels = (0..width as usize * height as usize)
        .map(|_| {
            [
                rng.range(lo, hi),
                rng.range(lo, hi),
                rng.range(lo, hi),
                rng.range(lo, hi),
            ]
        })
        .collect();
    Image::from_pixels(width, height, pixels)
}

/// The STMap (s, t normalised, t from the bottom, B = 0, A = 1) of a
/// `zoom`× scale and `angle` (radians) rotation about the centre of a
/// `w × h` Front of the same size: the geometry of the STMap benches and
/// `benches/opencv_remap_compare.py` (zoom 0.9, 0.3 rad).
pub fn rotation_stmap(w: u32, h: u32, angle: f64, zoom: f64) -> Image {
    let (c, s) = (angle.cos(), angle.sin());
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    crate::ops::stmap::parity::map_from_fn(w, h, w, h, |x, y| {
        let (dx, dy) = ((x - cx) * zoom, (y - cy) * zoom);
        (cx + c * dx - s * dy, cy + s * dx + c * dy)
    })
}

/// A smooth seeded test pattern (sums of sines plus a little noise), closer
/// to real pictures than white noise; used where an op's accuracy depends on
/// image structure.
pub fn pattern_image(width: u32, height: u32, seed: u64) -> Image {
    let mut rng = Rng::new(seed);
    let f: Vec<f32> = (0..6).map(|_| rng.range(0.01, 0.2)).collect();
    let pixels = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x as f32, y as f32)))
        .map(|(x, y)| {
            let n = rng.range(-0.02, 0.02);
            [
                0.5 + 0.4 * (x * f[0] + y * f[1]).sin() + n,
                0.5 + 0.4 * (x * f[2] - y * f[3]).cos() + n,
                0.5 + 0.3 * ((x + y) * f[4]).sin() * (y * f[5]).cos() + n,
                1.0,
            ]
        })
        .collect();
    Image::from_pixels(width, height, pixels)
}

/// Asserts that two images have the same size and agree within `tol` on
/// every RGBA sample and every extra channel; on failure reports the count of
/// bad samples and the five worst with their position.
#[track_caller]
pub fn assert_images_close(actual: &Image, expected: &Image, tol: Tolerance, what: &str) {
    assert_eq!(actual.size(), expected.size(), "{what}: sizes differ");
    let w = expected.width() as usize;
    let mut bad: Vec<(f32, usize, String, f32, f32)> = Vec::new();
    let mut check = |i: usize, name: &str, a: f32, e: f32| {
        // Equal values (infinities included) and NaN against NaN match.
        let same = a == e || (a.is_nan() && e.is_nan());
        let err = (a - e).abs();
        if !same && (err.is_nan() || err > tol.abs + tol.rel * e.abs()) {
            let key = if err.is_nan() { f32::INFINITY } else { err };
            bad.push((key, i, name.to_owned(), a, e));
        }
    };
    const RGBA: [&str; 4] = ["R", "G", "B", "A"];
    for (i, (a, e)) in actual.pixels().iter().zip(expected.pixels()).enumerate() {
        for c in 0..4 {
            check(i, RGBA[c], a[c], e[c]);
        }
    }
    for ec in &expected.extra {
        let ac = actual
            .extra_channel(&ec.name)
            .unwrap_or_else(|| panic!("{what}: extra channel {} missing", ec.name));
        for (i, (a, e)) in ac.data.iter().zip(&ec.data).enumerate() {
            check(i, &ec.name, *a, *e);
        }
    }
    if !bad.is_empty() {
        bad.sort_by(|a, b| b.0.total_cmp(&a.0));
        let worst: Vec<String> = bad
            .iter()
            .take(5)
            .map(|(err, i, c, a, e)| {
                format!(
                    "  ({}, {}) {c}: got {a}, expected {e} (error {err:e})",
                    i % w,
                    i / w
                )
            })
            .collect();
        panic!(
            "{what}: {} of {} samples outside tolerance {:?}; worst:\n{}",
            bad.len(),
            expected.pixels().len() * 4,
            tol,
            worst.join("\n")
        );
    }
}

/// Values every op must handle: NaN, infinities, signed zeros, subnormals,
/// the extremes of f32, and values just around the common bounds 0 and 1.
pub const SPECIAL_VALUES: &[f32] = &[
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f32::MAX,
    f32::MIN,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    1e-40,
    -1e-40,
    1e30,
    -1e30,
    0.999_999_94,
    1.000_000_1,
    -1e-7,
];

/// A seeded RGBA image with samples in `[-2, 3)`, about one in four replaced
/// by one of [`SPECIAL_VALUES`], and two extra channels (`Z`, float, and
/// `mask.A`, half) made the same way: the input of parity tests for ops
/// defined on every float.
pub fn special_image(width: u32, height: u32, seed: u64) -> Image {
    let mut rng = Rng::new(seed);
    let mut sample = move || {
        if rng.next_u64().is_multiple_of(4) {
            SPECIAL_VALUES[(rng.next_u64() % SPECIAL_VALUES.len() as u64) as usize]
        } else {
            rng.range(-2.0, 3.0)
        }
    };
    let n = width as usize * height as usize;
    let pixels = (0..n)
        .map(|_| [sample(), sample(), sample(), sample()])
        .collect();
    let mut image = Image::from_pixels(width, height, pixels);
    let z = (0..n).map(|_| sample()).collect();
    let mask = (0..n).map(|_| sample()).collect();
    image.set_extra_channel("Z", SampleFormat::F32, z);
    image.set_extra_channel("mask.A", SampleFormat::F16, mask);
    image
}

/// Environment variable that turns "no GPU adapter" from a skip into a test
/// failure (CI sets it, with lavapipe installed).
pub const REQUIRE_GPU_ENV: &str = "MORPH_REQUIRE_GPU";

/// Whether [`REQUIRE_GPU_ENV`] is set to `1`.
pub fn gpu_required() -> bool {
    std::env::var(REQUIRE_GPU_ENV).is_ok_and(|v| v == "1")
}

/// Call when a GPU test finds no adapter: prints `skipped: no adapter` and
/// returns `None`, or panics when [`REQUIRE_GPU_ENV`]`=1`.
#[track_caller]
pub fn no_gpu<T>(reason: impl Display) -> Option<T> {
    if gpu_required() {
        panic!("{REQUIRE_GPU_ENV}=1 but no GPU is usable: {reason}");
    }
    eprintln!("skipped: no adapter ({reason})");
    None
}

/// Error type of [`Backend`] methods: any backend's error, as text and source.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// A backend the parity [`cases`] run on: the CPU reference, the GPU, the
/// engine. One method per op, named like the op, same signature as the
/// engine's method.
pub trait Backend {
    /// Name used in failure messages, e.g. `gpu (llvmpipe)`.
    fn name(&self) -> String;

    /// Clamp (SPEC §5).
    fn clamp(&self, image: &Image, params: &ClampParams) -> Result<Image, BackendError>;

    /// STMap (SPEC §3). The default answers [`NotImplemented`], which the
    /// STMap cases report as skipped, so a backend without the op yet still
    /// builds and passes.
    fn stmap(
        &self,
        inputs: &crate::ops::stmap::StMapInputs<'_>,
        params: &crate::params::StMapParams,
    ) -> Result<crate::ops::stmap::StMapOutput, BackendError> {
        let _ = (inputs, params);
        Err(Box::new(NotImplemented("stmap")))
    }

    /// Frequency (SPEC §4). The default answers [`NotImplemented`], which
    /// the Frequency cases report as skipped.
    fn frequency(
        &self,
        image: &Image,
        params: &crate::params::FrequencyParams,
    ) -> Result<crate::ops::frequency::FrequencyBands, BackendError> {
        let _ = (image, params);
        Err(Box::new(NotImplemented("frequency")))
    }
}

/// The error of a [`Backend`] method a backend does not implement yet; cases
/// skip (with a message) on it.
#[derive(Debug)]
pub struct NotImplemented(pub &'static str);

impl Display for NotImplemented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not implemented on this backend", self.0)
    }
}

impl std::error::Error for NotImplemented {}

/// Tolerance of clamp parity: clamp only compares and selects, no
/// arithmetic, so every backend must return exactly the CPU's values.
pub const CLAMP_TOLERANCE: Tolerance = Tolerance::EXACT;

/// The parity cases: each runs one op on a [`Backend`] and compares with the
/// CPU reference (`crate::ops`) or with values from the SPEC.
pub mod cases {
    use super::*;
    use crate::ops;

    pub use super::frequency_cases::{
        frequency_keeps_layout, frequency_matches_reference, frequency_param_sets,
        frequency_recombines, frequency_rejects_bad_radius,
    };
    pub use crate::ops::stmap::parity::{
        stmap_identity_is_exact, stmap_matches_reference, stmap_nan_is_transparent_black,
    };

    /// Clamp settings covering every switch and the NaN rule's branches.
    pub fn clamp_param_sets() -> Vec<ClampParams> {
        let both = ClampParams::default();
        vec![
            both,
            ClampParams {
                min_clamp: false,
                ..both
            },
            ClampParams {
                max_clamp: false,
                ..both
            },
            ClampParams {
                min_clamp: false,
                max_clamp: false,
                ..both
            },
            ClampParams {
                min_value: -0.5,
                max_value: 2.5,
                ..both
            },
            ClampParams {
                min_value: 0.25,
                max_value: 0.25,
                ..both
            },
            // Subnormal bounds: GPUs that flush subnormals must still match.
            ClampParams {
                min_value: -1e-40,
                max_value: 1e-40,
                ..both
            },
            // Inverted bounds are allowed when only one is on.
            ClampParams {
                min_value: 3.0,
                max_value: -3.0,
                max_clamp: false,
                ..both
            },
        ]
    }

    /// Clamp equals the CPU reference on [`special_image`]s at every
    /// [`EDGE_SIZES`] entry, for every [`clamp_param_sets`] entry.
    pub fn clamp_matches_reference(b: &impl Backend) {
        for (i, &(w, h)) in EDGE_SIZES.iter().enumerate() {
            let image = special_image(w, h, 1000 + i as u64);
            for p in clamp_param_sets() {
                let expected = ops::clamp::clamp(&image, &p).expect("reference clamp");
                let actual = b
                    .clamp(&image, &p)
                    .unwrap_or_else(|e| panic!("{}: clamp {w}x{h} {p:?}: {e}", b.name()));
                assert_images_close(
                    &actual,
                    &expected,
                    CLAMP_TOLERANCE,
                    &format!("{} clamp {w}x{h} {p:?}", b.name()),
                );
            }
        }
    }

    /// The NaN rule and infinities, from the SPEC rather than the reference:
    /// NaN → min_value if min_clamp, else max_value if max_clamp, else NaN.
    pub fn clamp_nan_rule(b: &impl Backend) {
        let px = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.25];
        let image = Image::from_pixels(1, 1, vec![px]);
        let run = |p: ClampParams| {
            b.clamp(&image, &p)
                .unwrap_or_else(|e| panic!("{}: {e}", b.name()))
                .pixel(0, 0)
        };
        let both = ClampParams {
            min_value: -1.0,
            max_value: 2.0,
            ..Default::default()
        };
        assert_eq!(
            run(both),
            [-1.0, 2.0, -1.0, -0.25],
            "{}: both bounds",
            b.name()
        );
        let max_only = ClampParams {
            min_clamp: false,
            ..both
        };
        let out = run(max_only);
        assert_eq!(
            out,
            [2.0, 2.0, f32::NEG_INFINITY, -0.25],
            "{}: max only",
            b.name()
        );
        let min_only = ClampParams {
            max_clamp: false,
            ..both
        };
        assert_eq!(
            run(min_only),
            [-1.0, f32::INFINITY, -1.0, -0.25],
            "{}: min only",
            b.name()
        );
        let none = ClampParams {
            min_clamp: false,
            max_clamp: false,
            ..both
        };
        let out = run(none);
        assert!(
            out[0].is_nan(),
            "{}: NaN passes when no bound is on",
            b.name()
        );
        assert_eq!(&out[1..], &px[1..], "{}: no bound", b.name());
    }

    /// Clamp keeps everything but the samples: size, windows, base channels,
    /// metadata, extra channels (names, formats, order), and clamps alpha and
    /// extra channels too.
    pub fn clamp_keeps_layout(b: &impl Backend) {
        let mut image = special_image(5, 3, 7);
        image.base = crate::BaseChannels::Rgb;
        image.data_window = crate::Rect {
            x: -2,
            y: 4,
            width: 5,
            height: 3,
        };
        image.display_window = crate::Rect::from_size(8, 8);
        image
            .metadata
            .attributes
            .insert("owner".into(), "morph".into());
        let out = b
            .clamp(&image, &ClampParams::default())
            .unwrap_or_else(|e| panic!("{}: {e}", b.name()));
        assert_eq!(out.base, image.base, "{}", b.name());
        assert_eq!(out.data_window, image.data_window, "{}", b.name());
        assert_eq!(out.display_window, image.display_window, "{}", b.name());
        assert_eq!(out.metadata, image.metadata, "{}", b.name());
        let names = |i: &Image| {
            i.extra
                .iter()
                .map(|c| (c.name.clone(), c.format))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&out), names(&image), "{}", b.name());
        let in_range = |v: &f32| (0.0..=1.0).contains(v);
        assert!(
            out.as_flat().iter().all(in_range),
            "{}: RGBA in [0, 1]",
            b.name()
        );
        assert!(
            out.extra.iter().all(|c| c.data.iter().all(in_range)),
            "{}: extra in [0, 1]",
            b.name()
        );
    }

    /// min_value > max_value with both on is a parameter error on every
    /// backend, naming the attribute.
    pub fn clamp_rejects_inverted_bounds(b: &impl Backend) {
        let p = ClampParams {
            min_value: 1.0,
            max_value: 0.0,
            ..Default::default()
        };
        let err = b
            .clamp(&Image::new(2, 2), &p)
            .expect_err("inverted bounds must fail");
        assert!(err.to_string().contains("min_value"), "{}: {err}", b.name());
    }
}

/// Tolerance of Frequency parity (every band, every backend, against the
/// CPU reference), for inputs in [0.05, 1.05).
///
/// Backends run the CPU's per-line arithmetic in the same order, so the only
/// differences are fused multiply-adds: shader compilers may contract
/// `a·b + c` (SPIR-V without `NoContraction`; lavapipe's LLVM and NVIDIA's
/// compiler both do), which rounds once instead of twice. The box's running
/// sum is adds only (a fused `(S + (lo + hi)·f)` rounds at the scale of S,
/// ≤ 2⁻²⁴·S·inv ≈ 3e-8 of the output). The Gaussian's recursions feed each
/// step's rounding back through the poles: the CPU's own analysis (blur.rs,
/// `constant_stays_constant`) bounds the accumulated f32 error by ~1/(1 − |β|)
/// ≈ 160 ulps of the state at σ = 333, i.e. ~1e-5 of the output at radius
/// 1000; a GPU rounds differently, not worse, so two such errors apart: 2e-5.
/// Bands are differences of blurred values of ≤ 1.05, so the same absolute
/// bound holds for Mid and High (halved with centre & scale).
pub const FREQUENCY_TOLERANCE: Tolerance = Tolerance {
    abs: 2e-5,
    rel: 0.0,
};

/// |Low + Mid + High − F| allowed on any backend's output (SPEC §4, "to float
/// rounding"): the sum of three values ≤ ~1 rounds to a few 1e-7; 1e-5 is
/// the bound the CPU's own tests use.
pub const FREQUENCY_RECOMBINATION: Tolerance = Tolerance {
    abs: 1e-5,
    rel: 0.0,
};

/// The Frequency parity cases (see [`cases`]).
mod frequency_cases {
    use super::*;
    use crate::ops::frequency::{FrequencyBands, frequency, merge};
    use crate::params::{Bands, BlurFilter, BlurSize, FrequencyParams};

    /// Radii every filter is tested at: identity, a fractional end tap, the
    /// small, medium and largest allowed.
    const RADII: [f32; 5] = [0.0, 0.5, 5.0, 50.0, 1000.0];

    /// Test inputs: away from 0, so no band or blur value is subnormal (an
    /// NVIDIA GPU flushes those to 0).
    fn input(w: u32, h: u32, seed: u64) -> Image {
        random_image(w, h, seed, 0.05, 1.05)
    }

    /// Parameter sets: both filters × radii 0, 0.5, 5, 50 and 1000 px
    /// (identity, a fractional end tap, small, medium, the largest), in 2 bands
    /// (uniform radii) and 3 bands (different radii per axis), centre & scale
    /// alternating.
    pub fn frequency_param_sets() -> Vec<FrequencyParams> {
        let mut out = Vec::new();
        for filter in [BlurFilter::Gaussian, BlurFilter::Box] {
            for (i, &r) in RADII.iter().enumerate() {
                out.push(FrequencyParams {
                    bands: Bands::Two,
                    filter,
                    low: BlurSize::uniform(r),
                    mid: BlurSize::uniform(0.0),
                    centre_scale: i % 2 == 0,
                });
                out.push(FrequencyParams {
                    bands: Bands::Three,
                    filter,
                    low: BlurSize {
                        width: r,
                        height: (r * 0.5).max(1.5),
                    },
                    mid: BlurSize {
                        width: (r * 0.25).min(7.5),
                        height: 2.0,
                    },
                    centre_scale: i % 2 == 1,
                });
            }
        }
        out
    }

    /// Runs the backend's Frequency; `None` (with a message) if it has none.
    fn run(b: &impl Backend, image: &Image, p: &FrequencyParams) -> Option<FrequencyBands> {
        match b.frequency(image, p) {
            Ok(out) => Some(out),
            Err(e) if e.downcast_ref::<NotImplemented>().is_some() => {
                eprintln!("skipped: {} has no frequency yet", b.name());
                None
            }
            Err(e) => panic!(
                "{}: frequency {}x{} {p:?}: {e}",
                b.name(),
                image.width(),
                image.height()
            ),
        }
    }

    /// Largest |a − e| over the RGBA samples.
    fn max_error(a: &Image, e: &Image) -> f32 {
        a.as_flat()
            .iter()
            .zip(e.as_flat())
            .map(|(a, e)| (a - e).abs())
            .fold(0.0, f32::max)
    }

    /// Every band equals the CPU reference within [`FREQUENCY_TOLERANCE`] at
    /// every [`EDGE_SIZES`] entry, for every [`frequency_param_sets`] entry;
    /// prints the worst error seen.
    pub fn frequency_matches_reference(b: &impl Backend) {
        let mut worst = (0.0f32, String::new());
        for (i, &(w, h)) in EDGE_SIZES.iter().enumerate() {
            let image = input(w, h, 2000 + i as u64);
            for p in frequency_param_sets() {
                let Some(got) = run(b, &image, &p) else {
                    return;
                };
                let want = frequency(&image, &p).expect("reference frequency");
                let what = format!("{} frequency {w}x{h} {p:?}", b.name());
                assert_eq!(got.mid.is_some(), want.mid.is_some(), "{what}: Mid");
                let pairs = [
                    ("Low", Some(&got.low), Some(&want.low)),
                    ("Mid", got.mid.as_ref(), want.mid.as_ref()),
                    ("High", Some(&got.high), Some(&want.high)),
                ];
                for (band, g, e) in pairs {
                    let (Some(g), Some(e)) = (g, e) else {
                        continue;
                    };
                    assert_images_close(g, e, FREQUENCY_TOLERANCE, &format!("{what}: {band}"));
                    let err = max_error(g, e);
                    if err > worst.0 {
                        worst = (err, format!("{w}x{h} {band} {p:?}"));
                    }
                }
            }
        }
        eprintln!(
            "{}: frequency worst error {:e} at {}",
            b.name(),
            worst.0,
            worst.1
        );
    }

    /// `merge(Low, Mid, High)` gives F back within
    /// [`FREQUENCY_RECOMBINATION`], and without centre & scale so does the
    /// plain sum of the bands.
    pub fn frequency_recombines(b: &impl Backend) {
        for (i, &(w, h)) in EDGE_SIZES.iter().enumerate() {
            let image = input(w, h, 3000 + i as u64);
            for p in frequency_param_sets() {
                let Some(bands) = run(b, &image, &p) else {
                    return;
                };
                let what = format!("{} frequency {w}x{h} {p:?}", b.name());
                let merged = merge(&bands.low, bands.mid.as_ref(), &bands.high, p.centre_scale)
                    .expect("bands of one size");
                assert_images_close(&merged, &image, FREQUENCY_RECOMBINATION, &what);
                if !p.centre_scale {
                    let mut sum = bands.low.clone();
                    for (k, s) in sum.pixels_mut().iter_mut().enumerate() {
                        let mid = bands.mid.as_ref().map_or([0.0; 4], |m| m.pixels()[k]);
                        let high = bands.high.pixels()[k];
                        for (c, v) in s.iter_mut().take(3).enumerate() {
                            *v += mid[c] + high[c];
                        }
                    }
                    assert_images_close(
                        &sum,
                        &image,
                        FREQUENCY_RECOMBINATION,
                        &format!("{what}: plain sum"),
                    );
                }
            }
        }
    }

    /// Alpha is the input's on every output (bit for bit), Low keeps the
    /// extra channels and metadata, Mid and High have no extra channels and
    /// the input's windows and metadata.
    pub fn frequency_keeps_layout(b: &impl Backend) {
        let (w, h) = (37, 29);
        let mut image = input(w, h, 4000);
        image.set_extra_channel(
            "depth.Z",
            SampleFormat::F32,
            (0..w * h).map(|i| i as f32 * 0.25).collect(),
        );
        image
            .metadata
            .attributes
            .insert("owner".into(), "parity".into());
        for p in frequency_param_sets() {
            let Some(bands) = run(b, &image, &p) else {
                return;
            };
            let what = format!("{} frequency {p:?}", b.name());
            assert_eq!(bands.low.extra, image.extra, "{what}: Low extra channels");
            for out in [Some(&bands.low), bands.mid.as_ref(), Some(&bands.high)]
                .into_iter()
                .flatten()
            {
                for (o, i) in out.pixels().iter().zip(image.pixels()) {
                    assert_eq!(o[3].to_bits(), i[3].to_bits(), "{what}: alpha");
                }
                assert_eq!(out.base, image.base, "{what}");
                assert_eq!(out.data_window, image.data_window, "{what}");
                assert_eq!(out.display_window, image.display_window, "{what}");
                assert_eq!(out.metadata, image.metadata, "{what}");
            }
            assert!(bands.high.extra.is_empty(), "{what}: High extra channels");
            assert!(
                bands.mid.as_ref().is_none_or(|m| m.extra.is_empty()),
                "{what}: Mid extra channels"
            );
        }
    }

    /// Radii outside 0..=1000 (or NaN) are parameter errors naming the
    /// attribute, on every backend.
    pub fn frequency_rejects_bad_radius(b: &impl Backend) {
        let image = input(5, 4, 5000);
        for (p, attribute) in [
            (
                FrequencyParams {
                    low: BlurSize {
                        width: 1000.5,
                        height: 1.0,
                    },
                    ..FrequencyParams::default()
                },
                "low_blur_width",
            ),
            (
                FrequencyParams {
                    low: BlurSize {
                        width: 1.0,
                        height: -1.0,
                    },
                    ..FrequencyParams::default()
                },
                "low_blur_height",
            ),
            (
                FrequencyParams {
                    bands: Bands::Three,
                    mid: BlurSize {
                        width: f32::NAN,
                        height: 1.0,
                    },
                    ..FrequencyParams::default()
                },
                "mid_blur_width",
            ),
        ] {
            match b.frequency(&image, &p) {
                Err(e) if e.downcast_ref::<NotImplemented>().is_some() => return,
                Err(e) => assert!(
                    e.to_string().contains(attribute),
                    "{}: {p:?}: {e}",
                    b.name()
                ),
                Ok(_) => panic!("{}: {p:?} must be rejected", b.name()),
            }
        }
    }
}

/// Instantiates every case of [`cases`] as a `#[test]` for one backend.
/// `$make` is an expression giving `Option<impl Backend>`; `None` means
/// "unavailable" (it should come from [`no_gpu`], which prints the skip or
/// fails under `MORPH_REQUIRE_GPU=1`). Add each new case's name to the list.
#[macro_export]
macro_rules! parity_cases {
    ($make:expr) => {
        $crate::parity_cases!(@each $make;
            clamp_matches_reference,
            clamp_nan_rule,
            clamp_keeps_layout,
            clamp_rejects_inverted_bounds,
            stmap_matches_reference,
            stmap_identity_is_exact,
            stmap_nan_is_transparent_black,
            frequency_matches_reference,
            frequency_recombines,
            frequency_keeps_layout,
            frequency_rejects_bad_radius,
        );
    };
    (@each $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                if let Some(backend) = $make {
                    $crate::test_support::cases::$case(&backend);
                }
            }
        )*
    };
}

/// Writes the parity cases once per backend, like cubecl's `testgen_all!`:
/// each `name => make` becomes `mod name` with every case as a test.
#[macro_export]
macro_rules! testgen_all {
    ($($backend:ident => $make:expr),+ $(,)?) => {
        $(
            mod $backend {
                #[allow(unused_imports)]
                use super::*;
                $crate::parity_cases!($make);
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CPU reference as a backend: the cases must pass on it by
    /// construction, which checks the cases themselves.
    struct Reference;

    impl Backend for Reference {
        fn name(&self) -> String {
            "cpu reference".into()
        }

        fn clamp(&self, image: &Image, params: &ClampParams) -> Result<Image, BackendError> {
            Ok(crate::ops::clamp::clamp(image, params)?)
        }

        fn stmap(
            &self,
            inputs: &crate::ops::stmap::StMapInputs<'_>,
            params: &crate::params::StMapParams,
        ) -> Result<crate::ops::stmap::StMapOutput, BackendError> {
            Ok(crate::ops::stmap::stmap(inputs, params)?)
        }

        fn frequency(
            &self,
            image: &Image,
            params: &crate::params::FrequencyParams,
        ) -> Result<crate::ops::frequency::FrequencyBands, BackendError> {
            Ok(crate::ops::frequency::frequency(image, params)?)
        }
    }

    crate::testgen_all! {
        reference => Some(Reference),
    }

    #[test]
    fn special_image_has_specials_and_extras() {
        let image = special_image(16, 16, 3);
        assert!(image.as_flat().iter().any(|v| v.is_nan()));
        assert!(image.as_flat().iter().any(|v| v.is_infinite()));
        assert_eq!(image.extra.len(), 2);
        let bits = |i: &Image| i.as_flat().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&image), bits(&special_image(16, 16, 3)), "seeded");
    }

    #[test]
    #[should_panic(expected = "1 of 16 samples outside tolerance")]
    fn reports_a_bad_sample() {
        let a = random_image(2, 2, 1, 0.0, 1.0);
        let mut b = a.clone();
        b.pixels_mut()[3][1] += 0.5;
        assert_images_close(
            &a,
            &b,
            Tolerance {
                abs: 1e-3,
                rel: 0.0,
            },
            "t",
        );
    }

    #[test]
    fn seeded_fixtures_repeat() {
        assert_eq!(
            random_image(5, 3, 7, 0.0, 1.0),
            random_image(5, 3, 7, 0.0, 1.0)
        );
        assert_ne!(
            random_image(5, 3, 7, 0.0, 1.0),
            random_image(5, 3, 8, 0.0, 1.0)
        );
    }
}
