//! The optical-flow estimator on the GPU against its CPU reference
//! (`morph_core::ops::flow`): pass by pass on a small pair, the final
//! vectors, the accuracy cases of `morph_core::ops::flow::fixtures` with the
//! CPU's thresholds, occlusion, edge sizes and parameter errors. Skipped
//! without an adapter unless `MORPH_REQUIRE_GPU=1`.

use std::sync::Arc;

use morph_core::ops::flow::fixtures::{self, FlowCase};
use morph_core::ops::flow::{
    FlowParams, estimate_flow, estimate_flow_one_way, trace_flow_one_way as cpu_trace,
};
use morph_core::params::AnalysisQuality;
use morph_core::test_support::{no_gpu, pattern_image};
use morph_core::{FlowField, Image};
use morph_gpu::GpuContext;
use morph_gpu::ops::flow::{self, FlowDirections, flow_on_device};

fn ctx() -> Option<Arc<GpuContext>> {
    match GpuContext::shared_for_tests() {
        Ok(ctx) => Some(ctx),
        Err(e) => no_gpu(e),
    }
}

/// Largest absolute difference between two planes.
fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Mean and 99th percentile of the end-point difference between two vector
/// sets.
fn epd(a: &[[f32; 2]], b: &[[f32; 2]]) -> (f32, f32) {
    assert_eq!(a.len(), b.len());
    let mut d: Vec<f32> = a
        .iter()
        .zip(b)
        .map(|(x, y)| ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2)).sqrt())
        .collect();
    assert!(d.iter().all(|v| v.is_finite()), "non-finite vector");
    let mean = d.iter().sum::<f32>() / d.len().max(1) as f32;
    d.sort_by(f32::total_cmp);
    let p99 = d[((d.len() as f32 * 0.99) as usize).min(d.len() - 1)];
    (mean, p99)
}

fn field_epd(a: &FlowField, b: &FlowField) -> (f32, f32) {
    assert_eq!(a.size(), b.size());
    epd(a.vectors(), b.vectors())
}

/// Planes computed without iteration from the input (luma, analysis
/// plane, normalised level, gradients, edge weights): only fused
/// multiply-adds and the driver's `sqrt`/division may differ, amplified by
/// at most `1/ε = 100` in the normalisation. Lavapipe: 0 (bit-identical).
const PLANE_TOLERANCE: f32 = 1e-4;
/// Flow passes of one level (initial, patch vectors, densified, refined):
/// the differences of the planes above and of the coarser levels carried
/// through Gauss–Newton and SOR. Mean and 99th percentile of the end-point
/// difference, px. Lavapipe: mean ≤ 6e-7, p99 ≤ 2e-6 px.
const PASS_MEAN: f32 = 1e-3;
const PASS_P99: f32 = 1e-2;
/// The final vectors at the input's size (the tolerance). Lavapipe:
/// mean ≤ 1e-6 px.
const FINAL_MEAN: f32 = 0.01;
const FINAL_P99: f32 = 0.1;
/// Mean absolute difference of the occlusion maps (0..=1).
const OCCLUSION_MEAN: f32 = 0.01;

#[test]
fn every_pass_matches_the_cpu_trace() {
    // 96×64 at 1/2: levels 48×32, 24×16, 12×8, each refined by one
    // workgroup (`refine_level`, at most SMALL_LEVEL_PIXELS).
    trace_case(AnalysisQuality::Half, 3);
    // At full quality level 0 (96×64) is refined by one dispatch per pass,
    // and there is no downscale or edge-aware upsampling.
    trace_case(AnalysisQuality::Full, 4);
}

fn trace_case(quality: AnalysisQuality, levels: usize) {
    let Some(ctx) = ctx() else { return };
    const { assert!(96 * 64 > flow::SMALL_LEVEL_PIXELS && 48 * 32 <= flow::SMALL_LEVEL_PIXELS) };
    let pair = fixtures::translation_pair(96, 64, 2.3, -1.4);
    let params = FlowParams::with_quality(quality);
    let label = format!("1/{}", quality.divisor());
    let failures = trace_compare(&ctx, &pair.a, &pair.b, &params, &label, Some(levels));
    assert!(failures.is_empty(), "{label}: {failures:#?}");
}

/// Compares every pass of the GPU's one-way trace with the CPU's, printing
/// each difference; returns the ones over their tolerance (all of them, so
/// a failure on one driver shows where the two first part).
fn trace_compare(
    ctx: &GpuContext,
    a: &Image,
    b: &Image,
    params: &FlowParams,
    label: &str,
    levels: Option<usize>,
) -> Vec<String> {
    let gpu = flow::trace_flow_one_way(ctx, a, b, params).unwrap();
    let cpu = cpu_trace(a, b, params).unwrap();
    let mut failures = Vec::new();
    let mut plane = |what: String, d: f32| {
        eprintln!("{label}: {what}: max |gpu - cpu| {d:e}");
        if d > PLANE_TOLERANCE {
            failures.push(format!("{what}: {d}"));
        }
    };
    plane("luma".into(), max_abs(&gpu.luma, &cpu.luma));
    plane("analysis".into(), max_abs(&gpu.analysis, &cpu.analysis));
    if let Some(n) = levels {
        assert_eq!(gpu.levels.len(), n);
    }
    assert_eq!(gpu.levels.len(), cpu.levels.len());
    for (g, c) in gpu.levels.iter().zip(&cpu.levels) {
        assert_eq!(g.level, c.level);
        let l = g.level;
        for (what, x, y) in [
            ("normalised", &g.normalized, &c.normalized),
            ("gx", &g.gx, &c.gx),
            ("gy", &g.gy, &c.gy),
            ("edge", &g.edge, &c.edge),
        ] {
            plane(format!("level {l} {what}"), max_abs(x, y));
        }
    }
    if let (Some(g), Some(c)) = (gpu.normalized.as_deref(), cpu.normalized.as_deref()) {
        plane("normalised luma".into(), max_abs(g, c));
    }
    for (g, c) in gpu.levels.iter().zip(&cpu.levels) {
        let l = g.level;
        assert_eq!(g.patches.len(), c.patches.len(), "level {l} patch grid");
        for (what, (mean, p99)) in [
            ("initial", field_epd(&g.initial, &c.initial)),
            ("patches", epd(&g.patches, &c.patches)),
            ("densified", field_epd(&g.densified, &c.densified)),
            ("refined", field_epd(&g.refined, &c.refined)),
        ] {
            eprintln!("{label} level {l} {what}: end-point difference mean {mean:e}, p99 {p99:e}");
            if mean >= PASS_MEAN || p99 >= PASS_P99 {
                failures.push(format!("level {l} {what}: mean {mean}, p99 {p99}"));
            }
        }
    }
    for (what, g, c) in [
        ("upsampled", &gpu.upsampled, &cpu.upsampled),
        ("result", &gpu.forward, &cpu.forward),
    ] {
        let (mean, p99) = field_epd(g, c);
        eprintln!("{label} {what}: mean {mean:e}, p99 {p99:e}");
        if mean >= FINAL_MEAN || p99 >= FINAL_P99 {
            failures.push(format!("{what}: mean {mean}, p99 {p99}"));
        }
    }
    if params.polish_iterations > 0 && levels.is_some() {
        // The polish moved the vectors (on both), so the check above covers it.
        let (moved, _) = field_epd(&cpu.forward, &cpu.upsampled);
        let (mean, _) = field_epd(&gpu.forward, &cpu.forward);
        assert!(
            moved > 10.0 * FINAL_MEAN.min(mean.max(1e-4)),
            "polish moved {moved}"
        );
    }
    failures
}

/// Pass 8b with 0, 1 and 3 iterations (the buffers ping-pong) matches the
/// CPU, and the iterations change the result.
#[test]
fn polish_iterations_match_the_cpu() {
    let Some(ctx) = ctx() else { return };
    let pair = fixtures::translation_pair(80, 56, 1.7, 0.6);
    let mut results = Vec::new();
    for iterations in [0, 1, 3] {
        let params = FlowParams {
            polish_iterations: iterations,
            ..FlowParams::with_quality(AnalysisQuality::Quarter)
        };
        let gpu = flow::trace_flow_one_way(&ctx, &pair.a, &pair.b, &params).unwrap();
        let cpu = cpu_trace(&pair.a, &pair.b, &params).unwrap();
        assert_eq!(gpu.normalized.is_some(), iterations > 0);
        let (mean, p99) = field_epd(&gpu.forward, &cpu.forward);
        eprintln!("{iterations} polish steps: mean {mean:e}, p99 {p99:e}");
        assert!(
            mean < FINAL_MEAN && p99 < FINAL_P99,
            "{iterations}: {mean} {p99}"
        );
        results.push(cpu.forward);
    }
    assert!(field_epd(&results[0], &results[1]).0 > 0.01);
    assert!(field_epd(&results[1], &results[2]).0 > 0.01);
}

/// Both directions of a fixture case on the GPU: the CPU's thresholds are
/// met, and vectors and occlusion agree with the CPU's.
fn check_case(case: FlowCase) {
    let Some(ctx) = ctx() else { return };
    let pair = case.pair();
    let params = FlowParams::default();
    let gpu = flow::flow(&ctx, &pair.a, &pair.b, &params).unwrap();
    let e = fixtures::check(case, &pair, &gpu).unwrap_or_else(|e| panic!("gpu: {e}"));
    eprintln!("{}: GPU EPE {e:?}", case.name());
    let cpu = estimate_flow(&pair.a, &pair.b, &params).unwrap();
    for (what, g, c) in [
        ("forward", &gpu.forward, &cpu.forward),
        ("backward", &gpu.backward, &cpu.backward),
    ] {
        let (mean, p99) = field_epd(g, c);
        eprintln!("{}: {what} vs CPU mean {mean:e}, p99 {p99:e}", case.name());
        assert!(
            mean < FINAL_MEAN && p99 < FINAL_P99,
            "{} {what}: mean {mean}, p99 {p99}",
            case.name()
        );
    }
    for (what, g, c) in [
        (
            "occlusion forward",
            &gpu.occlusion_forward,
            &cpu.occlusion_forward,
        ),
        (
            "occlusion backward",
            &gpu.occlusion_backward,
            &cpu.occlusion_backward,
        ),
    ] {
        let d = g.iter().zip(c).map(|(a, b)| (a - b).abs()).sum::<f32>() / g.len() as f32;
        assert!(
            d < OCCLUSION_MEAN,
            "{} {what}: mean difference {d}",
            case.name()
        );
    }
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

/// Pass 7b (the select kernel) keeps the disk on the GPU as on the CPU.
#[test]
fn small_fast_object() {
    check_case(FlowCase::SmallFast);
}

/// Mean occlusion that truly occluded pixels must at least reach, and that
/// visible pixels must stay under (the CPU test's figures).
const OCCLUSION_HIT: f32 = 0.5;
const OCCLUSION_FALSE: f32 = 0.05;

#[test]
fn two_layers_with_occlusion() {
    check_case(FlowCase::Layers);
    let Some(ctx) = ctx() else { return };
    let pair = FlowCase::Layers.pair();
    let r = flow::flow(&ctx, &pair.a, &pair.b, &FlowParams::default()).unwrap();
    let mean_where = |v: &[f32], sel: &dyn Fn(usize) -> bool| {
        let (s, n) = v
            .iter()
            .enumerate()
            .filter(|(k, _)| sel(*k))
            .fold((0.0f32, 0usize), |(s, n), (_, x)| (s + x, n + 1));
        s / n.max(1) as f32
    };
    for (occ, truth, what) in [
        (&r.occlusion_forward, &pair.occluded_forward, "forward"),
        (&r.occlusion_backward, &pair.occluded_backward, "backward"),
    ] {
        let hit = mean_where(occ, &|k| truth[k]);
        let false_alarm = mean_where(occ, &|k| !truth[k]);
        eprintln!(
            "layers {what}: occlusion {hit:.3} where occluded, {false_alarm:.3} where visible"
        );
        assert!(hit > OCCLUSION_HIT, "{what}: {hit}");
        assert!(false_alarm < OCCLUSION_FALSE, "{what}: {false_alarm}");
    }
}

#[test]
fn every_quality_matches_the_cpu() {
    let Some(ctx) = ctx() else { return };
    let pair = fixtures::translation_pair(256, 192, 3.3, -1.7);
    for q in [
        AnalysisQuality::Full,
        AnalysisQuality::Half,
        AnalysisQuality::Quarter,
        AnalysisQuality::Eighth,
        AnalysisQuality::Sixteenth,
    ] {
        let params = FlowParams::with_quality(q);
        let gpu = flow::flow_one_way(&ctx, &pair.a, &pair.b, &params).unwrap();
        let cpu = estimate_flow_one_way(&pair.a, &pair.b, &params).unwrap();
        let (mean, p99) = field_epd(&gpu, &cpu);
        eprintln!(
            "quality 1/{}: vs CPU mean {mean:e}, p99 {p99:e}",
            q.divisor()
        );
        assert!(
            mean < FINAL_MEAN && p99 < FINAL_P99,
            "1/{}: {mean} {p99}",
            q.divisor()
        );
    }
}

#[test]
fn edge_sizes_match_the_cpu() {
    let Some(ctx) = ctx() else { return };
    let mut failures = Vec::new();
    for &(w, h) in morph_core::test_support::EDGE_SIZES {
        if w * h > 20_000 {
            continue; // kept small for software adapters
        }
        let a = pattern_image(w, h, 1);
        let b = pattern_image(w, h, 2);
        for q in [AnalysisQuality::Full, AnalysisQuality::Sixteenth] {
            let params = FlowParams::with_quality(q);
            let gpu = flow::flow(&ctx, &a, &b, &params).unwrap();
            let cpu = estimate_flow(&a, &b, &params).unwrap();
            assert_eq!(gpu.forward.size(), a.size());
            assert_eq!(gpu.occlusion_backward.len(), (w * h) as usize);
            for (g, c) in [(&gpu.forward, &cpu.forward), (&gpu.backward, &cpu.backward)] {
                let (mean, p99) = field_epd(g, c);
                eprintln!("{w}x{h} 1/{}: mean {mean:e}, p99 {p99:e}", q.divisor());
                if mean >= FINAL_MEAN || p99 >= FINAL_P99 {
                    failures.push(format!("{w}x{h} 1/{}: mean {mean}, p99 {p99}", q.divisor()));
                    // Where the two part, for the report.
                    let label = format!("{w}x{h} 1/{}", q.divisor());
                    trace_compare(&ctx, &a, &b, &params, &format!("{label} a->b"), None);
                    trace_compare(&ctx, &b, &a, &params, &format!("{label} b->a"), None);
                }
            }
            assert!(
                gpu.occlusion_forward
                    .iter()
                    .chain(&gpu.occlusion_backward)
                    .all(|o| (0.0..=1.0).contains(o))
            );
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Identical frames: zero flow, nothing occluded.
    for (w, h) in [(1, 1), (7, 5), (1, 40), (40, 1)] {
        let a = pattern_image(w, h, 3);
        let r = flow::flow(&ctx, &a, &a, &FlowParams::default()).unwrap();
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
    let Some(ctx) = ctx() else { return };
    let a = Image::new(4, 4);
    let p = FlowParams {
        patch_size: 7,
        ..Default::default()
    };
    let err = flow::flow(&ctx, &a, &a, &p).unwrap_err().to_string();
    assert!(err.contains("flow.patch_size"), "{err}");
    let p = FlowParams {
        sor_iterations: 0,
        ..Default::default()
    };
    let err = flow::flow_one_way(&ctx, &a, &a, &p)
        .unwrap_err()
        .to_string();
    assert!(err.contains("flow.sor_iterations"), "{err}");
    let err = flow::flow(&ctx, &a, &Image::new(4, 5), &FlowParams::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("size mismatch"), "{err}");
}

#[test]
fn device_entry_point_keeps_the_vectors_on_the_device() {
    let Some(ctx) = ctx() else { return };
    let pair = fixtures::translation_pair(64, 48, 1.5, 0.5);
    let params = FlowParams::default();
    // Inputs uploaded by an earlier frame, as a sequence renderer keeps them.
    let mut frame = ctx.frame("upload").unwrap();
    let a = frame.upload(&pair.a).unwrap();
    let b = frame.upload(&pair.b).unwrap();
    frame.finish().unwrap();
    let mut frame = ctx.frame("flow").unwrap();
    let r = flow_on_device(&mut frame, &a, &b, &params, FlowDirections::Both).unwrap();
    assert_eq!((r.width, r.height), (64, 48));
    let back = r.backward.as_ref().unwrap();
    let (pf, pb) = (
        r.pair_forward.as_ref().unwrap(),
        r.pair_backward.as_ref().unwrap(),
    );
    let data = frame.read_buffers(&[&r.forward, back, pf, pb]).unwrap();
    let whole = flow::flow(&ctx, &pair.a, &pair.b, &params).unwrap();
    let flat = |f: &FlowField| f.vectors().iter().flatten().copied().collect::<Vec<f32>>();
    // Same kernels on the same data: identical bits.
    assert_eq!(data[0][..64 * 48 * 2], flat(&whole.forward)[..]);
    assert_eq!(data[1][..64 * 48 * 2], flat(&whole.backward)[..]);
    // The packed (u, v, occlusion, 0) buffers the interpolation reads.
    let packed = |f: &FlowField, o: &[f32]| -> Vec<f32> {
        f.vectors()
            .iter()
            .zip(o)
            .flat_map(|(v, &o)| [v[0], v[1], o, 0.0])
            .collect()
    };
    assert_eq!(
        data[2][..64 * 48 * 4],
        packed(&whole.forward, &whole.occlusion_forward)[..]
    );
    assert_eq!(
        data[3][..64 * 48 * 4],
        packed(&whole.backward, &whole.occlusion_backward)[..]
    );
}

#[test]
fn other_patch_grids_match_the_cpu() {
    let Some(ctx) = ctx() else { return };
    let pair = fixtures::translation_pair(96, 80, 1.7, 2.2);
    // 7·stride + patch > 36 reads the template from the level buffer; the
    // default grid and these small ones go through the workgroup tile.
    for (patch_size, patch_stride) in [(12, 6), (16, 16), (16, 3), (4, 2), (4, 4)] {
        let params = FlowParams {
            patch_size,
            patch_stride,
            refine_iterations: 2,
            finest_refine_iterations: 1,
            sor_iterations: 3,
            ..Default::default()
        };
        let gpu = flow::flow_one_way(&ctx, &pair.a, &pair.b, &params).unwrap();
        let cpu = estimate_flow_one_way(&pair.a, &pair.b, &params).unwrap();
        let (mean, p99) = field_epd(&gpu, &cpu);
        eprintln!("patch {patch_size} stride {patch_stride}: vs CPU mean {mean:e}, p99 {p99:e}");
        assert!(
            mean < FINAL_MEAN && p99 < FINAL_P99,
            "patch {patch_size} stride {patch_stride}: {mean} {p99}"
        );
    }
}

#[test]
fn non_finite_samples_give_zero_luma_like_on_the_cpu() {
    let Some(ctx) = ctx() else { return };
    let pair = fixtures::translation_pair(64, 48, 1.2, -0.6);
    let (mut a, mut b) = (pair.a.clone(), pair.b.clone());
    for (k, p) in a
        .pixels_mut()
        .iter_mut()
        .enumerate()
        .filter(|(k, _)| k % 97 == 0)
    {
        p[k % 3] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][k % 3];
    }
    b.pixels_mut()[100][1] = f32::NAN;
    let params = FlowParams::default();
    let gpu_trace = flow::trace_flow_one_way(&ctx, &a, &b, &params).unwrap();
    let cpu_trace = cpu_trace(&a, &b, &params).unwrap();
    assert!(gpu_trace.luma.iter().all(|v| v.is_finite()));
    assert!(max_abs(&gpu_trace.luma, &cpu_trace.luma) <= PLANE_TOLERANCE);
    let gpu = flow::flow(&ctx, &a, &b, &params).unwrap();
    let cpu = estimate_flow(&a, &b, &params).unwrap();
    let (mean, p99) = field_epd(&gpu.forward, &cpu.forward);
    assert!(mean < FINAL_MEAN && p99 < FINAL_P99, "{mean} {p99}");
}

#[test]
fn range_compressed_luma_of_linear_float_matches_the_cpu() {
    let Some(ctx) = ctx() else { return };
    // Scene-linear F32 with highlights near 8: the GPU's pow/log against
    // the CPU's (lavapipe: within a few ulps).
    let pair = FlowCase::LinearFloat.pair();
    let params = FlowParams::default();
    let gpu = flow::trace_flow_one_way(&ctx, &pair.a, &pair.b, &params).unwrap();
    let cpu = cpu_trace(&pair.a, &pair.b, &params).unwrap();
    let d = max_abs(&gpu.luma, &cpu.luma);
    eprintln!("linear float luma: max |gpu - cpu| {d:e}");
    assert!(d <= PLANE_TOLERANCE, "{d}");
    assert!(
        cpu.luma.iter().any(|v| *v > 1.5),
        "the case has values above 1"
    );
}
