//! [`Engine::stmap`]: the STMap node (SPEC §3).

use morph_core::Image;
use morph_core::ops::stmap::{PreparedStMap, StMapInputs, StMapOutput};
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

    /// [`Engine::stmap`] for one frame of a sequence with a static STMap,
    /// prepared once ([`PreparedStMap`]): on the CPU the prepared first pass
    /// is reused and the result written into `recycled` (a finished frame,
    /// whatever it holds) where the fast path runs; on the GPU the map and
    /// attributes go through [`Engine::stmap`]'s shader. Same results as
    /// [`Engine::stmap`] on either backend.
    ///
    /// # Errors
    /// As [`Engine::stmap`], and [`EngineError::Core`] for a Front the map
    /// was not prepared for ([`PreparedStMap::check`]).
    pub fn stmap_prepared(
        &self,
        prepared: &PreparedStMap<'_>,
        front: &Image,
        matte: Option<&Image>,
        recycled: Option<Image>,
    ) -> Result<StMapOutput, EngineError> {
        prepared.check(front, matte)?;
        let inputs = StMapInputs {
            front,
            stmap: prepared.stmap(),
            matte,
        };
        self.run(
            "stmap",
            || prepared.apply_reusing(front, matte, recycled),
            |ctx| morph_gpu::ops::stmap::stmap(ctx, &inputs, prepared.params()),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use morph_core::ops::stmap::Geometry;
    use morph_core::params::{RenderingPlatform, StMapFilter};
    use morph_core::test_support::{no_gpu, random_image, rotation_stmap};
    use morph_gpu::GpuContext;

    use super::*;

    /// `stmap_prepared` gives `stmap`'s result on each backend, frame after
    /// frame with the last one recycled, and refuses a Front of another size.
    fn check_prepared(engine: &Engine) {
        let map = rotation_stmap(61, 47, 0.2, 0.8);
        let params = StMapParams {
            filter_mode: StMapFilter::Linear,
            ..Default::default()
        };
        let frames: Vec<Image> = (0..3)
            .map(|k| random_image(61, 47, 40 + k, 0.0, 1.0))
            .collect();
        let prepared = PreparedStMap::new(Geometry::of(&frames[0]), &map, &params).unwrap();
        let mut recycled = None;
        for front in &frames {
            let inputs = StMapInputs {
                front,
                stmap: &map,
                matte: None,
            };
            let expected = engine.stmap(&inputs, &params).unwrap();
            let got = engine
                .stmap_prepared(&prepared, front, None, recycled.take())
                .unwrap();
            assert_eq!(got, expected);
            recycled = Some(got.result);
        }
        let other = random_image(60, 47, 50, 0.0, 1.0);
        let e = engine
            .stmap_prepared(&prepared, &other, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("60x47"), "{e}");
    }

    #[test]
    fn prepared_stmap_on_the_cpu_engine() {
        check_prepared(&Engine::cpu());
    }

    #[test]
    fn prepared_stmap_on_the_gpu_engine() {
        let ctx = match GpuContext::shared_for_tests() {
            Ok(ctx) => ctx,
            Err(e) => return no_gpu::<()>(e).unwrap_or(()),
        };
        check_prepared(&Engine::with_context(
            Arc::clone(&ctx),
            RenderingPlatform::Gpu,
        ));
    }
}
