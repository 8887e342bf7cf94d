//! A frame: all GPU work for one output, recorded into one command encoder,
//! submitted once, with one read-back.
//!
//! ```text
//! let mut frame = ctx.frame("clamp")?;        // error scopes + encoder
//! let input = frame.upload(&image)?;           // pooled staging buffer -> pooled device buffers
//! let output = ops::clamp::clamp_on_device(&mut frame, &input, &params)?;
//! let result = frame.read(&output)?;           // copy to staging, submit, wait, map
//! ```
//!
//! Intermediates stay on the device; every pass of the frame goes into the
//! same encoder, so per-submit overhead and transfers are paid once. Errors
//! (out of memory, validation, device lost, failed map) are caught by error
//! scopes around each wgpu call (allocation, bind group, submission; wgpu
//! reports them synchronously, and scopes are thread-local, so each is pushed
//! and popped within one call and frames never interleave scopes) and checked
//! *before* any sample is read, so a failed frame returns an error, never a
//! wrong image.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use morph_core::Image;
use rayon::prelude::*;

use crate::context::{ErrorScopes, GpuContext};
use crate::error::{GpuError, Result};
use crate::image::{GpuImage, ImageHeader, PLANE_BYTES, RGBA_BYTES};
use crate::pipeline::Kernel;
use crate::pool::GpuBuffer;

/// Uploads from this many bytes on go through a pooled staging buffer
/// ([`Frame::write`]); smaller ones through `queue.write_buffer`.
pub const STAGED_UPLOAD_BYTES: u64 = 1 << 20;

/// Bytes per rayon task when filling an upload buffer or copying a
/// read-back out.
const UPLOAD_CHUNK: usize = 1 << 20;

/// Usage of image buffers: bound as storage, written by uploads, read back.
pub const IMAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_DST)
    .union(wgpu::BufferUsages::COPY_SRC);

/// The grid of workgroups for a 1D launch over `count` elements with
/// `workgroup_size` invocations per group: `[groups, 1, 1]` when that fits
/// in `max_per_dimension`, else `[max, ceil(groups / max), 1]`. Shaders
/// rebuild the linear index with `linear_index` from `common/index.wgsl` and
/// skip indices `>= count`. `None` if even that grid is too large.
pub fn linear_grid(count: u64, workgroup_size: u32, max_per_dimension: u32) -> Option<[u32; 3]> {
    let groups = count.div_ceil(workgroup_size.max(1) as u64).max(1);
    let max = max_per_dimension.max(1) as u64;
    if groups <= max {
        return Some([groups as u32, 1, 1]);
    }
    let rows = groups.div_ceil(max);
    (rows <= max).then_some([max as u32, rows as u32, 1])
}

/// Most passes of one frame that [`Frame::enable_timing`] times; later
/// passes run untimed.
pub const MAX_TIMED_PASSES: u32 = 256;

/// GPU time of one compute pass, from timestamp queries.
#[derive(Clone, Debug, PartialEq)]
pub struct PassTiming {
    /// The kernel's label, e.g. `clamp.rgba`.
    pub label: &'static str,
    /// Time between the pass's start and end timestamps on the device.
    pub duration: Duration,
}

/// One dispatch of [`Frame::dispatch_batch`]: a kernel, its group 0 (from
/// [`Frame::bind_group`]) and the grid of workgroups.
#[derive(Clone, Copy, Debug)]
pub struct Dispatch<'a> {
    /// The compiled kernel.
    pub kernel: &'a Kernel,
    /// Its bindings.
    pub bind_group: &'a wgpu::BindGroup,
    /// Workgroups in x, y, z.
    pub grid: [u32; 3],
}

/// Timestamp queries of a timed frame.
struct Timing {
    query_set: wgpu::QuerySet,
    labels: Vec<&'static str>,
}

/// One frame's recording. See the [module docs](self).
pub struct Frame<'ctx> {
    ctx: &'ctx GpuContext,
    label: String,
    encoder: wgpu::CommandEncoder,
    keep: Vec<Arc<GpuBuffer>>,
    timing: Option<Timing>,
}

impl<'ctx> Frame<'ctx> {
    pub(crate) fn new(ctx: &'ctx GpuContext, label: &str) -> Self {
        let encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        Frame {
            ctx,
            label: label.to_owned(),
            encoder,
            keep: Vec::new(),
            timing: None,
        }
    }

    /// Times every later pass of this frame on the device (timestamp
    /// queries), for benchmarks and profiling; read the times with
    /// [`Frame::finish_timed`]. Returns false, and times nothing, when the
    /// device lacks `TIMESTAMP_QUERY`.
    pub fn enable_timing(&mut self) -> bool {
        if self.timing.is_some() {
            return true;
        }
        if !self.ctx.supports_timestamps() {
            return false;
        }
        let scopes = ErrorScopes::push(self.ctx.device(), "creating timestamp queries");
        let query_set = self
            .ctx
            .device()
            .create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("morph pass timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2 * MAX_TIMED_PASSES,
            });
        if scopes.check().is_err() {
            return false;
        }
        self.timing = Some(Timing {
            query_set,
            labels: Vec::new(),
        });
        true
    }

    /// The context the frame runs on.
    pub fn context(&self) -> &'ctx GpuContext {
        self.ctx
    }

    /// The frame's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The command encoder, for work [`Frame::dispatch`] does not cover
    /// (copies, clears). Buffers used here must be kept alive with
    /// [`Frame::keep`].
    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        &mut self.encoder
    }

    /// Keeps a buffer out of the pool until the frame's work has completed.
    pub fn keep(&mut self, buffer: &Arc<GpuBuffer>) {
        self.keep.push(Arc::clone(buffer));
    }

    /// A pooled buffer, kept until the frame completes.
    ///
    /// # Errors
    /// [`GpuError::Limits`] or [`GpuError::OutOfMemory`].
    pub fn buffer(
        &mut self,
        size: u64,
        usage: wgpu::BufferUsages,
        what: &str,
    ) -> Result<Arc<GpuBuffer>> {
        let buffer = GpuBuffer::acquire(self.ctx, size, usage, what)?;
        self.keep(&buffer);
        Ok(buffer)
    }

    /// Device buffers for an image described by `header`, contents undefined
    /// (pooled buffers are not cleared: every kernel writes all it outputs).
    ///
    /// # Errors
    /// [`GpuError::Limits`] if a plane exceeds the device's storage binding
    /// size, [`GpuError::OutOfMemory`].
    pub fn alloc_image(&mut self, header: ImageHeader) -> Result<GpuImage> {
        let n = header.pixel_count();
        let size = format!("{}x{}", header.width, header.height);
        let rgba = self.buffer(n * RGBA_BYTES, IMAGE_USAGE, &format!("{size} RGBA image"))?;
        let planes = header
            .extra
            .iter()
            .map(|(name, _)| {
                self.buffer(
                    n * PLANE_BYTES,
                    IMAGE_USAGE,
                    &format!("{size} plane {name}"),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(GpuImage {
            header,
            rgba,
            planes,
        })
    }

    /// Device buffers shaped like `like` (same header, extra planes included).
    ///
    /// # Errors
    /// As [`Frame::alloc_image`].
    pub fn alloc_like(&mut self, like: &GpuImage) -> Result<GpuImage> {
        self.alloc_image(like.header.clone())
    }

    /// Copies an image to the device ([`Frame::write`]).
    ///
    /// # Errors
    /// As [`Frame::alloc_image`] and [`Frame::write`].
    pub fn upload(&mut self, image: &Image) -> Result<GpuImage> {
        let gpu = self.alloc_image(ImageHeader::of(image))?;
        self.write(&gpu.rgba, bytemuck::cast_slice(image.as_flat()))?;
        for (channel, plane) in image.extra.iter().zip(&gpu.planes) {
            self.write(plane, bytemuck::cast_slice(&channel.data))?;
        }
        Ok(gpu)
    }

    /// A device buffer ([`IMAGE_USAGE`], at least 16 bytes) holding `bytes`
    /// ([`Frame::write`]), kept until the frame completes.
    ///
    /// # Errors
    /// As [`Frame::buffer`] and [`Frame::write`].
    pub fn upload_bytes(&mut self, bytes: &[u8], what: &str) -> Result<Arc<GpuBuffer>> {
        let buffer = self.buffer(bytes.len().max(16) as u64, IMAGE_USAGE, what)?;
        self.write(&buffer, bytes)?;
        Ok(buffer)
    }

    /// Copies `bytes` (a multiple of 4 long, as `queue.write_buffer` wants)
    /// to the start of `dst`, ahead of every pass recorded after this call.
    /// Passes recorded before it may see the old or the new contents (a
    /// small copy runs at submission, before all of them; a large one in
    /// recording order): write only buffers they do not use, as uploads
    /// into fresh buffers do.
    ///
    /// Small copies go through `queue.write_buffer`. From
    /// [`STAGED_UPLOAD_BYTES`] on, through a pooled `MAP_WRITE` staging
    /// buffer filled by all of rayon's threads, then a copy recorded in the
    /// frame's encoder: `write_buffer` makes a fresh staging allocation per
    /// call, whose pages fault in on one thread (measured on an H100 host, a
    /// 4K RGBA f32 frame: 36.8 ms that way, 5.9 ms through a kept staging
    /// buffer filled by 16 threads; `gpu_transfer` example).
    ///
    /// # Errors
    /// [`GpuError::OutOfMemory`], or [`GpuError::Internal`] if the staging
    /// buffer cannot be mapped.
    pub fn write(&mut self, dst: &GpuBuffer, bytes: &[u8]) -> Result<()> {
        let len = bytes.len() as u64;
        if len < STAGED_UPLOAD_BYTES {
            self.ctx.queue().write_buffer(dst.buffer(), 0, bytes);
            return Ok(());
        }
        // Copies move multiples of 4 bytes; pooled sizes are rounded up.
        let size = len.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let staging = self.buffer(
            size,
            wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            &format!("upload of frame {}", self.label),
        )?;
        // A pooled buffer is idle (no queued work uses it): it maps on the
        // next poll.
        let (tx, rx) = mpsc::channel();
        staging
            .buffer()
            .map_async(wgpu::MapMode::Write, .., move |r| {
                let _ = tx.send(r);
            });
        let mapped = match wait_for_map(self.ctx, &rx) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the map callback did not run".to_owned()),
        };
        if let Err(message) = mapped {
            staging.discard();
            return Err(GpuError::Internal {
                what: format!("mapping an upload buffer of frame {}", self.label),
                message,
            });
        }
        // Disjoint views, one per chunk, written in parallel.
        let buffer = staging.buffer();
        let filled = bytes
            .par_chunks(UPLOAD_CHUNK)
            .enumerate()
            .try_for_each(|(k, chunk)| {
                let at = (k * UPLOAD_CHUNK) as u64;
                let mut view = buffer
                    .slice(at..at + chunk.len() as u64)
                    .get_mapped_range_mut()
                    .map_err(|e| e.to_string())?;
                view.copy_from_slice(chunk);
                Ok::<_, String>(())
            });
        // Every view is gone here; a failed fill leaves no mapped buffer in
        // the pool.
        buffer.unmap();
        if let Err(message) = filled {
            staging.discard();
            return Err(GpuError::Internal {
                what: format!("filling an upload buffer of frame {}", self.label),
                message,
            });
        }
        self.encoder
            .copy_buffer_to_buffer(buffer, 0, dst.buffer(), 0, size.min(dst.size()));
        Ok(())
    }

    /// A uniform buffer holding `value` (a `Gpu<Op>Params`), kept until the
    /// frame completes. Each call gets its own buffer, so several dispatches
    /// of one frame can use different parameters.
    ///
    /// # Errors
    /// [`GpuError::OutOfMemory`].
    pub fn uniform<T: bytemuck::Pod>(&mut self, value: &T) -> Result<Arc<GpuBuffer>> {
        let bytes = bytemuck::bytes_of(value);
        let buffer = self.buffer(
            bytes.len() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            std::any::type_name::<T>(),
        )?;
        self.ctx.queue().write_buffer(buffer.buffer(), 0, bytes);
        Ok(buffer)
    }

    /// Records one compute pass: `kernel` with `bindings` as group 0
    /// (binding `i` = `bindings[i]`, whole buffers) over `grid` workgroups.
    /// The buffers are kept until the frame completes.
    ///
    /// # Errors
    /// [`GpuError::Validation`] if the bindings do not match the kernel's
    /// spec, [`GpuError::Limits`] if the grid exceeds the device's.
    pub fn dispatch(
        &mut self,
        kernel: &Kernel,
        bindings: &[&Arc<GpuBuffer>],
        grid: [u32; 3],
    ) -> Result<()> {
        let bind_group = self.bind_group(kernel, bindings)?;
        self.dispatch_batch(
            kernel.spec().label,
            &[Dispatch {
                kernel,
                bind_group: &bind_group,
                grid,
            }],
        )
    }

    /// Group 0 of `kernel` over `bindings` (binding `i` = `bindings[i]`,
    /// whole buffers), for [`Frame::dispatch_batch`]: an iterative op binds
    /// once and dispatches the same bind group many times. The buffers are
    /// kept until the frame completes.
    ///
    /// # Errors
    /// [`GpuError::Validation`] if the bindings do not match the kernel's
    /// spec.
    pub fn bind_group(
        &mut self,
        kernel: &Kernel,
        bindings: &[&Arc<GpuBuffer>],
    ) -> Result<wgpu::BindGroup> {
        let spec = kernel.spec();
        if bindings.len() != spec.bindings.len() {
            return Err(GpuError::Validation {
                what: format!("frame {} dispatching {}", self.label, spec.label),
                message: format!(
                    "{} bindings given, the kernel declares {}",
                    bindings.len(),
                    spec.bindings.len()
                ),
            });
        }
        let entries: Vec<wgpu::BindGroupEntry<'_>> = bindings
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.buffer().as_entire_binding(),
            })
            .collect();
        let scopes = ErrorScopes::push(
            self.ctx.device(),
            format!("frame {} binding {}", self.label, spec.label),
        );
        let bind_group = self
            .ctx
            .device()
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(spec.label),
                layout: kernel.bind_group_layout(),
                entries: &entries,
            });
        scopes.check()?;
        for b in bindings {
            self.keep(b);
        }
        Ok(bind_group)
    }

    /// Records `dispatches` in order into one compute pass (timed as one
    /// pass named `label` under [`Frame::enable_timing`]). Each dispatch
    /// sees the storage writes of the ones before it (WebGPU makes every
    /// dispatch its own usage scope; wgpu inserts the barriers), so a
    /// multi-pass op saves the per-pass overhead without changing results.
    ///
    /// # Errors
    /// [`GpuError::Limits`] if a grid exceeds the device's.
    pub fn dispatch_batch(
        &mut self,
        label: &'static str,
        dispatches: &[Dispatch<'_>],
    ) -> Result<()> {
        let max = self.ctx.limits().max_compute_workgroups_per_dimension;
        for d in dispatches {
            if let Some(&n) = d.grid.iter().find(|&&n| n > max) {
                return Err(GpuError::Limits {
                    what: format!(
                        "{} dispatch of {:?} workgroups",
                        d.kernel.spec().label,
                        d.grid
                    ),
                    needed: n as u64,
                    limit: max as u64,
                    limit_name: "max_compute_workgroups_per_dimension",
                    adapter: self.ctx.adapter_info().name.clone(),
                });
            }
        }
        if dispatches.is_empty() {
            return Ok(());
        }
        let timestamp_writes = match &mut self.timing {
            Some(t) if (t.labels.len() as u32) < MAX_TIMED_PASSES => {
                let first = 2 * t.labels.len() as u32;
                t.labels.push(label);
                Some(wgpu::ComputePassTimestampWrites {
                    query_set: &t.query_set,
                    beginning_of_pass_write_index: Some(first),
                    end_of_pass_write_index: Some(first + 1),
                })
            }
            _ => None,
        };
        let mut pass = self
            .encoder
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes,
            });
        for d in dispatches {
            pass.set_pipeline(d.kernel.pipeline());
            pass.set_bind_group(0, d.bind_group, &[]);
            pass.dispatch_workgroups(d.grid[0], d.grid[1], d.grid[2]);
        }
        Ok(())
    }

    /// [`Frame::dispatch`] over `count` elements, one invocation each, laid
    /// out by [`linear_grid`] (shaders use `common/index.wgsl`).
    ///
    /// # Errors
    /// As [`Frame::dispatch`].
    pub fn dispatch_linear(
        &mut self,
        kernel: &Kernel,
        bindings: &[&Arc<GpuBuffer>],
        count: u64,
    ) -> Result<()> {
        let size = kernel.spec().invocations();
        let grid =
            linear_grid(count, size, self.ctx.max_workgroups_per_dimension()).ok_or_else(|| {
                GpuError::Limits {
                    what: format!("{} over {count} elements", kernel.spec().label),
                    needed: count,
                    limit: (self.ctx.max_workgroups_per_dimension() as u64).pow(2) * size as u64,
                    limit_name: "max_compute_workgroups_per_dimension squared",
                    adapter: self.ctx.adapter_info().name.clone(),
                }
            })?;
        self.dispatch(kernel, bindings, grid)
    }

    /// Submits the frame and waits for it, without reading anything back
    /// (results stay on the device in [`GpuImage`]s).
    ///
    /// # Errors
    /// Any error the frame's work raised.
    pub fn finish(self) -> Result<()> {
        self.submit_and_wait(None).map(|_| ())
    }

    /// Submits the frame, waits, and returns the GPU time of each timed
    /// pass (empty unless [`Frame::enable_timing`] succeeded).
    ///
    /// # Errors
    /// Any error the frame's work raised.
    pub fn finish_timed(mut self) -> Result<Vec<PassTiming>> {
        let Some(timing) = self.timing.take() else {
            self.finish()?;
            return Ok(Vec::new());
        };
        let queries = 2 * timing.labels.len() as u32;
        if queries == 0 {
            self.finish()?;
            return Ok(Vec::new());
        }
        let bytes = queries as u64 * wgpu::QUERY_SIZE as u64;
        let resolve = self.buffer(
            bytes,
            wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            "timestamp resolve",
        )?;
        let staging = self.buffer(
            bytes,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            "timestamp read-back",
        )?;
        self.encoder
            .resolve_query_set(&timing.query_set, 0..queries, resolve.buffer(), 0);
        self.encoder
            .copy_buffer_to_buffer(resolve.buffer(), 0, staging.buffer(), 0, bytes);
        let period_ns = self.ctx.queue().get_timestamp_period() as f64;
        if let Err(e) = self.submit_and_wait(Some(&staging)) {
            staging.discard();
            return Err(e);
        }
        let view = staging
            .buffer()
            .get_mapped_range(..)
            .map_err(|e| GpuError::Readback {
                what: "timestamps".to_owned(),
                message: e.to_string(),
            });
        let view = match view {
            Ok(view) => view,
            Err(e) => {
                staging.discard();
                return Err(e);
            }
        };
        let mut ticks = vec![0u64; queries as usize];
        bytemuck::cast_slice_mut::<u64, u8>(&mut ticks).copy_from_slice(&view);
        drop(view);
        staging.buffer().unmap();
        Ok(timing
            .labels
            .iter()
            .zip(ticks.chunks_exact(2))
            .map(|(label, t)| PassTiming {
                label,
                duration: Duration::from_nanos(
                    (t[1].saturating_sub(t[0]) as f64 * period_ns) as u64,
                ),
            })
            .collect())
    }

    /// Submits the frame, waits, and reads `image` back.
    ///
    /// # Errors
    /// Any error the frame's work raised; no image is returned then.
    pub fn read(self, image: &GpuImage) -> Result<Image> {
        let mut images = self.read_all(&[image])?;
        Ok(images.remove(0))
    }

    /// Submits the frame, waits, and reads several images back through one
    /// staging buffer and one map.
    ///
    /// # Errors
    /// Any error the frame's work raised; no image is returned then.
    pub fn read_all(self, images: &[&GpuImage]) -> Result<Vec<Image>> {
        let buffers: Vec<&Arc<GpuBuffer>> = images.iter().flat_map(|i| i.buffers()).collect();
        self.read_back(&buffers, |bytes| {
            let mut offset = 0usize;
            let mut take = |n: usize| {
                let slice = &bytes[offset..offset + n];
                offset += n;
                slice
            };
            images
                .iter()
                .map(|image| {
                    let n = image.pixel_count() as usize;
                    let rgba_len = image.rgba.size() as usize;
                    let pixels = decode_samples(&take(rgba_len)[..n * RGBA_BYTES as usize]);
                    let planes = image
                        .planes
                        .iter()
                        .map(|p| {
                            decode_samples(&take(p.size() as usize)[..n * PLANE_BYTES as usize])
                        })
                        .collect();
                    image.header.to_image(pixels, planes)
                })
                .collect()
        })
    }

    /// Submits the frame, waits, and reads whole buffers back as f32 samples
    /// (one staging buffer, one map), for results that are not images: flow
    /// vectors, occlusion planes, per-pass traces. Each vector has the
    /// buffer's [`GpuBuffer::size`] / 4 samples (pooled sizes are rounded up
    /// to 4 bytes, so callers truncate to what they wrote).
    ///
    /// # Errors
    /// Any error the frame's work raised; nothing is returned then.
    pub fn read_buffers(self, buffers: &[&Arc<GpuBuffer>]) -> Result<Vec<Vec<f32>>> {
        self.read_back(buffers, |bytes| {
            let mut offset = 0usize;
            buffers
                .iter()
                .map(|b| {
                    let n = b.size() as usize;
                    let samples = decode_samples(&bytes[offset..offset + n]);
                    offset += n;
                    samples
                })
                .collect()
        })
    }

    /// The one read-back path: copies `buffers` back to back into one
    /// staging buffer, submits, waits, maps, and hands the bytes to
    /// `decode`. On any error the staging buffer is discarded and nothing
    /// is decoded.
    fn read_back<T>(
        mut self,
        buffers: &[&Arc<GpuBuffer>],
        decode: impl FnOnce(&[u8]) -> T,
    ) -> Result<T> {
        let total: u64 = buffers.iter().map(|b| b.size()).sum();
        let staging = self.buffer(
            total,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            &format!("read-back of frame {}", self.label),
        )?;
        let mut offset = 0;
        for buffer in buffers {
            self.encoder.copy_buffer_to_buffer(
                buffer.buffer(),
                0,
                staging.buffer(),
                offset,
                buffer.size(),
            );
            offset += buffer.size();
            self.keep.push(Arc::clone(buffer));
        }
        let view = match self.submit_and_wait(Some(&staging)) {
            Ok(()) => staging
                .buffer()
                .get_mapped_range(..)
                .map_err(|e| GpuError::Readback {
                    what: "read-back".to_owned(),
                    message: e.to_string(),
                }),
            Err(e) => Err(e),
        };
        let view = match view {
            Ok(view) => view,
            Err(e) => {
                staging.discard();
                return Err(e);
            }
        };
        let out = decode(&view);
        drop(view);
        staging.buffer().unmap();
        Ok(out)
    }

    /// Submits, maps `staging` (if any), waits for this submission, then
    /// checks the error scopes, the device and the map, in that order.
    fn submit_and_wait(self, staging: Option<&Arc<GpuBuffer>>) -> Result<()> {
        let Frame {
            ctx,
            label,
            encoder,
            keep,
            timing: _,
        } = self;
        // Recording errors (bad passes, copies) surface at `finish`, resource
        // and execution errors at `submit`: both inside these scopes.
        let scopes = ErrorScopes::push(ctx.device(), format!("frame {label}"));
        let index = ctx.queue().submit([encoder.finish()]);
        let (tx, rx) = mpsc::channel();
        if let Some(staging) = staging {
            staging
                .buffer()
                .map_async(wgpu::MapMode::Read, .., move |r| {
                    let _ = tx.send(r);
                });
        }
        let submitted = scopes.check();
        let polled = ctx.device().poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        });
        submitted?;
        ctx.check_alive()?;
        if let Err(e) = polled {
            // A refused submission (e.g. on a destroyed device) shows up only
            // here. One more poll lets wgpu run the device-lost callback.
            let _ = ctx.device().poll(wgpu::PollType::Poll);
            ctx.check_alive()?;
            return Err(GpuError::Internal {
                what: format!("waiting for frame {label}"),
                message: format!("{e} (the device refused the submission)"),
            });
        }
        if staging.is_some() {
            match wait_for_map(ctx, &rx) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(GpuError::Readback {
                        what: format!("frame {label}"),
                        message: e.to_string(),
                    });
                }
                Err(_) => {
                    return Err(GpuError::Readback {
                        what: format!("frame {label}"),
                        message: format!(
                            "the map callback did not run within {} s of the wait",
                            MAP_CALLBACK_TIMEOUT.as_secs()
                        ),
                    });
                }
            }
        }
        drop(keep);
        Ok(())
    }
}

/// `bytes` (a mapped read-back range) as a new `Vec<T>`, collected by all of
/// rayon's threads straight into the new allocation: no zero-fill, and the
/// pages of a large result fault in on every thread rather than one (4K
/// RGBA f32 on an H100 host: 96.6 ms copied on one thread into a fresh
/// `Vec`, 10.0 ms on 16; `gpu_transfer` example).
fn decode_samples<T: bytemuck::Pod + Send + Sync>(bytes: &[u8]) -> Vec<T> {
    let n = bytes.len() / std::mem::size_of::<T>();
    let bytes = &bytes[..n * std::mem::size_of::<T>()];
    match bytemuck::try_cast_slice::<u8, T>(bytes) {
        Ok(samples) => samples
            .par_iter()
            .with_min_len(UPLOAD_CHUNK / std::mem::size_of::<T>().max(1))
            .copied()
            .collect(),
        // A mapping is aligned far beyond any T here; kept for safety.
        Err(_) => bytes
            .chunks_exact(std::mem::size_of::<T>())
            .map(bytemuck::pod_read_unaligned)
            .collect(),
    }
}

/// How long a read-back waits for its map callback after the submission
/// completed. The callback normally ran inside our own `poll`; this only
/// covers another thread's `poll` running it concurrently.
const MAP_CALLBACK_TIMEOUT: Duration = Duration::from_secs(30);

/// The result of a staging buffer's `map_async` callback.
///
/// wgpu runs map callbacks in whichever thread polls the device: when several
/// threads render frames on one context (parallel tests, a worker's frame
/// pool), another thread's `poll` may be running our callback at the moment
/// our own `Wait` returns, so an empty channel right after the wait is not a
/// failure. Keep polling briefly until the callback delivers.
fn wait_for_map(
    ctx: &GpuContext,
    rx: &mpsc::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
) -> std::result::Result<std::result::Result<(), wgpu::BufferAsyncError>, mpsc::RecvTimeoutError> {
    if let Ok(r) = rx.try_recv() {
        return Ok(r);
    }
    let start = std::time::Instant::now();
    loop {
        let _ = ctx.device().poll(wgpu::PollType::Poll);
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(r) => return Ok(r),
            Err(mpsc::RecvTimeoutError::Timeout) if start.elapsed() < MAP_CALLBACK_TIMEOUT => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_grid_wraps_rows() {
        assert_eq!(linear_grid(1, 256, 65535), Some([1, 1, 1]));
        assert_eq!(linear_grid(256, 256, 65535), Some([1, 1, 1]));
        assert_eq!(linear_grid(257, 256, 65535), Some([2, 1, 1]));
        // 3840x2160 pixels: 32400 groups fit one row.
        assert_eq!(linear_grid(3840 * 2160, 256, 65535), Some([32400, 1, 1]));
        // 2^28 pixels need 2^20 groups: 17 rows of 65535.
        assert_eq!(linear_grid(1 << 28, 256, 65535), Some([65535, 17, 1]));
        assert_eq!(linear_grid(100, 10, 4), Some([4, 3, 1]));
        assert_eq!(linear_grid(100, 1, 3), None);
    }
}
