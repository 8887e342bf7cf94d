//! The parity cases of `morph_core::test_support::cases` through the engine
//! facade, on the CPU and on the GPU platform (skipped without an adapter
//! unless `MORPH_REQUIRE_GPU=1`).

use morph::{Engine, RenderingPlatform};
use morph_core::Image;
use morph_core::ops::frequency::FrequencyBands;
use morph_core::params::{ClampParams, FrequencyParams};
use morph_core::test_support::{Backend, BackendError, no_gpu};
use morph_gpu::GpuContext;

/// An engine as a parity backend.
struct EngineBackend(Engine);

impl Backend for EngineBackend {
    fn name(&self) -> String {
        format!("engine on {}", self.0.backend())
    }

    fn clamp(&self, image: &Image, params: &ClampParams) -> Result<Image, BackendError> {
        Ok(self.0.clamp(image, params)?)
    }

    fn frequency(
        &self,
        image: &Image,
        params: &FrequencyParams,
    ) -> Result<FrequencyBands, BackendError> {
        Ok(self.0.frequency(image, params)?)
    }
}

fn cpu() -> Option<EngineBackend> {
    Some(EngineBackend(Engine::new(RenderingPlatform::Cpu).unwrap()))
}

/// The GPU platform on the shared test context (GPU errors are errors, not
/// CPU fallbacks, so the GPU path is what is tested).
fn gpu() -> Option<EngineBackend> {
    match GpuContext::shared_for_tests() {
        Ok(ctx) => Some(EngineBackend(Engine::with_context(
            ctx,
            RenderingPlatform::Gpu,
        ))),
        Err(e) => no_gpu(e),
    }
}

morph_core::testgen_all! {
    cpu => cpu(),
    gpu => gpu(),
}
