//! [`Engine::clamp`]: the Clamp node (SPEC §5).

use morph_core::Image;
use morph_core::params::ClampParams;

use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Clamps every channel of `image`, alpha and extra channels included,
    /// to `[min_value, max_value]` (each bound switchable; NaN rule in
    /// [`ClampParams`]). CPU and GPU results are bit-identical.
    ///
    /// # Errors
    /// [`EngineError::Core`] for invalid parameters (`min_value > max_value`
    /// with both on, non-finite bounds); [`EngineError::Gpu`] for a GPU
    /// failure on the `GPU` platform.
    pub fn clamp(&self, image: &Image, params: &ClampParams) -> Result<Image, EngineError> {
        self.run(
            "clamp",
            || morph_core::ops::clamp::clamp(image, params),
            |ctx| morph_gpu::ops::clamp::clamp(ctx, image, params),
        )
    }
}
