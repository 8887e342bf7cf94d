// frequency.wgsl — the band arithmetic of the Frequency node (SPEC §4), per
// pixel, after the blurs of blur.wgsl:
//   2 bands: Low = L, High = enc(F − L)
//   3 bands: Low = L, Mid = enc(M − L), High = enc(F − M)
// with enc(v) = 0.5 + 0.5·v when centre_scale is on, else v; RGB only, every
// output's alpha is F's. Twin of crates/morph-core/src/ops/frequency.rs
// (`difference`, `encode`: the specification) and
// crates/morph-gpu/src/ops/frequency.rs (the dispatch).
//
// Bindings, group 0 (array<vec4<f32>> images, y * width + x):
//   0: uniform GpuFrequencyParams
//   1: storage, read        F, the input
//   2: storage, read        L, blur_low(F) (F itself when both radii are 0)
//   3: storage, read_write  Low
//   4: storage, read_write  High
//   5: storage, read        M, blur_mid(F)      (three_bands only)
//   6: storage, read_write  Mid                 (three_bands only)
// Entry points, workgroup size 256 (1D, over a 2D grid; common/index.wgsl),
// one invocation per pixel, `count` = pixels:
//   two_bands, three_bands

//!include common/index.wgsl

const WORKGROUP_SIZE: u32 = 256u;

// Keep in sync with `GpuFrequencyParams` in crates/morph-gpu/src/ops/frequency.rs.
struct GpuFrequencyParams {
    // Pixels.
    count: u32,
    // 1 = store Mid and High as 0.5 + 0.5·band.
    centre_scale: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: GpuFrequencyParams;
@group(0) @binding(1) var<storage, read> f_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> l_in: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> low_out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> high_out: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> m_in: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> mid_out: array<vec4<f32>>;

// enc(a − b) on RGB, alpha given.
fn band(a: vec4<f32>, b: vec4<f32>, alpha: f32) -> vec4<f32> {
    var d = a.xyz - b.xyz;
    if params.centre_scale != 0u {
        d = 0.5 + 0.5 * d;
    }
    return vec4<f32>(d, alpha);
}

@compute @workgroup_size(256)
fn two_bands(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    if i >= params.count {
        return;
    }
    let f = f_in[i];
    let l = l_in[i];
    low_out[i] = vec4<f32>(l.xyz, f.w);
    high_out[i] = band(f, l, f.w);
}

@compute @workgroup_size(256)
fn three_bands(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let i = linear_index(workgroup_id, num_workgroups, local_index, WORKGROUP_SIZE);
    if i >= params.count {
        return;
    }
    let f = f_in[i];
    let l = l_in[i];
    let m = m_in[i];
    low_out[i] = vec4<f32>(l.xyz, f.w);
    mid_out[i] = band(m, l, f.w);
    high_out[i] = band(f, m, f.w);
}
