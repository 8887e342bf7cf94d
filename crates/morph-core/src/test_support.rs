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
