// flow_output.wgsl — passes 8, 8b and 9 of the optical-flow estimator: the
// edge-aware (joint bilateral) upsampling from the analysis resolution to
// the input's, the Lucas–Kanade polish there, and occlusion from
// forward–backward consistency. Twin of
// crates/morph-core/src/ops/flow/{upsample,polish,consistency}.rs (the
// specification, same f32 operations in the same order) and
// crates/morph-gpu/src/ops/flow.rs.
//
// Bindings, group 0 (binding 0 is always the uniform GpuFlowParams):
//   spread:    1 read lo array<vec2<f32>> (analysis flow, src_width × src_height)
//              2 rw   beta array<f32> (per analysis pixel)
//   upsample_edge: 1 read lo   2 read beta_in array<f32>
//              3 read guide_lo array<f32> (analysis luma)  4 read guide_hi array<f32> (full luma)
//              5 rw   full array<vec2<f32>> (width × height, vectors × factor)
//   occlusion: 1 read fwd array<vec2<f32>>  2 read bwd array<vec2<f32>>
//              3 rw   occ array<f32> (0 visible ..= 1 occluded)
//              4 rw   packed array<vec4<f32>> ((u, v, occlusion, 0) of `fwd`: the
//                     layout the frame-interpolation kernels read), all width × height
//   polish:    1 read pol_a array<f32> (A's normalised luma)  2 read pol_b (B's)
//              3 read pol_in array<vec2<f32>>  4 rw pol_out array<vec2<f32>>, all width × height
// Workgroup size (16, 16), one invocation per output pixel (spread: per
// analysis pixel, over src_width × src_height).

//!include common/flow.wgsl

@group(0) @binding(0) var<uniform> params: GpuFlowParams;

@group(0) @binding(1) var<storage, read> lo: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> beta: array<f32>;

@group(0) @binding(2) var<storage, read> beta_in: array<f32>;
@group(0) @binding(3) var<storage, read> guide_lo: array<f32>;
@group(0) @binding(4) var<storage, read> guide_hi: array<f32>;
@group(0) @binding(5) var<storage, read_write> full: array<vec2<f32>>;

@group(0) @binding(1) var<storage, read> pol_a: array<f32>;
@group(0) @binding(2) var<storage, read> pol_b: array<f32>;
@group(0) @binding(3) var<storage, read> pol_in: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> pol_out: array<vec2<f32>>;

@group(0) @binding(1) var<storage, read> fwd: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> bwd: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> occ: array<f32>;
@group(0) @binding(4) var<storage, read_write> packed: array<vec4<f32>>;

// β of the cell at (i, j): how far its four vectors spread from their mean.
@compute @workgroup_size(16, 16)
fn spread(@builtin(global_invocation_id) id: vec3<u32>) {
    let sw = params.src_width;
    let sh = params.src_height;
    if id.x >= sw || id.y >= sh {
        return;
    }
    let i1 = min(id.x + 1u, sw - 1u);
    let j1 = min(id.y + 1u, sh - 1u);
    let q0 = lo[id.y * sw + id.x];
    let q1 = lo[id.y * sw + i1];
    let q2 = lo[j1 * sw + id.x];
    let q3 = lo[j1 * sw + i1];
    let mean = vec2<f32>(0.25 * (q0.x + q1.x + q2.x + q3.x), 0.25 * (q0.y + q1.y + q2.y + q3.y));
    var s = 0.0;
    let d0 = q0 - mean;
    s = max(s, d0.x * d0.x + d0.y * d0.y);
    let d1 = q1 - mean;
    s = max(s, d1.x * d1.x + d1.y * d1.y);
    let d2 = q2 - mean;
    s = max(s, d2.x * d2.x + d2.y * d2.y);
    let d3 = q3 - mean;
    s = max(s, d3.x * d3.x + d3.y * d3.y);
    beta[id.y * sw + id.x] = clamp((sqrt(s) - params.spread_low) / params.spread_range, 0.0, 1.0);
}

// The bilinear vector, moved by β toward the joint bilateral average over
// 4×4 analysis pixels; × factor.
@compute @workgroup_size(16, 16)
fn upsample_edge(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    if id.x >= w || id.y >= h {
        return;
    }
    let sw = params.src_width;
    let sh = params.src_height;
    let f = f32(params.factor);
    let px = (f32(id.x) + 0.5) / f - 0.5;
    let py = (f32(id.y) + 0.5) / f - 0.5;
    let tx = taps(px, sw);
    let ty = taps(py, sh);
    let r0 = ty.i0 * sw;
    let r1 = ty.i1 * sw;
    var b = blend2(lo[r0 + tx.i0], lo[r0 + tx.i1], lo[r1 + tx.i0], lo[r1 + tx.i1], tx.frac, ty.frac);
    let bt = beta_in[r0 + tx.i0];
    if bt > 0.0 {
        let g = guide_hi[id.y * w + id.x];
        let x0 = i32(floor(clamp(px, -1.0, f32(sw))));
        let y0 = i32(floor(clamp(py, -1.0, f32(sh))));
        var su = 0.0;
        var sv = 0.0;
        var sk = 0.0;
        for (var dy = -1; dy <= 2; dy++) {
            let qy = y0 + dy;
            let my = clamp_index(qy, sh);
            for (var dx = -1; dx <= 2; dx++) {
                let qx = x0 + dx;
                let m = my * sw + clamp_index(qx, sw);
                let ex = f32(qx) - px;
                let ey = f32(qy) - py;
                let ds = ex * ex + ey * ey;
                let dr = g - guide_lo[m];
                let k = exp(-ds * params.inv_2ss - dr * dr * params.inv_2sr);
                let v = lo[m];
                su += k * v.x;
                sv += k * v.y;
                sk += k;
            }
        }
        if sk > 1e-30 {
            b.x += bt * (su / sk - b.x);
            b.y += bt * (sv / sk - b.y);
        }
    }
    full[id.y * w + id.x] = b * f;
}

// Soft forward–backward check: leaving the frame is 1, else
// clamp((|F + B(x + F)| − tol)/tol, 0, 1), tol = abs + rel·(|F| + |B|).
@compute @workgroup_size(16, 16)
fn occlusion(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    if id.x >= w || id.y >= h {
        return;
    }
    let i = id.y * w + id.x;
    let f = fwd[i];
    let px = f32(id.x) + f.x;
    let py = f32(id.y) + f.y;
    if !(px >= -0.5 && py >= -0.5 && px < f32(w) - 0.5 && py < f32(h) - 0.5) {
        occ[i] = 1.0;
        packed[i] = vec4<f32>(f, 1.0, 0.0);
        return;
    }
    let tx = taps(px, w);
    let ty = taps(py, h);
    let r0 = ty.i0 * w;
    let r1 = ty.i1 * w;
    let b = blend2(bwd[r0 + tx.i0], bwd[r0 + tx.i1], bwd[r1 + tx.i0], bwd[r1 + tx.i1], tx.frac, ty.frac);
    let ex = f.x + b.x;
    let ey = f.y + b.y;
    let e = sqrt(ex * ex + ey * ey);
    let mag = sqrt(f.x * f.x + f.y * f.y) + sqrt(b.x * b.x + b.y * b.y);
    let tol = params.cons_abs + params.cons_rel * mag;
    let o = clamp((e - tol) / tol, 0.0, 1.0);
    occ[i] = o;
    packed[i] = vec4<f32>(f, o, 0.0);
}

// Pass 8b (polish.rs): one Lucas–Kanade step. The workgroup's 16×16
// pixels need the terms of a (16 + 2r)² tile (edge-clamped); each term is
// computed once into workgroup memory, then every pixel sums its window
// (rows first, in tap order, then the row sums) and takes its step.
const POLISH_R: i32 = 2;
const POLISH_TILE: u32 = 20u;
const POLISH_TILE_CELLS: u32 = 400u;
const POLISH_MIN_DET: f32 = 1e-12;
// The five terms (gx², gx·gy, gy², gx·e, gy·e) of each tile cell.
var<workgroup> pol_terms: array<array<f32, 5>, 400>;

// Catmull-Rom weights of the taps at -1, 0, 1, 2 for a fraction f.
fn catmull_rom(f: f32) -> vec4<f32> {
    let f2 = f * f;
    let f3 = f2 * f;
    return vec4<f32>(
        0.5 * (-f3 + 2.0 * f2 - f),
        0.5 * (3.0 * f3 - 5.0 * f2 + 2.0),
        0.5 * (-3.0 * f3 + 4.0 * f2 + f),
        0.5 * (f3 - f2),
    );
}

// Catmull-Rom bicubic sample of B, clamp to edge, rows first.
fn polish_sample_b(px: f32, py: f32) -> f32 {
    let w = params.width;
    let h = params.height;
    let x = clamp(px, -2.0, f32(w) + 1.0);
    let y = clamp(py, -2.0, f32(h) + 1.0);
    let x0 = floor(x);
    let y0 = floor(y);
    let wx = catmull_rom(x - x0);
    let wy = catmull_rom(y - y0);
    let ix = i32(x0);
    let iy = i32(y0);
    var acc = 0.0;
    for (var j = 0; j < 4; j++) {
        let row = clamp_index(iy - 1 + j, h) * w;
        var r = 0.0;
        for (var i = 0; i < 4; i++) {
            r += wx[i] * pol_b[row + clamp_index(ix - 1 + i, w)];
        }
        acc += wy[j] * r;
    }
    return acc;
}

// Step 1 at pixel (x, y) (inside the frame).
fn polish_terms(x: u32, y: u32) -> array<f32, 5> {
    let w = params.width;
    let h = params.height;
    let i = y * w + x;
    let gx = 0.5 * (pol_a[y * w + min(x + 1u, w - 1u)] - pol_a[y * w + select(x - 1u, 0u, x == 0u)]);
    let gy = 0.5 * (pol_a[min(y + 1u, h - 1u) * w + x] - pol_a[select(y - 1u, 0u, y == 0u) * w + x]);
    let u = pol_in[i];
    let e = polish_sample_b(f32(x) + u.x, f32(y) + u.y) - pol_a[i];
    return array<f32, 5>(gx * gx, gx * gy, gy * gy, gx * e, gy * e);
}

@compute @workgroup_size(16, 16)
fn polish(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let w = params.width;
    let h = params.height;
    let ox = i32(wg.x * 16u) - POLISH_R;
    let oy = i32(wg.y * 16u) - POLISH_R;
    for (var k = li; k < POLISH_TILE_CELLS; k += 256u) {
        let tx = clamp_index(ox + i32(k % POLISH_TILE), w);
        let ty = clamp_index(oy + i32(k / POLISH_TILE), h);
        pol_terms[k] = polish_terms(tx, ty);
    }
    workgroupBarrier();
    let x = wg.x * 16u + lid.x;
    let y = wg.y * 16u + lid.y;
    if x >= w || y >= h {
        return;
    }
    var s = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
    for (var dy = 0u; dy < 5u; dy++) {
        var row = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
        for (var dx = 0u; dx < 5u; dx++) {
            let cell = pol_terms[(lid.y + dy) * POLISH_TILE + lid.x + dx];
            for (var t = 0u; t < 5u; t++) {
                row[t] += cell[t];
            }
        }
        for (var t = 0u; t < 5u; t++) {
            s[t] += row[t];
        }
    }
    let i = y * w + x;
    var v = pol_in[i];
    let a11 = s[0] + params.polish_lambda;
    let a22 = s[2] + params.polish_lambda;
    let det = a11 * a22 - s[1] * s[1];
    let du = -(a22 * s[3] - s[1] * s[4]) / det;
    let dv = -(a11 * s[4] - s[1] * s[3]) / det;
    // Finite: NaN and infinity fail both comparisons.
    let finite = abs(du) <= 3.4028235e38 && abs(dv) <= 3.4028235e38;
    if det > POLISH_MIN_DET && finite {
        let m = params.polish_max_step;
        v += vec2<f32>(clamp(du, -m, m), clamp(dv, -m, m));
    }
    pol_out[i] = v;
}
