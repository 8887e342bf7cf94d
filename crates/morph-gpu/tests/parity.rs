//! The parity cases of `morph_core::test_support::cases`, run on the CPU
//! reference and on the GPU (skipped without an adapter unless
//! `MORPH_REQUIRE_GPU=1`).

use std::sync::Arc;

use morph_core::Image;
use morph_core::ops::frequency::FrequencyBands;
use morph_core::ops::stmap::{StMapInputs, StMapOutput};
use morph_core::params::{ClampParams, FrequencyParams, StMapParams};
use morph_core::test_support::{Backend, BackendError, no_gpu};
use morph_gpu::GpuContext;

/// The CPU reference ops.
struct Cpu;

impl Backend for Cpu {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn clamp(&self, image: &Image, params: &ClampParams) -> Result<Image, BackendError> {
        Ok(morph_core::ops::clamp::clamp(image, params)?)
    }

    fn stmap(
        &self,
        inputs: &StMapInputs<'_>,
        params: &StMapParams,
    ) -> Result<StMapOutput, BackendError> {
        Ok(morph_core::ops::stmap::stmap(inputs, params)?)
    }

    fn frequency(
        &self,
        image: &Image,
        params: &FrequencyParams,
    ) -> Result<FrequencyBands, BackendError> {
        Ok(morph_core::ops::frequency::frequency(image, params)?)
    }
}

/// The GPU ops on the shared test context.
struct Gpu(Arc<GpuContext>);

impl Backend for Gpu {
    fn name(&self) -> String {
        format!("gpu ({})", self.0.adapter_info().name)
    }

    fn clamp(&self, image: &Image, params: &ClampParams) -> Result<Image, BackendError> {
        Ok(morph_gpu::ops::clamp::clamp(&self.0, image, params)?)
    }

    fn stmap(
        &self,
        inputs: &StMapInputs<'_>,
        params: &StMapParams,
    ) -> Result<StMapOutput, BackendError> {
        Ok(morph_gpu::ops::stmap::stmap(&self.0, inputs, params)?)
    }

    fn frequency(
        &self,
        image: &Image,
        params: &FrequencyParams,
    ) -> Result<FrequencyBands, BackendError> {
        Ok(morph_gpu::ops::frequency::frequency(
            &self.0, image, params,
        )?)
    }
}

fn gpu() -> Option<Gpu> {
    match GpuContext::shared_for_tests() {
        Ok(ctx) => Some(Gpu(ctx)),
        Err(e) => no_gpu(e),
    }
}

morph_core::testgen_all! {
    cpu => Some(Cpu),
    gpu => gpu(),
}
