// common/stmap.wgsl — the STMap node's per-pixel code (SPEC §3), shared by
// stmap.wgsl (RGBA images) and stmap_plane.wgsl (extra-channel planes).
// Twin of crates/morph-core/src/ops/stmap/ (framing.rs, footprint.rs,
// filters.rs: the specification) step for step, same formulas, same order
// of operations; see those files for the conventions and the papers.
//
// No bindings. The including module declares
//   var<uniform> params: GpuStMapParams;
//   var<storage, read> st_map: array<vec4<f32>>;   // R = s, G = t
// and `fn fetch(idx: u32) -> vec4<f32>`, the source texel `idx` (a plane's
// sample in .x). Entry: `shade(x, y) -> vec4<f32>`.

//!include common/float.wgsl

// Keep in sync with `GpuStMapParams` in crates/morph-gpu/src/ops/stmap.rs.
struct GpuStMapParams {
    // StMapFraming: u = s * scale_x + origin_x, v = t * scale_y + origin_y.
    scale_x: f32,
    origin_x: f32,
    scale_y: f32,
    origin_y: f32,
    // Snap zone half-widths (framing::Snap::tau).
    snap_x: f32,
    snap_y: f32,
    // Periods for the Jacobian's differences on Tiled axes (0 = not tiled).
    wrap_u: f32,
    wrap_v: f32,
    // Source (Front / Matte) size.
    src_width: u32,
    src_height: u32,
    // STMap (= output) size.
    map_width: u32,
    map_height: u32,
    // RepeatMode: 0 Off, 1 Mirrored, 2 Tiled, 3 Last.
    repeat_x: u32,
    repeat_y: u32,
    // StMapFilter: 0 Nearest, 1 Linear, 2 Mitchell-Netravali, 3 Catmull-Rom,
    // 4 Anisotropic, 5 Aniso + Linear, 6 EWA, 7 EWA + Linear.
    filter_mode: u32,
    // EWA weight constants (filters::ewa_edge_norm): e^{-aQ}, 1 / (1 - e^{-aQ}).
    ewa_edge: f32,
    // The cubic of filter 2 or 3 (filters::Cubic): near = (n3, n2, n0, 0),
    // far = (f3, f2, f1, f0), exactly the CPU's f32 coefficients.
    cubic_near: vec4<f32>,
    cubic_far: vec4<f32>,
    ewa_norm: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// framing::MAX_POSITION, filters::{ANISO_MAX_PROBES, ANISO_COUNT_SLACK,
// EWA_MAX_RADIUS, EWA_ALPHA, EWA_CUTOFF}.
const MAX_POSITION: f32 = 2097152.0;
const ANISO_MAX_PROBES: f32 = 16.0;
const ANISO_COUNT_SLACK: f32 = 0.00390625;
const EWA_MAX_RADIUS: f32 = 16.0;
const EWA_ALPHA: f32 = 2.0;
const EWA_CUTOFF: f32 = 0.98;

// A position, or none (NaN / infinite s or t, or beyond MAX_POSITION).
struct Pos {
    u: f32,
    v: f32,
    ok: bool,
}

// StMapFraming::position of STMap pixel (x, y). NaN is tested on bits, so
// fast-math folding cannot hide it.
fn map_position(x: u32, y: u32) -> Pos {
    let st = st_map[y * params.map_width + x];
    let u = st.x * params.scale_x + params.origin_x;
    let v = st.y * params.scale_y + params.origin_y;
    let ok = !is_nan(st.x) && !is_nan(st.y) && !is_nan(u) && !is_nan(v)
        && abs(u) < MAX_POSITION && abs(v) < MAX_POSITION;
    return Pos(u, v, ok);
}

// framing::Cell: u - 0.5 = i + f.
struct Cell {
    i: i32,
    f: f32,
}

// framing::snap_cell.
fn snap_cell(u: f32, tau: f32) -> Cell {
    let x = u - 0.5;
    let i = i32(floor(x));
    let r = x - f32(i);
    let next = r > 1.0 - tau;
    var f = r;
    if r < tau || next {
        f = 0.0;
    }
    return Cell(i + select(0, 1, next), f);
}

fn cell_pos(c: Cell) -> f32 {
    return f32(c.i) + 0.5 + c.f;
}

// filters::address; -1 = outside (transparent black).
fn address(i: i32, n: i32, mode: u32) -> i32 {
    switch mode {
        case 0u: {
            return select(-1, i, i >= 0 && i < n);
        }
        case 1u: {
            let p = 2 * n;
            let m = ((i % p) + p) % p;
            return select(p - 1 - m, m, m < n);
        }
        case 2u: {
            return ((i % n) + n) % n;
        }
        default: {
            return clamp(i, 0, n - 1);
        }
    }
}

// The tap loop's accumulator (Accum of the CPU), one per invocation.
var<private> acc: vec4<f32>;

// filters::tap: one tap through the repeat modes; zero weights and
// transparent texels are skipped.
fn tap(i: i32, j: i32, w: f32) {
    if w == 0.0 {
        return;
    }
    let x = address(i, i32(params.src_width), params.repeat_x);
    let y = address(j, i32(params.src_height), params.repeat_y);
    if x >= 0 && y >= 0 {
        acc += w * fetch(u32(y) * params.src_width + u32(x));
    }
}

fn inside(i: i32, j: i32, reach_x: i32, reach_y: i32) -> bool {
    return i >= 0 && j >= 0 && i + reach_x < i32(params.src_width)
        && j + reach_y < i32(params.src_height);
}

// filters::nearest (raw position).
fn nearest(u: f32, v: f32) {
    let i = i32(floor(u));
    let j = i32(floor(v));
    if inside(i, j, 0, 0) {
        acc += 1.0 * fetch(u32(j) * params.src_width + u32(i));
    } else {
        tap(i, j, 1.0);
    }
}

// filters::bilinear: lerp form in the interior, weighted taps at the edges.
fn bilinear(cx: Cell, cy: Cell, weight: f32) {
    let fx = cx.f;
    let fy = cy.f;
    if inside(cx.i, cy.i, 1, 1) {
        let w = params.src_width;
        let idx = u32(cy.i) * w + u32(cx.i);
        let p00 = fetch(idx);
        let p10 = fetch(idx + 1u);
        let p01 = fetch(idx + w);
        let p11 = fetch(idx + w + 1u);
        let top = p00 + (p10 - p00) * fx;
        let bottom = p01 + (p11 - p01) * fx;
        acc += weight * (top + (bottom - top) * fy);
    } else {
        let gx = 1.0 - fx;
        let gy = 1.0 - fy;
        tap(cx.i, cy.i, gx * gy * weight);
        tap(cx.i + 1, cy.i, fx * gy * weight);
        tap(cx.i, cy.i + 1, gx * fy * weight);
        tap(cx.i + 1, cy.i + 1, fx * fy * weight);
    }
}

// filters::bilinear_at (raw position, the anisotropic probes).
fn bilinear_at(u: f32, v: f32, weight: f32) {
    let x = u - 0.5;
    let y = v - 0.5;
    let i = i32(floor(x));
    let j = i32(floor(y));
    bilinear(Cell(i, x - f32(i)), Cell(j, y - f32(j)), weight);
}

// Cubic::near / Cubic::far (Horner).
fn cubic_near(x: f32) -> f32 {
    let n = params.cubic_near;
    return (n.x * x + n.y) * x * x + n.z;
}

fn cubic_far(x: f32) -> f32 {
    let f = params.cubic_far;
    return ((f.x * x + f.y) * x + f.z) * x + f.w;
}

// Cubic::weights for taps -1, 0, 1, 2.
fn cubic_weights(f: f32) -> vec4<f32> {
    return vec4<f32>(cubic_far(1.0 + f), cubic_near(f), cubic_near(1.0 - f), cubic_far(2.0 - f));
}

// filters::cubic: separable 4x4, rows outer (cubic_sum in the interior).
fn cubic(cx: Cell, cy: Cell) {
    let wx = cubic_weights(cx.f);
    let wy = cubic_weights(cy.f);
    let i0 = cx.i - 1;
    let j0 = cy.i - 1;
    if inside(i0, j0, 3, 3) {
        let w = params.src_width;
        var sum = vec4<f32>(0.0);
        for (var b = 0u; b < 4u; b++) {
            let idx = u32(j0 + i32(b)) * w + u32(i0);
            let row = wx.x * fetch(idx) + wx.y * fetch(idx + 1u) + wx.z * fetch(idx + 2u)
                + wx.w * fetch(idx + 3u);
            sum += wy[b] * row;
        }
        acc += sum;
    } else {
        for (var b = 0; b < 4; b++) {
            for (var a = 0; a < 4; a++) {
                tap(i0 + a, j0 + b, wx[a] * wy[b]);
            }
        }
    }
}

// footprint::Jacobian as columns: (du/dx, dv/dx), (du/dy, dv/dy).
struct Jacobian {
    dx: vec2<f32>,
    dy: vec2<f32>,
}

// FootprintInput::diff: b - a, the short way round a tiled period.
fn wrap_diff(d: f32, p: f32) -> f32 {
    if p > 0.0 {
        return d - p * floor(d / p + 0.5);
    }
    return d;
}

fn pos_diff(a: Pos, b: Pos) -> vec2<f32> {
    return vec2<f32>(wrap_diff(b.u - a.u, params.wrap_u), wrap_diff(b.v - a.v, params.wrap_v));
}

// FootprintInput::column: the shorter of the backward and forward
// differences (ties: forward).
fn column(c: Pos, back: Pos, fwd: Pos) -> vec2<f32> {
    let f = pos_diff(c, fwd);
    let b = pos_diff(back, c);
    if back.ok && fwd.ok {
        return select(f, b, dot(b, b) < dot(f, f));
    }
    if back.ok {
        return b;
    }
    if fwd.ok {
        return f;
    }
    return vec2<f32>(0.0);
}

fn no_pos() -> Pos {
    return Pos(0.0, 0.0, false);
}

// footprint::jacobian at output pixel (x, y) whose raw position is c.
fn jacobian(x: u32, y: u32, c: Pos) -> Jacobian {
    var left = no_pos();
    var right = no_pos();
    var up = no_pos();
    var down = no_pos();
    if x > 0u {
        left = map_position(x - 1u, y);
    }
    if x + 1u < params.map_width {
        right = map_position(x + 1u, y);
    }
    if y > 0u {
        up = map_position(x, y - 1u);
    }
    if y + 1u < params.map_height {
        down = map_position(x, y + 1u);
    }
    return Jacobian(column(c, left, right), column(c, up, down));
}

// footprint::Singular: major, minor stretch and the unit major axis.
struct Singular {
    major: f32,
    minor: f32,
    axis: vec2<f32>,
}

// Jacobian::singular.
fn singular(j: Jacobian) -> Singular {
    let du_dx = j.dx.x;
    let dv_dx = j.dx.y;
    let du_dy = j.dy.x;
    let dv_dy = j.dy.y;
    let a = du_dx * du_dx + du_dy * du_dy;
    let b = du_dx * dv_dx + du_dy * dv_dy;
    let c = dv_dx * dv_dx + dv_dy * dv_dy;
    let half_diff = 0.5 * (a - c);
    let lambda1 = 0.5 * (a + c) + sqrt(half_diff * half_diff + b * b);
    let major = sqrt(max(lambda1, 0.0));
    let det = abs(du_dx * dv_dy - du_dy * dv_dx);
    var minor = 0.0;
    if major > 0.0 {
        minor = min(det / major, major);
    }
    let p = vec2<f32>(b, lambda1 - a);
    let q = vec2<f32>(lambda1 - c, b);
    let lp = p.x * p.x + p.y * p.y;
    let lq = q.x * q.x + q.y * q.y;
    var v = q;
    var l = lq;
    if lp >= lq {
        v = p;
        l = lp;
    }
    var axis = vec2<f32>(1.0, 0.0);
    if l > 0.0 {
        let r = 1.0 / sqrt(l);
        axis = vec2<f32>(v.x * r, v.y * r);
    }
    return Singular(major, minor, axis);
}

// filters::aniso_probes.
fn aniso_probes(len: f32) -> u32 {
    if !(len > 1.0 + ANISO_COUNT_SLACK) {
        return 1u;
    }
    let l = min(len, ANISO_MAX_PROBES);
    return u32(-i32(floor(ANISO_COUNT_SLACK - l)));
}

// filters::anisotropic.
fn anisotropic(j: Jacobian, cx: Cell, cy: Cell) {
    let nx = aniso_probes(length_of(j.dx));
    let ny = aniso_probes(length_of(j.dy));
    if nx * ny == 1u {
        bilinear(cx, cy, 1.0);
        return;
    }
    let u = cell_pos(cx);
    let v = cell_pos(cy);
    let weight = 1.0 / f32(nx * ny);
    for (var b = 0u; b < ny; b++) {
        let fb = (f32(b) + 0.5) / f32(ny) - 0.5;
        for (var a = 0u; a < nx; a++) {
            let fa = (f32(a) + 0.5) / f32(nx) - 0.5;
            let pu = u + j.dx.x * fa + j.dy.x * fb;
            let pv = v + j.dx.y * fa + j.dy.y * fb;
            bilinear_at(pu, pv, weight);
        }
    }
}

// Jacobian::column_x_len / column_y_len (written out, not `length`, whose
// rounding is the driver's).
fn length_of(c: vec2<f32>) -> f32 {
    return sqrt(c.x * c.x + c.y * c.y);
}

// filters::ewa.
fn ewa(j: Jacobian, u: f32, v: f32) {
    let sv = singular(j);
    let r1 = clamp(sv.major, 1.0, EWA_MAX_RADIUS);
    let r2 = clamp(sv.minor, 1.0, r1);
    let e1x = sv.axis.x;
    let e1y = sv.axis.y;
    let e2x = -e1y;
    let e2y = e1x;
    let k1 = 1.0 / (r1 * r1);
    let k2 = 1.0 / (r2 * r2);
    let qa = e1x * e1x * k1 + e2x * e2x * k2;
    let qb = 2.0 * (e1x * e1y * k1 + e2x * e2y * k2);
    let qc = e1y * e1y * k1 + e2y * e2y * k2;
    let hx = sqrt(r1 * r1 * e1x * e1x + r2 * r2 * e2x * e2x);
    let hy = sqrt(r1 * r1 * e1y * e1y + r2 * r2 * e2y * e2y);
    let i_lo = -i32(floor(hx - u + 0.5));
    let i_hi = i32(floor(u - 0.5 + hx));
    let j_lo = -i32(floor(hy - v + 0.5));
    let j_hi = i32(floor(v - 0.5 + hy));
    var wsum = 0.0;
    // At most 33 x 33 (radii <= 16); the min() keeps the bound explicit.
    for (var jj = j_lo; jj <= min(j_hi, j_lo + 32); jj++) {
        let dy = f32(jj) + 0.5 - v;
        for (var ii = i_lo; ii <= min(i_hi, i_lo + 32); ii++) {
            let dx = f32(ii) + 0.5 - u;
            let q = (qa * dx + qb * dy) * dx + qc * dy * dy;
            if q < EWA_CUTOFF {
                let w = (exp(-EWA_ALPHA * q) - params.ewa_edge) * params.ewa_norm;
                wsum += w;
                tap(ii, jj, w);
            }
        }
    }
    if wsum > 0.0 && wsum != 1.0 {
        acc *= 1.0 / wsum;
    }
}

// The `shade` of crates/morph-core/src/ops/stmap/mod.rs: output pixel (x, y).
fn shade(x: u32, y: u32) -> vec4<f32> {
    acc = vec4<f32>(0.0);
    let raw = map_position(x, y);
    if !raw.ok {
        return acc;
    }
    let f = params.filter_mode;
    if f == 0u {
        nearest(raw.u, raw.v);
        return acc;
    }
    let cx = snap_cell(raw.u, params.snap_x);
    let cy = snap_cell(raw.v, params.snap_y);
    if f == 1u {
        bilinear(cx, cy, 1.0);
    } else if f == 2u || f == 3u {
        cubic(cx, cy);
    } else {
        let j = jacobian(x, y, raw);
        let plus_linear = f == 5u || f == 7u;
        if plus_linear && singular(j).major < 1.0 {
            bilinear(cx, cy, 1.0);
        } else if f == 4u || f == 5u {
            anisotropic(j, cx, cy);
        } else {
            ewa(j, cell_pos(cx), cell_pos(cy));
        }
    }
    return acc;
}
