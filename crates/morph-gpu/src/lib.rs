//! morph-gpu: the wgpu compute backend (filled by the GPU work).
