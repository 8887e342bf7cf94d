// common/index.wgsl — linear invocation index over a 2D grid of workgroups.
//
// A 1D kernel over `count` elements is dispatched as (min(groups, max), ceil(groups / max), 1)
// workgroups because max_compute_workgroups_per_dimension is only 65535
// (see `morph_gpu::dispatch::linear_grid`). Kernels call `linear_index` and
// return early when the index is >= count (the last workgroup is partial).
// No bindings.

// Index of this invocation in a 1D launch of workgroups of `workgroup_size`
// invocations, laid out row by row over the dispatched grid.
fn linear_index(workgroup_id: vec3<u32>, num_workgroups: vec3<u32>, local_index: u32, workgroup_size: u32) -> u32 {
    let group = workgroup_id.y * num_workgroups.x + workgroup_id.x;
    return group * workgroup_size + local_index;
}
