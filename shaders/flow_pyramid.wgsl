// flow_pyramid.wgsl — passes 1–3 of the optical-flow estimator, per frame:
// range-compressed luma, box downscale to the analysis resolution, the 2×
// pyramid reduction, local normalisation with edge weights, and Sobel
// gradients. Twin of crates/morph-core/src/ops/flow/{luma,pyramid}.rs (the
// specification, reproduced operation for operation in the same f32 order)
// and crates/morph-gpu/src/ops/flow.rs (the dispatch).
//
// Bindings, group 0 (binding 0 is always the uniform GpuFlowParams):
//   luma:      1 read  rgba   array<vec4<f32>> (the image)    2 rw  out  array<f32>
//   downscale: 1 read  src    array<f32> (full-resolution luma) 2 rw  out  array<f32>
//   halve:     1 read  src    array<f32> (raw level l)       2 rw  out  array<f32> (raw level l + 1)
//   normalize: 1 read  src    array<f32> (raw level)         2 rw  out  array<f32> (N)  3 rw  edge array<f32>
//   gradients: 1 read  src    array<f32> (N)                 2 read edge array<f32>     3 rw  level array<vec4<f32>>
//                                                            (N, Nx, Ny, edge weight) per pixel
// Workgroup size (16, 16); one invocation per output pixel, x across
// `width`, y across `height` of the uniform.

//!include common/flow.wgsl

@group(0) @binding(0) var<uniform> params: GpuFlowParams;

// luma
@group(0) @binding(1) var<storage, read> rgba: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> luma_out: array<f32>;
// downscale, halve, normalize, gradients
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> edge_out: array<f32>;
@group(0) @binding(2) var<storage, read> edge_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> level_out: array<vec4<f32>>;

// Range compression of one scene-linear value (luma.rs `compress_linear`).
fn compress_linear(v: f32) -> f32 {
    if v <= 0.0031308 {
        return 12.92 * max(v, -0.01);
    } else if v <= 1.0 {
        return 1.055 * pow(v, 1.0f / 2.4f) - 0.055;
    }
    return 1.0 + (1.055f / 2.4f) * log(v);
}

@compute @workgroup_size(16, 16)
fn luma(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let i = id.y * params.width + id.x;
    let p = rgba[i];
    var y = 0.2126 * p.x + 0.7152 * p.y + 0.0722 * p.z;
    // Non-finite (exponent all ones, tested on the bits) becomes 0.
    if (bitcast<u32>(y) & 0x7f800000u) == 0x7f800000u {
        y = 0.0;
    }
    if params.linear != 0u {
        y = compress_linear(y);
    }
    luma_out[i] = y;
}

// Box average of the f × f block (partial blocks average what exists):
// summed down each column of the block, then across the columns.
@compute @workgroup_size(16, 16)
fn downscale(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let f = params.factor;
    let x0 = id.x * f;
    let y0 = id.y * f;
    let x1 = min(x0 + f, params.src_width);
    let y1 = min(y0 + f, params.src_height);
    var sum = 0.0;
    for (var x = x0; x < x1; x++) {
        var col = src[y0 * params.src_width + x];
        for (var y = y0 + 1u; y < y1; y++) {
            col += src[y * params.src_width + x];
        }
        sum += col;
    }
    out[id.y * params.width + id.x] = sum / f32((x1 - x0) * (y1 - y0));
}

// [1 3 3 1]/8 over inputs 2i - 1 ..= 2i + 2 (clamp-to-edge), rows first.
@compute @workgroup_size(16, 16)
fn halve(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let t = array<f32, 4>(0.125, 0.375, 0.375, 0.125);
    let sw = params.src_width;
    let sh = params.src_height;
    let xs = array<u32, 4>(
        clamp_index(i32(2u * id.x) - 1, sw),
        clamp_index(i32(2u * id.x), sw),
        clamp_index(i32(2u * id.x) + 1, sw),
        clamp_index(i32(2u * id.x) + 2, sw),
    );
    var rows: array<f32, 4>;
    for (var m = 0; m < 4; m++) {
        let r = clamp_index(i32(2u * id.y) - 1 + m, sh) * sw;
        rows[m] = t[0] * src[r + xs[0]] + t[1] * src[r + xs[1]] + t[2] * src[r + xs[2]]
            + t[3] * src[r + xs[3]];
    }
    out[id.y * params.width + id.x] = t[0] * rows[0] + t[1] * rows[1] + t[2] * rows[2]
        + t[3] * rows[3];
}

// Sobel/8 derivatives of `src` at (x, y), clamp-to-edge.
fn sobel(x: u32, y: u32) -> vec2<f32> {
    let w = params.width;
    let h = params.height;
    let xl = clamp_index(i32(x) - 1, w);
    let xr = clamp_index(i32(x) + 1, w);
    let up = clamp_index(i32(y) - 1, h) * w;
    let mid = y * w;
    let down = clamp_index(i32(y) + 1, h) * w;
    let gx = ((src[up + xr] - src[up + xl]) + 2.0 * (src[mid + xr] - src[mid + xl])
        + (src[down + xr] - src[down + xl])) * 0.125;
    let gy = ((src[down + xl] - src[up + xl]) + 2.0 * (src[down + x] - src[up + x])
        + (src[down + xr] - src[up + xr])) * 0.125;
    return vec2<f32>(gx, gy);
}

// (I - mean) / sqrt(var + eps^2) over the 5×5 box: the mean from row sums
// (in tap order), the variance summed directly (E[(I - mean)^2], not
// E[I^2] - mean^2, whose cancellation the driver's fused multiply-adds
// would round differently from the CPU), and the edge weight
// 1 / (1 + |grad I|^2 / sigma_e^2).
@compute @workgroup_size(16, 16)
fn normalize(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = params.width;
    let h = params.height;
    if id.x >= w || id.y >= h {
        return;
    }
    // The box's 25 samples, read once (registers).
    var p: array<f32, 25>;
    for (var dy = 0; dy < 5; dy++) {
        let r = clamp_index(i32(id.y) + dy - 2, h) * w;
        for (var dx = 0; dx < 5; dx++) {
            p[dy * 5 + dx] = src[r + clamp_index(i32(id.x) + dx - 2, w)];
        }
    }
    var a = 0.0;
    for (var dy = 0; dy < 5; dy++) {
        var q = 0.0;
        for (var dx = 0; dx < 5; dx++) {
            q += p[dy * 5 + dx];
        }
        a += q;
    }
    let mean = a * params.inv_taps;
    // Each row's squares first, then the rows (the CPU's order).
    var v = 0.0;
    for (var dy = 0; dy < 5; dy++) {
        var q = 0.0;
        for (var dx = 0; dx < 5; dx++) {
            let d = p[dy * 5 + dx] - mean;
            q += d * d;
        }
        v += q;
    }
    let i = id.y * w + id.x;
    out[i] = (src[i] - mean) / sqrt(v * params.inv_taps + params.norm_eps2);
    let g = sobel(id.x, id.y);
    edge_out[i] = 1.0 / (1.0 + (g.x * g.x + g.y * g.y) * params.edge_inv);
}

// The level as the search and refinement read it: (N, Nx, Ny, edge).
@compute @workgroup_size(16, 16)
fn gradients(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= params.width || id.y >= params.height {
        return;
    }
    let i = id.y * params.width + id.x;
    let g = sobel(id.x, id.y);
    level_out[i] = vec4<f32>(src[i], g.x, g.y, edge_in[i]);
}
