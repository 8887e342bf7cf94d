// motion_blur_plane.wgsl — motion blur (SPEC §2, issue #6) on one
// extra-channel plane: the same taps and weights as motion_blur.wgsl,
// applied to one f32 sample per pixel (carried in .x of the shared code's
// vec4), so every channel blurs together.
// Twin of crates/morph-core/src/ops/motion_blur/ and
// crates/morph-gpu/src/ops/motion_blur.rs.
//
// Bindings, group 0:
//   0: uniform GpuMotionBlurParams (common/motion_blur.wgsl)
//   1: storage, read        frame plane     array<f32>, width x height
//   2: storage, read        previous plane  array<f32> (the frame's plane when absent)
//   3: storage, read        next plane      array<f32> (the frame's plane when absent)
//   4: storage, read        forward    array<vec2<f32>>, width x height
//   5: storage, read        backward   array<vec2<f32>>, width x height
//   6: storage, read        tiles      array<vec4<f32>>, 2 x tiles_x x tiles_y
//   7: storage, read        occlusion  array<vec2<f32>> (forward, backward), or one dummy element
//   8: storage, read_write  result plane    array<f32>, width x height
// Entry point `plane`, workgroup size 8 x 8, grid ceil(width / 8) x ceil(height / 8).

//!include common/motion_blur.wgsl

@group(0) @binding(0) var<uniform> params: GpuMotionBlurParams;
@group(0) @binding(1) var<storage, read> frame: array<f32>;
@group(0) @binding(2) var<storage, read> previous: array<f32>;
@group(0) @binding(3) var<storage, read> next: array<f32>;
@group(0) @binding(4) var<storage, read> forward: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> backward: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read> tiles: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> occlusion: array<vec2<f32>>;
@group(0) @binding(8) var<storage, read_write> result: array<f32>;

fn fetch(source: u32, idx: u32) -> vec4<f32> {
    if source == 1u {
        return vec4<f32>(previous[idx], 0.0, 0.0, 0.0);
    }
    if source == 2u {
        return vec4<f32>(next[idx], 0.0, 0.0, 0.0);
    }
    return vec4<f32>(frame[idx], 0.0, 0.0, 0.0);
}

@compute @workgroup_size(8, 8)
fn plane(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    result[id.y * params.width + id.x] = shade(id.x, id.y).x;
}
