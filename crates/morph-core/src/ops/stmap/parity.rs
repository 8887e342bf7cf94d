//! The STMap parity cases (feature `test-support`), run on every
//! [`Backend`] by [`crate::parity_cases!`] through
//! [`crate::test_support::cases`]: each compares a backend's STMap with this
//! crate's CPU reference ([`super::stmap`]), or with the input itself for
//! identity maps.

use crate::Image;
use crate::image::SampleFormat;
use crate::params::{RepeatMode, StMapFilter, StMapParams};
use crate::test_support::{
    Backend, EDGE_SIZES, NotImplemented, Tolerance, assert_images_close, random_image,
};

use super::{StMapInputs, StMapOutput, stmap};

/// Identity maps and Nearest on maps kept off pixel edges: no arithmetic
/// reaches the result (snapped centres take one texel with weight 1), so
/// every backend must match bit for bit.
pub const STMAP_EXACT_TOLERANCE: Tolerance = Tolerance::EXACT;

/// Every other filter. Backends may round a position differently (a GPU
/// may fuse `s · scale + origin` into one FMA: ≤ 1 ulp, 6e-5 px at 1001 px)
/// and so, rarely, land on the other side of the snap zone's edge (≤ τ =
/// 4.8e-4 px at 1001 px); times the steepest gradient of the test images
/// (random values in [0, 1): ≤ 1 per px) that bounds the difference by
/// ~5.5e-4. Weights and sums round differently too (FMA, the driver's
/// `exp` for EWA): ~1e-6. Measured on lavapipe (2026-11): every filter but
/// EWA bit-exact, EWA within 1e-6.
pub const STMAP_FILTER_TOLERANCE: Tolerance = Tolerance {
    abs: 1e-3,
    rel: 0.0,
};

const FILTERS: [StMapFilter; 8] = [
    StMapFilter::Nearest,
    StMapFilter::Linear,
    StMapFilter::MitchellNetravali,
    StMapFilter::CatmullRom,
    StMapFilter::Anisotropic,
    StMapFilter::AnisoLinear,
    StMapFilter::Ewa,
    StMapFilter::EwaLinear,
];

const REPEATS: [RepeatMode; 4] = [
    RepeatMode::Off,
    RepeatMode::Mirrored,
    RepeatMode::Tiled,
    RepeatMode::Last,
];

/// Runs the backend's STMap; `None` (with a message) if it has none yet.
fn run(b: &impl Backend, inputs: &StMapInputs<'_>, p: &StMapParams) -> Option<StMapOutput> {
    match b.stmap(inputs, p) {
        Ok(out) => Some(out),
        Err(e) if e.downcast_ref::<NotImplemented>().is_some() => {
            eprintln!("skipped: {} has no stmap yet", b.name());
            None
        }
        Err(e) => panic!("{}: stmap {p:?}: {e}", b.name()),
    }
}

/// An STMap of `w × h` over a `fw × fh` Front (Entire Front framing): output
/// pixel centre `(x+½, y+½)` samples `f(x+½, y+½)` in Front pixels (y down).
pub fn map_from_fn(w: u32, h: u32, fw: u32, fh: u32, f: impl Fn(f64, f64) -> (f64, f64)) -> Image {
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let (u, v) = f(x as f64 + 0.5, y as f64 + 0.5);
            [
                (u / fw as f64) as f32,
                ((fh as f64 - v) / fh as f64) as f32,
                0.0,
                1.0,
            ]
        })
        .collect();
    Image::from_pixels(w, h, pixels)
}

/// A rotation by `angle` and a scale by `zoom` (> 1 minifies) about the
/// centres of a `w × h` map and a `fw × fh` Front; with `off_edges`, every
/// position is moved to `⌊p⌋ + 0.2 … 0.8`, away from pixel edges, so Nearest
/// cannot depend on the last bit of the position.
pub fn rotation_map(
    w: u32,
    h: u32,
    fw: u32,
    fh: u32,
    angle: f64,
    zoom: f64,
    off_edges: bool,
) -> Image {
    let (c, s) = (angle.cos(), angle.sin());
    map_from_fn(w, h, fw, fh, |x, y| {
        let (dx, dy) = ((x - w as f64 / 2.0) * zoom, (y - h as f64 / 2.0) * zoom);
        let (u, v) = (
            fw as f64 / 2.0 + c * dx - s * dy,
            fh as f64 / 2.0 + s * dx + c * dy,
        );
        if off_edges {
            let away = |p: f64| p.floor() + 0.2 + 0.6 * (p - p.floor());
            (away(u), away(v))
        } else {
            (u, v)
        }
    })
}

/// A Front with an extra channel, and a Matte (Y) with one too.
fn fixtures(w: u32, h: u32, seed: u64) -> (Image, Image) {
    let mut front = random_image(w, h, seed, 0.0, 1.0);
    let z = random_image(w, h, seed + 1, 0.0, 1.0);
    front.set_extra_channel(
        "depth.Z",
        SampleFormat::F32,
        z.pixels().iter().map(|p| p[0]).collect(),
    );
    let mut matte = random_image(w, h, seed + 2, 0.0, 1.0);
    matte.base = crate::BaseChannels::Y;
    matte.set_extra_channel(
        "mask.a",
        SampleFormat::F16,
        z.pixels().iter().map(|p| p[1]).collect(),
    );
    (front, matte)
}

/// Result and OutMatte agree with the CPU reference at every [`EDGE_SIZES`]
/// entry, for every filter and repeat mode, on a magnifying and a 3×
/// minifying rotated map that reach outside the Front (the largest size with
/// fewer combinations, to keep software adapters quick).
pub fn stmap_matches_reference(b: &impl Backend) {
    for (k, &(w, h)) in EDGE_SIZES.iter().enumerate() {
        let (front, matte) = fixtures(w, h, 300 + k as u64);
        let large = w as u64 * h as u64 > 100_000;
        for (zoom, angle) in [(0.7, 0.35), (3.0, -0.6)] {
            for filter in FILTERS {
                let nearest = filter == StMapFilter::Nearest;
                let map = rotation_map(w, h, w, h, angle, zoom, nearest);
                let inputs = StMapInputs {
                    front: &front,
                    stmap: &map,
                    matte: Some(&matte),
                };
                let repeats: &[RepeatMode] = if large { &REPEATS[..1] } else { &REPEATS };
                for &repeat in repeats {
                    let p = StMapParams {
                        filter_mode: filter,
                        repeat_x: repeat,
                        repeat_y: if large { repeat } else { REPEATS[(k + 1) % 4] },
                        ..Default::default()
                    };
                    let expected = stmap(&inputs, &p).expect("reference stmap");
                    let Some(actual) = run(b, &inputs, &p) else {
                        return;
                    };
                    let tol = if nearest {
                        STMAP_EXACT_TOLERANCE
                    } else {
                        STMAP_FILTER_TOLERANCE
                    };
                    let what = format!("{} stmap {w}x{h} zoom {zoom} {p:?}", b.name());
                    assert_images_close(&actual.result, &expected.result, tol, &what);
                    assert_images_close(
                        actual.matte.as_ref().expect("OutMatte"),
                        expected.matte.as_ref().expect("reference OutMatte"),
                        tol,
                        &format!("{what} OutMatte"),
                    );
                }
            }
        }
    }
}

/// The identity map returns the Front bit for bit with every filter whose
/// kernel interpolates (all but Mitchell–Netravali), extra channels and
/// windows included.
pub fn stmap_identity_is_exact(b: &impl Backend) {
    for (k, &(w, h)) in EDGE_SIZES.iter().enumerate() {
        let (front, _) = fixtures(w, h, 400 + k as u64);
        let map = map_from_fn(w, h, w, h, |x, y| (x, y));
        for filter in FILTERS {
            if filter == StMapFilter::MitchellNetravali {
                continue;
            }
            let p = StMapParams {
                filter_mode: filter,
                ..Default::default()
            };
            let inputs = StMapInputs {
                front: &front,
                stmap: &map,
                matte: None,
            };
            let Some(out) = run(b, &inputs, &p) else {
                return;
            };
            assert_images_close(
                &out.result,
                &front,
                STMAP_EXACT_TOLERANCE,
                &format!("{} stmap identity {w}x{h} {filter:?}", b.name()),
            );
        }
    }
}

/// NaN and infinite s, t give transparent black in every channel (SPEC §1:
/// never propagated), with every filter and repeat mode.
pub fn stmap_nan_is_transparent_black(b: &impl Backend) {
    let (front, matte) = fixtures(9, 7, 500);
    let mut map = map_from_fn(9, 7, 9, 7, |x, y| (x + 0.3, y - 0.2));
    let holes = [
        (1usize, 1usize, f32::NAN),
        (4, 3, f32::INFINITY),
        (8, 6, f32::NEG_INFINITY),
    ];
    for &(x, y, v) in &holes {
        map.pixels_mut()[y * 9 + x][(x + y) % 2] = v;
    }
    for filter in FILTERS {
        for repeat in REPEATS {
            let p = StMapParams {
                filter_mode: filter,
                repeat_x: repeat,
                repeat_y: repeat,
                ..Default::default()
            };
            let inputs = StMapInputs {
                front: &front,
                stmap: &map,
                matte: Some(&matte),
            };
            let Some(out) = run(b, &inputs, &p) else {
                return;
            };
            let m = out.matte.expect("OutMatte");
            for &(x, y, _) in &holes {
                let i = y * 9 + x;
                assert_eq!(
                    out.result.pixels()[i],
                    [0.0; 4],
                    "{} {p:?} ({x}, {y})",
                    b.name()
                );
                assert_eq!(out.result.extra[0].data[i], 0.0, "{} {p:?}", b.name());
                assert_eq!(m.pixels()[i], [0.0; 4], "{} {p:?} OutMatte", b.name());
            }
            assert!(
                out.result.as_flat().iter().all(|v| v.is_finite()),
                "{} {p:?}: non-finite output",
                b.name()
            );
        }
    }
}
