//! [`Engine::flow`] and [`Engine::flow_one_way`]: dense optical flow
//! between two frames (SPEC §1 conventions; the estimator is
//! `morph_core::ops::flow`).

use std::sync::Once;

use morph_core::ops::flow::{FlowParams, FlowResult};
use morph_core::{FlowField, Image};

use crate::engine::Engine;
use crate::error::EngineError;

/// Logs, once per process, that flow runs on the CPU on a GPU engine.
fn note_cpu_on_gpu(engine: &Engine) {
    static NOTED: Once = Once::new();
    let backend = engine.backend();
    if backend.is_gpu() {
        NOTED.call_once(|| {
            tracing::info!(
                %backend,
                "optical flow runs on the CPU until its GPU kernel lands"
            );
        });
    }
}

impl Engine {
    /// Flow in both directions between `a` and `b`, with the occlusion
    /// maps: vectors in pixels, +x right, +y down.
    ///
    /// **Runs on the CPU on every platform for now**: the estimator's WGSL
    /// port does not exist yet, so a GPU engine runs the rayon
    /// implementation too (and says so once in the log, at `info`) rather
    /// than pretending. The result is the same as
    /// `morph_core::ops::flow::estimate_flow` on any backend.
    ///
    /// # Errors
    /// [`EngineError::Core`] for invalid parameters or frames of different
    /// sizes.
    pub fn flow(
        &self,
        a: &Image,
        b: &Image,
        params: &FlowParams,
    ) -> Result<FlowResult, EngineError> {
        note_cpu_on_gpu(self);
        Ok(morph_core::ops::flow::estimate_flow(a, b, params)?)
    }

    /// Flow from `a` to `b` only, half the work of [`Engine::flow`]; on the
    /// CPU on every platform for now, like [`Engine::flow`].
    ///
    /// # Errors
    /// As [`Engine::flow`].
    pub fn flow_one_way(
        &self,
        a: &Image,
        b: &Image,
        params: &FlowParams,
    ) -> Result<FlowField, EngineError> {
        note_cpu_on_gpu(self);
        Ok(morph_core::ops::flow::estimate_flow_one_way(a, b, params)?)
    }
}
