//! The error type of morph-gpu: what went wrong on the device, and whose
//! fault it is.
//!
//! Every GPU failure becomes a [`GpuError`]; nothing panics and no frame is
//! returned after an error (a frame's error scopes are checked before its
//! result is read). The engine in `morph` uses [`GpuError::is_device_failure`]
//! to decide whether a frame may be re-run on the CPU.

/// Result with the morph-gpu [`GpuError`].
pub type Result<T, E = GpuError> = std::result::Result<T, E>;

/// Everything that can go wrong creating a GPU context or running an op on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No adapter at all: no Vulkan/Metal/DX12 driver is installed.
    #[error(
        "no GPU adapter found (install a Vulkan driver; on Debian/Ubuntu \
         `apt-get install mesa-vulkan-drivers libvulkan1` provides at least the \
         lavapipe software adapter)"
    )]
    NoAdapter,

    /// Only software (or unknown-type) adapters exist and a hardware one was
    /// required (the `Auto` platform).
    #[error(
        "no hardware GPU adapter (found only {found}); a software adapter is used \
         only when the GPU platform is asked for explicitly"
    )]
    NoHardwareAdapter {
        /// The adapters that were found, `name (backend, type)`, comma separated.
        found: String,
    },

    /// The adapter refused to open a device.
    #[error("could not open a device on {adapter}: {message}")]
    Device {
        /// Adapter name.
        adapter: String,
        /// wgpu's reason.
        message: String,
    },

    /// An allocation or submission ran out of device (or, for software
    /// adapters, host) memory.
    #[error("GPU out of memory while {what}")]
    OutOfMemory {
        /// What was being done, e.g. `allocating 132710400 bytes for clamp`.
        what: String,
    },

    /// The device was lost (driver reset, GPU hang, removal); no result of
    /// work in flight is trusted.
    #[error("GPU device lost: {reason}")]
    DeviceLost {
        /// The driver's or wgpu's reason.
        reason: String,
    },

    /// wgpu rejected a call: a bug in morph (wrong binding, bad dispatch).
    #[error("GPU validation error in {what} (a bug in morph, please report it): {message}")]
    Validation {
        /// The frame or object that failed, e.g. `frame clamp`.
        what: String,
        /// wgpu's message.
        message: String,
    },

    /// wgpu or the driver failed internally (e.g. a shader the driver could
    /// not compile).
    #[error("GPU internal error in {what}: {message}")]
    Internal {
        /// The frame or object that failed.
        what: String,
        /// wgpu's message.
        message: String,
    },

    /// An image plane is larger than the adapter can bind in one storage
    /// buffer. Images are not split into stripes (gather ops such as warping
    /// read anywhere in their source), so such frames must use the CPU.
    #[error(
        "{what} needs {needed} bytes in one GPU buffer, but {adapter} allows at most \
         {limit} ({limit_name}); render frames this large on the CPU platform"
    )]
    Limits {
        /// What needed the buffer, e.g. `3840x4320 RGBA image`.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// The adapter's limit in bytes.
        limit: u64,
        /// Name of the wgpu limit, e.g. `max_storage_buffer_binding_size`.
        limit_name: &'static str,
        /// Adapter name.
        adapter: String,
    },

    /// Mapping the read-back buffer failed.
    #[error("reading the result of {what} back from the GPU failed: {message}")]
    Readback {
        /// The frame being read.
        what: String,
        /// wgpu's reason.
        message: String,
    },

    /// The inputs or parameters were rejected before any GPU work (the same
    /// error the CPU op gives).
    #[error(transparent)]
    Core(#[from] morph_core::Error),
}

impl GpuError {
    /// True for failures of the device or its limits (lost device, out of
    /// memory, limits, validation, internal, read-back), where running the
    /// same frame on the CPU can still succeed; false for [`GpuError::Core`]
    /// (bad parameters fail on every backend) and for context creation errors.
    pub fn is_device_failure(&self) -> bool {
        matches!(
            self,
            GpuError::OutOfMemory { .. }
                | GpuError::DeviceLost { .. }
                | GpuError::Validation { .. }
                | GpuError::Internal { .. }
                | GpuError::Limits { .. }
                | GpuError::Readback { .. }
        )
    }

    /// True if the device cannot be used any more (lost); later frames should
    /// not be sent to it.
    pub fn is_device_lost(&self) -> bool {
        matches!(self, GpuError::DeviceLost { .. })
    }

    /// Turns a wgpu error caught by an error scope into a [`GpuError`].
    pub(crate) fn from_wgpu(error: wgpu::Error, what: &str) -> Self {
        match error {
            wgpu::Error::OutOfMemory { .. } => GpuError::OutOfMemory {
                what: what.to_owned(),
            },
            wgpu::Error::Validation { description, .. } => GpuError::Validation {
                what: what.to_owned(),
                message: description,
            },
            wgpu::Error::Internal { description, .. } => GpuError::Internal {
                what: what.to_owned(),
                message: description,
            },
        }
    }
}
