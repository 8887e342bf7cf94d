//! A pool of device buffers keyed by exact size and usage.
//!
//! Frames of one sequence allocate the same sizes again and again (inputs,
//! intermediates, the staging buffer for read-back), so a buffer released by
//! one frame is handed to the next instead of being freed and re-created.
//! A [`GpuBuffer`] goes back to the pool when its last reference is dropped;
//! a [`crate::Frame`] holds a reference to every buffer it used until its
//! work has completed, so a buffer is never reused while queued work still
//! reads it. Idle buffers are kept up to [`POOL_IDLE_LIMIT`] bytes; beyond
//! that, released buffers are freed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::context::{ErrorScopes, GpuContext};
use crate::error::{GpuError, Result};
use crate::pipeline::lock;

/// Most bytes of idle buffers the pool keeps for reuse (1 GiB: a 4K frame's
/// input, output and staging buffers several times over).
pub const POOL_IDLE_LIMIT: u64 = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PoolKey {
    size: u64,
    usage: wgpu::BufferUsages,
}

/// Idle buffers by key.
#[derive(Default)]
pub(crate) struct BufferPool {
    idle: Mutex<(HashMap<PoolKey, Vec<wgpu::Buffer>>, u64)>,
}

impl BufferPool {
    /// Bytes held by idle buffers.
    pub(crate) fn idle_bytes(&self) -> u64 {
        lock(&self.idle).1
    }

    /// Frees every idle buffer.
    pub(crate) fn clear(&self) {
        let mut idle = lock(&self.idle);
        idle.0.clear();
        idle.1 = 0;
    }

    fn take(&self, key: PoolKey) -> Option<wgpu::Buffer> {
        let mut idle = lock(&self.idle);
        let buffer = idle.0.get_mut(&key)?.pop()?;
        idle.1 -= key.size;
        Some(buffer)
    }

    fn give_back(&self, key: PoolKey, buffer: wgpu::Buffer) {
        let mut idle = lock(&self.idle);
        if idle.1 + key.size <= POOL_IDLE_LIMIT {
            idle.0.entry(key).or_default().push(buffer);
            idle.1 += key.size;
        }
    }
}

/// A device buffer of exactly `size` bytes, borrowed from the context's pool.
///
/// Shared with [`Arc`]; returns to the pool when the last reference drops
/// (unless [`GpuBuffer::discard`] was called, e.g. after a failed map).
#[derive(Debug)]
pub struct GpuBuffer {
    buffer: wgpu::Buffer,
    key: PoolKey,
    pool: Weak<BufferPool>,
    discard: AtomicBool,
}

impl GpuBuffer {
    /// Takes a buffer of `size` bytes and `usage` from the pool, or creates
    /// one (inside error scopes, so out-of-memory is an error here and an
    /// invalid buffer never enters the pool).
    ///
    /// # Errors
    /// [`GpuError::Limits`] if `size` exceeds the device's buffer or storage
    /// binding limit, [`GpuError::OutOfMemory`] if allocation fails.
    pub fn acquire(
        ctx: &GpuContext,
        size: u64,
        usage: wgpu::BufferUsages,
        what: &str,
    ) -> Result<Arc<GpuBuffer>> {
        let limits = ctx.limits();
        let (limit, limit_name) = if usage.contains(wgpu::BufferUsages::STORAGE)
            && limits.max_storage_buffer_binding_size < limits.max_buffer_size
        {
            (
                limits.max_storage_buffer_binding_size,
                "max_storage_buffer_binding_size",
            )
        } else if usage.contains(wgpu::BufferUsages::UNIFORM) {
            (
                limits.max_uniform_buffer_binding_size,
                "max_uniform_buffer_binding_size",
            )
        } else {
            (limits.max_buffer_size, "max_buffer_size")
        };
        if size > limit {
            return Err(GpuError::Limits {
                what: what.to_owned(),
                needed: size,
                limit,
                limit_name,
                adapter: ctx.adapter_info().name.clone(),
            });
        }
        // wgpu needs sizes that are multiples of 4 for copies and non-zero
        // for bindings; every image plane is a whole number of f32.
        let size = size.max(4).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let key = PoolKey { size, usage };
        let pool = ctx.pool();
        let buffer = match pool.take(key) {
            Some(buffer) => buffer,
            None => {
                let scopes =
                    ErrorScopes::push(ctx.device(), format!("allocating {size} bytes for {what}"));
                let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
                    label: Some(what),
                    size,
                    usage,
                    mapped_at_creation: false,
                });
                scopes.check()?;
                buffer
            }
        };
        Ok(Arc::new(GpuBuffer {
            buffer,
            key,
            pool: Arc::downgrade(pool),
            discard: AtomicBool::new(false),
        }))
    }

    /// The wgpu buffer.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.key.size
    }

    /// Frees the buffer when released instead of pooling it (its state is
    /// unknown, e.g. a map that failed).
    pub fn discard(&self) {
        self.discard.store(true, Ordering::Relaxed);
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if self.discard.load(Ordering::Relaxed) {
            return;
        }
        if let Some(pool) = self.pool.upgrade() {
            pool.give_back(self.key, self.buffer.clone());
        }
    }
}
