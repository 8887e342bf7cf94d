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
