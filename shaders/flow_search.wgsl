// flow_search.wgsl — passes 4–6 of the optical-flow estimator, per level
// and direction: the initial flow (the coarser level's, bilinearly
// upsampled and doubled), Dense Inverse Search (one invocation per patch)
// and densification (one per pixel). Twin of
// crates/morph-core/src/ops/flow/{upsample,dis}.rs (the specification,
// same f32 operations in the same order) and crates/morph-gpu/src/ops/flow.rs.
//
// Bindings, group 0 (binding 0 is always the uniform GpuFlowParams):
//   upsample: 1 read coarse   array<vec2<f32>> (src_width × src_height)
//             2 rw   out      array<vec2<f32>> (width × height)
//   search:   1 read level0   array<vec4<f32>> (frame A's level: N, Nx, Ny, edge)
//             2 read image1   array<f32> (frame B's normalised luma N alone:
//                    the bilinear taps of every evaluation read 4 bytes, not 16)
//             3 read init     array<vec2<f32>> (initial flow)
//             4 rw   patches  array<vec2<f32>> (nx × ny, row-major)
//   densify:  1 read level0   2 read image1   3 read patches_in array<vec2<f32>>
//             4 rw   dense    array<vec2<f32>> (width × height)
//   select:   1 read level0   2 read image1   3 read densified, 4 read refined
//             5 rw   selected (all array<vec2<f32>>, width × height)
// Workgroup sizes: upsample, densify and select (16, 16), one invocation per pixel;
// search (8, 8), one invocation per patch (x across nx, y across ny). The
// search's workgroup first loads the template region of its 8×8 patches
// (N, Nx, Ny of frame A) into workgroup memory when it fits TILE × TILE
// (7·stride + patch ≤ 36: the default 8-pixel patches every 4 pixels), so
// the 7 evaluations of every patch read the template from there; other
// grids read it from the level buffer. Same values either way.

//!include common/flow.wgsl

@group(0) @binding(0) var<uniform> params: GpuFlowParams;

@group(0) @binding(1) var<storage, read> coarse: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> upsampled: array<vec2<f32>>;

@group(0) @binding(1) var<storage, read> level0: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> image1: array<f32>;
@group(0) @binding(3) var<storage, read> init: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> patches: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> patches_in: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> dense: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> densified: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> refined: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> selected: array<vec2<f32>>;

// Output pixel i samples the source at (i + 0.5) / scale - 0.5; vectors ×
// scale (upsample.rs `upsample_bilinear`).
@compute @workgroup_size(16, 16)
fn upsample(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let s = params.scale;
    let tx = taps((f32(id.x) + 0.5) / s - 0.5, params.src_width);
    let ty = taps((f32(id.y) + 0.5) / s - 0.5, params.src_height);
    let r0 = ty.i0 * params.src_width;
    let r1 = ty.i1 * params.src_width;
    let v = blend2(coarse[r0 + tx.i0], coarse[r0 + tx.i1], coarse[r1 + tx.i0], coarse[r1 + tx.i1],
        tx.frac, ty.frac);
    upsampled[id.y * params.width + id.x] = v * s;
}

// Side of the search's workgroup tile: 8 patches of 8 every 4 pixels. Three
// planes of TILE² f32 are 15.2 KiB, under WebGPU's 16 KiB default.
const TILE: u32 = 36u;
var<workgroup> tile_n: array<f32, 1296>;
var<workgroup> tile_gx: array<f32, 1296>;
var<workgroup> tile_gy: array<f32, 1296>;

// Origin of patch i along a side of `len` pixels: min(i·stride, max(len − patch, 0)).
fn origin(i: u32, len: u32) -> u32 {
    return min(i * params.stride, select(0u, len - params.patch_size, len > params.patch_size));
}

// Frame B's value at integer index (x, y), clamped to the edge.
fn b_at(x: i32, y: i32) -> f32 {
    return image1[clamp_index(y, params.height) * params.width + clamp_index(x, params.width)];
}

// Result of one evaluation: the mean-normalised SSD and the Gauss-Newton
// right-hand side.
struct Eval {
    ssd: f32,
    b: vec2<f32>,
}

// Frame A's (N, Nx, Ny) at (x, y) clamped to the level: from the workgroup
// tile (origin t0) or the level buffer.
fn template_at(x: u32, y: u32, tiled: bool, t0: vec2<u32>) -> vec3<f32> {
    if tiled {
        let k = (y - t0.y) * TILE + (x - t0.x);
        return vec3<f32>(tile_n[k], tile_gx[k], tile_gy[k]);
    }
    let t = level0[clamp_index(i32(y), params.height) * params.width
        + clamp_index(i32(x), params.width)];
    return t.xyz;
}

// dis.rs `evaluate`: every pixel shares the fraction of u; sums run in four
// lanes (column mod 4, rows in order) added as (l0 + l1) + (l2 + l3).
fn evaluate(x0: u32, y0: u32, mean_g: vec2<f32>, u: vec2<f32>, tiled: bool, t0: vec2<u32>) -> Eval {
    let p = params.patch_size;
    let w = f32(params.width);
    let h = f32(params.height);
    let ux = clamp(u.x, -w - 1.0, w + 1.0);
    let uy = clamp(u.y, -h - 1.0, h + 1.0);
    let flx = floor(ux);
    let fly = floor(uy);
    let fx = ux - flx;
    let fy = uy - fly;
    let ix0 = i32(x0) + i32(flx);
    let iy0 = i32(y0) + i32(fly);
    var sd = vec4<f32>(0.0);
    var sd2 = vec4<f32>(0.0);
    var sx = vec4<f32>(0.0);
    var sy = vec4<f32>(0.0);
    for (var r = 0u; r < p; r++) {
        let y = iy0 + i32(r);
        let trow = (y0 + r) * params.width;
        for (var c4 = 0u; c4 < p; c4 += 4u) {
            var d: vec4<f32>;
            var gx: vec4<f32>;
            var gy: vec4<f32>;
            for (var l = 0u; l < 4u; l++) {
                let c = c4 + l;
                let x = ix0 + i32(c);
                let top = b_at(x, y) + fx * (b_at(x + 1, y) - b_at(x, y));
                let bottom = b_at(x, y + 1) + fx * (b_at(x + 1, y + 1) - b_at(x, y + 1));
                // The template (frame A) at the patch pixel.
                let t = template_at(x0 + c, y0 + r, tiled, t0);
                d[l] = top + fy * (bottom - top) - t.x;
                gx[l] = t.y - mean_g.x;
                gy[l] = t.z - mean_g.y;
            }
            sd += d;
            sd2 += d * d;
            sx += d * gx;
            sy += d * gy;
        }
    }
    let s_d = (sd.x + sd.y) + (sd.z + sd.w);
    let s_d2 = (sd2.x + sd2.y) + (sd2.z + sd2.w);
    let ssd = s_d2 - s_d * s_d / f32(p * p);
    return Eval(ssd, vec2<f32>((sx.x + sx.y) + (sx.z + sx.w), (sy.x + sy.y) + (sy.z + sy.w)));
}

// dis.rs `inverse_search` for one patch: template, inverse Hessian,
// `iterations` inverse-compositional Gauss-Newton steps keeping the
// lowest-SSD position visited, then the outlier and leaving-frame rules.
@compute @workgroup_size(8, 8)
fn search(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let p = params.patch_size;
    let w = params.width;
    let h = params.height;
    // Every invocation takes part in loading the tile (uniform control flow
    // up to the barrier), even those past the last patch.
    let tiled = 7u * params.stride + p <= TILE;
    let t0 = vec2<u32>(origin(group.x * 8u, w), origin(group.y * 8u, h));
    if tiled {
        for (var k = local; k < TILE * TILE; k += 64u) {
            let t = level0[clamp_index(i32(t0.y + k / TILE), h) * w
                + clamp_index(i32(t0.x + k % TILE), w)];
            tile_n[k] = t.x;
            tile_gx[k] = t.y;
            tile_gy[k] = t.z;
        }
    }
    workgroupBarrier();
    if id.x >= params.nx || id.y >= params.ny {
        return;
    }
    let x0 = origin(id.x, w);
    let y0 = origin(id.y, h);
    // Mean gradient of the template (row-major order).
    var mx = 0.0;
    var my = 0.0;
    for (var r = 0u; r < p; r++) {
        for (var c = 0u; c < p; c++) {
            let t = template_at(x0 + c, y0 + r, tiled, t0);
            mx += t.y;
            my += t.z;
        }
    }
    let n = f32(p * p);
    let mean_g = vec2<f32>(mx / n, my / n);
    var h11 = 0.0;
    var h12 = 0.0;
    var h22 = 0.0;
    for (var r = 0u; r < p; r++) {
        for (var c = 0u; c < p; c++) {
            let t = template_at(x0 + c, y0 + r, tiled, t0);
            let gx = t.y - mean_g.x;
            let gy = t.z - mean_g.y;
            h11 += gx * gx;
            h12 += gx * gy;
            h22 += gy * gy;
        }
    }
    h11 += params.hessian_reg;
    h22 += params.hessian_reg;
    let det = h11 * h22 - h12 * h12;
    let inv = vec3<f32>(h22 / det, -h12 / det, h11 / det);
    let cx = min(x0 + p / 2u, w - 1u);
    let cy = min(y0 + p / 2u, h - 1u);
    let u0 = init[cy * w + cx];
    var u = u0;
    var best = u0;
    // f32::INFINITY: any finite SSD is lower.
    var best_ssd = bitcast<f32>(0x7f800000u);
    for (var step = 0u; step <= params.iterations; step++) {
        let e = evaluate(x0, y0, mean_g, u, tiled, t0);
        if e.ssd < best_ssd {
            best_ssd = e.ssd;
            best = u;
        }
        if step == params.iterations {
            break;
        }
        let du = inv.x * e.b.x + inv.y * e.b.y;
        let dv = inv.y * e.b.x + inv.z * e.b.y;
        u = vec2<f32>(u.x - du, u.y - dv);
    }
    let dx = best.x - u0.x;
    let dy = best.y - u0.y;
    let tx = f32(cx) + best.x;
    let ty = f32(cy) + best.y;
    let m = f32(p / 2u);
    let inside = tx >= -m && ty >= -m && tx <= f32(w - 1u) + m && ty <= f32(h - 1u) + m;
    var result = best;
    if !inside || dx * dx + dy * dy > f32(p * p) {
        result = u0;
    }
    patches[id.y * params.nx + id.x] = result;
}

// The patches lo ..= hi along one side (count n) whose span contains x.
fn covering(x: u32, len: u32, n: u32) -> vec2<u32> {
    let p = params.patch_size;
    let s = params.stride;
    var lo = 0u;
    if x >= p {
        lo = (x + 1u - p + s - 1u) / s;
    }
    lo = min(lo, n - 1u);
    var hi = x / s;
    if x >= origin(n - 1u, len) {
        hi = n - 1u;
    }
    return vec2<u32>(lo, hi);
}

// dis.rs `densify`: the covering patches' vectors weighted by
// 1 / max(|B(x + u) − A(x)|, tau), in row-major patch order.
@compute @workgroup_size(16, 16)
fn densify(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    if id.x >= w || id.y >= h {
        return;
    }
    let cols = covering(id.x, w, params.nx);
    let rows = covering(id.y, h, params.ny);
    var su = 0.0;
    var sv = 0.0;
    var sw = 0.0;
    for (var j = rows.x; j <= rows.y; j++) {
        for (var i = cols.x; i <= cols.y; i++) {
            let u = patches_in[j * params.nx + i];
            let wgt = 1.0 / max(warp_error(i32(id.x), i32(id.y), u), params.tau);
            su += wgt * u.x;
            sv += wgt * u.y;
            sw += wgt;
        }
    }
    dense[id.y * w + id.x] = vec2<f32>(su / sw, sv / sw);
}

// select.rs: the 5×5 window of the select pass.
const SELECT_R: i32 = 2;
// select.rs SELECT_RATIO.
const SELECT_RATIO: f32 = 0.8;

// dis.rs densification's |B(x + u) − A(x)| at pixel (x, y), u clamped to a pixel
// beyond the level (select.rs `warp_error` for pass 7b).
fn warp_error(x: i32, y: i32, u: vec2<f32>) -> f32 {
    let wf = f32(params.width);
    let hf = f32(params.height);
    let ux = clamp(u.x, -wf - 1.0, wf + 1.0);
    let uy = clamp(u.y, -hf - 1.0, hf + 1.0);
    let flx = floor(ux);
    let fly = floor(uy);
    let ix = x + i32(flx);
    let iy = y + i32(fly);
    let fx = ux - flx;
    let fy = uy - fly;
    let top = b_at(ix, iy) + fx * (b_at(ix + 1, iy) - b_at(ix, iy));
    let bottom = b_at(ix, iy + 1) + fx * (b_at(ix + 1, iy + 1) - b_at(ix, iy + 1));
    return abs(top + fy * (bottom - top) - level0[u32(y) * params.width + u32(x)].x);
}

// select.rs `keep_better` (pass 7b): the densified vector where its window
// error is below SELECT_RATIO times the refined one's, rows then columns.
@compute @workgroup_size(16, 16)
fn select_field(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    if id.x >= w || id.y >= h {
        return;
    }
    var ed = 0.0;
    var er = 0.0;
    for (var dy = -SELECT_R; dy <= SELECT_R; dy++) {
        let qy = i32(clamp_index(i32(id.y) + dy, h));
        for (var dx = -SELECT_R; dx <= SELECT_R; dx++) {
            let qx = i32(clamp_index(i32(id.x) + dx, w));
            let q = u32(qy) * w + u32(qx);
            ed += warp_error(qx, qy, densified[q]);
            er += warp_error(qx, qy, refined[q]);
        }
    }
    let i = id.y * w + id.x;
    if ed < SELECT_RATIO * er {
        selected[i] = densified[i];
    } else {
        selected[i] = refined[i];
    }
}
