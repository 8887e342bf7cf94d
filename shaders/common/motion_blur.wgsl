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
    // c >= 0: truncation is the floor.
    let i0 = u32(c);
    return Cell(i0, min(i0 + 1u, n - 1u), c - f32(i0));
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

// One candidate of a tap (steps 1-2 of the CPU's `tap_samples`).
struct Cand {
    q: vec2<f32>,
    conf: f32,
    key: f32,
    found: vec2<f32>,
}

// Key of a dropped (duplicate) candidate: sorts behind every real one and,
// with confidence 0, contributes nothing (the CPU leaves it out).
const NO_KEY: f32 = -3.4028235e38;

fn no_candidate() -> Cand {
    return Cand(vec2<f32>(0.0), 0.0, NO_KEY, vec2<f32>(0.0));
}

// Whether candidate velocities u and v land within MERGE_DISTANCE.
fn merged(tau: f32, u: vec2<f32>, v: vec2<f32>) -> bool {
    return tau * sqrt(len2(u - v)) < MERGE_DISTANCE;
}

// Landing point, consistency and key of candidate velocity u.
fn candidate(fwd: bool, xf: f32, yf: f32, tau: f32, u: vec2<f32>, r: vec2<f32>, has_occlusion: bool) -> Cand {
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
    return Cand(q, confidence, key, found);
}

// The tap being summed and what is still uncovered (front-to-back
// compositing). Plain variables, no dynamically indexed arrays: those
// become slow scratch memory on GPUs and on lavapipe.
var<private> tap_sum: vec4<f32>;
var<private> transmit: f32;

fn composite(c: Cand) {
    if c.conf > 0.0 {
        tap_sum += (transmit * c.conf) * sample_at(0u, c.q);
        transmit *= 1.0 - c.conf;
    }
}

// TapContext::tap_samples with each weighted read summed at once, in the
// CPU's order: candidates front to back, then the fill.
fn tap_colour(x: u32, y: u32, t: f32) -> vec4<f32> {
    let xf = f32(x);
    let yf = f32(y);
    if t == 0.0 {
        return 1.0 * sample_at(0u, vec2<f32>(xf, yf));
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
    let tile = tiles[tile_base + (y / TILE_SIZE) * params.tiles_x + x / TILE_SIZE];
    let u0 = field_at(fwd, y * params.width + x) - r;
    let u1 = tile.xy;
    let u2 = tile.zw;
    let own = candidate(fwd, xf, yf, tau, u0, r, has_occlusion);
    var b = no_candidate();
    if !merged(tau, u1, u0) {
        b = candidate(fwd, xf, yf, tau, u1, r, has_occlusion);
    }
    var c = no_candidate();
    if !merged(tau, u2, u0) && !merged(tau, u2, u1) {
        c = candidate(fwd, xf, yf, tau, u2, r, has_occlusion);
    }
    // Stable sort by key, descending (bubble sort with strict compares:
    // equal keys keep the candidate order, like the CPU's insertion).
    var a = own;
    if a.key < b.key {
        let s = a;
        a = b;
        b = s;
    }
    if b.key < c.key {
        let s = b;
        b = c;
        c = s;
    }
    if a.key < b.key {
        let s = a;
        a = b;
        b = s;
    }
    tap_sum = vec4<f32>(0.0);
    transmit = 1.0;
    composite(a);
    composite(b);
    composite(c);
    if transmit > 0.0 {
        if has_fill {
            let m = 1.0 - tau;
            let p = vec2<f32>(xf + r.x + m * own.found.x, yf + r.y + m * own.found.y);
            tap_sum += transmit * sample_at(fill_source, p);
        } else {
            tap_sum += transmit * sample_at(0u, own.q);
        }
    }
    return tap_sum;
}

// The per-pixel loop of motion_blur_with: I(X) + (1/n) sum (S_i - I(X)).
fn shade(x: u32, y: u32) -> vec4<f32> {
    let base = fetch(0u, y * params.width + x);
    var acc = vec4<f32>(0.0);
    for (var i = 0u; i < params.samples; i++) {
        let t = params.taps[i / 4u][i % 4u];
        acc += tap_colour(x, y, t) - base;
    }
    return base + acc * params.inv_samples;
}
