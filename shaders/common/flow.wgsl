// common/flow.wgsl — the uniform every optical-flow kernel reads, and the
// sampling rules all passes share (crates/morph-core/src/ops/flow/plane.rs).
// No bindings.
//
// Index coordinates put the centre of pixel (i, j) at (i, j). Reads outside
// a plane clamp to the nearest edge pixel. "Bilinear" is plane.rs's rule:
// ix = floor(x), fx = x - ix, taps clamp(ix), clamp(ix + 1) (same in y),
// blended as lerp(lerp(a, b, fx), lerp(c, d, fx), fy) with
// lerp(a, b, f) = a + f * (b - a).

// Keep in sync with `GpuFlowParams` in crates/morph-gpu/src/ops/flow.rs.
// Constants are computed once in f32 on the CPU (so both backends use the
// same bits) and handed over here.
struct GpuFlowParams {
    // Size of the plane this pass writes (or the level it works on).
    width: u32,
    height: u32,
    // Size of the plane it reads when that differs (downscale, halve,
    // upsampling: the coarser or finer source).
    src_width: u32,
    src_height: u32,
    // Analysis divisor f (downscale, edge-aware upsampling).
    factor: u32,
    // 1: range-compress the luma (scene-linear float input).
    linear: u32,
    // Patch grid of the inverse search.
    patch_size: u32,
    stride: u32,
    nx: u32,
    ny: u32,
    // Gauss-Newton iterations per patch.
    iterations: u32,
    // Colour of a red-black sweep: 0 = red ((x + y) even), 1 = black.
    colour: u32,
    // Vector scale of an upsampling (2 between levels, f at the end).
    scale: f32,
    // 1 / (2r + 1)^2 of the local normalisation.
    inv_taps: f32,
    // eps^2 of the local normalisation.
    norm_eps2: f32,
    // 1 / sigma_e^2 of the edge weights.
    edge_inv: f32,
    // 1e-3 * patch^2, added to the Hessian's diagonal.
    hessian_reg: f32,
    // tau of the densification weights.
    tau: f32,
    // Smoothness weight alpha.
    alpha: f32,
    // Charbonnier eps^2 of the data and smoothness terms.
    eps_d2: f32,
    eps_s2: f32,
    // SOR over-relaxation factor.
    omega: f32,
    // 1 / (2 sigma_s^2) and 1 / (2 sigma_r^2) of the joint bilateral weights.
    inv_2ss: f32,
    inv_2sr: f32,
    // Spread below which the upsampling is bilinear, and the width of the
    // blend ramp above it (SPREAD_HIGH - SPREAD_LOW).
    spread_low: f32,
    spread_range: f32,
    // Forward-backward tolerance: absolute part and part per pixel of motion.
    cons_abs: f32,
    cons_rel: f32,
    // Fixed-point iterations of this level's refinement and SOR sweeps per
    // iteration (refine_level).
    outer: u32,
    inner: u32,
    // Pass 8b: lambda added to the structure tensor's diagonal, and the
    // largest step per component.
    polish_lambda: f32,
    polish_max_step: f32,
}

// Index clamped to 0 ..= n - 1.
fn clamp_index(i: i32, n: u32) -> u32 {
    return u32(clamp(i, 0, i32(n) - 1));
}

// Bilinear blend of four taps.
fn blend(a: f32, b: f32, c: f32, d: f32, fx: f32, fy: f32) -> f32 {
    let top = a + fx * (b - a);
    let bottom = c + fx * (d - c);
    return top + fy * (bottom - top);
}

// `blend` per component of two-component vectors.
fn blend2(a: vec2<f32>, b: vec2<f32>, c: vec2<f32>, d: vec2<f32>, fx: f32, fy: f32) -> vec2<f32> {
    return vec2<f32>(blend(a.x, b.x, c.x, d.x, fx, fy), blend(a.y, b.y, c.y, d.y, fx, fy));
}

// Bilinear taps along one axis (plane.rs `Taps::new`): the position is
// clamped to [-1, len], taps to [0, len - 1]; returns (i0, i1) and the
// fraction in `frac`.
struct Taps {
    i0: u32,
    i1: u32,
    frac: f32,
}

fn taps(pos: f32, len: u32) -> Taps {
    let p = clamp(pos, -1.0, f32(len));
    let fl = floor(p);
    let i = i32(fl);
    return Taps(clamp_index(i, len), clamp_index(i + 1, len), p - fl);
}
