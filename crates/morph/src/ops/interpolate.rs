//! [`Engine::pair_motion`] and [`Engine::interpolate`]: in-between frames
//! (the Morph node's Motion Vectors mode; the algorithm is
//! `morph_core::ops::interpolate`), and [`Engine::prepare_pair`] (or
//! [`Engine::prepare_pair_with_flow`]) with
//! [`Engine::interpolate_prepared`]: many in-betweens of one pair with the
//! pair uploaded to the GPU once.

use std::sync::{Arc, Mutex};

use morph_core::Image;
use morph_core::ops::flow::FlowParams;
use morph_core::ops::interpolate::{CutRule, Interpolated, PairMotion, Source, check_sizes, warps};
use morph_gpu::GpuContext;
use morph_gpu::ops::interpolate::GpuPair;

use crate::engine::Engine;
use crate::error::EngineError;

/// A pair of frames and their motion, ready for any number of in-betweens
/// ([`Engine::interpolate_prepared`]).
///
/// The frames and the motion are shared (`Arc`), never copied. On a GPU
/// engine the pair is uploaded to the device the first time an in-between
/// needs a warp (copies at `t` = 0 and 1 and the cut rule need none), and
/// every later in-between of the pair reuses it: only the warp and the
/// read-back run per time. The device buffers are freed (returned to the
/// context's pool) when the pair is dropped.
///
/// Use a pair with the engine that prepared it; another engine's GPU
/// context uploads its own copy.
#[derive(Debug)]
pub struct PreparedPair {
    a: Arc<Image>,
    b: Arc<Image>,
    motion: Arc<PairMotion>,
    /// The device copy, once a warp has needed it.
    gpu: Mutex<Option<Arc<GpuPair>>>,
}

impl PreparedPair {
    /// Frame A (t = 0).
    pub fn a(&self) -> &Arc<Image> {
        &self.a
    }

    /// Frame B (t = 1).
    pub fn b(&self) -> &Arc<Image> {
        &self.b
    }

    /// The pair's motion.
    pub fn motion(&self) -> &Arc<PairMotion> {
        &self.motion
    }

    /// True once the pair has been uploaded to a GPU (after the first
    /// in-between that warped on one).
    pub fn is_on_device(&self) -> bool {
        self.lock().is_some()
    }

    /// The device copy, if any (tests check it is reused).
    #[cfg(test)]
    pub(crate) fn device_pair(&self) -> Option<Arc<GpuPair>> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<GpuPair>>> {
        self.gpu.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pair on `ctx`'s device, uploaded now if it is not there yet
    /// (or was uploaded to another context).
    fn on_device(&self, ctx: &GpuContext) -> Result<Arc<GpuPair>, morph_gpu::GpuError> {
        let mut guard = self.lock();
        if let Some(pair) = guard.as_ref().filter(|p| p.is_on(ctx)) {
            return Ok(Arc::clone(pair));
        }
        // Drop a stale copy first, so its buffers can serve the new one.
        *guard = None;
        let pair = Arc::new(GpuPair::upload(ctx, &self.a, &self.b, &self.motion)?);
        *guard = Some(Arc::clone(&pair));
        Ok(pair)
    }
}

impl Engine {
    /// The motion of a pair, computed once and reused for every in-between
    /// of the pair: flow both ways with occlusion ([`Engine::flow`]), pass 0
    /// (occluded pixels' vectors replaced by their background's) and the
    /// scene-cut score (`morph_core::ops::interpolate::analyse_pair`). On
    /// the GPU the flow and pass 0 run on the device and only the score on
    /// the CPU (`morph_gpu::ops::interpolate::analyse_pair`); on the `Auto`
    /// platform a device failure re-runs it on the CPU.
    ///
    /// # Errors
    /// [`EngineError::Core`] for invalid parameters or frames of different
    /// sizes; [`EngineError::Gpu`] for a GPU failure on the `GPU` platform.
    pub fn pair_motion(
        &self,
        a: &Image,
        b: &Image,
        params: &FlowParams,
    ) -> Result<PairMotion, EngineError> {
        self.run(
            "pair motion",
            || {
                let flow = morph_core::ops::flow::estimate_flow(a, b, params)?;
                morph_core::ops::interpolate::analyse_pair(a, b, flow)
            },
            |ctx| morph_gpu::ops::interpolate::analyse_pair(ctx, a, b, params),
        )
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

    /// Prepares a pair for [`Engine::interpolate_prepared`]: `a`, `b` and
    /// their motion (from [`Engine::pair_motion`]) are kept, shared, for
    /// every in-between of the pair. Pass `Arc`s to share frames the caller
    /// keeps anyway; a plain [`Image`] or [`PairMotion`] is moved in.
    ///
    /// Nothing is uploaded yet: a GPU engine uploads the pair with the
    /// first in-between that warps.
    ///
    /// # Errors
    /// [`EngineError::Core`] if the frames or the motion differ in size.
    pub fn prepare_pair(
        &self,
        a: impl Into<Arc<Image>>,
        b: impl Into<Arc<Image>>,
        motion: impl Into<Arc<PairMotion>>,
    ) -> Result<PreparedPair, EngineError> {
        let (a, b, motion) = (a.into(), b.into(), motion.into());
        check_sizes(&a, &b, &motion.flow)?;
        Ok(PreparedPair {
            a,
            b,
            motion,
            gpu: Mutex::default(),
        })
    }

    /// [`Engine::pair_motion`] and [`Engine::prepare_pair`] in one: the
    /// pair's motion estimated with `params` and the pair prepared for its
    /// in-betweens. On the GPU, A and B are uploaded once for both the flow
    /// and the warps (`morph_gpu::ops::interpolate::GpuPair::analyse`: flow
    /// and pass 0 on the device, the prepared flow read back once for the
    /// scene-cut score and the host copy, nothing uploaded again), so a
    /// pair costs one upload of its frames instead of two. The motion is
    /// the one [`Engine::pair_motion`] gives on the same backend, within
    /// the GPU's pass-0 parity tolerance. On the `Auto` platform a device failure
    /// analyses the pair on the CPU.
    ///
    /// # Errors
    /// [`EngineError::Core`] for invalid parameters or frames of different
    /// sizes; [`EngineError::Gpu`] for a GPU failure on the `GPU` platform.
    pub fn prepare_pair_with_flow(
        &self,
        a: impl Into<Arc<Image>>,
        b: impl Into<Arc<Image>>,
        params: &FlowParams,
    ) -> Result<PreparedPair, EngineError> {
        let (a, b) = (a.into(), b.into());
        self.run(
            "interpolate pair",
            || {
                let flow = morph_core::ops::flow::estimate_flow(&a, &b, params)?;
                let motion = morph_core::ops::interpolate::analyse_pair(&a, &b, flow)?;
                Ok(PreparedPair {
                    a: Arc::clone(&a),
                    b: Arc::clone(&b),
                    motion: Arc::new(motion),
                    gpu: Mutex::default(),
                })
            },
            |ctx| {
                let pair = GpuPair::analyse(ctx, &a, &b, params)?;
                Ok(PreparedPair {
                    a: Arc::clone(&a),
                    b: Arc::clone(&b),
                    motion: Arc::clone(pair.motion()),
                    gpu: Mutex::new(Some(Arc::new(pair))),
                })
            },
        )
    }

    /// The in-between of a prepared pair at time `t`: the same result as
    /// [`Engine::interpolate`] on the pair's frames and motion. On the GPU
    /// the pair stays on the device between calls
    /// (`morph_gpu::ops::interpolate::GpuPair`), so each call costs the
    /// warp and the read-back of the image and the vectors, no upload. On
    /// the `Auto` platform a device failure re-runs the in-between on the
    /// CPU (from the pair's host frames).
    ///
    /// # Errors
    /// [`EngineError::Core`] for `t` outside `[0, 1]`; [`EngineError::Gpu`]
    /// for a GPU failure on the `GPU` platform.
    pub fn interpolate_prepared(
        &self,
        pair: &PreparedPair,
        t: f32,
        cut_rule: CutRule,
    ) -> Result<Interpolated, EngineError> {
        let cpu = || {
            morph_core::ops::interpolate::interpolate(&pair.a, &pair.b, &pair.motion, t, cut_rule)
        };
        self.run("interpolate", cpu, |ctx| {
            if !warps(&pair.motion, t, cut_rule) {
                // Copies or the cut rule: the CPU's code, no upload.
                return Ok(cpu()?);
            }
            pair.on_device(ctx)?.interpolate(ctx, t, cut_rule)
        })
    }

    /// [`Engine::interpolate_prepared`] without the vectors: the same image
    /// and source, and on the GPU only the image is read back (half the
    /// transfer of an in-between). For callers that do not follow the
    /// motion (no motion blur).
    ///
    /// # Errors
    /// As [`Engine::interpolate_prepared`].
    pub fn interpolate_prepared_image(
        &self,
        pair: &PreparedPair,
        t: f32,
        cut_rule: CutRule,
    ) -> Result<(Image, Source), EngineError> {
        let cpu = || {
            morph_core::ops::interpolate::interpolate(&pair.a, &pair.b, &pair.motion, t, cut_rule)
                .map(|out| (out.image, out.source))
        };
        self.run("interpolate", cpu, |ctx| {
            if !warps(&pair.motion, t, cut_rule) {
                return Ok(cpu()?);
            }
            pair.on_device(ctx)?.interpolate_image(ctx, t, cut_rule)
        })
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

    #[test]
    fn a_prepared_pair_gives_what_interpolate_gives_on_each_backend() {
        let (a, b, motion) = pair();
        let cpu = Engine::cpu();
        let mut engines = vec![cpu];
        if let Ok(ctx) = GpuContext::shared_for_tests().map_err(no_gpu::<()>) {
            engines.push(Engine::with_context(ctx, RenderingPlatform::Gpu));
        }
        for engine in &engines {
            let prepared = engine
                .prepare_pair(a.clone(), b.clone(), motion.clone())
                .unwrap();
            // Exact times and no warp yet: nothing uploaded.
            for t in [0.0, 1.0] {
                let p = engine
                    .interpolate_prepared(&prepared, t, CutRule::Nearest)
                    .unwrap();
                let d = engine
                    .interpolate(&a, &b, &motion, t, CutRule::Nearest)
                    .unwrap();
                assert_eq!(
                    (&p.image, &p.vectors, p.source),
                    (&d.image, &d.vectors, d.source)
                );
            }
            assert!(!prepared.is_on_device());
            for t in [0.25, 0.5, 0.7] {
                let p = engine
                    .interpolate_prepared(&prepared, t, CutRule::Nearest)
                    .unwrap();
                let d = engine
                    .interpolate(&a, &b, &motion, t, CutRule::Nearest)
                    .unwrap();
                // The same kernels on the same data: identical to the bit.
                assert_eq!(p.source, d.source, "{} t={t}", engine.backend());
                assert_eq!(p.image, d.image, "{} t={t}", engine.backend());
                assert_eq!(p.vectors, d.vectors, "{} t={t}", engine.backend());
                let (image, source) = engine
                    .interpolate_prepared_image(&prepared, t, CutRule::Nearest)
                    .unwrap();
                assert_eq!((image, source), (d.image, d.source));
            }
            assert_eq!(prepared.is_on_device(), engine.backend().is_gpu());
            let e = engine
                .interpolate_prepared(&prepared, 1.5, CutRule::Nearest)
                .unwrap_err();
            assert!(
                matches!(e, EngineError::Core(_)) && e.to_string().contains("time"),
                "{e}"
            );
        }
        // Mismatched sizes are refused when preparing.
        let small = pattern_image(8, 8, 3);
        let e = Engine::cpu()
            .prepare_pair(a.clone(), small, motion.clone())
            .unwrap_err();
        assert!(e.to_string().contains("Back input"), "{e}");
    }

    #[test]
    fn auto_reruns_a_prepared_pair_on_the_cpu_after_device_loss() {
        let ctx = match GpuContext::new(Preference::AnyAdapter) {
            Ok(ctx) => Arc::new(ctx),
            Err(e) => return no_gpu::<()>(e).unwrap_or(()),
        };
        let (a, b, motion) = pair();
        let auto = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Auto);
        let gpu = Engine::with_context(Arc::clone(&ctx), RenderingPlatform::Gpu);
        let prepared = auto
            .prepare_pair(a.clone(), b.clone(), motion.clone())
            .unwrap();
        let before = auto
            .interpolate_prepared(&prepared, 0.25, CutRule::Nearest)
            .unwrap();
        assert!(prepared.is_on_device(), "the warp uploaded the pair");
        let on_gpu = gpu
            .prepare_pair(a.clone(), b.clone(), motion.clone())
            .unwrap();
        gpu.interpolate_prepared_image(&on_gpu, 0.25, CutRule::Nearest)
            .unwrap();
        // The device goes away with the pair resident on it.
        ctx.device().destroy();
        for t in [0.25, 0.5] {
            let out = auto
                .interpolate_prepared(&prepared, t, CutRule::Nearest)
                .unwrap();
            let expected =
                morph_core::ops::interpolate::interpolate(&a, &b, &motion, t, CutRule::Nearest)
                    .unwrap();
            assert_eq!(out.source, Source::Warped);
            assert_eq!(out.image, expected.image, "the CPU's frame, t={t}");
            assert_eq!(out.vectors, expected.vectors, "t={t}");
        }
        assert!(max_diff(&before.image, &a) > 0.0, "a real warp ran before");
        // A new pair is analysed on the CPU.
        let params = FlowParams::default();
        let fresh = auto
            .prepare_pair_with_flow(a.clone(), b.clone(), &params)
            .unwrap();
        assert!(!fresh.is_on_device());
        let cpu_motion = Engine::cpu().pair_motion(&a, &b, &params).unwrap();
        assert_eq!(fresh.motion().flow, cpu_motion.flow);
        let e = gpu
            .interpolate_prepared(&on_gpu, 0.5, CutRule::Nearest)
            .unwrap_err();
        assert!(
            matches!(e, EngineError::Gpu(ref g) if g.is_device_failure()),
            "{e}"
        );
    }

    #[test]
    fn a_pair_prepared_with_its_flow_matches_pair_motion_on_each_backend() {
        let (a, b) = (pattern_image(48, 32, 11), pattern_image(48, 32, 12));
        let params = FlowParams::default();
        let mut engines = vec![Engine::cpu()];
        if let Ok(ctx) = GpuContext::shared_for_tests().map_err(no_gpu::<()>) {
            engines.push(Engine::with_context(ctx, RenderingPlatform::Gpu));
        }
        for engine in &engines {
            let prepared = engine
                .prepare_pair_with_flow(a.clone(), b.clone(), &params)
                .unwrap();
            let motion = engine.pair_motion(&a, &b, &params).unwrap();
            assert_eq!(prepared.motion().flow, motion.flow, "{}", engine.backend());
            assert_eq!(prepared.motion().cut, motion.cut);
            // On the GPU the frames uploaded for the flow are the pair's.
            assert_eq!(prepared.is_on_device(), engine.backend().is_gpu());
            let p = engine
                .interpolate_prepared(&prepared, 0.5, CutRule::Warp)
                .unwrap();
            let d = engine
                .interpolate(&a, &b, &motion, 0.5, CutRule::Warp)
                .unwrap();
            assert_eq!((p.image, p.vectors), (d.image, d.vectors));
            let bad = FlowParams {
                patch_stride: 0,
                ..params
            };
            let e = engine
                .prepare_pair_with_flow(a.clone(), b.clone(), &bad)
                .unwrap_err();
            assert!(e.to_string().contains("flow.patch_stride"), "{e}");
        }
    }
}
