// motion_blur.wgsl — motion blur along motion vectors (SPEC §2, issue #6)
// on the RGBA pixels, alpha included: one invocation per output pixel
// running the per-pixel code of common/motion_blur.wgsl.
// Twin of crates/morph-core/src/ops/motion_blur/ (the specification) and
// crates/morph-gpu/src/ops/motion_blur.rs (the dispatch);
// motion_blur_plane.wgsl does the same for extra-channel planes, and
// motion_blur_tiles.wgsl computes `tiles` first.
//
// Bindings, group 0:
//   0: uniform GpuMotionBlurParams (common/motion_blur.wgsl)
//   1: storage, read        frame      array<vec4<f32>>, width x height
//   2: storage, read        previous   array<vec4<f32>> (the frame again when absent)
//   3: storage, read        next       array<vec4<f32>> (the frame again when absent)
//   4: storage, read        forward    array<vec2<f32>>, width x height
//   5: storage, read        backward   array<vec2<f32>>, width x height
//   6: storage, read        tiles      array<vec4<f32>>, 2 x tiles_x x tiles_y
//   7: storage, read        occlusion  array<vec2<f32>> (forward, backward), or one dummy element
//   8: storage, read_write  result     array<vec4<f32>>, width x height
// Entry point `rgba`, workgroup size 8 x 8, grid ceil(width / 8) x ceil(height / 8).

//!include common/motion_blur.wgsl

@group(0) @binding(0) var<uniform> params: GpuMotionBlurParams;
@group(0) @binding(1) var<storage, read> frame: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> previous: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> next: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> forward: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> backward: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read> tiles: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> occlusion: array<vec2<f32>>;
@group(0) @binding(8) var<storage, read_write> result: array<vec4<f32>>;

fn fetch(source: u32, idx: u32) -> vec4<f32> {
    if source == 1u {
        return previous[idx];
    }
    if source == 2u {
        return next[idx];
    }
    return frame[idx];
}

@compute @workgroup_size(8, 8)
fn rgba(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    result[id.y * params.width + id.x] = shade(id.x, id.y);
}
