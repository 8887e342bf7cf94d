//! The GPU context: adapter choice, device, queue, and the per-device caches
//! (compute pipelines, buffer pool) every op shares.
//!
//! Adapter choice follows the SPEC's `rendering_platform` (§2):
//! [`Preference::HardwareOnly`] (the `Auto` platform) takes only discrete,
//! integrated or virtual GPUs and otherwise fails with the reason, so the
//! engine can log it and use the CPU; [`Preference::AnyAdapter`] (the `GPU`
//! platform) also accepts software adapters such as Mesa's lavapipe.
//!
//! The device is opened with the adapter's own limits (so lavapipe's 128 MiB
//! storage bindings and a datacentre GPU's multi-GiB ones are both usable) and
//! with the optional features `SHADER_F16` and `TIMESTAMP_QUERY` when the
//! adapter offers them. Errors outside any error scope are logged instead of
//! panicking (wgpu's default), and a device-lost callback marks the context
//! dead so no later frame trusts it.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use morph_core::params::RenderingPlatform;

use crate::error::{GpuError, Result};
use crate::frame::Frame;
use crate::pipeline::{Kernel, KernelSpec, PipelineCache};
use crate::pool::BufferPool;

/// Environment variable that picks an adapter by (case-insensitive) name
/// substring, e.g. `MORPH_GPU_ADAPTER=4090` on a machine with several GPUs.
pub const ADAPTER_ENV: &str = "MORPH_GPU_ADAPTER";

/// Which adapters a context may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preference {
    /// Hardware only (discrete, integrated or virtual GPUs): the `Auto`
    /// platform. Software adapters are refused with
    /// [`GpuError::NoHardwareAdapter`].
    HardwareOnly,
    /// Any adapter, software ones (lavapipe, `DeviceType::Cpu`) included: the
    /// explicit `GPU` platform.
    AnyAdapter,
}

impl Preference {
    /// The preference for a rendering platform; `None` for
    /// [`RenderingPlatform::Cpu`], which uses no GPU.
    pub fn for_platform(platform: RenderingPlatform) -> Option<Self> {
        match platform {
            RenderingPlatform::Auto => Some(Preference::HardwareOnly),
            RenderingPlatform::Gpu => Some(Preference::AnyAdapter),
            RenderingPlatform::Cpu => None,
        }
    }
}

/// One adapter as listed by [`GpuContext::enumerate`] (`morph-render devices`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
    /// Adapter name, e.g. `NVIDIA H100 80GB HBM3` or `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub name: String,
    /// Graphics API it is reached through.
    pub backend: wgpu::Backend,
    /// Discrete, integrated, virtual, CPU (software) or other.
    pub device_type: wgpu::DeviceType,
    /// Driver name, e.g. `NVIDIA` or `llvmpipe`.
    pub driver: String,
    /// Driver version text.
    pub driver_info: String,
    /// Whether `Auto` would pick it (a discrete, integrated or virtual GPU).
    pub hardware: bool,
}

impl AdapterSummary {
    fn from_info(info: &wgpu::AdapterInfo) -> Self {
        AdapterSummary {
            name: info.name.clone(),
            backend: info.backend,
            device_type: info.device_type,
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            hardware: is_hardware(info.device_type),
        }
    }
}

impl fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({:?}, {:?}",
            self.name, self.backend, self.device_type
        )?;
        if !self.driver.is_empty() {
            write!(f, ", driver {}", self.driver)?;
            if !self.driver_info.is_empty() {
                write!(f, " {}", self.driver_info)?;
            }
        }
        f.write_str(")")
    }
}

/// True for adapter types `Auto` accepts.
fn is_hardware(device_type: wgpu::DeviceType) -> bool {
    matches!(
        device_type,
        wgpu::DeviceType::DiscreteGpu
            | wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
    )
}

/// Order of preference among usable adapters (lower is better).
fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

/// A wgpu device and queue with the caches every op uses.
///
/// Cheap to share: put it in an [`Arc`] and use it from any thread, with one
/// [`Frame`] per frame of work. Creating one costs tens of milliseconds (instance 25–40 ms
/// on lavapipe), so create it once per process; tests use
/// [`GpuContext::shared_for_tests`].
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    features: wgpu::Features,
    lost: Arc<Mutex<Option<String>>>,
    pipelines: PipelineCache,
    pool: Arc<BufferPool>,
    max_workgroups_per_dimension: AtomicU32,
    creation_time: Duration,
}

impl fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .field("device_type", &self.info.device_type)
            .field("features", &self.features)
            .finish_non_exhaustive()
    }
}

/// A wgpu instance with the backends this build has, configured from
/// `WGPU_*` environment variables where set.
fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env())
}

/// Every adapter of every backend this build has.
fn all_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
}

impl GpuContext {
    /// Opens a device on the best adapter `preference` allows: discrete
    /// before integrated before virtual (before software, for
    /// [`Preference::AnyAdapter`]). [`ADAPTER_ENV`] narrows the choice by name.
    ///
    /// # Errors
    /// [`GpuError::NoAdapter`] when no adapter exists at all,
    /// [`GpuError::NoHardwareAdapter`] when only software ones exist and
    /// `preference` is [`Preference::HardwareOnly`], [`GpuError::Device`] when
    /// the device cannot be opened.
    pub fn new(preference: Preference) -> Result<Self> {
        let start = Instant::now();
        let instance = instance();
        let mut adapters = all_adapters(&instance);
        if let Ok(wanted) = std::env::var(ADAPTER_ENV)
            && !wanted.is_empty()
        {
            let wanted = wanted.to_lowercase();
            let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            adapters.retain(|a| a.get_info().name.to_lowercase().contains(&wanted));
            if adapters.is_empty() {
                return Err(GpuError::Device {
                    adapter: format!("{ADAPTER_ENV}={wanted}"),
                    message: format!("no adapter name contains it (found: {})", names.join(", ")),
                });
            }
        }
        if adapters.is_empty() {
            return Err(GpuError::NoAdapter);
        }
        adapters.sort_by_key(|a| rank(a.get_info().device_type));
        let adapter = match preference {
            Preference::AnyAdapter => adapters.swap_remove(0),
            Preference::HardwareOnly => {
                match adapters
                    .iter()
                    .position(|a| is_hardware(a.get_info().device_type))
                {
                    Some(i) => adapters.swap_remove(i),
                    None => {
                        let found: Vec<String> = adapters
                            .iter()
                            .map(|a| {
                                let info = a.get_info();
                                format!(
                                    "{} ({:?}, {:?})",
                                    info.name, info.backend, info.device_type
                                )
                            })
                            .collect();
                        return Err(GpuError::NoHardwareAdapter {
                            found: found.join(", "),
                        });
                    }
                }
            }
        };
        Self::from_adapter(&adapter, start)
    }

    /// Opens a device on a given adapter, with its limits and the optional
    /// features it offers.
    fn from_adapter(adapter: &wgpu::Adapter, start: Instant) -> Result<Self> {
        let info = adapter.get_info();
        let offered = adapter.features();
        let wanted = wgpu::Features::SHADER_F16 | wgpu::Features::TIMESTAMP_QUERY;
        let features = offered & wanted;
        let desc = wgpu::DeviceDescriptor {
            label: Some("morph"),
            required_features: features,
            required_limits: adapter.limits(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) =
            pollster::block_on(adapter.request_device(&desc)).map_err(|e| GpuError::Device {
                adapter: info.name.clone(),
                message: e.to_string(),
            })?;

        let lost = Arc::new(Mutex::new(None::<String>));
        let lost_in_callback = Arc::clone(&lost);
        let adapter_name = info.name.clone();
        device.set_device_lost_callback(move |reason, message| {
            let text = if message.is_empty() {
                format!("{reason:?}")
            } else {
                format!("{reason:?}: {message}")
            };
            if reason == wgpu::DeviceLostReason::Destroyed {
                tracing::debug!(adapter = %adapter_name, "GPU device destroyed: {text}");
            } else {
                tracing::error!(adapter = %adapter_name, "GPU device lost: {text}");
            }
            *lost_in_callback.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
        });
        // wgpu panics on errors outside an error scope by default; every frame
        // runs inside scopes, so anything reaching here is logged, not fatal.
        device.on_uncaptured_error(Arc::new(|error: wgpu::Error| {
            tracing::error!("uncaptured wgpu error: {error}");
        }));

        let limits = device.limits();
        let max_dim = limits.max_compute_workgroups_per_dimension;
        let ctx = GpuContext {
            features: device.features(),
            limits,
            device,
            queue,
            info,
            lost,
            pipelines: PipelineCache::default(),
            pool: Arc::new(BufferPool::default()),
            max_workgroups_per_dimension: AtomicU32::new(max_dim),
            creation_time: start.elapsed(),
        };
        tracing::info!(
            adapter = %ctx.info.name,
            backend = ?ctx.info.backend,
            device_type = ?ctx.info.device_type,
            f16 = ctx.supports_f16(),
            max_storage_binding = ctx.limits.max_storage_buffer_binding_size,
            "GPU context ready in {:.1} ms",
            ctx.creation_time.as_secs_f64() * 1e3
        );
        Ok(ctx)
    }

    /// A process-wide context on any adapter (software ones included),
    /// created on first use and kept for the life of the process; tests and
    /// benches share it because instance creation costs 25–40 ms.
    ///
    /// # Errors
    /// The creation error, the same on every call.
    pub fn shared_for_tests() -> std::result::Result<Arc<GpuContext>, &'static GpuError> {
        static SHARED: OnceLock<Result<Arc<GpuContext>>> = OnceLock::new();
        SHARED
            .get_or_init(|| GpuContext::new(Preference::AnyAdapter).map(Arc::new))
            .as_ref()
            .map(Arc::clone)
    }

    /// Lists every adapter of every compiled-in backend, for
    /// `morph-render devices`. Empty when no driver is installed.
    pub fn enumerate() -> Vec<AdapterSummary> {
        let mut list: Vec<AdapterSummary> = all_adapters(&instance())
            .iter()
            .map(|a| AdapterSummary::from_info(&a.get_info()))
            .collect();
        list.sort_by_key(|a| rank(a.device_type));
        list
    }

    /// The adapter this context runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The adapter as a summary line.
    pub fn adapter_summary(&self) -> AdapterSummary {
        AdapterSummary::from_info(&self.info)
    }

    /// True for a software adapter (lavapipe and other `DeviceType::Cpu` or
    /// unknown-type adapters).
    pub fn is_software(&self) -> bool {
        !is_hardware(self.info.device_type)
    }

    /// The optional features the device was opened with (a subset of
    /// `SHADER_F16 | TIMESTAMP_QUERY`).
    pub fn features(&self) -> wgpu::Features {
        self.features
    }

    /// Whether shaders may use `f16` (the device has `SHADER_F16`). Ops that
    /// use it must keep an f32 path for adapters without it.
    pub fn supports_f16(&self) -> bool {
        self.features.contains(wgpu::Features::SHADER_F16)
    }

    /// Whether timestamp queries are available (for benchmarks).
    pub fn supports_timestamps(&self) -> bool {
        self.features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// The device limits (equal to the adapter's).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The largest buffer one storage binding may cover, in bytes: the
    /// largest image plane this device can process.
    pub fn max_storage_binding(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// The wgpu device, for ops that need more than [`Frame`] offers.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// How long [`GpuContext::new`] took (instance, adapter and device).
    pub fn creation_time(&self) -> Duration {
        self.creation_time
    }

    /// Why the device was lost, if it was.
    pub fn lost_reason(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// An error if the device has been lost.
    pub fn check_alive(&self) -> Result<()> {
        match self.lost_reason() {
            Some(reason) => Err(GpuError::DeviceLost { reason }),
            None => Ok(()),
        }
    }

    /// Starts recording a frame: one command encoder for all its passes.
    /// See [`Frame`].
    ///
    /// # Errors
    /// [`GpuError::DeviceLost`] if the device is gone.
    pub fn frame(&self, label: &str) -> Result<Frame<'_>> {
        self.check_alive()?;
        Ok(Frame::new(self, label))
    }

    /// The compute pipeline for `spec` with these override constants,
    /// compiled on first use and cached for the life of the context.
    ///
    /// # Errors
    /// [`GpuError::Validation`] or [`GpuError::Internal`] if the shader or
    /// pipeline is rejected (nothing is cached then).
    pub fn kernel(
        &self,
        spec: &'static KernelSpec,
        constants: &[(&'static str, f64)],
    ) -> Result<Arc<Kernel>> {
        self.pipelines.get(&self.device, spec, constants)
    }

    /// The per-dimension workgroup limit dispatches are split by.
    pub fn max_workgroups_per_dimension(&self) -> u32 {
        self.max_workgroups_per_dimension.load(Ordering::Relaxed)
    }

    /// Lowers the per-dimension workgroup limit used to lay out 1D launches
    /// (never above the device's). Tests use a tiny value to exercise the 2D
    /// grid on small images; there is no other reason to call it.
    pub fn set_max_workgroups_per_dimension(&self, n: u32) {
        let n = n.clamp(1, self.limits.max_compute_workgroups_per_dimension);
        self.max_workgroups_per_dimension
            .store(n, Ordering::Relaxed);
    }

    /// The buffer pool (crate-internal).
    pub(crate) fn pool(&self) -> &Arc<BufferPool> {
        &self.pool
    }

    /// Frees every idle pooled buffer (the pool otherwise keeps up to
    /// [`crate::pool::POOL_IDLE_LIMIT`] bytes for reuse by later frames).
    pub fn trim_pool(&self) {
        self.pool.clear();
    }

    /// Bytes held by idle pooled buffers.
    pub fn pool_idle_bytes(&self) -> u64 {
        self.pool.idle_bytes()
    }
}

/// Out-of-memory, validation and internal error scopes pushed together
/// around a few wgpu calls on one thread; [`ErrorScopes::check`] pops them and
/// turns the first captured error into a [`GpuError`] (out-of-memory first,
/// since it causes the validation errors that follow it). Dropping without
/// `check` pops them too, in the required reverse order, discarding errors.
pub(crate) struct ErrorScopes {
    guards: Vec<wgpu::ErrorScopeGuard>,
    what: String,
}

impl ErrorScopes {
    /// Pushes out-of-memory, validation and internal scopes on this thread.
    pub(crate) fn push(device: &wgpu::Device, what: impl Into<String>) -> Self {
        let guards = [
            wgpu::ErrorFilter::OutOfMemory,
            wgpu::ErrorFilter::Validation,
            wgpu::ErrorFilter::Internal,
        ]
        .into_iter()
        .map(|filter| device.push_error_scope(filter))
        .collect();
        ErrorScopes {
            guards,
            what: what.into(),
        }
    }

    /// Pops the scopes (innermost first) and reports what they caught.
    pub(crate) fn check(mut self) -> Result<()> {
        let mut errors: Vec<wgpu::Error> = Vec::new();
        while let Some(guard) = self.guards.pop() {
            if let Some(e) = pollster::block_on(guard.pop()) {
                errors.push(e);
            }
        }
        let pick = errors
            .iter()
            .position(|e| matches!(e, wgpu::Error::OutOfMemory { .. }))
            .or_else(|| {
                errors
                    .iter()
                    .position(|e| matches!(e, wgpu::Error::Validation { .. }))
            })
            .or(if errors.is_empty() { None } else { Some(0) });
        match pick {
            Some(i) => Err(GpuError::from_wgpu(errors.swap_remove(i), &self.what)),
            None => Ok(()),
        }
    }
}

impl Drop for ErrorScopes {
    fn drop(&mut self) {
        // wgpu requires scopes to be popped innermost first.
        while let Some(guard) = self.guards.pop() {
            drop(guard);
        }
    }
}
