// stmap_plane.wgsl — the STMap node (SPEC §3) on one extra-channel plane of
// the Front or the Matte: the same taps and weights as stmap.wgsl, applied
// to one f32 sample per pixel (carried in .x of the shared code's vec4).
// Twin of crates/morph-core/src/ops/stmap/ and crates/morph-gpu/src/ops/stmap.rs.
//
// Bindings, group 0:
//   0: uniform GpuStMapParams (common/stmap.wgsl)
//   1: storage, read        source plane  array<f32>, src_width x src_height
//   2: storage, read        STMap         array<vec4<f32>>, map_width x map_height
//   3: storage, read_write  result plane  array<f32>, map_width x map_height
// Entry point `plane`, workgroup size 8 x 8, grid ceil(map_width / 8) x ceil(map_height / 8).

//!include common/stmap.wgsl

@group(0) @binding(0) var<uniform> params: GpuStMapParams;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read> st_map: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;

fn fetch(idx: u32) -> vec4<f32> {
    return vec4<f32>(source[idx], 0.0, 0.0, 0.0);
}

@compute @workgroup_size(8, 8)
fn plane(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.map_width || id.y >= params.map_height {
        return;
    }
    result[id.y * params.map_width + id.x] = shade(id.x, id.y).x;
}
