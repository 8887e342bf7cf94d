// interpolate.wgsl — frame interpolation (issue #5): the in-between at time t
// from the flow both ways, in the passes of the CPU reference
// crates/morph-core/src/ops/interpolate/ (mod.rs "The passes", the
// specification: same indexing, same edge rules, same order of float
// operations). Dispatch: crates/morph-gpu/src/ops/interpolate.rs.
//
// Buffers (N = width x height; index coordinates, pixel (x, y) centred at (x, y)):
//   flow_a   array<vec4<f32>>  per pixel of A: (F.x, F.y, occlusion_forward, 0)
//   flow_b   array<vec4<f32>>  per pixel of B: (G.x, G.y, occlusion_backward, 0)
//   cost     array<u32>        per output pixel: min cost of the sources reaching it (EMPTY: none)
//   rank     array<u32>        per output pixel: min rank among the sources at that cost
//   motion   array<vec2<f32>>  the push-pull pyramid of vectors, level 0 (N) first,
//                              then each coarser level at its offset
//   state    array<u32>        per pyramid cell: bit 0 known (reached), bit 1 the
//                              winner came from B (level 0 only)
//   holes    array<u32>, 1     non-zero when some pixel of level 0 is unreached
//
// Entry points and bindings, group 0 (binding 0 is always the uniform
// GpuInterpolateParams; several entry points reuse binding numbers for
// different buffers, each declared once below):
//   clear         (256, 1D over max(N, 1))  1 cost rw, 2 rank rw, 3 holes rw
//   splat         (256, 1D over 2N sources) 1 flow_a, 2 flow_b, 3 cost (atomic), 4 rank (atomic)
//                 params.splat_pass 0: atomicMin of the cost; 1: atomicMin of the
//                 rank where the source's cost is the minimum
//   resolve       (256, 1D over N)          1 flow_a, 2 flow_b, 3 cost, 4 rank,
//                                           5 motion rw, 6 state rw, 7 holes (atomic)
//   push          (256, 1D over the coarse level) 1 motion rw, 2 state rw, 3 holes
//   pull          (256, 1D over the fine level)   1 motion rw, 2 state rw, 3 holes
//   compose_rgba  (8 x 8, 2D over W x H)    1 flow_a, 2 flow_b, 3 motion, 4 state,
//                                           5 A rgba, 6 B rgba, 7 result rgba rw
//   compose_plane (8 x 8, 2D over W x H)    1 flow_a, 2 flow_b, 3 motion, 4 state,
//                                           5 A plane, 6 B plane (A's again when B
//                                           lacks the channel), 7 result plane rw
//   export_vectors (256, 1D over N)          1 motion, 2 state, 3 vectors rw
//                                           (u, v, state as a number, 0)
//   occluded_radius (256, 1D over N)         pass 0: 1 side (flow_a), 2 radius_max (atomic)
//   fill_occluded  (256, 1D over N)          pass 0: 1 side (flow_a), 2 radius_max,
//                                           3 its frame's luma, 4 the other frame's
//                                           luma, 5 the filled side rw
//
// Float arithmetic follows the CPU's order. Drivers may still fuse a
// multiply and an add (x + t * v) where Rust does not, so a splat target
// on an exact pixel boundary can land one pixel over: the parity tests
// allow a small fraction of differing pixels.

//!include common/index.wgsl
//!include common/float.wgsl

const WORKGROUP_SIZE: u32 = 256u;
// No source reached the pixel (the CPU's `EMPTY`, u64::MAX, in 32 bits).
const EMPTY: u32 = 0xffffffffu;

// Keep in sync with `GpuInterpolateParams` in crates/morph-gpu/src/ops/interpolate.rs.
struct GpuInterpolateParams {
    width: u32,
    height: u32,
    // N = width * height.
    count: u32,
    // 1 when t > 1/2: B's sources rank first (the nearer frame wins ties).
    b_first: u32,
    // The time, and 1 - t computed on the host as the CPU does.
    t: f32,
    s: f32,
    // compose: the agreement tolerance AGREE_ABS + AGREE_REL * (|f| + |u|)
    // and the total weight below which the winner's frame is used alone.
    agree_abs: f32,
    agree_rel: f32,
    min_weight: f32,
    // compose_plane: 1 if B has the channel, else 0 (A's value alone).
    has_b_plane: u32,
    // splat: 0 = cost pass, 1 = rank pass.
    splat_pass: u32,
    // push / pull: the fine level l and the coarse level l + 1 of the pyramid.
    fine_offset: u32,
    fine_width: u32,
    fine_height: u32,
    coarse_offset: u32,
    coarse_width: u32,
    coarse_height: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: GpuInterpolateParams;

// clear
@group(0) @binding(1) var<storage, read_write> clear_cost: array<u32>;
@group(0) @binding(2) var<storage, read_write> clear_rank: array<u32>;
@group(0) @binding(3) var<storage, read_write> clear_holes: array<u32>;

// splat, resolve, compose_*
@group(0) @binding(1) var<storage, read> flow_a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> flow_b: array<vec4<f32>>;

// splat
@group(0) @binding(3) var<storage, read_write> splat_cost: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> splat_rank: array<atomic<u32>>;

// resolve
@group(0) @binding(3) var<storage, read> resolve_cost: array<u32>;
@group(0) @binding(4) var<storage, read> resolve_rank: array<u32>;
@group(0) @binding(5) var<storage, read_write> resolve_motion: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> resolve_state: array<u32>;
@group(0) @binding(7) var<storage, read_write> resolve_holes: array<atomic<u32>>;

// push, pull
@group(0) @binding(1) var<storage, read_write> pyramid_motion: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> pyramid_state: array<u32>;
@group(0) @binding(3) var<storage, read> pyramid_holes: array<u32>;

// compose_*
@group(0) @binding(3) var<storage, read> motion: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> state: array<u32>;

// compose_rgba
@group(0) @binding(5) var<storage, read> src_a: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> src_b: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> result: array<vec4<f32>>;

// compose_plane
@group(0) @binding(5) var<storage, read> plane_a: array<f32>;
@group(0) @binding(6) var<storage, read> plane_b: array<f32>;
@group(0) @binding(7) var<storage, read_write> result_plane: array<f32>;

// export
@group(0) @binding(1) var<storage, read> export_motion: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> export_state: array<u32>;
@group(0) @binding(3) var<storage, read_write> vectors: array<vec4<f32>>;

const KNOWN: u32 = 1u;
const FROM_B: u32 = 2u;

@compute @workgroup_size(256)
fn clear(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = linear_index(wid, groups, local, WORKGROUP_SIZE);
    if i == 0u {
        clear_holes[0] = 0u;
    }
    if i >= params.count {
        return;
    }
    clear_cost[i] = EMPTY;
    clear_rank[i] = EMPTY;
}

// ---------------------------------------------------------------- pass 1: splat

// The z-buffer cost of occlusion `o`: round(255 * clamp(o, 0, 1)), rounding
// halves away from zero like Rust's `f32::round` (WGSL's `round` goes to
// even); NaN counts as occluded (`splat::cost`).
fn cost_of(o: f32) -> u32 {
    var c = 1.0;
    if !is_nan(o) {
        c = clamp(o, 0.0, 1.0);
    }
    let x = c * 255.0;
    let r = floor(x);
    // x - r is exact (0 <= x <= 255).
    return u32(r) + select(0u, 1u, x - r >= 0.5);
}

@compute @workgroup_size(256)
fn splat(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = linear_index(wid, groups, local, WORKGROUP_SIZE);
    let n = params.count;
    if i >= 2u * n {
        return;
    }
    // Source i < N is pixel i of A carrying F to x + t F; source N + k is
    // pixel k of B carrying -G to x + (1 - t) G. Ranks: the nearer frame's
    // sources 0..N, the other's N..2N, index order within a frame.
    var k = i;
    var f: vec4<f32>;
    var scale: f32;
    var rank: u32;
    if i < n {
        f = flow_a[k];
        scale = params.t;
        rank = select(0u, n, params.b_first != 0u) + k;
    } else {
        k = i - n;
        f = flow_b[k];
        scale = params.s;
        rank = select(n, 0u, params.b_first != 0u) + k;
    }
    let w = params.width;
    let h = params.height;
    let x = f32(k % w) + scale * f.x;
    let y = f32(k / w) + scale * f.y;
    // Far outside (or NaN): nothing to reach (`splat::for_each_target`).
    if !(x > -1.0 && y > -1.0 && x < f32(w) && y < f32(h)) {
        return;
    }
    let cost = cost_of(f.z);
    let x0 = i32(floor(x));
    let y0 = i32(floor(y));
    for (var dy = 0; dy < 2; dy++) {
        let yy = y0 + dy;
        if yy < 0 || yy >= i32(h) {
            continue;
        }
        for (var dx = 0; dx < 2; dx++) {
            let xx = x0 + dx;
            if xx < 0 || xx >= i32(w) {
                continue;
            }
            let target_index = u32(yy) * w + u32(xx);
            if params.splat_pass == 0u {
                atomicMin(&splat_cost[target_index], cost);
            } else if atomicLoad(&splat_cost[target_index]) == cost {
                atomicMin(&splat_rank[target_index], rank);
            }
        }
    }
}

// Level 0 of the pyramid from the winners: the winner's A -> B motion (F, or
// -G for a pixel of B), whether it came from B; unreached pixels are zero
// and raise `holes`.
@compute @workgroup_size(256)
fn resolve(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let k = linear_index(wid, groups, local, WORKGROUP_SIZE);
    let n = params.count;
    if k >= n {
        return;
    }
    let r = resolve_rank[k];
    // A set cost always comes with a rank (both passes run the same code);
    // the rank test alone keeps a bad index out even if it did not.
    if resolve_cost[k] == EMPTY || r == EMPTY {
        resolve_motion[k] = vec2<f32>(0.0);
        resolve_state[k] = 0u;
        if atomicLoad(&resolve_holes[0]) == 0u {
            atomicOr(&resolve_holes[0], 1u);
        }
        return;
    }
    // Ranks 0..N are the nearer frame's pixels, N..2N the other's.
    let is_b = (r < n) == (params.b_first != 0u);
    let src = select(r - n, r, r < n);
    if is_b {
        resolve_motion[k] = -flow_b[src].xy;
        resolve_state[k] = KNOWN | FROM_B;
    } else {
        resolve_motion[k] = flow_a[src].xy;
        resolve_state[k] = KNOWN;
    }
}

// ---------------------------------------------------------------- pass 2: fill

// Push, level l -> l + 1: each coarse cell is the mean of its up to 2 x 2
// known children (row-major order), known if any child is (`fill::push`).
@compute @workgroup_size(256)
fn push(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let c = linear_index(wid, groups, local, WORKGROUP_SIZE);
    if pyramid_holes[0] == 0u || c >= params.coarse_width * params.coarse_height {
        return;
    }
    let x = c % params.coarse_width;
    let y = c / params.coarse_width;
    var sum = vec2<f32>(0.0);
    var count = 0u;
    for (var yy = 2u * y; yy < min(2u * y + 2u, params.fine_height); yy++) {
        for (var xx = 2u * x; xx < min(2u * x + 2u, params.fine_width); xx++) {
            let k = params.fine_offset + yy * params.fine_width + xx;
            if (pyramid_state[k] & KNOWN) != 0u {
                sum += pyramid_motion[k];
                count += 1u;
            }
        }
    }
    let out = params.coarse_offset + c;
    if count > 0u {
        pyramid_motion[out] = sum / f32(count);
        pyramid_state[out] = KNOWN;
    } else {
        pyramid_motion[out] = vec2<f32>(0.0);
        pyramid_state[out] = 0u;
    }
}

// Pull, level l + 1 -> l: an unknown pixel takes its parent's value if the
// parent is known (`fill`, the loop from the coarsest level down).
@compute @workgroup_size(256)
fn pull(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let f = linear_index(wid, groups, local, WORKGROUP_SIZE);
    if pyramid_holes[0] == 0u || f >= params.fine_width * params.fine_height {
        return;
    }
    let k = params.fine_offset + f;
    let st = pyramid_state[k];
    if (st & KNOWN) != 0u {
        return;
    }
    let x = f % params.fine_width;
    let y = f / params.fine_width;
    let p = params.coarse_offset + (y / 2u) * params.coarse_width + x / 2u;
    if (pyramid_state[p] & KNOWN) != 0u {
        pyramid_motion[k] = pyramid_motion[p];
        pyramid_state[k] = st | KNOWN;
    }
}

// ---------------------------------------------------------------- pass 3: compose

// The four clamped taps and fractions of a bilinear sample at (x, y)
// (`Taps::new`).
struct Taps {
    k: vec4<u32>,
    f: vec2<f32>,
}

fn taps(px: f32, py: f32) -> Taps {
    let w = i32(params.width);
    let h = i32(params.height);
    let x = clamp(px, -1.0, f32(params.width));
    let y = clamp(py, -1.0, f32(params.height));
    let x0 = floor(x);
    let y0 = floor(y);
    let ix = i32(x0);
    let iy = i32(y0);
    let c0 = u32(clamp(ix, 0, w - 1));
    let c1 = u32(clamp(ix + 1, 0, w - 1));
    let r0 = u32(clamp(iy, 0, h - 1)) * params.width;
    let r1 = u32(clamp(iy + 1, 0, h - 1)) * params.width;
    return Taps(vec4<u32>(r0 + c0, r0 + c1, r1 + c0, r1 + c1), vec2<f32>(x - x0, y - y0));
}

// `Taps::apply` on each component of a flow side's (vector, occlusion).
fn bilinear(t: Taps, a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> vec4<f32> {
    let top = a + t.f.x * (b - a);
    let bottom = c + t.f.x * (d - c);
    return top + t.f.y * (bottom - top);
}

fn sample_flow_a(t: Taps) -> vec4<f32> {
    return bilinear(t, flow_a[t.k.x], flow_a[t.k.y], flow_a[t.k.z], flow_a[t.k.w]);
}

fn sample_flow_b(t: Taps) -> vec4<f32> {
    return bilinear(t, flow_b[t.k.x], flow_b[t.k.y], flow_b[t.k.z], flow_b[t.k.w]);
}

// How well a frame's own vector f agrees with the motion u (`compose::agree`).
fn agree(f: vec2<f32>, u: vec2<f32>) -> f32 {
    let dx = f.x - u.x;
    let dy = f.y - u.y;
    let e = sqrt(dx * dx + dy * dy);
    let mag = sqrt(f.x * f.x + f.y * f.y) + sqrt(u.x * u.x + u.y * u.y);
    let tol = params.agree_abs + params.agree_rel * mag;
    return clamp(1.0 - (e - tol) / tol, 0.0, 1.0);
}

fn inside(x: f32, y: f32) -> bool {
    return x >= -0.5 && y >= -0.5 && x < f32(params.width) - 0.5 && y < f32(params.height) - 0.5;
}

// Keys cubic (a = -0.75) weights of the taps at -1, 0, 1, 2 for a fraction
// f (`cubic_weights`).
fn cubic_weights(f: f32) -> vec4<f32> {
    let a = -0.75;
    let g = 1.0 - f;
    return vec4<f32>(
        a * f * g * g,
        ((a + 2.0) * f - (a + 3.0)) * f * f + 1.0,
        ((a + 2.0) * g - (a + 3.0)) * g * g + 1.0,
        a * f * f * g,
    );
}

// The sixteen clamped taps and weights of a bicubic sample (`Cubic::new`).
struct Cubic {
    rows: vec4<u32>,
    cols: vec4<u32>,
    wx: vec4<f32>,
    wy: vec4<f32>,
}

fn cubic(px: f32, py: f32) -> Cubic {
    let w = i32(params.width);
    let h = i32(params.height);
    let x = clamp(px, -1.0, f32(params.width));
    let y = clamp(py, -1.0, f32(params.height));
    let x0 = floor(x);
    let y0 = floor(y);
    let ix = i32(x0);
    let iy = i32(y0);
    let cols = vec4<u32>(clamp(vec4<i32>(ix - 1, ix, ix + 1, ix + 2), vec4<i32>(0), vec4<i32>(w - 1)));
    let rows = vec4<u32>(clamp(vec4<i32>(iy - 1, iy, iy + 1, iy + 2), vec4<i32>(0), vec4<i32>(h - 1))) * params.width;
    return Cubic(rows, cols, cubic_weights(x - x0), cubic_weights(y - y0));
}

// One RGBA texel of A or B.
fn texel(k: u32, from_b: bool) -> vec4<f32> {
    if from_b {
        return src_b[k];
    }
    return src_a[k];
}

// `Cubic::apply4`: rows first (each row's four taps in x), then the column
// of row sums, clamped to the range of the sixteen taps.
fn cubic_rgba(c: Cubic, from_b: bool) -> vec4<f32> {
    var sum = vec4<f32>(0.0);
    var lo = vec4<f32>(3.4028235e38);
    var hi = vec4<f32>(-3.4028235e38);
    for (var j = 0u; j < 4u; j++) {
        var row = vec4<f32>(0.0);
        for (var i = 0u; i < 4u; i++) {
            let p = texel(c.rows[j] + c.cols[i], from_b);
            row += c.wx[i] * p;
            lo = min(lo, p);
            hi = max(hi, p);
        }
        sum += c.wy[j] * row;
    }
    return clamp(sum, lo, hi);
}

// One sample of A's or B's extra-channel plane.
fn plane_texel(k: u32, from_b: bool) -> f32 {
    if from_b {
        return plane_b[k];
    }
    return plane_a[k];
}

// `Cubic::apply` on an extra-channel plane.
fn cubic_plane(c: Cubic, from_b: bool) -> f32 {
    var sum = 0.0;
    var lo = 3.4028235e38;
    var hi = -3.4028235e38;
    for (var j = 0u; j < 4u; j++) {
        var row = 0.0;
        for (var i = 0u; i < 4u; i++) {
            let p = plane_texel(c.rows[j] + c.cols[i], from_b);
            row += c.wx[i] * p;
            lo = min(lo, p);
            hi = max(hi, p);
        }
        sum += c.wy[j] * row;
    }
    return clamp(sum, lo, hi);
}

// Per output pixel, the normalised weights of A and B and where to fetch
// them (`compose::fetch`).
struct Fetch {
    wa: f32,
    wb: f32,
    pa: vec2<f32>,
    pb: vec2<f32>,
}

fn fetch(x: u32, y: u32) -> Fetch {
    let k = y * params.width + x;
    let u = motion[k];
    let from_b = (state[k] & FROM_B) != 0u;
    let t = params.t;
    let s = params.s;
    let xa = f32(x) - t * u.x;
    let ya = f32(y) - t * u.y;
    let xb = f32(x) + s * u.x;
    let yb = f32(y) + s * u.y;
    var vis_a = 0.0;
    if inside(xa, ya) {
        let fa = sample_flow_a(taps(xa, ya));
        vis_a = (1.0 - fa.z) * agree(fa.xy, u);
    }
    var vis_b = 0.0;
    if inside(xb, yb) {
        let gb = sample_flow_b(taps(xb, yb));
        vis_b = (1.0 - gb.z) * agree(-gb.xy, u);
    }
    var wa = s * vis_a;
    var wb = t * vis_b;
    if wa + wb < params.min_weight {
        wa = select(1.0, 0.0, from_b);
        wb = select(0.0, 1.0, from_b);
    }
    let sum = wa + wb;
    return Fetch(wa / sum, wb / sum, vec2<f32>(xa, ya), vec2<f32>(xb, yb));
}

@compute @workgroup_size(8, 8)
fn compose_rgba(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let f = fetch(id.x, id.y);
    let ca = cubic_rgba(cubic(f.pa.x, f.pa.y), false);
    let cb = cubic_rgba(cubic(f.pb.x, f.pb.y), true);
    result[id.y * params.width + id.x] = f.wa * ca + f.wb * cb;
}

@compute @workgroup_size(8, 8)
fn compose_plane(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let f = fetch(id.x, id.y);
    let ca = cubic_plane(cubic(f.pa.x, f.pa.y), false);
    var v = ca;
    if params.has_b_plane != 0u {
        let cb = cubic_plane(cubic(f.pb.x, f.pb.y), true);
        v = f.wa * ca + f.wb * cb;
    }
    result_plane[id.y * params.width + id.x] = v;
}

// ---------------------------------------------------------------- read-back

// Level 0 as an RGBA image: (u, v, state, 0) with state 0 = unreached,
// 1 = reached from A (or filled), 3 = reached from B.
@compute @workgroup_size(256)
fn export_vectors(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let k = linear_index(wid, groups, local, WORKGROUP_SIZE);
    if k >= params.count {
        return;
    }
    let m = export_motion[k];
    vectors[k] = vec4<f32>(m.x, m.y, f32(export_state[k]), 0.0);
}

// ---------------------------------------------------------------- pass 0: fill_occluded
//
// Once per pair and per side (`occluded::fill_occluded`): the vectors of
// occluded pixels replaced by their background's. `flow_a` is the side
// being filled, (u, v, occlusion, 0) per pixel of its frame; `occ_luma`
// that frame's range-compressed luma and `occ_other` the other frame's.
// `occluded_radius` first reduces the longest finite vector into
// `radius_max` (the bits of a non-negative f32 order as a u32; cleared to
// 0 by the host), then `fill_occluded` writes every pixel of `occ_out`.

// occluded_radius
@group(0) @binding(2) var<storage, read_write> radius_max: array<atomic<u32>>;

// fill_occluded
@group(0) @binding(2) var<storage, read> occ_max: array<u32>;
@group(0) @binding(3) var<storage, read> occ_luma: array<f32>;
@group(0) @binding(4) var<storage, read> occ_other: array<f32>;
@group(0) @binding(5) var<storage, read_write> occ_out: array<vec4<f32>>;

// Occlusion above which a pixel's vector is replaced (`OCCLUDED`).
const OCC_OCCLUDED: f32 = 0.5;
// Squared distance under which two candidates share a match term
// (`SAME_VECTOR2`).
const OCC_SAME_VECTOR2: f32 = 0.0625;
// Match error up to which a replaced vector makes the pixel visible
// (`MATCHED`).
const OCC_MATCHED: f32 = 0.03;
// Cost difference under which two candidates tie (`TIE`): the one whose
// look term is lower wins, then the first; a rounding difference must not
// pick another vector.
const OCC_TIE: f32 = 1e-5;

@compute @workgroup_size(256)
fn occluded_radius(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let k = linear_index(wid, groups, local, WORKGROUP_SIZE);
    if k >= params.count {
        return;
    }
    let v = flow_a[k];
    let len = sqrt(v.x * v.x + v.y * v.y);
    // Finite only (exponent not all ones), as `radius` skips the rest.
    let bits = bitcast<u32>(len);
    if (bits & 0x7f800000u) != 0x7f800000u {
        atomicMax(&radius_max[0], bits);
    }
}

// Search radius: twice the largest motion plus two, 4..=64 (`radius`).
fn occ_radius() -> i32 {
    let m = bitcast<f32>(occ_max[0]);
    return clamp(i32(min(ceil(2.0 * m), 62.0)) + 2, 4, 64);
}

// `sample_plane` of the other frame's luma (bilinear, clamp to edge).
fn occ_sample_other(px: f32, py: f32) -> f32 {
    let t = taps(px, py);
    let a = occ_other[t.k.x];
    let b = occ_other[t.k.y];
    let c = occ_other[t.k.z];
    let d = occ_other[t.k.w];
    let top = a + t.f.x * (b - a);
    let bottom = c + t.f.x * (d - c);
    return top + t.f.y * (bottom - top);
}

// `match_error`: mean |L(q) − L'(q + c)| over the 3 × 3 block q around
// (x, y), coordinates clamped to the frame.
fn occ_match_error(x: i32, y: i32, c: vec2<f32>) -> f32 {
    let w = i32(params.width);
    let h = i32(params.height);
    var sum = 0.0;
    for (var dy = -1; dy <= 1; dy++) {
        let yy = clamp(y + dy, 0, h - 1);
        for (var dx = -1; dx <= 1; dx++) {
            let xx = clamp(x + dx, 0, w - 1);
            let here = occ_luma[u32(yy * w + xx)];
            let there = occ_sample_other(f32(xx) + c.x, f32(yy) + c.y);
            sum += abs(here - there);
        }
    }
    return sum / 9.0;
}

// `block_mean`: mean of this frame's luma over the 3 × 3 block around
// (x, y), row by row, coordinates clamped.
fn occ_block_mean(x: i32, y: i32) -> f32 {
    let w = i32(params.width);
    let h = i32(params.height);
    var sum = 0.0;
    for (var yy = y - 1; yy <= y + 1; yy++) {
        let row = clamp(yy, 0, h - 1) * w;
        for (var xx = x - 1; xx <= x + 1; xx++) {
            sum += occ_luma[u32(row + clamp(xx, 0, w - 1))];
        }
    }
    return sum / 9.0;
}

@compute @workgroup_size(256)
fn fill_occluded(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let k = linear_index(wid, groups, local, WORKGROUP_SIZE);
    if k >= params.count {
        return;
    }
    let p = flow_a[k];
    occ_out[k] = p;
    if p.z <= OCC_OCCLUDED {
        return;
    }
    let w = i32(params.width);
    let h = i32(params.height);
    let x = i32(k % params.width);
    let y = i32(k / params.width);
    let tx = f32(x) + p.x;
    let ty = f32(y) + p.y;
    // Pixels leaving the frame keep their vector.
    if !(tx >= -0.5 && ty >= -0.5 && tx < f32(w) - 0.5 && ty < f32(h) - 0.5) {
        return;
    }
    // `background_vector`: along E, N, W, S the first visible pixel is a
    // candidate; the lowest look + match cost wins (a tie: see OCC_TIE).
    let r = occ_radius();
    let here = occ_luma[k];
    var found = false;
    var best_cost = 0.0;
    var best_look = 0.0;
    var best = vec2<f32>(0.0, 0.0);
    // Match errors already computed, by vector (at most one per direction).
    var seen_v: array<vec2<f32>, 4>;
    var seen_m: array<f32, 4>;
    var seen_len = 0u;
    var dirs = array<vec2<i32>, 4>(vec2<i32>(1, 0), vec2<i32>(0, -1), vec2<i32>(-1, 0), vec2<i32>(0, 1));
    for (var d = 0u; d < 4u; d++) {
        let dir = dirs[d];
        for (var step = 1; step <= r; step++) {
            let nx = x + step * dir.x;
            let ny = y + step * dir.y;
            if nx < 0 || ny < 0 || nx >= w || ny >= h {
                break;
            }
            let n = u32(ny * w + nx);
            let q = flow_a[n];
            if q.z <= OCC_OCCLUDED {
                let look = abs(occ_block_mean(nx, ny) - here);
                let c = q.xy;
                var m = 0.0;
                var cached = false;
                for (var s = 0u; s < seen_len; s++) {
                    let ex = seen_v[s].x - c.x;
                    let ey = seen_v[s].y - c.y;
                    if ex * ex + ey * ey < OCC_SAME_VECTOR2 {
                        m = seen_m[s];
                        cached = true;
                        break;
                    }
                }
                if !cached {
                    m = occ_match_error(x, y, c);
                    seen_v[seen_len] = c;
                    seen_m[seen_len] = m;
                    seen_len += 1u;
                }
                let cost = look + m;
                if !found || cost < best_cost - OCC_TIE
                    || (cost <= best_cost + OCC_TIE && look < best_look - OCC_TIE) {
                    found = true;
                    best_cost = cost;
                    best_look = look;
                    best = c;
                }
                break;
            }
        }
    }
    if found {
        // Visible after all if the new vector matches the other frame.
        let m = occ_match_error(x, y, best);
        let visible = clamp((m - OCC_MATCHED) / OCC_MATCHED, 0.0, 1.0);
        occ_out[k] = vec4<f32>(best, min(p.z, visible), p.w);
    }
}
