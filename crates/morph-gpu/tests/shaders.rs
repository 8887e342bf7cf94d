//! Every shader validates, and the Rust side agrees with the WGSL side:
//! uniform struct sizes and field offsets (`Gpu<Op>Params` vs naga's
//! layout), kernel entry points, workgroup sizes and bindings. When an
//! adapter exists, every kernel is also compiled into a pipeline.

use std::collections::BTreeMap;

use morph_gpu::pipeline::BindingKind;
use morph_gpu::shaders::{self, Shader};
use morph_gpu::{GpuContext, ops};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};

/// Parses and validates like `build.rs` does.
fn module(shader: &Shader) -> (naga::Module, ModuleInfo) {
    let module = naga::front::wgsl::parse_str(shader.source)
        .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
    let caps = Capabilities::default() | Capabilities::SHADER_FLOAT16;
    let info = Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
    (module, info)
}

#[test]
fn every_shader_validates_and_has_a_header() {
    assert!(!shaders::ALL.is_empty());
    for shader in shaders::ALL {
        module(shader);
        assert!(
            shader.source.starts_with("//"),
            "shaders/{}.wgsl must start with a comment listing bindings and workgroup size",
            shader.name
        );
        assert!(
            !shader.source.contains("//!include"),
            "{}: includes are resolved at build time",
            shader.name
        );
    }
}

#[test]
fn uniform_structs_match_their_rust_twins() {
    for layout in shaders::UNIFORM_LAYOUTS {
        let (module, _) = module(&layout.shader);
        let (members, span) = module
            .types
            .iter()
            .find_map(|(_, ty)| match (&ty.name, &ty.inner) {
                (Some(name), naga::TypeInner::Struct { members, span }) if name == layout.name => {
                    Some((members.clone(), *span))
                }
                _ => None,
            })
            .unwrap_or_else(|| {
                panic!(
                    "struct {} not found in shaders/{}.wgsl",
                    layout.name, layout.shader.name
                )
            });
        assert_eq!(
            span as usize, layout.size,
            "{}: WGSL size {span} != Rust size {} (keep in sync with shaders/{}.wgsl)",
            layout.name, layout.size, layout.shader.name
        );
        let wgsl: BTreeMap<String, u32> = members
            .iter()
            .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
            .collect();
        let rust: BTreeMap<String, u32> = layout
            .fields
            .iter()
            .map(|(name, offset)| (name.to_string(), *offset as u32))
            .collect();
        assert_eq!(
            wgsl, rust,
            "{}: field names and offsets differ",
            layout.name
        );
    }
}

#[test]
fn every_gpu_struct_in_wgsl_is_registered() {
    for shader in shaders::ALL {
        let (module, _) = module(shader);
        for (_, ty) in module.types.iter() {
            if let (Some(name), naga::TypeInner::Struct { .. }) = (&ty.name, &ty.inner)
                && name.starts_with("Gpu")
            {
                assert!(
                    shaders::UNIFORM_LAYOUTS
                        .iter()
                        .any(|l| l.name == name && l.shader.name == shader.name),
                    "shaders/{}.wgsl declares {name}: add it to shaders::UNIFORM_LAYOUTS",
                    shader.name
                );
            }
        }
    }
}

#[test]
fn kernels_match_their_entry_points() {
    for spec in ops::KERNELS {
        let (module, info) = module(&spec.shader);
        let (index, entry) = module
            .entry_points
            .iter()
            .enumerate()
            .find(|(_, e)| e.name == spec.entry_point)
            .unwrap_or_else(|| panic!("{}: no entry point {}", spec.label, spec.entry_point));
        assert_eq!(entry.stage, naga::ShaderStage::Compute, "{}", spec.label);
        assert_eq!(
            entry.workgroup_size, spec.workgroup_size,
            "{}: workgroup size",
            spec.label
        );
        let uses = info.get_entry_point(index);
        let mut bound: BTreeMap<u32, BindingKind> = BTreeMap::new();
        for (handle, var) in module.global_variables.iter() {
            let Some(binding) = &var.binding else {
                continue;
            };
            if uses[handle].is_empty() {
                continue;
            }
            assert_eq!(binding.group, 0, "{}: only group 0 is used", spec.label);
            let kind = match var.space {
                naga::AddressSpace::Uniform => BindingKind::Uniform,
                naga::AddressSpace::Storage { access }
                    if access.contains(naga::StorageAccess::STORE) =>
                {
                    BindingKind::StorageReadWrite
                }
                naga::AddressSpace::Storage { .. } => BindingKind::StorageRead,
                other => panic!("{}: unsupported binding space {other:?}", spec.label),
            };
            bound.insert(binding.binding, kind);
        }
        let declared: BTreeMap<u32, BindingKind> = spec
            .bindings
            .iter()
            .enumerate()
            .map(|(i, k)| (i as u32, *k))
            .collect();
        assert_eq!(
            bound, declared,
            "{}: bindings used by the entry point vs KernelSpec",
            spec.label
        );
    }
}

#[test]
fn every_kernel_compiles_on_the_device() {
    let ctx = match GpuContext::shared_for_tests() {
        Ok(ctx) => ctx,
        Err(e) => return morph_core::test_support::no_gpu::<()>(e).unwrap_or(()),
    };
    for spec in ops::KERNELS {
        let kernel = ctx
            .kernel(spec, &[])
            .unwrap_or_else(|e| panic!("{}: {e}", spec.label));
        let again = ctx.kernel(spec, &[]).unwrap();
        assert!(
            std::sync::Arc::ptr_eq(&kernel, &again),
            "{}: cached",
            spec.label
        );
    }
}
