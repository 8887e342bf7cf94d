//! [`Engine::stmap`]: the STMap node (SPEC §3).

use morph_core::ops::stmap::{StMapInputs, StMapOutput};
use morph_core::params::StMapParams;

use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Warps the Front (all its channels) and the optional Matte through the
    /// STMap with the framing, repeat and filter modes of `params`. The
    /// output has the STMap's size. GPU results match the CPU within the
    /// parity tolerance of `morph-gpu`'s STMap tests (bit-exact on lavapipe
    /// for every filter but EWA).
    ///
    /// # Errors
    /// [`EngineError::Core`] for invalid attributes or a Matte of another
    /// size than the Front; [`EngineError::Gpu`] for a GPU failure on the
    /// `GPU` platform.
    pub fn stmap(
        &self,
        inputs: &StMapInputs<'_>,
        params: &StMapParams,
    ) -> Result<StMapOutput, EngineError> {
        self.run(
            "stmap",
            || morph_core::ops::stmap::stmap(inputs, params),
            |ctx| morph_gpu::ops::stmap::stmap(ctx, inputs, params),
        )
    }
}
