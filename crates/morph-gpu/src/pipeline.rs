//! Compute kernels: what an op declares ([`KernelSpec`]) and the cache that
//! turns it into a wgpu pipeline once per (shader, entry point, override
//! constants) for the life of a [`crate::GpuContext`].
//!
//! Every kernel uses one bind group (group 0) whose bindings are listed in
//! the spec in binding order, so the bind group layout is explicit (not
//! reflected) and a mismatch with the WGSL is caught by the shader test and by
//! wgpu's validation at pipeline creation.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::context::ErrorScopes;
use crate::error::Result;
use crate::shaders::Shader;

/// How a kernel uses one binding of group 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindingKind {
    /// `var<uniform>`: a `Gpu<Op>Params` struct.
    Uniform,
    /// `var<storage, read>`: an input image or plane.
    StorageRead,
    /// `var<storage, read_write>`: an output image or plane.
    StorageReadWrite,
}

impl BindingKind {
    fn layout_entry(self, binding: u32) -> wgpu::BindGroupLayoutEntry {
        let ty = match self {
            BindingKind::Uniform => wgpu::BufferBindingType::Uniform,
            BindingKind::StorageRead => wgpu::BufferBindingType::Storage { read_only: true },
            BindingKind::StorageReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
        };
        wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }
    }
}

/// A compute entry point as an op declares it, usually as a `static`.
#[derive(Clone, Copy, Debug)]
pub struct KernelSpec {
    /// Debug label, `<op>.<entry point>`.
    pub label: &'static str,
    /// The module ([`crate::shaders`]).
    pub shader: Shader,
    /// `@compute` function name.
    pub entry_point: &'static str,
    /// `@workgroup_size` of the entry point (checked against the WGSL by a test).
    pub workgroup_size: [u32; 3],
    /// Group 0's bindings, in binding order 0, 1, 2, ...
    pub bindings: &'static [BindingKind],
}

impl KernelSpec {
    /// Invocations per workgroup.
    pub fn invocations(&self) -> u32 {
        self.workgroup_size.iter().product()
    }
}

/// A compiled kernel: pipeline plus its bind group layout.
#[derive(Debug)]
pub struct Kernel {
    pub(crate) spec: &'static KernelSpec,
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

impl Kernel {
    /// The spec it was built from.
    pub fn spec(&self) -> &'static KernelSpec {
        self.spec
    }

    /// The wgpu pipeline.
    pub fn pipeline(&self) -> &wgpu::ComputePipeline {
        &self.pipeline
    }

    /// The layout of group 0.
    pub fn bind_group_layout(&self) -> &wgpu::BindGroupLayout {
        &self.layout
    }
}

/// Cache key: shader, entry point and override constants (as bit patterns,
/// so the key is `Eq + Hash`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PipelineKey {
    shader: &'static str,
    entry_point: &'static str,
    constants: Vec<(&'static str, u64)>,
}

/// Shader modules and compute pipelines, created once and shared.
#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<Kernel>>>,
}

impl PipelineCache {
    /// The cached kernel, or a new one. Creation runs inside its own error
    /// scopes so a bad shader is an error now and is never cached.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        spec: &'static KernelSpec,
        constants: &[(&'static str, f64)],
    ) -> Result<Arc<Kernel>> {
        let key = PipelineKey {
            shader: spec.shader.name,
            entry_point: spec.entry_point,
            constants: constants.iter().map(|(k, v)| (*k, v.to_bits())).collect(),
        };
        if let Some(kernel) = lock(&self.pipelines).get(&key) {
            return Ok(Arc::clone(kernel));
        }
        // Compiled outside the lock: two threads may race to build the same
        // pipeline; the loser's copy is dropped.
        let module = self.module(device, spec.shader)?;
        let scopes = ErrorScopes::push(device, format!("creating pipeline {}", spec.label));
        let entries: Vec<wgpu::BindGroupLayoutEntry> = spec
            .bindings
            .iter()
            .enumerate()
            .map(|(i, kind)| kind.layout_entry(i as u32))
            .collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(spec.label),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(spec.label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(spec.label),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(spec.entry_point),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                zero_initialize_workgroup_memory: true,
            },
            cache: None,
        });
        scopes.check()?;
        let kernel = Arc::new(Kernel {
            spec,
            pipeline,
            layout,
        });
        Ok(Arc::clone(
            lock(&self.pipelines).entry(key).or_insert(kernel),
        ))
    }

    /// The shader module for `shader`, created on first use.
    fn module(&self, device: &wgpu::Device, shader: Shader) -> Result<wgpu::ShaderModule> {
        if let Some(module) = lock(&self.modules).get(shader.name) {
            return Ok(module.clone());
        }
        let scopes = ErrorScopes::push(device, format!("compiling shaders/{}.wgsl", shader.name));
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(shader.name),
            source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(shader.source)),
        });
        scopes.check()?;
        Ok(lock(&self.modules)
            .entry(shader.name)
            .or_insert(module)
            .clone())
    }
}

/// Locks a mutex, ignoring poisoning (the maps stay consistent: entries are
/// inserted whole).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
