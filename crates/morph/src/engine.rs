//! The [`Engine`]: backend choice and the CPU fallback every op goes through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use morph_core::params::RenderingPlatform;
use morph_gpu::{GpuContext, GpuError, Preference};

use crate::backend::BackendKind;
use crate::error::EngineError;

/// Runs node ops on the backend chosen for a [`RenderingPlatform`].
///
/// `Send + Sync`: share one engine between a worker's threads (frames may
/// run concurrently; each GPU frame records its own command encoder).
#[derive(Debug)]
pub struct Engine {
    platform: RenderingPlatform,
    gpu: Option<Arc<GpuContext>>,
    /// Why `Auto` uses the CPU, when it does from the start.
    cpu_reason: Option<String>,
    /// Set under `Auto` when the device was lost: later frames use the CPU.
    gpu_lost: AtomicBool,
}

impl Engine {
    /// An engine for `platform`:
    /// - `Auto`: a hardware GPU if any, else the CPU, with the reason logged;
    /// - `Gpu`: any GPU adapter (software included), or an error;
    /// - `Cpu`: the CPU.
    ///
    /// # Errors
    /// Only for `Gpu`: [`EngineError::Gpu`] when no adapter exists or the
    /// device cannot be opened.
    pub fn new(platform: RenderingPlatform) -> Result<Engine, EngineError> {
        let Some(preference) = Preference::for_platform(platform) else {
            return Ok(Engine::cpu());
        };
        match GpuContext::new(preference) {
            Ok(ctx) => Ok(Engine::with_context(Arc::new(ctx), platform)),
            Err(e) if platform == RenderingPlatform::Auto => {
                tracing::info!(reason = %e, "rendering on the CPU: no usable GPU");
                Ok(Engine {
                    cpu_reason: Some(e.to_string()),
                    ..Engine::cpu()
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A CPU engine.
    pub fn cpu() -> Engine {
        Engine {
            platform: RenderingPlatform::Cpu,
            gpu: None,
            cpu_reason: None,
            gpu_lost: AtomicBool::new(false),
        }
    }

    /// An engine on an existing GPU context, whatever its adapter type, with
    /// `platform`'s failure rule (`Auto`: fall back to the CPU per frame;
    /// `Gpu`: errors). Lets several engines share one context, and tests use
    /// the shared software context. `platform = Cpu` ignores the context.
    pub fn with_context(ctx: Arc<GpuContext>, platform: RenderingPlatform) -> Engine {
        if platform == RenderingPlatform::Cpu {
            return Engine::cpu();
        }
        tracing::info!(adapter = %ctx.adapter_summary(), "rendering on the GPU");
        Engine {
            platform,
            gpu: Some(ctx),
            cpu_reason: None,
            gpu_lost: AtomicBool::new(false),
        }
    }

    /// The platform the engine was made for.
    pub fn platform(&self) -> RenderingPlatform {
        self.platform
    }

    /// The backend frames go to now (`Cpu` after an `Auto` engine lost its
    /// device).
    pub fn backend(&self) -> BackendKind {
        match self.active_gpu() {
            Some(ctx) => BackendKind::Gpu {
                adapter: ctx.adapter_info().name.clone(),
                software: ctx.is_software(),
            },
            None => BackendKind::Cpu,
        }
    }

    /// Why an `Auto` engine renders on the CPU (no adapter, only software
    /// adapters, device lost), if it does.
    pub fn cpu_reason(&self) -> Option<String> {
        if self.gpu_lost.load(Ordering::Relaxed) {
            return Some("the GPU device was lost".to_owned());
        }
        self.cpu_reason.clone()
    }

    /// The GPU context, if the engine has one (even when no longer used).
    pub fn gpu_context(&self) -> Option<&Arc<GpuContext>> {
        self.gpu.as_ref()
    }

    fn active_gpu(&self) -> Option<&Arc<GpuContext>> {
        self.gpu
            .as_ref()
            .filter(|_| !self.gpu_lost.load(Ordering::Relaxed))
    }

    /// Runs one frame of op `op` on the active backend: `gpu` if there is a
    /// GPU, else `cpu`. Under `Auto`, a device failure of `gpu` (see
    /// [`GpuError::is_device_failure`]) re-runs the frame with `cpu` and logs
    /// a warning; a lost device switches the engine to the CPU for good.
    /// Every op method is a call to this.
    pub(crate) fn run<T>(
        &self,
        op: &'static str,
        cpu: impl FnOnce() -> morph_core::Result<T>,
        gpu: impl FnOnce(&GpuContext) -> Result<T, GpuError>,
    ) -> Result<T, EngineError> {
        let Some(ctx) = self.active_gpu() else {
            return Ok(cpu()?);
        };
        match gpu(ctx) {
            Ok(value) => Ok(value),
            Err(e) if self.platform == RenderingPlatform::Auto && e.is_device_failure() => {
                if e.is_device_lost() && !self.gpu_lost.swap(true, Ordering::Relaxed) {
                    tracing::warn!(op, error = %e, "GPU device lost: this and every later frame render on the CPU");
                } else {
                    tracing::warn!(op, error = %e, "GPU failed: re-running the frame on the CPU");
                }
                Ok(cpu()?)
            }
            Err(e) => Err(EngineError::from_gpu(e)),
        }
    }
}
