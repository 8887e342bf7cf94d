// flow_refine.wgsl — pass 7 of the optical-flow estimator, per level and
// direction: variational refinement (Brox et al. 2004, linearised) solved
// by red–black SOR. A warp pass, then per fixed-point iteration a weights
// pass and `sor_iterations` × (red sweep, black sweep). Twin of
// crates/morph-core/src/ops/flow/variational.rs (the specification, same
// f32 operations in the same order; the CPU stores checkerboard halves, the
// GPU plain row-major buffers) and crates/morph-gpu/src/ops/flow.rs.
//
// Bindings, group 0 (binding 0 is always the uniform GpuFlowParams):
//   warp:    1 read level0 array<vec4<f32>> (frame A's level: N, Nx, Ny, edge)
//            2 read level1 array<vec4<f32>> (frame B's level)
//            3 read flow_in array<vec2<f32>> (the densified flow w0)
//            4 rw   coeff  array<vec4<f32>> (Ix, Iy, Iz' = Iz − Ix·u0 − Iy·v0, α·e)
//   weights: 1 read coeff_in  2 read flow_in  3 rw robust array<vec2<f32>> (a, s)
//   sweep:   1 read coeff_in  2 read robust_in array<vec2<f32>>
//            3 rw   flow      array<vec2<f32>> (updated in place: a sweep
//                   writes one colour and reads only the other's vectors)
//   refine_level: 1 read level0  2 read level1
//            3 rw flow_small array<vec2<f32>>  4 rw coeff_small array<vec4<f32>>
//            5 rw robust_small array<vec2<f32>>
// Workgroup size (16, 16) for warp, weights and sweep: warp and weights one
// invocation per pixel; sweep one per pixel of the uniform's `colour`, x
// across ceil(width / 2). refine_level: one workgroup of 256 runs the whole
// refinement of a small level (warp, then `outer` × (weights, `inner` ×
// (red, black))) with storage barriers between the passes, instead of
// ~90 dispatches: same per-pixel arithmetic (the shared functions below),
// same pass order.

//!include common/flow.wgsl

@group(0) @binding(0) var<uniform> params: GpuFlowParams;

@group(0) @binding(1) var<storage, read> level0: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> level1: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> flow_in: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> coeff: array<vec4<f32>>;

@group(0) @binding(1) var<storage, read> coeff_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> flow_w: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> robust: array<vec2<f32>>;

@group(0) @binding(2) var<storage, read> robust_in: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> flow: array<vec2<f32>>;

@group(0) @binding(3) var<storage, read_write> flow_small: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> coeff_small: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> robust_small: array<vec2<f32>>;

// Warp pass of one pixel: p = x + w0(x); inside the frame: Ix, Iy the averaged gradients of both
// frames, Iz = B(p) − A(x) (bilinear); outside: no data (all 0).
fn warp_at(x: u32, y: u32, f: vec2<f32>) -> vec4<f32> {
    let w = params.width;
    let h = params.height;
    let a = level0[y * w + x];
    let px = f32(x) + f.x;
    let py = f32(y) + f.y;
    var c = vec4<f32>(0.0, 0.0, 0.0, params.alpha * a.w);
    if px >= 0.0 && py >= 0.0 && px <= f32(w - 1u) && py <= f32(h - 1u) {
        let fx0 = floor(px);
        let fy0 = floor(py);
        let fx = px - fx0;
        let fy = py - fy0;
        let ix0 = u32(fx0);
        let iy0 = u32(fy0);
        let ix1 = min(ix0 + 1u, w - 1u);
        let iy1 = min(iy0 + 1u, h - 1u);
        let t00 = level1[iy0 * w + ix0];
        let t01 = level1[iy0 * w + ix1];
        let t10 = level1[iy1 * w + ix0];
        let t11 = level1[iy1 * w + ix1];
        let gx = 0.5 * (a.y + blend(t00.y, t01.y, t10.y, t11.y, fx, fy));
        let gy = 0.5 * (a.z + blend(t00.z, t01.z, t10.z, t11.z, fx, fy));
        let gz = blend(t00.x, t01.x, t10.x, t11.x, fx, fy) - a.x;
        c.x = gx;
        c.y = gy;
        c.z = gz - gx * f.x - gy * f.y;
    }
    return c;
}

@compute @workgroup_size(16, 16)
fn warp(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let i = id.y * params.width + id.x;
    coeff[i] = warp_at(id.x, id.y, flow_in[i]);
}

// Robust weights of one pixel from its flow `cu`, the forward differences
// and its terms.
fn robust_weights(cu: vec2<f32>, dxu: vec2<f32>, dyu: vec2<f32>, c: vec4<f32>) -> vec2<f32> {
    let s = c.w / sqrt(dxu.x * dxu.x + dyu.x * dyu.x + dxu.y * dxu.y + dyu.y * dyu.y + params.eps_s2);
    let rho = c.x * cu.x + c.y * cu.y + c.z;
    let a = 1.0 / sqrt(rho * rho + params.eps_d2);
    return vec2<f32>(a, s);
}

// Robust weights of one fixed-point iteration: a = 1/sqrt(rho² + eps_d²),
// s = α·e/sqrt(ux² + uy² + vx² + vy² + eps_s²) with forward differences
// (0 at the last column / row).
@compute @workgroup_size(16, 16)
fn weights(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    if id.x >= w || id.y >= h {
        return;
    }
    let i = id.y * w + id.x;
    let cu = flow_w[i];
    var dxu = vec2<f32>(0.0);
    var dyu = vec2<f32>(0.0);
    if id.x + 1u < w {
        dxu = flow_w[i + 1u] - cu;
    }
    if id.y + 1u < h {
        dyu = flow_w[i + w] - cu;
    }
    robust[i] = robust_weights(cu, dxu, dyu, coeff_in[i]);
}

// One red or black SOR pass: u, then v with the new u; a pixel with no
// data and no neighbours (denominator 0) keeps its value.
@compute @workgroup_size(16, 16)
fn sweep(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    let y = id.y;
    let x = 2u * id.x + ((y + params.colour) & 1u);
    if x >= w || y >= h {
        return;
    }
    let i = y * w + x;
    let own = robust_in[i];
    // Edge weights to the four neighbours (0 for a missing one).
    var s_l = 0.0;
    var s_u = 0.0;
    var s_r = 0.0;
    var s_d = 0.0;
    var w_l = vec2<f32>(0.0);
    var w_r = vec2<f32>(0.0);
    var w_u = vec2<f32>(0.0);
    var w_d = vec2<f32>(0.0);
    if x > 0u {
        s_l = robust_in[i - 1u].y;
        w_l = flow[i - 1u];
    }
    if x + 1u < w {
        s_r = own.y;
        w_r = flow[i + 1u];
    }
    if y > 0u {
        s_u = robust_in[i - w].y;
        w_u = flow[i - w];
    }
    if y + 1u < h {
        s_d = own.y;
        w_d = flow[i + w];
    }
    flow[i] = sor_update(flow[i], coeff_in[i], own.x, vec4<f32>(s_l, s_r, s_u, s_d), w_l, w_r, w_u, w_d);
}

// The SOR update of one pixel with current flow `cur`, terms `c`, data
// weight `a`, edge weights s = (left, right, up, down) and the neighbours'
// flow.
fn sor_update(
    cur_in: vec2<f32>,
    c: vec4<f32>,
    a: f32,
    s: vec4<f32>,
    w_l: vec2<f32>,
    w_r: vec2<f32>,
    w_u: vec2<f32>,
    w_d: vec2<f32>,
) -> vec2<f32> {
    let sum = s.x + s.y + s.z + s.w;
    let nu = s.x * w_l.x + s.y * w_r.x + s.z * w_u.x + s.w * w_d.x;
    let nv = s.x * w_l.y + s.y * w_r.y + s.z * w_u.y + s.w * w_d.y;
    let ax = a * c.x;
    let ay = a * c.y;
    var cur = cur_in;
    let den_u = ax * c.x + sum;
    if den_u > 0.0 {
        let target_u = (nu - ax * (c.y * cur.y + c.z)) / den_u;
        cur.x = cur.x + params.omega * (target_u - cur.x);
    }
    let den_v = ay * c.y + sum;
    if den_v > 0.0 {
        let target_v = (nv - ay * (c.x * cur.x + c.z)) / den_v;
        cur.y = cur.y + params.omega * (target_v - cur.y);
    }
    return cur;
}

// The whole refinement of a small level in one workgroup (see the header).
@compute @workgroup_size(256)
fn refine_level(@builtin(local_invocation_index) li: u32) {
    let w = params.width;
    let h = params.height;
    let n = w * h;
    for (var i = li; i < n; i += 256u) {
        coeff_small[i] = warp_at(i % w, i / w, flow_small[i]);
    }
    storageBarrier();
    let half = (w + 1u) / 2u;
    for (var o = 0u; o < params.outer; o++) {
        for (var i = li; i < n; i += 256u) {
            let x = i % w;
            let y = i / w;
            let cu = flow_small[i];
            var dxu = vec2<f32>(0.0);
            var dyu = vec2<f32>(0.0);
            if x + 1u < w {
                dxu = flow_small[i + 1u] - cu;
            }
            if y + 1u < h {
                dyu = flow_small[i + w] - cu;
            }
            robust_small[i] = robust_weights(cu, dxu, dyu, coeff_small[i]);
        }
        storageBarrier();
        for (var it = 0u; it < params.inner; it++) {
            for (var colour = 0u; colour < 2u; colour++) {
                for (var k = li; k < half * h; k += 256u) {
                    let y = k / half;
                    let x = 2u * (k % half) + ((y + colour) & 1u);
                    if x < w {
                        let i = y * w + x;
                        let own = robust_small[i];
                        var s = vec4<f32>(0.0);
                        var w_l = vec2<f32>(0.0);
                        var w_r = vec2<f32>(0.0);
                        var w_u = vec2<f32>(0.0);
                        var w_d = vec2<f32>(0.0);
                        if x > 0u {
                            s.x = robust_small[i - 1u].y;
                            w_l = flow_small[i - 1u];
                        }
                        if x + 1u < w {
                            s.y = own.y;
                            w_r = flow_small[i + 1u];
                        }
                        if y > 0u {
                            s.z = robust_small[i - w].y;
                            w_u = flow_small[i - w];
                        }
                        if y + 1u < h {
                            s.w = own.y;
                            w_d = flow_small[i + w];
                        }
                        flow_small[i] = sor_update(flow_small[i], coeff_small[i], own.x, s, w_l, w_r, w_u, w_d);
                    }
                }
                storageBarrier();
            }
        }
    }
}
