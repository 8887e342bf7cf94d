//! [`Engine::pair_motion`] and [`Engine::interpolate`]: in-between frames
//! (the Morph node's Motion Vectors mode; the algorithm is
//! `morph_core::ops::interpolate`).

use morph_core::Image;
use morph_core::ops::flow::FlowParams;
use morph_core::ops::interpolate::{CutRule, Interpolated, PairMotion};

use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// The motion of a pair, computed once and reused for every in-between
    /// of the pair: flow both ways with occlusion ([`Engine::flow`]) and the
    /// scene-cut score.
    ///
    /// # Errors
    /// [`EngineError::Core`] for invalid parameters or frames of different
    /// sizes.
    pub fn pair_motion(
        &self,
        a: &Image,
        b: &Image,
        params: &FlowParams,
    ) -> Result<PairMotion, EngineError> {
        let flow = self.flow(a, b, params)?;
        Ok(morph_core::ops::interpolate::analyse_pair(a, b, flow)?)
    }

    /// The frame at time `t` (0 = `a`, 1 = `b`) from the pair's motion: all
    /// channels warped with the same vectors, occlusion-aware, `cut_rule`
    /// applied when the pair is a scene cut. `t = 0` and `t = 1` return the
    /// inputs unchanged.
    ///
    /// The warp runs on the GPU when the engine has one
    /// (`morph_gpu::ops::interpolate::interpolate`; the copies and the cut
    /// rule are the CPU's on every backend), matching the CPU reference
    /// `morph_core::ops::interpolate::interpolate` within the tolerance of
    /// `morph-gpu`'s interpolation parity tests. On the `Auto` platform a
    /// device failure re-runs the frame on the CPU.
    ///
    /// # Errors
    /// [`EngineError::Core`] for `t` outside `[0, 1]` or mismatched sizes;
    /// [`EngineError::Gpu`] for a GPU failure on the `GPU` platform.
    pub fn interpolate(
        &self,
        a: &Image,
        b: &Image,
        motion: &PairMotion,
        t: f32,
        cut_rule: CutRule,
    ) -> Result<Interpolated, EngineError> {
        self.run(
            "interpolate",
            || morph_core::ops::interpolate::interpolate(a, b, motion, t, cut_rule),
            |ctx| morph_gpu::ops::interpolate::interpolate(ctx, a, b, motion, t, cut_rule),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use morph_core::flow::FlowField;
    use morph_core::ops::flow::FlowResult;
    use morph_core::ops::interpolate::{CutScore, Source};
    use morph_core::params::RenderingPlatform;
    use morph_core::test_support::{no_gpu, pattern_image};
    use morph_gpu::{GpuContext, Preference};

    use super::*;

    /// A 40×24 pair moving by (3.5, −1.25) px with a band occluded.
    fn pair() -> (Image, Image, PairMotion) {
        let (w, h) = (40, 24);
        let n = (w * h) as usize;
        let occlusion: Vec<f32> = (0..n)
            .map(|k| if k % w as usize > 30 { 1.0 } else { 0.0 })
            .collect();
        let flow = FlowResult {
            forward: FlowField::from_vectors(w, h, vec![[3.5, -1.25]; n]).unwrap(),
            backward: FlowField::from_vectors(w, h, vec![[-3.5, 1.25]; n]).unwrap(),
            occlusion_forward: occlusion.clone(),
            occlusion_backward: occlusion,
        };
        let motion = PairMotion {
            flow,
            cut: CutScore {
                correlation: 1.0,
                occluded: 0.0,
            },
        };
        (pattern_image(w, h, 1), pattern_image(w, h, 2), motion)
    }

    fn max_diff(x: &Image, y: &Image) -> f32 {
        x.pixels()
            .iter()
            .flatten()
            .zip(y.pixels().iter().flatten())
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn gpu_platform_warps_on_the_device_like_the_cpu() {
        let Ok(ctx) = GpuContext::shared_for_tests().map_err(no_gpu::<()>) else {
            return;
        };
        let (a, b, motion) = pair();
        let engine = Engine::with_context(ctx, RenderingPlatform::Gpu);
        assert!(engine.backend().is_gpu());
        let cpu = Engine::cpu();
        for t in [0.0, 0.3, 0.5, 0.7, 1.0] {
            let g = engine
                .interpolate(&a, &b, &motion, t, CutRule::Nearest)
                .unwrap();
            let c = cpu
                .interpolate(&a, &b, &motion, t, CutRule::Nearest)
                .unwrap();
            assert_eq!(g.source, c.source);
            // The parity bound of morph-gpu's tests/interpolate.rs.
            assert!(max_diff(&g.image, &c.image) <= 1e-4, "t={t}");
            assert_eq!(g.vectors, c.vectors, "t={t}");
        }
        let e = engine
            .interpolate(&a, &b, &motion, 2.0, CutRule::Nearest)
            .unwrap_err();
        assert!(matches!(e, EngineError::Core(_)), "{e}");
    }

    #[test]
    fn auto_reruns_the_frame_on_the_cpu_after_device_loss() {
        let ctx = match GpuContext::new(Preference::AnyAdapter) {
            Ok(ctx) => Arc::new(ctx),
            Err(e) => return no_gpu::<()>(e).unwrap_or(()),
        };
        let (a, b, motion) = pair();
        let auto = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Auto);
        let gpu = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Gpu);
        ctx.device().destroy();
        let out = auto
            .interpolate(&a, &b, &motion, 0.5, CutRule::Nearest)
            .unwrap();
        let expected =
            morph_core::ops::interpolate::interpolate(&a, &b, &motion, 0.5, CutRule::Nearest)
                .unwrap();
        assert_eq!(out.source, Source::Warped);
        assert_eq!(
            out.image.pixels(),
            expected.image.pixels(),
            "the CPU's frame"
        );
        let e = gpu
            .interpolate(&a, &b, &motion, 0.5, CutRule::Nearest)
            .unwrap_err();
        assert!(
            matches!(e, EngineError::Gpu(ref g) if g.is_device_failure()),
            "{e}"
        );
    }
}
