//! [`Engine::flow`] and [`Engine::flow_one_way`]: dense optical flow
//! between two frames (SPEC §1 conventions; the estimator is
//! `morph_core::ops::flow`, its GPU twin `morph_gpu::ops::flow`).

use morph_core::ops::flow::{FlowParams, FlowResult};
use morph_core::{FlowField, Image};

use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Flow in both directions between `a` and `b`, with the occlusion
    /// maps: vectors in pixels, +x right, +y down.
    ///
    /// On the GPU the whole estimator runs on the device (one upload of
    /// both frames, one read-back); the result matches
    /// `morph_core::ops::flow::estimate_flow` within the tolerances of
    /// `morph-gpu`'s `tests/flow.rs` (mean end-point difference below
    /// 0.01 px). Under `Auto`, a device failure re-runs the pair on the CPU.
    ///
    /// # Errors
    /// [`EngineError::Core`] for invalid parameters or frames of different
    /// sizes; [`EngineError::Gpu`] for a GPU failure on the `GPU` platform.
    pub fn flow(
        &self,
        a: &Image,
        b: &Image,
        params: &FlowParams,
    ) -> Result<FlowResult, EngineError> {
        self.run(
            "flow",
            || morph_core::ops::flow::estimate_flow(a, b, params),
            |ctx| morph_gpu::ops::flow::flow(ctx, a, b, params),
        )
    }

    /// Flow from `a` to `b` only, half the work of [`Engine::flow`] (no
    /// backward vectors, no occlusion).
    ///
    /// # Errors
    /// As [`Engine::flow`].
    pub fn flow_one_way(
        &self,
        a: &Image,
        b: &Image,
        params: &FlowParams,
    ) -> Result<FlowField, EngineError> {
        self.run(
            "flow",
            || morph_core::ops::flow::estimate_flow_one_way(a, b, params),
            |ctx| morph_gpu::ops::flow::flow_one_way(ctx, a, b, params),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use morph_core::ops::flow::fixtures;
    use morph_core::params::RenderingPlatform;
    use morph_core::test_support::no_gpu;
    use morph_gpu::GpuContext;

    use super::*;

    /// Mean end-point difference GPU vs CPU allowed (`morph-gpu`'s
    /// `tests/flow.rs` states the same figure).
    const MEAN_EPD: f32 = 0.01;

    fn mean_epd(a: &FlowField, b: &FlowField) -> f32 {
        let d: f32 = a
            .vectors()
            .iter()
            .zip(b.vectors())
            .map(|(x, y)| ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2)).sqrt())
            .sum();
        d / a.vectors().len() as f32
    }

    #[test]
    fn gpu_engine_runs_flow_on_the_device_and_matches_the_cpu() {
        let ctx = match GpuContext::shared_for_tests() {
            Ok(ctx) => ctx,
            Err(e) => return no_gpu::<()>(e).unwrap_or(()),
        };
        let pair = fixtures::translation_pair(64, 48, 2.0, -1.0);
        let params = FlowParams::default();
        let gpu = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Gpu);
        assert!(gpu.backend().is_gpu());
        let cpu = Engine::cpu();
        let g = gpu.flow(&pair.a, &pair.b, &params).unwrap();
        let c = cpu.flow(&pair.a, &pair.b, &params).unwrap();
        assert!(mean_epd(&g.forward, &c.forward) < MEAN_EPD);
        assert!(mean_epd(&g.backward, &c.backward) < MEAN_EPD);
        let g1 = gpu.flow_one_way(&pair.a, &pair.b, &params).unwrap();
        assert!(mean_epd(&g1, &c.forward) < MEAN_EPD);
        // Bad parameters are the same error on both backends.
        let bad = FlowParams {
            patch_stride: 0,
            ..params
        };
        let e = gpu.flow(&pair.a, &pair.b, &bad).unwrap_err().to_string();
        assert!(e.contains("flow.patch_stride"), "{e}");
    }
}
