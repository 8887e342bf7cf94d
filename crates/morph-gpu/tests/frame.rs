//! GPU plumbing: frames with several passes, the 2D dispatch grid, the size
//! limit, the buffer pool, the pipeline cache and a lost device.

use std::sync::Arc;

use morph_core::Image;
use morph_core::params::ClampParams;
use morph_core::test_support::{CLAMP_TOLERANCE, assert_images_close, no_gpu, special_image};
use morph_gpu::ops::clamp::{clamp, clamp_on_device};
use morph_gpu::{GpuContext, GpuError, Preference};

fn shared() -> Option<Arc<GpuContext>> {
    match GpuContext::shared_for_tests() {
        Ok(ctx) => Some(ctx),
        Err(e) => no_gpu(e),
    }
}

/// A context of its own, for tests that change or break it.
fn fresh() -> Option<GpuContext> {
    match GpuContext::new(Preference::AnyAdapter) {
        Ok(ctx) => Some(ctx),
        Err(e) => no_gpu(e),
    }
}

fn reference(image: &Image, p: &ClampParams) -> Image {
    morph_core::ops::clamp::clamp(image, p).unwrap()
}

#[test]
fn one_frame_chains_passes_on_the_device() {
    let Some(ctx) = shared() else { return };
    let image = special_image(131, 77, 5);
    let wide = ClampParams {
        min_value: -1.0,
        max_value: 2.0,
        ..Default::default()
    };
    let narrow = ClampParams {
        min_value: 0.25,
        max_value: 0.75,
        ..Default::default()
    };
    let mut frame = ctx.frame("chain").unwrap();
    let input = frame.upload(&image).unwrap();
    let a = clamp_on_device(&mut frame, &input, &wide).unwrap();
    drop(input); // kept alive by the frame until it completes
    let b = clamp_on_device(&mut frame, &a, &narrow).unwrap();
    let out = frame.read_all(&[&a, &b]).unwrap();
    assert_images_close(
        &out[0],
        &reference(&image, &wide),
        CLAMP_TOLERANCE,
        "first pass",
    );
    let expected = reference(&reference(&image, &wide), &narrow);
    assert_images_close(&out[1], &expected, CLAMP_TOLERANCE, "second pass");
}

#[test]
fn results_stay_on_the_device_across_frames() {
    let Some(ctx) = shared() else { return };
    let image = special_image(64, 9, 6);
    let p = ClampParams::default();
    let mut frame = ctx.frame("upload").unwrap();
    let input = frame.upload(&image).unwrap();
    frame.finish().unwrap();
    for _ in 0..3 {
        let mut frame = ctx.frame("kernel only").unwrap();
        let out = clamp_on_device(&mut frame, &input, &p).unwrap();
        let got = frame.read(&out).unwrap();
        assert_images_close(
            &got,
            &reference(&image, &p),
            CLAMP_TOLERANCE,
            "reused input",
        );
    }
}

#[test]
fn launches_wrap_onto_a_2d_grid() {
    let Some(ctx) = fresh() else { return };
    // (size, workgroups per dimension): 33x31 needs 4 groups of 256 -> a
    // 3x2 grid with a partial last row; 50x40 needs 8 -> 3x3; 1001x563
    // needs 2202 -> 64x35.
    for (w, h, max) in [(33, 31, 3), (50, 40, 3), (1001, 563, 64), (1, 1, 1)] {
        ctx.set_max_workgroups_per_dimension(max);
        let image = special_image(w, h, 8);
        let p = ClampParams::default();
        let got = clamp(&ctx, &image, &p).unwrap();
        assert_images_close(
            &got,
            &reference(&image, &p),
            CLAMP_TOLERANCE,
            &format!("{w}x{h} on a grid {max} wide"),
        );
    }
    // A grid that cannot hold the launch is a limits error.
    ctx.set_max_workgroups_per_dimension(2);
    let err = clamp(&ctx, &special_image(64, 64, 1), &ClampParams::default()).unwrap_err();
    assert!(matches!(err, GpuError::Limits { .. }), "{err}");
}

#[test]
fn too_large_planes_are_a_limits_error() {
    let Some(ctx) = shared() else { return };
    let limit = ctx.max_storage_binding();
    if limit > 512 << 20 {
        eprintln!("skipped: storage binding limit {limit} is too large to exceed cheaply");
        return;
    }
    let width = 4096u32;
    let height = (limit / 16 / width as u64) as u32 + 1;
    let image = Image::new(width, height);
    let err = clamp(&ctx, &image, &ClampParams::default()).unwrap_err();
    assert!(matches!(err, GpuError::Limits { .. }), "{err}");
    assert!(err.is_device_failure());
    let text = err.to_string();
    assert!(
        text.contains("max_storage_buffer_binding_size") && text.contains("CPU"),
        "{text}"
    );
    // The context is still usable.
    let small = special_image(3, 3, 1);
    clamp(&ctx, &small, &ClampParams::default()).unwrap();
}

/// Uploads from `STAGED_UPLOAD_BYTES` on go through a pooled staging
/// buffer filled in parallel; read-backs are collected in parallel: both
/// round-trip every bit, for several images in one frame and across frames
/// (the staging buffers are reused, so they are mapped again).
#[test]
fn large_uploads_and_read_backs_round_trip_every_bit() {
    let Some(ctx) = shared() else { return };
    let (w, h) = (700, 400);
    assert!(w as u64 * h as u64 * 4 >= morph_gpu::frame::STAGED_UPLOAD_BYTES);
    for round in 0..3 {
        let a = special_image(w, h, 10 + round);
        let b = special_image(w, h, 20 + round);
        assert!(!a.extra.is_empty(), "planes are staged too");
        let mut frame = ctx.frame("round trip").unwrap();
        let ga = frame.upload(&a).unwrap();
        let gb = frame.upload(&b).unwrap();
        let out = frame.read_all(&[&ga, &gb]).unwrap();
        for (got, want) in out.iter().zip([&a, &b]) {
            let bits = |i: &Image| -> Vec<u32> {
                i.as_flat()
                    .iter()
                    .chain(i.extra.iter().flat_map(|c| &c.data))
                    .map(|v| v.to_bits())
                    .collect()
            };
            assert_eq!(bits(got), bits(want), "round {round}");
        }
    }
}

#[test]
fn buffers_are_pooled() {
    let Some(ctx) = fresh() else { return };
    let image = special_image(100, 50, 2);
    let p = ClampParams::default();
    clamp(&ctx, &image, &p).unwrap();
    let idle = ctx.pool_idle_bytes();
    // input + output (RGBA + 2 planes each) + staging + uniform
    assert!(idle >= 2 * 100 * 50 * (16 + 8), "idle {idle}");
    for _ in 0..3 {
        clamp(&ctx, &image, &p).unwrap();
        assert_eq!(
            ctx.pool_idle_bytes(),
            idle,
            "same sizes reuse the same buffers"
        );
    }
    ctx.trim_pool();
    assert_eq!(ctx.pool_idle_bytes(), 0);
}

#[test]
fn invalid_parameters_fail_before_any_gpu_work() {
    let Some(ctx) = shared() else { return };
    let p = ClampParams {
        min_value: 1.0,
        max_value: 0.0,
        ..Default::default()
    };
    let err = clamp(&ctx, &Image::new(2, 2), &p).unwrap_err();
    assert!(matches!(err, GpuError::Core(_)), "{err}");
    assert!(!err.is_device_failure());
}

#[test]
fn a_lost_device_is_an_error_not_an_image() {
    let Some(ctx) = fresh() else { return };
    let image = special_image(16, 16, 3);
    let p = ClampParams::default();
    clamp(&ctx, &image, &p).unwrap();
    ctx.device().destroy();
    let err = clamp(&ctx, &image, &p).unwrap_err();
    assert!(err.is_device_failure(), "{err}");
    eprintln!("after destroy: {err}");
    assert!(ctx.lost_reason().is_some());
    assert!(matches!(
        ctx.frame("after loss"),
        Err(GpuError::DeviceLost { .. })
    ));
}

#[test]
fn auto_refuses_software_adapters() {
    let adapters = GpuContext::enumerate();
    if adapters.is_empty() {
        return no_gpu::<()>("no adapters enumerated").unwrap_or(());
    }
    for a in &adapters {
        eprintln!("adapter: {a}");
    }
    match GpuContext::new(Preference::HardwareOnly) {
        Ok(ctx) => assert!(!ctx.is_software(), "{:?}", ctx.adapter_info()),
        Err(e) => {
            assert!(adapters.iter().all(|a| !a.hardware));
            assert!(matches!(e, GpuError::NoHardwareAdapter { .. }), "{e}");
            assert!(
                e.to_string().contains("llvmpipe")
                    || !adapters.iter().any(|a| a.name.contains("llvmpipe")),
                "{e}"
            );
        }
    }
}

#[test]
fn passes_can_be_timed_on_the_device() {
    let Some(ctx) = shared() else { return };
    let image = special_image(256, 256, 9);
    let mut frame = ctx.frame("timed").unwrap();
    let input = frame.upload(&image).unwrap();
    let timed = frame.enable_timing();
    assert_eq!(timed, ctx.supports_timestamps());
    clamp_on_device(&mut frame, &input, &ClampParams::default()).unwrap();
    let times = frame.finish_timed().unwrap();
    if timed {
        // RGBA pass plus one pass per extra plane.
        let labels: Vec<_> = times.iter().map(|t| t.label).collect();
        assert_eq!(labels, ["clamp.rgba", "clamp.plane", "clamp.plane"]);
        assert!(times.iter().all(|t| t.duration.as_secs() < 1), "{times:?}");
    } else {
        assert!(times.is_empty());
    }
}
