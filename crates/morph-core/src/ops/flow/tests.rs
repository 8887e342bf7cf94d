//! Accuracy and robustness tests of the CPU estimator: the cases of
//! [`fixtures`] (photo pairs with exact motion) against their thresholds,
//! occlusion, forward–backward consistency, every analysis quality, edge
//! sizes and parameter errors.

use super::fixtures::{FlowCase, FlowPair, epe};
use super::*;

/// Runs both directions with the default settings and checks the case's
/// thresholds.
fn check_case(case: FlowCase) -> (FlowPair, FlowResult) {
    let pair = case.pair();
    let result = estimate_flow(&pair.a, &pair.b, &FlowParams::default()).unwrap();
    match fixtures::check(case, &pair, &result) {
        Ok([f, fv, b, bv]) => eprintln!(
            "{}: EPE forward {f:.3} (visible {fv:.3}), backward {b:.3} (visible {bv:.3})",
            case.name()
        ),
        Err(e) => panic!("{e}"),
    }
    (pair, result)
}

#[test]
fn translation() {
    check_case(FlowCase::Translation);
}

#[test]
fn subpixel_shift() {
    check_case(FlowCase::SubPixel);
}

#[test]
fn large_translation() {
    check_case(FlowCase::Large);
}

#[test]
fn rotation() {
    check_case(FlowCase::Rotation);
}

#[test]
fn zoom() {
    check_case(FlowCase::Zoom);
}

#[test]
fn brightness_change() {
    check_case(FlowCase::Brightness);
}

#[test]
fn linear_float_input_far_above_one() {
    check_case(FlowCase::LinearFloat);
}

/// The disk's own vectors, both ways: what matters for interpolating it
/// (about 15 px off without pass 7b, which keeps the search's vectors).
#[test]
fn a_small_fast_object_keeps_its_motion() {
    let (pair, result) = check_case(FlowCase::SmallFast);
    let forward = epe(&result.forward, &pair.forward, |k| {
        pair.forward[k] == [-12.0, 7.0]
    });
    let backward = epe(&result.backward, &pair.backward, |k| {
        pair.backward[k] == [12.0, -7.0]
    });
    eprintln!("small fast object: the disk's EPE forward {forward:.3}, backward {backward:.3}");
    assert!(forward < 2.0 && backward < 2.0, "{forward} {backward}");
}

/// Mean occlusion that truly occluded pixels must at least reach.
const OCCLUSION_HIT: f32 = 0.5;
/// Mean occlusion that visible pixels must stay under.
const OCCLUSION_FALSE: f32 = 0.05;

/// Mean of `values` over the pixels where `select` is true.
fn mean_where(values: &[f32], select: impl Fn(usize) -> bool) -> f32 {
    let (mut sum, mut n) = (0.0f32, 0usize);
    for (k, v) in values.iter().enumerate() {
        if select(k) {
            sum += v;
            n += 1;
        }
    }
    sum / n.max(1) as f32
}

#[test]
fn two_layers_with_occlusion() {
    let (pair, result) = check_case(FlowCase::Layers);
    // The occlusion maps find the background the sprite covers (in A) and
    // uncovers (in B), and leave the rest alone.
    for (occ, truth, what) in [
        (&result.occlusion_forward, &pair.occluded_forward, "forward"),
        (
            &result.occlusion_backward,
            &pair.occluded_backward,
            "backward",
        ),
    ] {
        let hit = mean_where(occ, |k| truth[k]);
        let false_alarm = mean_where(occ, |k| !truth[k]);
        eprintln!(
            "layers {what}: occlusion {hit:.3} where occluded, {false_alarm:.3} where visible"
        );
        assert!(hit > OCCLUSION_HIT, "{what}: occluded pixels score {hit}");
        assert!(
            false_alarm < OCCLUSION_FALSE,
            "{what}: visible pixels score {false_alarm}"
        );
    }
}

/// Mean `|F(x) + B(x + F(x))|` on a rotation, in pixels.
const CONSISTENCY_MEAN: f32 = 0.15;

#[test]
fn forward_and_backward_are_consistent() {
    let (pair, r) = check_case(FlowCase::Rotation);
    let (w, h) = (fixtures::WIDTH, fixtures::HEIGHT);
    let (mut sum, mut n) = (0.0f32, 0);
    for y in 0..h {
        for x in 0..w {
            let f = r.forward.at(x as u32, y as u32);
            let (px, py) = (x as f32 + f[0], y as f32 + f[1]);
            if px < 0.0 || py < 0.0 || px > (w - 1) as f32 || py > (h - 1) as f32 {
                continue;
            }
            let b = plane::sample_vec2(r.backward.vectors(), w, h, px, py);
            sum += ((f[0] + b[0]).powi(2) + (f[1] + b[1]).powi(2)).sqrt();
            n += 1;
        }
    }
    let mean = sum / n as f32;
    eprintln!("consistency: mean |F + B∘F| = {mean:.3} px");
    assert!(mean < CONSISTENCY_MEAN, "mean round trip {mean}");
    let false_alarm = mean_where(&r.occlusion_forward, |k| !pair.occluded_forward[k]);
    assert!(
        false_alarm < OCCLUSION_FALSE,
        "rotation flagged {false_alarm} occluded"
    );
}

#[test]
fn every_quality_gives_sensible_flow() {
    // 256×192 so that 1/16 still has 16×12 analysis pixels; the EPE bound
    // grows with the analysis pixel size (the figures reached are about
    // 0.07, 0.11, 0.25, 0.30, 0.93).
    let pair = fixtures::translation_pair(256, 192, 3.3, -1.7);
    for (q, bound) in [
        (AnalysisQuality::Full, 0.15),
        (AnalysisQuality::Half, 0.2),
        (AnalysisQuality::Quarter, 0.4),
        (AnalysisQuality::Eighth, 0.6),
        (AnalysisQuality::Sixteenth, 1.5),
    ] {
        let flow = estimate_flow_one_way(&pair.a, &pair.b, &FlowParams::with_quality(q)).unwrap();
        assert_eq!((flow.width(), flow.height()), (256, 192));
        let e = epe(&flow, &pair.forward, |_| true);
        eprintln!("quality 1/{}: EPE {e:.3}", q.divisor());
        assert!(e < bound, "quality 1/{}: EPE {e} >= {bound}", q.divisor());
    }
}

#[test]
fn edge_sizes_do_not_panic() {
    for &(w, h) in crate::test_support::EDGE_SIZES {
        if w * h > 200_000 {
            continue; // the 1001×563 frame is covered by the benches
        }
        let a = crate::test_support::pattern_image(w, h, 1);
        let b = crate::test_support::pattern_image(w, h, 2);
        for q in [AnalysisQuality::Full, AnalysisQuality::Sixteenth] {
            let r = estimate_flow(&a, &b, &FlowParams::with_quality(q)).unwrap();
            assert_eq!(r.forward.size(), a.size());
            assert_eq!(r.backward.size(), a.size());
            assert_eq!(r.occlusion_forward.len(), (w * h) as usize);
            assert_eq!(r.occlusion_backward.len(), (w * h) as usize);
            assert!(
                r.forward
                    .vectors()
                    .iter()
                    .chain(r.backward.vectors())
                    .all(|v| v[0].is_finite() && v[1].is_finite()),
                "{w}x{h}: non-finite vector"
            );
            assert!(r.occlusion_forward.iter().all(|o| (0.0..=1.0).contains(o)));
        }
    }
    // Identical frames: zero flow, nothing occluded except what leaves the
    // frame (nothing does); 1×1 included.
    for (w, h) in [(1, 1), (7, 5), (1, 40), (40, 1)] {
        let a = crate::test_support::pattern_image(w, h, 3);
        let r = estimate_flow(&a, &a, &FlowParams::default()).unwrap();
        assert!(
            r.forward
                .vectors()
                .iter()
                .all(|v| v[0].abs() < 1e-3 && v[1].abs() < 1e-3),
            "{w}x{h}: identical frames moved"
        );
        assert!(r.occlusion_forward.iter().all(|o| *o == 0.0), "{w}x{h}");
    }
}

#[test]
fn bad_parameters_and_sizes_are_named() {
    let a = Image::new(4, 4);
    let p = FlowParams {
        patch_size: 7,
        ..Default::default()
    };
    let err = estimate_flow(&a, &a, &p).unwrap_err().to_string();
    assert!(err.contains("flow.patch_size"), "{err}");
    let p = FlowParams {
        patch_stride: 9,
        ..Default::default()
    };
    let err = estimate_flow_one_way(&a, &a, &p).unwrap_err().to_string();
    assert!(err.contains("flow.patch_stride"), "{err}");
    let p = FlowParams {
        smoothness: f32::NAN,
        ..Default::default()
    };
    assert!(p.validate().is_err());
    let err = estimate_flow(&a, &Image::new(4, 5), &FlowParams::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("size mismatch"), "{err}");
}

#[test]
fn trace_matches_the_estimate_and_the_pyramid() {
    let pair = FlowCase::Translation.pair();
    let params = FlowParams::default();
    let trace = trace_flow_one_way(&pair.a, &pair.b, &params).unwrap();
    let flow = estimate_flow_one_way(&pair.a, &pair.b, &params).unwrap();
    assert_eq!(trace.forward, flow);
    assert_eq!(trace.luma.len(), fixtures::WIDTH * fixtures::HEIGHT);
    // 160×128 at 1/2: 80×64, 40×32, 20×16, 10×8, coarsest first.
    let sizes: Vec<(u32, u32)> = trace
        .levels
        .iter()
        .map(|l| (l.refined.width(), l.refined.height()))
        .collect();
    assert_eq!(sizes, vec![(10, 8), (20, 16), (40, 32), (80, 64)]);
    assert_eq!(trace.analysis.len(), 80 * 64);
    let finest = trace.levels.last().unwrap();
    assert_eq!(finest.level, 0);
    assert_eq!(finest.normalized.len(), 80 * 64);
    // 80 wide, 8-pixel patches every 4: 19 × 15 patches.
    assert_eq!(finest.patches.len(), 19 * 15);
    assert!(
        trace.levels[0]
            .initial
            .vectors()
            .iter()
            .all(|v| *v == [0.0, 0.0])
    );
}
