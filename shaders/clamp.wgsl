// clamp.wgsl — the Clamp node (SPEC §5): every sample, alpha and extra
// channels included, clamped to [min_value, max_value], each bound switchable.
// Twin of crates/morph-core/src/ops/clamp.rs (`clamp_sample`, the
// specification) and crates/morph-gpu/src/ops/clamp.rs (the dispatch).
//
// NaN rule (same as the CPU): NaN -> min_value if min_clamp, else max_value if
// max_clamp, else NaN passes through. +-inf clamp like any number.
//
// Samples are handled as bit patterns (`u32`) and compared through
// `order_key` (common/float.wgsl), never as floats: GPUs may flush subnormals
// in float compares and selects, and the result must be bit-identical to
// the CPU's (no arithmetic is done).
//
// Bindings, group 0 (both entry points):
//   0: uniform GpuClampParams
//   1: storage, read        source   (rgba: array<vec4<u32>>, plane: array<u32>; f32 bits)
//   2: storage, read_write  result   (same layout as the source)
// Entry points, workgroup size 256 (1D, over a 2D grid; common/index.wgsl):
//   rgba  — one invocation per RGBA pixel, `count` = pixels
//   plane — one invocation per sample of an extra-channel plane, `count` = samples

//!include common/index.wgsl
//!include common/float.wgsl

const WORKGROUP_SIZE: u32 = 256u;

// Keep in sync with `GpuClampParams` in crates/morph-gpu/src/ops/clamp.rs.
struct GpuClampParams {
    min_value: f32,
    max_value: f32,
    // 1 = apply the lower bound, 0 = off.
    min_clamp: u32,
    // 1 = apply the upper bound, 0 = off.
    max_clamp: u32,
    // Number of elements (pixels for `rgba`, samples for `plane`).
    count: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: GpuClampParams;
// The image buffers hold f32 (array<vec4<f32>> elsewhere); read as bits here.
@group(0) @binding(1) var<storage, read> src_rgba: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> dst_rgba: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> src_plane: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst_plane: array<u32>;

// `clamp_sample` of the CPU for four samples, on bit patterns, in the same
// order of steps.
fn clamp_samples(v: vec4<u32>) -> vec4<u32> {
    let lo = vec4<u32>(bitcast<u32>(params.min_value));
    let hi = vec4<u32>(bitcast<u32>(params.max_value));
    let nan = is_nan_bits4(v);
    var out = v;
    if params.min_clamp != 0u {
        out = select(out, lo, !nan & (order_key4(out) < order_key4(lo)));
    }
    if params.max_clamp != 0u {
        out = select(out, hi, !nan & (order_key4(out) > order_key4(hi)));
    }
    if params.min_clamp != 0u {
        out = select(out, lo, nan);
    } else if params.max_clamp != 0u {
        out = select(out, hi, nan);
    }
    return out;
}

@compute @workgroup_size(256)
fn rgba(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    if i >= params.count {
        return;
    }
    dst_rgba[i] = clamp_samples(src_rgba[i]);
}

@compute @workgroup_size(256)
fn plane(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    if i >= params.count {
        return;
    }
    dst_plane[i] = clamp_samples(vec4<u32>(src_plane[i])).x;
}
