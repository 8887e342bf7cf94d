//! Shared by the parity tests and the benches (feature `test-support`):
//! seeded fixtures, the edge sizes every op is tested at, and one
//! [`assert_images_close`] that reports the worst pixels.

use crate::image::Image;

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
        let same_nan = a.is_nan() && e.is_nan();
        let err = (a - e).abs();
        if !same_nan && (err.is_nan() || err > tol.abs + tol.rel * e.abs()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "1 of 16 samples outside tolerance")]
    fn reports_a_bad_sample() {
        let a = random_image(2, 2, 1, 0.0, 1.0);
        let mut b = a.clone();
        b.pixels_mut()[3][1] += 0.5;
        assert_images_close(&a, &b, Tolerance { abs: 1e-3, rel: 0.0 }, "t");
    }

    #[test]
    fn seeded_fixtures_repeat() {
        assert_eq!(random_image(5, 3, 7, 0.0, 1.0), random_image(5, 3, 7, 0.0, 1.0));
        assert_ne!(random_image(5, 3, 7, 0.0, 1.0), random_image(5, 3, 8, 0.0, 1.0));
    }
}
