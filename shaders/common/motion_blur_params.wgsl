// common/motion_blur_params.wgsl — the uniform of every motion-blur kernel
// (motion_blur.wgsl, motion_blur_plane.wgsl, motion_blur_tiles.wgsl).
// No bindings.

// Keep in sync with `GpuMotionBlurParams` in crates/morph-gpu/src/ops/motion_blur.rs.
struct GpuMotionBlurParams {
    width: u32,
    height: u32,
    tiles_x: u32,
    tiles_y: u32,
    tile_radius: u32,
    samples: u32,
    // 1 previous frame, 2 next frame, 4 forward occlusion, 8 backward occlusion
    // (FLAG_* in common/motion_blur.wgsl).
    flags: u32,
    _pad0: u32,
    // Reference vectors subtracted from every vector: forward in .xy,
    // backward in .zw.
    reference: vec4<f32>,
    inv_samples: f32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
    // Tap times (MotionBlurParams::tap_offsets), 4 per vec4, `samples` used.
    taps: array<vec4<f32>, 7>,
}
