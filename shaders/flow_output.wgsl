// flow_output.wgsl — passes 8 and 9 of the optical-flow estimator: the
// edge-aware (joint bilateral) upsampling from the analysis resolution to
// the input's, and occlusion from forward–backward consistency. Twin of
// crates/morph-core/src/ops/flow/{upsample,consistency}.rs (the
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
