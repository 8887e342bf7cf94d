// stmap.wgsl — the STMap node (SPEC §3) on an RGBA image: the Front's RGBA
// (alpha included), or the Matte's. One invocation per output (= STMap)
// pixel, the per-pixel code of common/stmap.wgsl.
// Twin of crates/morph-core/src/ops/stmap/ (the specification) and
// crates/morph-gpu/src/ops/stmap.rs (the dispatch); stmap_plane.wgsl does
// the same for extra-channel planes.
//
// Bindings, group 0:
//   0: uniform GpuStMapParams (common/stmap.wgsl)
//   1: storage, read        source  array<vec4<f32>>, src_width x src_height
//   2: storage, read        STMap   array<vec4<f32>>, map_width x map_height (R = s, G = t)
//   3: storage, read_write  result  array<vec4<f32>>, map_width x map_height
// Entry point `rgba`, workgroup size 8 x 8, grid ceil(map_width / 8) x ceil(map_height / 8).

//!include common/stmap.wgsl

@group(0) @binding(0) var<uniform> params: GpuStMapParams;
@group(0) @binding(1) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> st_map: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> result: array<vec4<f32>>;

fn fetch(idx: u32) -> vec4<f32> {
    return source[idx];
}

@compute @workgroup_size(8, 8)
fn rgba(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.map_width || id.y >= params.map_height {
        return;
    }
    result[id.y * params.map_width + id.x] = shade(id.x, id.y);
}
