//! [`Engine::frequency`]: the Frequency node (SPEC §4).

use morph_core::Image;
use morph_core::ops::frequency::FrequencyBands;
use morph_core::params::FrequencyParams;

use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Splits `image` into Low, (Mid,) High bands with the box or Gaussian
    /// blur of `params` (radii per axis, 0..=1000), Mid and High optionally
    /// centred and scaled (`0.5 + 0.5·band`). Alpha is the input's on every
    /// output; Low keeps the extra channels. `morph_core::ops::frequency::merge`
    /// sums the bands back. GPU results match the CPU within the parity
    /// tolerances of `morph_core::test_support` (f32 rounding only).
    ///
    /// # Errors
    /// [`EngineError::Core`] for a radius outside 0..=1000; [`EngineError::Gpu`]
    /// for a GPU failure on the `GPU` platform.
    pub fn frequency(
        &self,
        image: &Image,
        params: &FrequencyParams,
    ) -> Result<FrequencyBands, EngineError> {
        self.run(
            "frequency",
            || morph_core::ops::frequency::frequency(image, params),
            |ctx| morph_gpu::ops::frequency::frequency(ctx, image, params),
        )
    }
}
