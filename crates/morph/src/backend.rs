//! Which backend an engine runs on, and the adapter list for `devices`.

use std::fmt;

use morph_gpu::{AdapterSummary, GpuContext};

/// The backend an [`crate::Engine`] currently sends frames to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The rayon CPU implementation.
    Cpu,
    /// A wgpu adapter.
    Gpu {
        /// Adapter name, e.g. `NVIDIA H100 80GB HBM3` or `llvmpipe (LLVM 15.0.6, 256 bits)`.
        adapter: String,
        /// A software adapter (lavapipe): correct but slower than the CPU path
        /// for most ops.
        software: bool,
    },
}

impl BackendKind {
    /// True for [`BackendKind::Gpu`].
    pub fn is_gpu(&self) -> bool {
        matches!(self, BackendKind::Gpu { .. })
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendKind::Cpu => f.write_str("CPU"),
            BackendKind::Gpu {
                adapter,
                software: false,
            } => write!(f, "GPU ({adapter})"),
            BackendKind::Gpu {
                adapter,
                software: true,
            } => write!(f, "GPU ({adapter}, software)"),
        }
    }
}

/// Every GPU adapter on this machine, best first (for `morph-render devices`).
/// Empty when no Vulkan/Metal/DX12 driver is installed.
pub fn devices() -> Vec<AdapterSummary> {
    GpuContext::enumerate()
}
