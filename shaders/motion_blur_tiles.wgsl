// motion_blur_tiles.wgsl — the two tile passes of the motion blur (SPEC §2,
// issue #6) before motion_blur.wgsl: per 16 x 16 tile the longest and
// shortest vector (reference subtracted), then per tile the longest maximum
// and shortest minimum over its neighbourhood of (2 tile_radius + 1)^2
// tiles. Twin of `tile_extremes` and `neighbourhood_extremes` in
// crates/morph-core/src/ops/motion_blur/ (same scan order, strict
// comparisons) and crates/morph-gpu/src/ops/motion_blur.rs.
//
// Bindings, group 0:
//   tiles:
//     0: uniform GpuMotionBlurParams (common/motion_blur.wgsl)
//     1: storage, read        forward   array<vec2<f32>>, width x height
//     2: storage, read        backward  array<vec2<f32>>, width x height
//     3: storage, read_write  extremes  array<vec4<f32>>, 2 x tiles: (max.xy, min.xy), forward then backward
//   neighbours:
//     0: uniform GpuMotionBlurParams
//     1: storage, read        extremes       (as written by `tiles`)
//     2: storage, read_write  neighbourhood  array<vec4<f32>>, same layout
// Entry points, workgroup size 64 (1D, over a 2D grid; common/index.wgsl):
//   tiles, neighbours — one invocation per (tile, direction), `2 x tiles` in all.

//!include common/index.wgsl
//!include common/motion_blur_params.wgsl

const WORKGROUP_SIZE: u32 = 64u;
const TILE: u32 = 16u;

@group(0) @binding(0) var<uniform> params: GpuMotionBlurParams;
@group(0) @binding(1) var<storage, read> forward: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> backward: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> extremes_out: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> extremes_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> neighbourhood: array<vec4<f32>>;

fn len2(v: vec2<f32>) -> f32 {
    return v.x * v.x + v.y * v.y;
}

@compute @workgroup_size(64)
fn tiles(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    let count = params.tiles_x * params.tiles_y;
    if i >= 2u * count {
        return;
    }
    let fwd = i < count;
    let r = select(params.reference.zw, params.reference.xy, fwd);
    let t = i % count;
    let tx = t % params.tiles_x;
    let ty = t / params.tiles_x;
    let x_end = min((tx + 1u) * TILE, params.width);
    let y_end = min((ty + 1u) * TILE, params.height);
    var max_v = vec2<f32>(0.0);
    var min_v = vec2<f32>(0.0);
    var max_l = -1.0;
    var min_l = 3.4028235e38;
    var first = true;
    for (var y = ty * TILE; y < y_end; y++) {
        for (var x = tx * TILE; x < x_end; x++) {
            let idx = y * params.width + x;
            var v = backward[idx];
            if fwd {
                v = forward[idx];
            }
            v = v - r;
            let l = len2(v);
            if l > max_l {
                max_l = l;
                max_v = v;
            }
            // The CPU starts min_l at +inf; the first pixel always replaces it.
            if first || l < min_l {
                min_l = l;
                min_v = v;
                first = false;
            }
        }
    }
    extremes_out[i] = vec4<f32>(max_v, min_v);
}

@compute @workgroup_size(64)
fn neighbours(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    let count = params.tiles_x * params.tiles_y;
    if i >= 2u * count {
        return;
    }
    let base = select(count, 0u, i < count);
    let t = i % count;
    let tx = i32(t % params.tiles_x);
    let ty = i32(t / params.tiles_x);
    let r = i32(params.tile_radius);
    var max_v = vec2<f32>(0.0);
    var min_v = vec2<f32>(0.0);
    var max_l = -1.0;
    var min_l = 3.4028235e38;
    var first = true;
    for (var ny = max(ty - r, 0); ny <= min(ty + r, i32(params.tiles_y) - 1); ny++) {
        for (var nx = max(tx - r, 0); nx <= min(tx + r, i32(params.tiles_x) - 1); nx++) {
            let e = extremes_in[base + u32(ny) * params.tiles_x + u32(nx)];
            let lm = len2(e.xy);
            if lm > max_l {
                max_l = lm;
                max_v = e.xy;
            }
            let ln = len2(e.zw);
            if first || ln < min_l {
                min_l = ln;
                min_v = e.zw;
                first = false;
            }
        }
    }
    neighbourhood[i] = vec4<f32>(max_v, min_v);
}
