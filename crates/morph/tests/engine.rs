//! Backend choice and the CPU fallback of the engine.

use std::io::Write;
use std::sync::{Arc, Mutex};

use morph::{BackendKind, Engine, EngineError, RenderingPlatform};
use morph_core::Image;
use morph_core::params::ClampParams;
use morph_core::test_support::{CLAMP_TOLERANCE, assert_images_close, no_gpu, special_image};
use morph_gpu::{GpuContext, GpuError, Preference};

/// Runs `f` with a subscriber that records log lines, and returns them.
fn logs_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let value = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    (value, text)
}

fn reference(image: &Image, p: &ClampParams) -> Image {
    morph_core::ops::clamp::clamp(image, p).unwrap()
}

#[test]
fn cpu_platform_uses_the_cpu() {
    let engine = Engine::new(RenderingPlatform::Cpu).unwrap();
    assert_eq!(engine.backend(), BackendKind::Cpu);
    assert_eq!(engine.cpu_reason(), None);
}

#[test]
fn auto_takes_hardware_or_logs_why_not() {
    let (engine, logs) = logs_of(|| Engine::new(RenderingPlatform::Auto).unwrap());
    match engine.backend() {
        BackendKind::Gpu { software, .. } => {
            assert!(!software, "Auto never picks a software adapter")
        }
        BackendKind::Cpu => {
            let reason = engine.cpu_reason().expect("a reason");
            assert!(
                reason.contains("no hardware GPU") || reason.contains("no GPU adapter"),
                "{reason}"
            );
            assert!(
                logs.contains("INFO") && logs.contains(&reason),
                "logged: {logs}"
            );
        }
    }
    let image = special_image(9, 4, 1);
    let p = ClampParams::default();
    assert_images_close(
        &engine.clamp(&image, &p).unwrap(),
        &reference(&image, &p),
        CLAMP_TOLERANCE,
        "auto",
    );
}

#[test]
fn gpu_platform_takes_any_adapter_or_fails_clearly() {
    match Engine::new(RenderingPlatform::Gpu) {
        Ok(engine) => {
            assert!(engine.backend().is_gpu(), "{}", engine.backend());
            if let Some(ctx) = engine.gpu_context()
                && ctx.is_software()
            {
                assert!(matches!(
                    engine.backend(),
                    BackendKind::Gpu { software: true, .. }
                ));
            }
        }
        Err(e) => {
            assert!(e.to_string().contains("no GPU adapter found"), "{e}");
            no_gpu::<()>(e);
        }
    }
}

#[test]
fn parameter_errors_are_the_same_on_every_backend() {
    let p = ClampParams {
        min_value: 2.0,
        max_value: 1.0,
        ..Default::default()
    };
    let image = Image::new(2, 2);
    let cpu = Engine::cpu().clamp(&image, &p).unwrap_err();
    assert!(matches!(cpu, EngineError::Core(_)), "{cpu}");
    let Ok(ctx) = GpuContext::shared_for_tests().map_err(no_gpu::<()>) else {
        return;
    };
    for platform in [RenderingPlatform::Gpu, RenderingPlatform::Auto] {
        let gpu = Engine::with_context(Arc::clone(&ctx), platform)
            .clamp(&image, &p)
            .unwrap_err();
        assert!(matches!(gpu, EngineError::Core(_)), "{gpu}");
        assert_eq!(gpu.to_string(), cpu.to_string());
    }
}

/// A context of its own, for tests that break it.
fn fresh() -> Option<Arc<GpuContext>> {
    match GpuContext::new(Preference::AnyAdapter) {
        Ok(ctx) => Some(Arc::new(ctx)),
        Err(e) => no_gpu(e),
    }
}

#[test]
fn auto_reruns_a_frame_on_the_cpu_after_device_loss() {
    let Some(ctx) = fresh() else { return };
    let engine = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Auto);
    let image = special_image(40, 30, 4);
    let p = ClampParams::default();
    engine.clamp(&image, &p).unwrap();
    assert!(engine.backend().is_gpu());
    ctx.device().destroy();
    let (out, logs) = logs_of(|| engine.clamp(&image, &p));
    assert_images_close(
        &out.unwrap(),
        &reference(&image, &p),
        CLAMP_TOLERANCE,
        "after loss",
    );
    assert!(logs.contains("WARN"), "a warning is logged: {logs}");
    assert_eq!(
        engine.backend(),
        BackendKind::Cpu,
        "later frames use the CPU"
    );
    assert!(engine.cpu_reason().unwrap().contains("lost"));
    engine.clamp(&image, &p).unwrap();
}

#[test]
fn gpu_platform_reports_device_loss_as_an_error() {
    let Some(ctx) = fresh() else { return };
    let engine = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Gpu);
    ctx.device().destroy();
    let err = engine
        .clamp(&special_image(8, 8, 1), &ClampParams::default())
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Gpu(ref e) if e.is_device_failure()),
        "{err}"
    );
}

#[test]
fn auto_falls_back_per_frame_for_frames_over_the_device_limit() {
    let Ok(ctx) = GpuContext::shared_for_tests().map_err(no_gpu::<()>) else {
        return;
    };
    let limit = ctx.max_storage_binding();
    if limit > 512 << 20 {
        eprintln!("skipped: storage binding limit {limit} is too large to exceed cheaply");
        return;
    }
    let width = 4096u32;
    let image = Image::new(width, (limit / 16 / width as u64) as u32 + 1);
    let p = ClampParams::default();
    let gpu = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Gpu);
    let err = gpu.clamp(&image, &p).unwrap_err();
    assert!(
        matches!(err, EngineError::Gpu(GpuError::Limits { .. })),
        "{err}"
    );
    let auto = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Auto);
    let (out, logs) = logs_of(|| auto.clamp(&image, &p));
    assert_eq!(out.unwrap().size(), image.size());
    assert!(logs.contains("re-running the frame on the CPU"), "{logs}");
    assert!(
        auto.backend().is_gpu(),
        "a limits error does not give up the GPU"
    );
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
}
