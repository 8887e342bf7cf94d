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
// Workgroup size (16, 16). warp and weights: one invocation per pixel;
// sweep: one per pixel of the uniform's `colour`, x across ceil(width / 2).

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

// p = x + w0(x); inside the frame: Ix, Iy the averaged gradients of both
// frames, Iz = B(p) − A(x) (bilinear); outside: no data (all 0).
@compute @workgroup_size(16, 16)
fn warp(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    if id.x >= w || id.y >= h {
        return;
    }
    let i = id.y * w + id.x;
    let f = flow_in[i];
    let a = level0[i];
    let px = f32(id.x) + f.x;
    let py = f32(id.y) + f.y;
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
    coeff[i] = c;
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
    let c = coeff_in[i];
    let s = c.w / sqrt(dxu.x * dxu.x + dyu.x * dyu.x + dxu.y * dxu.y + dyu.y * dyu.y + params.eps_s2);
    let rho = c.x * cu.x + c.y * cu.y + c.z;
    let a = 1.0 / sqrt(rho * rho + params.eps_d2);
    robust[i] = vec2<f32>(a, s);
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
    let sum = s_l + s_r + s_u + s_d;
    let nu = s_l * w_l.x + s_r * w_r.x + s_u * w_u.x + s_d * w_d.x;
    let nv = s_l * w_l.y + s_r * w_r.y + s_u * w_u.y + s_d * w_d.y;
    let c = coeff_in[i];
    let ax = own.x * c.x;
    let ay = own.x * c.y;
    var cur = flow[i];
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
    flow[i] = cur;
}
