// common/motion_blur.wgsl — the motion blur's per-pixel code (SPEC §2,
// issue #6), shared by motion_blur.wgsl (RGBA) and motion_blur_plane.wgsl
// (one extra-channel plane). Twin of crates/morph-core/src/ops/motion_blur/
// (`TapContext::tap_samples` and `motion_blur_with`: the specification) step
// for step, same formulas, same order of operations; see there for the
// algorithm and the paper (McGuire et al. 2012).
//
// No bindings. The including module declares
//   var<uniform> params: GpuMotionBlurParams;
//   var<storage, read> forward: array<vec2<f32>>;    // width x height
//   var<storage, read> backward: array<vec2<f32>>;   // width x height
//   var<storage, read> tiles: array<vec4<f32>>;      // 2 x tiles: neighbourhood (max.xy, min.xy), forward then backward
//   var<storage, read> occlusion: array<vec2<f32>>;  // (forward, backward) per pixel, when flags say so
// and `fn fetch(source: u32, idx: u32) -> vec4<f32>`: texel `idx` of the
// frame (source 0), the previous frame (1) or the next frame (2); a plane's
// sample in .x. Entry: `shade(x, y) -> vec4<f32>`.

//!include common/motion_blur_params.wgsl

const FLAG_PREVIOUS: u32 = 1u;
const FLAG_NEXT: u32 = 2u;
const FLAG_FORWARD_OCCLUSION: u32 = 4u;
const FLAG_BACKWARD_OCCLUSION: u32 = 8u;

// motion_blur::{TILE_SIZE, MERGE_DISTANCE, CONSISTENCY_PX, CONSISTENCY_REL, VISIBLE_KEY}.
const TILE_SIZE: u32 = 16u;
const MERGE_DISTANCE: f32 = 0.25;
const CONSISTENCY_PX: f32 = 0.5;
const CONSISTENCY_REL: f32 = 0.05;
const VISIBLE_KEY: f32 = 10000.0;

// motion_blur::cell: the position clamped into [0, n-1], its cell and fraction.
struct Cell {
    i0: u32,
    i1: u32,
    f: f32,
}

fn cell(x: f32, n: u32) -> Cell {
    let c = clamp(x, 0.0, f32(n - 1u));
    let i = floor(c);
    let i0 = u32(i);
    return Cell(i0, min(i0 + 1u, n - 1u), c - i);
}

fn len2(v: vec2<f32>) -> f32 {
    return v.x * v.x + v.y * v.y;
}

fn field_at(fwd: bool, idx: u32) -> vec2<f32> {
    if fwd {
        return forward[idx];
    }
    return backward[idx];
}

// motion_blur::vector_at.
fn vector_at(fwd: bool, x: f32, y: f32) -> vec2<f32> {
    let cx = cell(x, params.width);
    let cy = cell(y, params.height);
    let r0 = cy.i0 * params.width;
    let r1 = cy.i1 * params.width;
    let a = field_at(fwd, r0 + cx.i0);
    let b = field_at(fwd, r0 + cx.i1);
    let c = field_at(fwd, r1 + cx.i0);
    let d = field_at(fwd, r1 + cx.i1);
    let top = a + cx.f * (b - a);
    let bottom = c + cx.f * (d - c);
    return top + cy.f * (bottom - top);
}

// motion_blur::scalar_at on the occlusion map of one direction.
fn occlusion_at(fwd: bool, x: f32, y: f32) -> f32 {
    let cx = cell(x, params.width);
    let cy = cell(y, params.height);
    let r0 = cy.i0 * params.width;
    let r1 = cy.i1 * params.width;
    let k = select(1u, 0u, fwd);
    let a = occlusion[r0 + cx.i0][k];
    let b = occlusion[r0 + cx.i1][k];
    let c = occlusion[r1 + cx.i0][k];
    let d = occlusion[r1 + cx.i1][k];
    let top = a + cx.f * (b - a);
    let bottom = c + cx.f * (d - c);
    return top + cy.f * (bottom - top);
}

// motion_blur::rgba_at / scalar_at through the includer's `fetch`.
fn sample_at(source: u32, p: vec2<f32>) -> vec4<f32> {
    let cx = cell(p.x, params.width);
    let cy = cell(p.y, params.height);
    let r0 = cy.i0 * params.width;
    let r1 = cy.i1 * params.width;
    let a = fetch(source, r0 + cx.i0);
    let b = fetch(source, r0 + cx.i1);
    let c = fetch(source, r1 + cx.i0);
    let d = fetch(source, r1 + cx.i1);
    let top = a + cx.f * (b - a);
    let bottom = c + cx.f * (d - c);
    return top + cy.f * (bottom - top);
}

// One tap's weighted reads (TapSample of the CPU).
var<private> s_source: array<u32, 4>;
var<private> s_pos: array<vec2<f32>, 4>;
var<private> s_weight: array<f32, 4>;

// TapContext::tap_samples: fills s_* and returns how many are used.
fn tap_samples(x: u32, y: u32, t: f32) -> u32 {
    let xf = f32(x);
    let yf = f32(y);
    if t == 0.0 {
        s_source[0] = 0u;
        s_pos[0] = vec2<f32>(xf, yf);
        s_weight[0] = 1.0;
        return 1u;
    }
    let fwd = t > 0.0;
    var r = params.reference.zw;
    var tile_base = params.tiles_x * params.tiles_y;
    var has_fill = (params.flags & FLAG_PREVIOUS) != 0u;
    var fill_source = 1u;
    var has_occlusion = (params.flags & FLAG_BACKWARD_OCCLUSION) != 0u;
    if fwd {
        r = params.reference.xy;
        tile_base = 0u;
        has_fill = (params.flags & FLAG_NEXT) != 0u;
        fill_source = 2u;
        has_occlusion = (params.flags & FLAG_FORWARD_OCCLUSION) != 0u;
    }
    let tau = abs(t);
    let own = field_at(fwd, y * params.width + x);
    let tile = tiles[tile_base + (y / TILE_SIZE) * params.tiles_x + x / TILE_SIZE];
    var velocities = array<vec2<f32>, 3>(own - r, tile.xy, tile.zw);
    var c_q: array<vec2<f32>, 3>;
    var c_conf: array<f32, 3>;
    var c_key: array<f32, 3>;
    var c_found: array<vec2<f32>, 3>;
    var order = array<u32, 3>(0u, 0u, 0u);
    var n = 0u;
    for (var k = 0u; k < 3u; k++) {
        let u = velocities[k];
        var duplicate = false;
        for (var j = 0u; j < k; j++) {
            let d = u - velocities[j];
            if tau * sqrt(len2(d)) < MERGE_DISTANCE {
                duplicate = true;
            }
        }
        if duplicate {
            continue;
        }
        let q = vec2<f32>(xf - tau * u.x, yf - tau * u.y);
        let raw = vector_at(fwd, q.x, q.y);
        let found = raw - r;
        let d = found - u;
        let error = tau * sqrt(len2(d));
        let allowance = CONSISTENCY_PX + CONSISTENCY_REL * tau * sqrt(len2(u));
        let confidence = clamp(2.0 - error / allowance, 0.0, 1.0);
        var occluded = 0.0;
        if has_occlusion {
            occluded = occlusion_at(fwd, q.x, q.y);
        }
        let key = sqrt(len2(raw)) + VISIBLE_KEY * (1.0 - occluded);
        c_q[n] = q;
        c_conf[n] = confidence;
        c_key[n] = key;
        c_found[n] = found;
        var slot = n;
        while slot > 0u && c_key[order[slot - 1u]] < key {
            order[slot] = order[slot - 1u];
            slot -= 1u;
        }
        order[slot] = n;
        n += 1u;
    }
    var used = 0u;
    var transmit = 1.0;
    for (var j = 0u; j < n; j++) {
        let k = order[j];
        let c = c_conf[k];
        if c > 0.0 {
            s_source[used] = 0u;
            s_pos[used] = c_q[k];
            s_weight[used] = transmit * c;
            used += 1u;
            transmit *= 1.0 - c;
        }
    }
    if transmit > 0.0 {
        if has_fill {
            let m = 1.0 - tau;
            s_source[used] = fill_source;
            s_pos[used] = vec2<f32>(xf + r.x + m * c_found[0].x, yf + r.y + m * c_found[0].y);
        } else {
            s_source[used] = 0u;
            s_pos[used] = c_q[0];
        }
        s_weight[used] = transmit;
        used += 1u;
    }
    return used;
}

// The per-pixel loop of motion_blur_with: I(X) + (1/n) sum (S_i - I(X)).
fn shade(x: u32, y: u32) -> vec4<f32> {
    let base = fetch(0u, y * params.width + x);
    var acc = vec4<f32>(0.0);
    for (var i = 0u; i < params.samples; i++) {
        let t = params.taps[i / 4u][i % 4u];
        let n = tap_samples(x, y, t);
        var tap = vec4<f32>(0.0);
        for (var j = 0u; j < n; j++) {
            tap += s_weight[j] * sample_at(s_source[j], s_pos[j]);
        }
        acc += tap - base;
    }
    return base + acc * params.inv_samples;
}
