// blur.wgsl — the separable blurs of the Frequency node (SPEC §4): one 1-D
// pass along columns (`axis` 0, run first) or rows (`axis` 1) of the RGB
// channels, clamp-to-edge, cost per sample independent of the radius.
// Twin of crates/morph-core/src/ops/blur.rs (`gaussian_line`, `box_line`: the
// specification, reproduced here operation for operation in the same f32
// order) and crates/morph-gpu/src/ops/blur.rs (the dispatch).
//
// One invocation per line and channel: invocation i filters channel i % 3 of
// line i / 3 (a column for axis 0, a row for axis 1), its recursion state in
// registers. Adjacent invocations take adjacent channels of adjacent
// columns, so the vertical pass's loads of one row step coalesce. Alpha is
// neither read nor written (the band kernel copies it from the input).
//
// Bindings, group 0 (both entry points):
//   0: uniform GpuBlurParams
//   1: storage, read        source  (array<f32>: RGBA f32 pixels, y * width + x)
//   2: storage, read_write  result  (same layout; only R, G, B are written)
// Entry points, workgroup size 64 (1D, over a 2D grid; common/index.wgsl):
//   gaussian — the 3-pole-pair parallel recursive Gaussian (`gaussian_line`)
//   box      — the running-sum box (`box_line`)
// `count` = lines × 3.

//!include common/index.wgsl

const WORKGROUP_SIZE: u32 = 64u;

// Keep in sync with `GpuBlurParams` in crates/morph-gpu/src/ops/blur.rs.
struct GpuBlurParams {
    // GaussianCoefficients of the CPU: lanes 0..3 are the pole pairs.
    pole_re: vec4<f32>,
    pole_im: vec4<f32>,
    gain_re: vec4<f32>,
    gain_im: vec4<f32>,
    init_re: vec4<f32>,
    init_im: vec4<f32>,
    // Centre tap counted twice, subtracted once.
    centre: f32,
    // BoxCoefficients: end-tap weight f, 1 / (2r + 1), whole taps n.
    box_frac: f32,
    box_inv: f32,
    box_whole: u32,
    // Image size in pixels.
    width: u32,
    height: u32,
    // 0 = vertical (columns), 1 = horizontal (rows).
    axis: u32,
    // Invocations doing work: lines × 3.
    count: u32,
}

@group(0) @binding(0) var<uniform> params: GpuBlurParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// Where this invocation's line-channel starts, its stride and its length, in
// floats.
struct Line {
    start: u32,
    stride: u32,
    len: u32,
}

fn line_of(i: u32) -> Line {
    let c = i % 3u;
    let line = i / 3u;
    if params.axis == 0u {
        return Line(line * 4u + c, params.width * 4u, params.height);
    }
    return Line(line * params.width * 4u + c, 4u, params.width);
}

@compute @workgroup_size(64)
fn gaussian(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    if i >= params.count {
        return;
    }
    let l = line_of(i);
    let pr = params.pole_re;
    let pi = params.pole_im;
    let gr = params.gain_re;
    let gi = params.gain_im;
    // Causal sweep, from the steady state of the first sample.
    let first = src[l.start];
    var r0 = first * params.init_re.x;
    var i0 = first * params.init_im.x;
    var r1 = first * params.init_re.y;
    var i1 = first * params.init_im.y;
    var r2 = first * params.init_re.z;
    var i2 = first * params.init_im.z;
    var at = l.start;
    for (var n = 0u; n < l.len; n++) {
        let x = src[at];
        var a = r0;
        var b = i0;
        r0 = (a * pr.x - b * pi.x) + x * gr.x;
        i0 = (b * pr.x + a * pi.x) + x * gi.x;
        a = r1;
        b = i1;
        r1 = (a * pr.y - b * pi.y) + x * gr.y;
        i1 = (b * pr.y + a * pi.y) + x * gi.y;
        a = r2;
        b = i2;
        r2 = (a * pr.z - b * pi.z) + x * gr.z;
        i2 = (b * pr.z + a * pi.z) + x * gi.z;
        dst[at] = (r0 + r1) + r2;
        at += l.stride;
    }
    // Anticausal sweep, from the steady state of the last sample.
    let last = src[l.start + (l.len - 1u) * l.stride];
    r0 = last * params.init_re.x;
    i0 = last * params.init_im.x;
    r1 = last * params.init_re.y;
    i1 = last * params.init_im.y;
    r2 = last * params.init_re.z;
    i2 = last * params.init_im.z;
    for (var n = l.len; n > 0u; n--) {
        at -= l.stride;
        let x = src[at];
        var a = r0;
        var b = i0;
        r0 = (a * pr.x - b * pi.x) + x * gr.x;
        i0 = (b * pr.x + a * pi.x) + x * gi.x;
        a = r1;
        b = i1;
        r1 = (a * pr.y - b * pi.y) + x * gr.y;
        i1 = (b * pr.y + a * pi.y) + x * gi.y;
        a = r2;
        b = i2;
        r2 = (a * pr.z - b * pi.z) + x * gr.z;
        i2 = (b * pr.z + a * pi.z) + x * gi.z;
        dst[at] = (dst[at] + ((r0 + r1) + r2)) - x * params.centre;
    }
}

@compute @workgroup_size(64)
fn box(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    if i >= params.count {
        return;
    }
    let l = line_of(i);
    let n = params.box_whole;
    let last = l.len - 1u;
    // The window sum at sample 0, indices clamped: n·x[0] + Σ_{k=0..=m} x[k]
    // + (n − m)·x[N−1].
    let m = min(n, last);
    var s = src[l.start] * f32(n);
    for (var k = 0u; k <= m; k++) {
        s = s + src[l.start + k * l.stride];
    }
    s = s + src[l.start + last * l.stride] * f32(n - m);
    for (var k = 0u; k < l.len; k++) {
        let lo = select(0u, k - n - 1u, k > n);
        let hi = min(k + n + 1u, last);
        let leave = select(0u, k - n, k >= n);
        let x_lo = src[l.start + lo * l.stride];
        let x_hi = src[l.start + hi * l.stride];
        let x_leave = src[l.start + leave * l.stride];
        dst[l.start + k * l.stride] = (s + (x_lo + x_hi) * params.box_frac) * params.box_inv;
        s = (s + x_hi) - x_leave;
    }
}
