//! Frame interpolation, GPU against the CPU reference
//! (`morph_core::ops::interpolate`): the fixtures' Layers scene with its
//! estimated flow, a uniform translation, extra channels, odd sizes, every
//! time in {0, 0.25, 0.5, 0.9, 1}, a scene cut under each rule, and the
//! splat pass alone. Skipped without an adapter unless
//! `MORPH_REQUIRE_GPU=1`.
//!
//! # Tolerance
//! The kernels follow the CPU's arithmetic order, but a driver may fuse
//! `x + t·v` (and the bilinear/bicubic sums) into fused multiply-adds and
//! uses its own `sqrt` and division, so:
//! - where both backends pick the same splat winner, every sample (RGBA,
//!   extra channels) is within [`CLOSE`] and every vector within
//!   [`CLOSE_VECTOR`];
//! - a splat target lying exactly on a pixel boundary can fall to the
//!   other pixel on one backend, changing that pixel's winner: at most
//!   [`MAX_OFF_FRACTION`] of the pixels may exceed the bounds above.
//!
//! Flows built from multiples of 1/16 at times that are multiples of 1/4
//! make every splat target exact on both backends; those cases (the
//! translation, the synthetic flows, the splat test) allow no differing
//! pixel at all. Each comparison prints its measured max and mean
//! differences (`cargo test -- --nocapture`).

use std::sync::{Arc, OnceLock};

use morph_core::Image;
use morph_core::flow::FlowField;
use morph_core::image::SampleFormat;
use morph_core::ops::flow::fixtures::{FlowCase, cut_pair};
use morph_core::ops::flow::{FlowParams, FlowResult, estimate_flow};
use morph_core::ops::interpolate::{
    self as cpu, CutRule, CutScore, Interpolated, PairMotion, Source, analyse_pair,
};
use morph_core::test_support::{Rng, no_gpu, pattern_image};
use morph_gpu::GpuContext;
use morph_gpu::ops::interpolate::{self as gpu, GpuPairFlow, Pyramid};

/// Per-sample bound where the backends agree on the splat winner: float
/// rounding only (fused multiply-adds, the driver's `sqrt` and division)
/// on values in 0..1 through a handful of operations.
const CLOSE: f32 = 1e-4;
/// The same for the output vectors, in pixels (copies of the winner's
/// vector, or push–pull means of them).
const CLOSE_VECTOR: f32 = 1e-4;
/// Most pixels (fraction of the frame) allowed outside [`CLOSE`] /
/// [`CLOSE_VECTOR`] on real flow, where a splat target can land exactly
/// on a pixel boundary and round differently under a fused multiply-add.
const MAX_OFF_FRACTION: f64 = 0.005;
/// The times every case is run at.
const TIMES: [f32; 5] = [0.0, 0.25, 0.5, 0.9, 1.0];

fn ctx() -> Option<Arc<GpuContext>> {
    match GpuContext::shared_for_tests() {
        Ok(ctx) => Some(ctx),
        Err(e) => no_gpu(e),
    }
}

/// Differences between a GPU and a CPU in-between.
#[derive(Debug, Default)]
struct Diff {
    /// Largest sample difference (RGBA and extra channels).
    max: f32,
    /// Mean sample difference.
    mean: f64,
    /// Largest vector component difference.
    max_vector: f32,
    /// Pixels with a sample beyond `CLOSE` or a vector beyond `CLOSE_VECTOR`.
    off: usize,
    /// Pixels in the frame.
    pixels: usize,
}

fn diff(actual: &Interpolated, expected: &Interpolated) -> Diff {
    let (a, e) = (&actual.image, &expected.image);
    assert_eq!(a.size(), e.size(), "image sizes");
    assert_eq!(
        actual.vectors.size(),
        expected.vectors.size(),
        "vector sizes"
    );
    assert_eq!(
        a.extra.iter().map(|c| &c.name).collect::<Vec<_>>(),
        e.extra.iter().map(|c| &c.name).collect::<Vec<_>>(),
        "extra channels"
    );
    assert_eq!(
        (a.base, a.data_window, a.display_window),
        (e.base, e.data_window, e.display_window),
        "layout"
    );
    let n = e.pixels().len();
    let mut d = Diff {
        pixels: n,
        ..Default::default()
    };
    let mut sum = 0.0f64;
    let mut samples = 0usize;
    for k in 0..n {
        let mut worst = 0.0f32;
        let mut err = |x: f32, y: f32| {
            let v = if x == y { 0.0 } else { (x - y).abs() };
            // NaN where there must be a number counts as infinitely wrong.
            let v = if v.is_nan() { f32::INFINITY } else { v };
            worst = worst.max(v);
            sum += v as f64;
            samples += 1;
        };
        for c in 0..4 {
            err(a.pixels()[k][c], e.pixels()[k][c]);
        }
        for (ca, ce) in a.extra.iter().zip(&e.extra) {
            err(ca.data[k], ce.data[k]);
        }
        let (va, ve) = (actual.vectors.vectors()[k], expected.vectors.vectors()[k]);
        let vector = (va[0] - ve[0]).abs().max((va[1] - ve[1]).abs());
        let vector = if vector.is_nan() {
            f32::INFINITY
        } else {
            vector
        };
        d.max = d.max.max(worst);
        d.max_vector = d.max_vector.max(vector);
        if worst > CLOSE || vector > CLOSE_VECTOR {
            d.off += 1;
        }
    }
    d.mean = sum / samples.max(1) as f64;
    d
}

/// Runs both backends and checks the GPU against the CPU: same source,
/// and at most `max_off` of the pixels outside the close bounds.
fn check(
    ctx: &GpuContext,
    (a, b, motion): (&Image, &Image, &PairMotion),
    t: f32,
    rule: CutRule,
    max_off: f64,
    what: &str,
) -> Diff {
    let expected = cpu::interpolate(a, b, motion, t, rule).unwrap();
    let actual = gpu::interpolate(ctx, a, b, motion, t, rule)
        .unwrap_or_else(|e| panic!("{what} t={t}: {e}"));
    assert_eq!(actual.source, expected.source, "{what} t={t}: source");
    let d = diff(&actual, &expected);
    eprintln!(
        "{what} t={t} {rule:?}: max {:.3e}, mean {:.3e}, vectors max {:.3e}, {} of {} pixels off",
        d.max, d.mean, d.max_vector, d.off, d.pixels
    );
    let allowed = (max_off * d.pixels as f64).floor() as usize;
    assert!(
        d.off <= allowed,
        "{what} t={t}: {} of {} pixels differ beyond {CLOSE:e} (vectors {CLOSE_VECTOR:e}); \
         at most {allowed} may (max {:e}, vectors max {:e})",
        d.off,
        d.pixels,
        d.max,
        d.max_vector
    );
    if expected.source != Source::Warped {
        // Copies and dissolves are the CPU's own code: exact.
        assert_eq!(d.max, 0.0, "{what} t={t}: a copy must be exact");
        assert_eq!(d.max_vector, 0.0, "{what} t={t}: copied vectors");
    }
    d
}

/// The Layers scene (a foreground layer moving over a background: holes
/// and occlusion) with the estimated flow, computed once.
fn layers() -> &'static (Image, Image, PairMotion) {
    static LAYERS: OnceLock<(Image, Image, PairMotion)> = OnceLock::new();
    LAYERS.get_or_init(|| {
        let a = FlowCase::Layers.frame_at(0.0);
        let b = FlowCase::Layers.frame_at(1.0);
        let flow = estimate_flow(&a, &b, &FlowParams::default()).unwrap();
        let motion = analyse_pair(&a, &b, flow).unwrap();
        (a, b, motion)
    })
}

/// A pair's motion from a given flow, not a cut.
fn motion_of(flow: FlowResult) -> PairMotion {
    PairMotion {
        flow,
        cut: CutScore {
            correlation: 1.0,
            occluded: 0.0,
        },
    }
}

/// A smooth random flow both ways with random occlusion, every value a
/// multiple of 1/16 (so `x + t·v` is exact for t a multiple of 1/4 and no
/// splat target depends on rounding), vectors up to `amp` pixels.
fn synthetic_flow(w: u32, h: u32, seed: u64, amp: f32) -> FlowResult {
    let mut rng = Rng::new(seed);
    let q = |v: f32| (v * 16.0).round() / 16.0;
    let field = |rng: &mut Rng| {
        let (fx, fy, px, py) = (
            rng.range(0.05, 0.3),
            rng.range(0.05, 0.3),
            rng.range(0.0, 6.0),
            rng.range(0.0, 6.0),
        );
        let (bx, by) = (rng.range(-amp, amp) / 2.0, rng.range(-amp, amp) / 2.0);
        let vectors = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x as f32, y as f32)))
            .map(|(x, y)| {
                [
                    q(bx + amp / 2.0 * (x * fx + py).sin()),
                    q(by + amp / 2.0 * (y * fy + px).cos()),
                ]
            })
            .collect();
        FlowField::from_vectors(w, h, vectors).unwrap()
    };
    let forward = field(&mut rng);
    let backward = field(&mut rng);
    let occlusion = |rng: &mut Rng| -> Vec<f32> {
        (0..w * h)
            .map(|_| {
                // Mostly visible, some partly or fully occluded; some on
                // few costs with halves (c + ½)/255, so equal costs and
                // the rounding of 255·o to the cost matter.
                let r = rng.next_f32();
                if r < 0.6 {
                    0.0
                } else if r < 0.8 {
                    q(rng.next_f32())
                } else {
                    let c = (rng.next_u64() % 6) as f32;
                    (c + 0.5 * (rng.next_u64() % 2) as f32) / 255.0
                }
            })
            .collect()
    };
    let occlusion_forward = occlusion(&mut rng);
    let occlusion_backward = occlusion(&mut rng);
    FlowResult {
        forward,
        backward,
        occlusion_forward,
        occlusion_backward,
    }
}

#[test]
fn layers_scene_matches_the_cpu_at_every_time() {
    let Some(ctx) = ctx() else { return };
    let (a, b, motion) = layers();
    assert!(!motion.cut.is_cut(), "the Layers pair is not a cut");
    for t in TIMES {
        check(
            &ctx,
            (a, b, motion),
            t,
            CutRule::Nearest,
            MAX_OFF_FRACTION,
            "layers",
        );
    }
}

#[test]
fn uniform_translation_matches_the_cpu_exactly_placed() {
    let Some(ctx) = ctx() else { return };
    let (w, h) = (96, 64);
    let (dx, dy) = (5.25f32, -2.5f32);
    let a = pattern_image(w, h, 3);
    // B is A moved by (dx, dy) (nearest pixel; the flow is what matters).
    let b = {
        let mut b = a.clone();
        let (ix, iy) = (dx.round() as i64, dy.round() as i64);
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let (sx, sy) = (
                    (x - ix).clamp(0, w as i64 - 1),
                    (y - iy).clamp(0, h as i64 - 1),
                );
                b.pixels_mut()[(y * w as i64 + x) as usize] =
                    a.pixels()[(sy * w as i64 + sx) as usize];
            }
        }
        b
    };
    let n = (w * h) as usize;
    let flow = FlowResult {
        forward: FlowField::from_vectors(w, h, vec![[dx, dy]; n]).unwrap(),
        backward: FlowField::from_vectors(w, h, vec![[-dx, -dy]; n]).unwrap(),
        occlusion_forward: vec![0.0; n],
        occlusion_backward: vec![0.0; n],
    };
    let motion = motion_of(flow);
    for t in TIMES {
        // Every splat target is exact: no pixel may differ beyond rounding.
        let d = check(
            &ctx,
            (&a, &b, &motion),
            t,
            CutRule::Nearest,
            0.0,
            "translation",
        );
        assert!(d.max <= CLOSE, "{d:?}");
    }
}

#[test]
fn extra_channels_move_with_the_colour() {
    let Some(ctx) = ctx() else { return };
    let (w, h) = (48, 40);
    let mut a = pattern_image(w, h, 5);
    let mut b = pattern_image(w, h, 6);
    let mut rng = Rng::new(7);
    let mut plane =
        |lo: f32, hi: f32| -> Vec<f32> { (0..w * h).map(|_| rng.range(lo, hi)).collect() };
    // Z in both, mask.A only in A (taken from A alone), spare only in B
    // (ignored: the output has A's channels).
    a.set_extra_channel("Z", SampleFormat::F32, plane(0.0, 100.0));
    b.set_extra_channel("Z", SampleFormat::F32, plane(0.0, 100.0));
    a.set_extra_channel("mask.A", SampleFormat::F16, plane(0.0, 1.0));
    b.set_extra_channel("spare", SampleFormat::F32, plane(0.0, 1.0));
    let motion = motion_of(synthetic_flow(w, h, 8, 6.0));
    for t in TIMES {
        let d = check(
            &ctx,
            (&a, &b, &motion),
            t,
            CutRule::Nearest,
            0.0,
            "extra channels",
        );
        // Z reaches 100: its rounding is 100x that of colour values.
        assert!(d.max <= 100.0 * CLOSE, "{d:?}");
    }
    let out = gpu::interpolate(&ctx, &a, &b, &motion, 0.5, CutRule::Nearest).unwrap();
    let names: Vec<_> = out.image.extra.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Z", "mask.A"]);
    assert_eq!(out.image.extra[1].format, SampleFormat::F16);
}

#[test]
fn odd_sizes_match_the_cpu() {
    let Some(ctx) = ctx() else { return };
    for (i, &(w, h)) in [(37, 23), (1, 1), (1, 17), (23, 1), (9, 130)]
        .iter()
        .enumerate()
    {
        let a = pattern_image(w, h, 10 + i as u64);
        let b = pattern_image(w, h, 20 + i as u64);
        let motion = motion_of(synthetic_flow(w, h, 30 + i as u64, 4.0));
        for t in TIMES {
            check(
                &ctx,
                (&a, &b, &motion),
                t,
                CutRule::Nearest,
                0.0,
                &format!("{w}x{h}"),
            );
        }
    }
}

#[test]
fn fill_covers_frames_with_large_holes() {
    // Everything moves out of the frame to the right from A and in from B's
    // left: most of the in-between is reached by no source.
    let Some(ctx) = ctx() else { return };
    let (w, h) = (40, 24);
    let n = (w * h) as usize;
    let a = pattern_image(w, h, 40);
    let b = pattern_image(w, h, 41);
    let flow = FlowResult {
        forward: FlowField::from_vectors(w, h, vec![[64.0, 0.0]; n]).unwrap(),
        backward: FlowField::from_vectors(w, h, vec![[0.0, 48.0]; n]).unwrap(),
        occlusion_forward: vec![0.0; n],
        occlusion_backward: vec![1.0; n],
    };
    let motion = motion_of(flow);
    let splat = gpu::splat(&ctx, &motion.flow, 0.5).unwrap();
    assert!(splat.reached.iter().any(|r| !r), "the case must have holes");
    for t in [0.25, 0.5, 0.75] {
        check(&ctx, (&a, &b, &motion), t, CutRule::Nearest, 0.0, "holes");
    }
    // Nothing reached at all: the vectors are zero.
    let flow = FlowResult {
        forward: FlowField::from_vectors(w, h, vec![[500.0, 0.0]; n]).unwrap(),
        backward: FlowField::from_vectors(w, h, vec![[0.0, -500.0]; n]).unwrap(),
        occlusion_forward: vec![0.0; n],
        occlusion_backward: vec![0.0; n],
    };
    let motion = motion_of(flow);
    let d = check(
        &ctx,
        (&a, &b, &motion),
        0.5,
        CutRule::Nearest,
        0.0,
        "no source",
    );
    assert_eq!(d.max_vector, 0.0);
}

#[test]
fn a_cut_follows_each_rule() {
    let Some(ctx) = ctx() else { return };
    let (a, b) = cut_pair();
    let flow = estimate_flow(&a, &b, &FlowParams::default()).unwrap();
    let motion = analyse_pair(&a, &b, flow).unwrap();
    assert!(motion.cut.is_cut(), "{:?}", motion.cut);
    for rule in [CutRule::Nearest, CutRule::Dissolve, CutRule::Warp] {
        for t in [0.0, 0.25, 0.5, 0.9, 1.0] {
            check(&ctx, (&a, &b, &motion), t, rule, MAX_OFF_FRACTION, "cut");
        }
    }
}

#[test]
fn splat_winners_match_the_cpu() {
    let Some(ctx) = ctx() else { return };
    // Exact targets: identical winners everywhere.
    for (i, &(w, h)) in [(37, 23), (64, 48), (1, 9)].iter().enumerate() {
        let flow = synthetic_flow(w, h, 50 + i as u64, 8.0);
        for t in [0.25, 0.5, 0.75] {
            let expected = cpu::splat(&flow, t);
            let actual = gpu::splat(&ctx, &flow, t).unwrap();
            assert_eq!(actual, expected, "{w}x{h} t={t}");
        }
    }
    // Real flow: winners may differ only where a target lies on a boundary.
    let (_, _, motion) = layers();
    for t in [0.25, 0.5, 0.9] {
        let expected = cpu::splat(&motion.flow, t);
        let actual = gpu::splat(&ctx, &motion.flow, t).unwrap();
        let n = expected.vectors.len();
        let off = (0..n)
            .filter(|&k| {
                actual.reached[k] != expected.reached[k]
                    || actual.from_b[k] != expected.from_b[k]
                    || actual.vectors[k] != expected.vectors[k]
            })
            .count();
        eprintln!("layers splat t={t}: {off} of {n} winners differ");
        assert!(
            off as f64 <= MAX_OFF_FRACTION * n as f64,
            "layers splat t={t}: {off} of {n} winners differ"
        );
    }
}

#[test]
fn bad_input_is_rejected_like_on_the_cpu() {
    let Some(ctx) = ctx() else { return };
    let (a, b, motion) = layers();
    for t in [-0.1, 1.5, f32::NAN] {
        let e = gpu::interpolate(&ctx, a, b, motion, t, CutRule::Nearest).unwrap_err();
        assert!(e.to_string().contains("time"), "{e}");
    }
    let small = pattern_image(8, 8, 1);
    let e = gpu::interpolate(&ctx, a, &small, motion, 0.5, CutRule::Nearest).unwrap_err();
    assert!(e.to_string().contains("Back input"), "{e}");
    let e = gpu::interpolate(&ctx, &small, &small, motion, 0.5, CutRule::Nearest).unwrap_err();
    assert!(e.to_string().contains("motion vectors"), "{e}");
    // A device flow buffer too small for the frame.
    let mut frame = ctx.frame("test").unwrap();
    let flow = GpuPairFlow::upload(&mut frame, &motion.flow).unwrap();
    let e = GpuPairFlow::from_buffers(
        a.width() + 1,
        a.height(),
        Arc::clone(flow.forward()),
        Arc::clone(flow.backward()),
    )
    .unwrap_err();
    assert!(e.to_string().contains("flow buffer size"), "{e}");
    frame.finish().unwrap();
}

#[test]
fn pyramid_levels_halve_down_to_one_pixel() {
    let p = Pyramid::new(5, 3);
    assert_eq!(p.levels, [(0, 5, 3), (15, 3, 2), (21, 2, 1), (23, 1, 1)]);
    assert_eq!(p.total, 24);
    assert_eq!(Pyramid::new(1, 1).levels, [(0, 1, 1)]);
    assert_eq!(Pyramid::new(1, 4).levels, [(0, 1, 4), (4, 1, 2), (6, 1, 1)]);
}

#[test]
fn device_resident_flow_feeds_the_warp() {
    // The path a GPU flow estimator takes: it writes (u, v, occlusion, 0)
    // per pixel into its own buffers and hands them over; nothing is read
    // back before the in-between.
    let Some(ctx) = ctx() else { return };
    let (a, b, motion) = layers();
    let (w, h) = (a.width(), a.height());
    let mut frame = ctx.frame("resident").unwrap();
    let side = |frame: &mut morph_gpu::Frame<'_>, v: &FlowField, o: &[f32]| {
        let data: Vec<f32> = v
            .vectors()
            .iter()
            .zip(o)
            .flat_map(|(v, &o)| [v[0], v[1], o, 0.0])
            .collect();
        let buffer = frame
            .buffer(
                data.len() as u64 * 4,
                morph_gpu::frame::IMAGE_USAGE,
                "estimator output",
            )
            .unwrap();
        ctx.queue()
            .write_buffer(buffer.buffer(), 0, bytemuck::cast_slice(&data));
        buffer
    };
    let forward = side(
        &mut frame,
        &motion.flow.forward,
        &motion.flow.occlusion_forward,
    );
    let backward = side(
        &mut frame,
        &motion.flow.backward,
        &motion.flow.occlusion_backward,
    );
    let flow = GpuPairFlow::from_buffers(w, h, forward, backward).unwrap();
    let ga = frame.upload(a).unwrap();
    let gb = frame.upload(b).unwrap();
    let warped = gpu::warp_on_device(&mut frame, &ga, &gb, &flow, 0.5).unwrap();
    let image = frame.read(&warped.image).unwrap();
    let host = gpu::interpolate(&ctx, a, b, motion, 0.5, CutRule::Nearest).unwrap();
    assert_eq!(image.pixels(), host.image.pixels());
}

/// `actual` and `expected` are the same in-between to the bit (image,
/// extra channels, layout, vectors, source).
fn assert_identical(actual: &Interpolated, expected: &Interpolated, what: &str) {
    assert_eq!(actual.source, expected.source, "{what}: source");
    assert_eq!(actual.image, expected.image, "{what}: image");
    assert_eq!(actual.vectors, expected.vectors, "{what}: vectors");
}

#[test]
fn a_resident_pair_gives_every_in_between_of_the_upload_path() {
    // One upload, many in-betweens: the same kernels on the same inputs as
    // `interpolate` (which uploads per call), so the results are identical
    // to the bit, and therefore within the CPU tolerance of `check`.
    let Some(ctx) = ctx() else { return };
    let (a, b, motion) = layers();
    let (a, b, motion) = (
        Arc::new(a.clone()),
        Arc::new(b.clone()),
        Arc::new(motion.clone()),
    );
    let pair = gpu::GpuPair::upload(&ctx, &a, &b, &motion).unwrap();
    assert!(pair.is_on(&ctx));
    for t in [0.0, 0.125, 0.25, 0.5, 0.6, 0.9, 1.0] {
        let resident = pair.interpolate(&ctx, t, CutRule::Nearest).unwrap();
        let uploaded = gpu::interpolate(&ctx, &a, &b, &motion, t, CutRule::Nearest).unwrap();
        assert_identical(&resident, &uploaded, &format!("layers t={t}"));
        let expected = cpu::interpolate(&a, &b, &motion, t, CutRule::Nearest).unwrap();
        let d = diff(&resident, &expected);
        assert!(
            d.off as f64 <= MAX_OFF_FRACTION * d.pixels as f64,
            "layers t={t} vs the CPU: {d:?}"
        );
        let (image, source) = pair.interpolate_image(&ctx, t, CutRule::Nearest).unwrap();
        assert_eq!(source, resident.source, "t={t}");
        assert_eq!(image, resident.image, "image only, t={t}");
    }
    // Bad times are the CPU's error.
    let e = pair.interpolate(&ctx, 1.5, CutRule::Nearest).unwrap_err();
    assert!(e.to_string().contains("time"), "{e}");
    let e = pair
        .interpolate_image(&ctx, -0.5, CutRule::Nearest)
        .unwrap_err();
    assert!(e.to_string().contains("time"), "{e}");
}

#[test]
fn a_resident_pair_carries_extra_channels_and_cut_rules() {
    let Some(ctx) = ctx() else { return };
    // Extra channels (one only in A, one only in B), exactly placed flow.
    let (w, h) = (37, 23);
    let mut a = pattern_image(w, h, 60);
    let mut b = pattern_image(w, h, 61);
    let mut rng = Rng::new(62);
    let mut plane = |hi: f32| -> Vec<f32> { (0..w * h).map(|_| rng.range(0.0, hi)).collect() };
    a.set_extra_channel("Z", SampleFormat::F32, plane(100.0));
    b.set_extra_channel("Z", SampleFormat::F32, plane(100.0));
    a.set_extra_channel("mask.A", SampleFormat::F16, plane(1.0));
    b.set_extra_channel("spare", SampleFormat::F32, plane(1.0));
    let (a, b) = (Arc::new(a), Arc::new(b));
    let motion = Arc::new(motion_of(synthetic_flow(w, h, 63, 5.0)));
    let pair = gpu::GpuPair::upload(&ctx, &a, &b, &motion).unwrap();
    for t in TIMES {
        let resident = pair.interpolate(&ctx, t, CutRule::Nearest).unwrap();
        let uploaded = gpu::interpolate(&ctx, &a, &b, &motion, t, CutRule::Nearest).unwrap();
        assert_identical(&resident, &uploaded, &format!("extra channels t={t}"));
        let d = check(
            &ctx,
            (&a, &b, &motion),
            t,
            CutRule::Nearest,
            0.0,
            "extra channels (resident)",
        );
        assert!(d.max <= 100.0 * CLOSE, "{d:?}");
    }
    // A scene cut under each rule.
    let (a, b) = cut_pair();
    let flow = estimate_flow(&a, &b, &FlowParams::default()).unwrap();
    let motion = Arc::new(analyse_pair(&a, &b, flow).unwrap());
    assert!(motion.cut.is_cut(), "{:?}", motion.cut);
    let (a, b) = (Arc::new(a), Arc::new(b));
    let pair = gpu::GpuPair::upload(&ctx, &a, &b, &motion).unwrap();
    for rule in [CutRule::Nearest, CutRule::Dissolve, CutRule::Warp] {
        for t in [0.0, 0.25, 0.5, 0.9, 1.0] {
            let resident = pair.interpolate(&ctx, t, rule).unwrap();
            let uploaded = gpu::interpolate(&ctx, &a, &b, &motion, t, rule).unwrap();
            assert_identical(&resident, &uploaded, &format!("cut {rule:?} t={t}"));
        }
    }
}

#[test]
fn a_resident_pair_is_shared_by_threads_and_bound_to_its_device() {
    let Some(ctx) = ctx() else { return };
    let (w, h) = (64, 40);
    let a = Arc::new(pattern_image(w, h, 70));
    let b = Arc::new(pattern_image(w, h, 71));
    let motion = Arc::new(motion_of(synthetic_flow(w, h, 72, 6.0)));
    let pair = gpu::GpuPair::upload(&ctx, &a, &b, &motion).unwrap();
    let times = [0.25f32, 0.5, 0.75];
    let expected: Vec<Interpolated> = times
        .iter()
        .map(|&t| gpu::interpolate(&ctx, &a, &b, &motion, t, CutRule::Nearest).unwrap())
        .collect();
    let (pair_ref, ctx_ref) = (&pair, &*ctx);
    std::thread::scope(|s| {
        let handles: Vec<_> = times
            .iter()
            .map(|&t| s.spawn(move || pair_ref.interpolate(ctx_ref, t, CutRule::Nearest).unwrap()))
            .collect();
        for ((h, e), t) in handles.into_iter().zip(&expected).zip(times) {
            assert_identical(&h.join().unwrap(), e, &format!("thread t={t}"));
        }
    });
    // Mismatched inputs are rejected before any upload.
    let small = Arc::new(pattern_image(8, 8, 73));
    let e = gpu::GpuPair::upload(&ctx, &a, &small, &motion).unwrap_err();
    assert!(e.to_string().contains("Back input"), "{e}");
    // Another device cannot use the pair's buffers: a device error (so the
    // Auto platform re-runs the frame on the CPU), not a wrong image.
    let Ok(other) = GpuContext::new(morph_gpu::Preference::AnyAdapter) else {
        return;
    };
    assert!(!pair.is_on(&other));
    let e = pair.interpolate(&other, 0.5, CutRule::Nearest).unwrap_err();
    assert!(
        e.is_device_failure() && e.to_string().contains("another device"),
        "{e}"
    );
    // Copies need no device at all.
    let copy = pair.interpolate(&other, 0.0, CutRule::Nearest).unwrap();
    assert_eq!(copy.image.pixels(), a.pixels());
}

#[test]
fn a_pair_analysed_on_the_device_matches_gpu_flow_then_analyse_pair() {
    // A and B go up once for the flow and stay for the warps; pass 0 runs
    // on the device and only the cut score on the CPU. The motion is what
    // GPU `flow` + the CPU's `analyse_pair` give, within pass 0's parity
    // bounds (bit-identical on lavapipe), and so are the in-betweens.
    let Some(ctx) = ctx() else { return };
    let a = Arc::new(FlowCase::Layers.frame_at(0.0));
    let b = Arc::new(FlowCase::Layers.frame_at(1.0));
    let params = FlowParams::default();
    let pair = gpu::GpuPair::analyse(&ctx, &a, &b, &params).unwrap();
    let flow = morph_gpu::ops::flow::flow(&ctx, &a, &b, &params).unwrap();
    let motion = analyse_pair(&a, &b, flow).unwrap();
    let got = &pair.motion().flow;
    let n = got.occlusion_forward.len();
    let off = (0..n)
        .filter(|&k| {
            let close = |x: [f32; 2], y: [f32; 2]| {
                (x[0] - y[0]).abs() <= CLOSE_VECTOR && (x[1] - y[1]).abs() <= CLOSE_VECTOR
            };
            !(close(got.forward.vectors()[k], motion.flow.forward.vectors()[k])
                && close(got.backward.vectors()[k], motion.flow.backward.vectors()[k])
                && (got.occlusion_forward[k] - motion.flow.occlusion_forward[k]).abs() <= CLOSE
                && (got.occlusion_backward[k] - motion.flow.occlusion_backward[k]).abs() <= CLOSE)
        })
        .count();
    eprintln!("pass 0 on the device: {off} of {n} pixels off");
    assert!(
        off as f64 <= MAX_OFF_FRACTION * n as f64,
        "{off} of {n} pixels off"
    );
    let (c, e) = (pair.motion().cut, motion.cut);
    assert!(
        (c.correlation - e.correlation).abs() < 1e-3 && (c.occluded - e.occluded).abs() < 1e-3,
        "cut score {c:?} vs {e:?}"
    );
    assert_eq!(c.is_cut(), e.is_cut());
    for t in [0.0, 0.25, 0.5, 0.9] {
        let resident = pair.interpolate(&ctx, t, CutRule::Nearest).unwrap();
        let uploaded = gpu::interpolate(&ctx, &a, &b, &motion, t, CutRule::Nearest).unwrap();
        assert_eq!(resident.source, uploaded.source, "analysed t={t}");
        let d = diff(&resident, &uploaded);
        assert!(
            d.off as f64 <= 2.0 * MAX_OFF_FRACTION * d.pixels as f64,
            "analysed t={t}: {} of {} pixels off (max {:e})",
            d.off,
            d.pixels,
            d.max
        );
    }
    // The CPU's errors for bad parameters and sizes.
    let bad = FlowParams {
        patch_stride: 0,
        ..params
    };
    let e = gpu::GpuPair::analyse(&ctx, &a, &b, &bad).unwrap_err();
    assert!(e.to_string().contains("flow.patch_stride"), "{e}");
    let small = Arc::new(pattern_image(8, 8, 80));
    let e = gpu::GpuPair::analyse(&ctx, &a, &small, &params).unwrap_err();
    assert!(e.to_string().contains("Back input"), "{e}");
}

// ------------------------------------------------------------- pass 0 on the GPU

/// Compares the GPU's pass 0 with the CPU's on one side: vectors and
/// occlusion. Returns the pixels whose vector differs (beyond
/// `CLOSE_VECTOR`) or whose occlusion differs beyond `CLOSE`.
fn fill_occluded_off(
    ctx: &GpuContext,
    field: &FlowField,
    occlusion: &[f32],
    luma: &[f32],
    other: &[f32],
    what: &str,
) -> usize {
    let (ev, eo) = cpu::fill_occluded(field, occlusion, luma, other);
    let (av, ao) = gpu::fill_occluded(ctx, field, occlusion, luma, other).unwrap();
    let mut max_v = 0.0f32;
    let mut max_o = 0.0f32;
    let off = (0..eo.len())
        .filter(|&k| {
            let (a, e) = (av.vectors()[k], ev.vectors()[k]);
            let dv = (a[0] - e[0]).abs().max((a[1] - e[1]).abs());
            let d_o = (ao[k] - eo[k]).abs();
            max_v = max_v.max(dv);
            max_o = max_o.max(d_o);
            !(dv <= CLOSE_VECTOR && d_o <= CLOSE)
        })
        .count();
    let changed = (0..eo.len())
        .filter(|&k| ev.vectors()[k] != field.vectors()[k])
        .count();
    eprintln!(
        "{what}: {changed} vectors replaced on the CPU; GPU: {off} of {} pixels off, \
         vectors max {max_v:.3e}, occlusion max {max_o:.3e}",
        eo.len()
    );
    off
}

#[test]
fn pass_0_on_the_device_matches_the_cpu_on_exact_cases() {
    // The CPU module's own cases: an occluded band takes the background's
    // vector, seen from either frame; a pixel leaving the frame keeps its.
    let Some(ctx) = ctx() else { return };
    let (w, h) = (24u32, 3u32);
    let n = (w * h) as usize;
    for revealed in [false, true] {
        let mut v = vec![if revealed { [2.0, 0.0] } else { [-2.0, 0.0] }; n];
        let mut occ = vec![0.0; n];
        let mut luma = vec![0.2; n];
        for k in 0..n {
            let x = k % w as usize;
            let (occluder, band) = if revealed {
                (x >= 14, (8..14).contains(&x))
            } else {
                (x < 8, (8..14).contains(&x))
            };
            let moving = if revealed { [-6.0, 0.0] } else { [6.0, 0.0] };
            if occluder || band {
                v[k] = moving;
            }
            if band {
                occ[k] = 1.0;
            }
            if occluder {
                luma[k] = 0.8;
            }
        }
        let field = FlowField::from_vectors(w, h, v).unwrap();
        let (expected, eo) = cpu::fill_occluded(&field, &occ, &luma, &luma);
        let (actual, ao) = gpu::fill_occluded(&ctx, &field, &occ, &luma, &luma).unwrap();
        assert_eq!(actual, expected, "revealed={revealed}");
        assert_eq!(ao, eo, "revealed={revealed}");
        let background = if revealed { [2.0, 0.0] } else { [-2.0, 0.0] };
        assert_eq!(actual.at(10, 1), background);
    }
    let field = FlowField::from_vectors(4, 1, vec![[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
        .unwrap();
    let (fixed, _) =
        gpu::fill_occluded(&ctx, &field, &[0.0, 0.0, 0.0, 1.0], &[0.0; 4], &[0.0; 4]).unwrap();
    assert_eq!(fixed.at(3, 0), [3.0, 0.0]);
    // A tie (flat luma: every candidate costs 0) goes to the first
    // direction, E: the right neighbour's vector.
    let mut v = vec![[-2.0, 0.0]; 9];
    v[4] = [0.0, 0.0];
    v[5..].iter_mut().for_each(|p| *p = [2.0, 0.0]);
    let mut occ = vec![0.0; 9];
    occ[4] = 1.0;
    let field = FlowField::from_vectors(9, 1, v).unwrap();
    let (expected, _) = cpu::fill_occluded(&field, &occ, &[0.5; 9], &[0.5; 9]);
    let (actual, _) = gpu::fill_occluded(&ctx, &field, &occ, &[0.5; 9], &[0.5; 9]).unwrap();
    assert_eq!(expected.at(4, 0), [2.0, 0.0]);
    assert_eq!(actual, expected);
    // Sizes that do not match are refused.
    let e = gpu::fill_occluded(&ctx, &field, &[0.0; 3], &[0.0; 9], &[0.0; 9]).unwrap_err();
    assert!(e.to_string().contains("occlusion"), "{e}");
}

#[test]
fn pass_0_on_the_device_matches_the_cpu_on_estimated_flow() {
    // Estimated flow of the fixture scenes with real occlusion (and a
    // synthetic field whose radius reaches the cap of 64): both sides.
    let Some(ctx) = ctx() else { return };
    for case in [FlowCase::Layers, FlowCase::Large, FlowCase::LinearFloat] {
        let a = case.frame_at(0.0);
        let b = case.frame_at(1.0);
        let flow = estimate_flow(&a, &b, &FlowParams::default()).unwrap();
        let la = morph_core::ops::flow::range_compressed_luma(&a);
        let lb = morph_core::ops::flow::range_compressed_luma(&b);
        let n = la.len();
        for (what, field, occ, l, o) in [
            ("forward", &flow.forward, &flow.occlusion_forward, &la, &lb),
            (
                "backward",
                &flow.backward,
                &flow.occlusion_backward,
                &lb,
                &la,
            ),
        ] {
            let off = fill_occluded_off(&ctx, field, occ, l, o, &format!("{case:?} {what}"));
            assert!(
                off as f64 <= MAX_OFF_FRACTION * n as f64,
                "{case:?} {what}: {off} of {n} pixels differ"
            );
        }
    }
    let (w, h) = (80, 48);
    let mut flow = synthetic_flow(w, h, 90, 70.0);
    // Mostly occluded, so most pixels search.
    flow.occlusion_forward
        .iter_mut()
        .step_by(2)
        .for_each(|o| *o = 1.0);
    let a = pattern_image(w, h, 91);
    let b = pattern_image(w, h, 92);
    let la = morph_core::ops::flow::range_compressed_luma(&a);
    let lb = morph_core::ops::flow::range_compressed_luma(&b);
    let off = fill_occluded_off(
        &ctx,
        &flow.forward,
        &flow.occlusion_forward,
        &la,
        &lb,
        "synthetic, radius 64",
    );
    assert!(
        off as f64 <= MAX_OFF_FRACTION * (w * h) as f64,
        "{off} pixels differ"
    );
}

#[test]
fn pass_0_of_a_pair_on_the_device_feeds_the_warp_like_analyse_pair() {
    // Raw flow up, pass 0 on both sides on the device, the warp on the
    // result: what `analyse_pair` + `interpolate` give on the CPU.
    let Some(ctx) = ctx() else { return };
    let a = FlowCase::Layers.frame_at(0.0);
    let b = FlowCase::Layers.frame_at(1.0);
    let flow = estimate_flow(&a, &b, &FlowParams::default()).unwrap();
    let motion = analyse_pair(&a, &b, flow.clone()).unwrap();
    let n = (a.width() * a.height()) as usize;
    let mut frame = ctx.frame("pass 0 pair").unwrap();
    let ga = frame.upload(&a).unwrap();
    let gb = frame.upload(&b).unwrap();
    let raw = GpuPairFlow::upload(&mut frame, &flow).unwrap();
    let filled = gpu::fill_occluded_pair_on_device(&mut frame, &ga, &gb, &raw).unwrap();
    let warped = gpu::warp_on_device(&mut frame, &ga, &gb, &filled, 0.5).unwrap();
    let data = frame
        .read_buffers(&[filled.forward(), filled.backward(), warped.image.rgba()])
        .unwrap();
    for (side, (v, o), got) in [
        (
            "forward",
            (&motion.flow.forward, &motion.flow.occlusion_forward),
            &data[0],
        ),
        (
            "backward",
            (&motion.flow.backward, &motion.flow.occlusion_backward),
            &data[1],
        ),
    ] {
        let off = (0..n)
            .filter(|&k| {
                let p = &got[4 * k..4 * k + 4];
                let e = v.vectors()[k];
                (p[0] - e[0]).abs().max((p[1] - e[1]).abs()) > CLOSE_VECTOR
                    || (p[2] - o[k]).abs() > CLOSE
            })
            .count();
        eprintln!("pair pass 0 {side}: {off} of {n} pixels off");
        assert!(off as f64 <= MAX_OFF_FRACTION * n as f64, "{side}: {off}");
    }
    let expected = cpu::interpolate(&a, &b, &motion, 0.5, CutRule::Warp).unwrap();
    let pixels: &[[f32; 4]] = bytemuck::cast_slice(&data[2][..4 * n]);
    let off = pixels
        .iter()
        .zip(expected.image.pixels())
        .filter(|(p, e)| (0..4).any(|c| (p[c] - e[c]).abs() > CLOSE))
        .count();
    eprintln!("pair pass 0 warp: {off} of {n} pixels off");
    assert!(off as f64 <= MAX_OFF_FRACTION * n as f64, "warp: {off}");
    // Mismatched sizes are refused.
    let mut frame = ctx.frame("pass 0 sizes").unwrap();
    let small = frame.upload(&pattern_image(8, 8, 1)).unwrap();
    let e = gpu::fill_occluded_pair_on_device(&mut frame, &ga, &small, &raw).unwrap_err();
    assert!(e.to_string().contains("Back input"), "{e}");
    frame.finish().unwrap();
}
