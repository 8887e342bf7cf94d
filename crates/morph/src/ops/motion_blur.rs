//! [`Engine::motion_blur`] and [`Engine::motion_blur_with`]: motion blur
//! along motion vectors (SPEC §2 `motion_blur`, `samples`, `shutter`,
//! `reference`; the op is `morph_core::ops::motion_blur`).

use morph_core::ops::motion_blur::MotionBlurInputs;
use morph_core::params::MotionBlurParams;
use morph_core::{FlowField, Image};

use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Motion blur of `image` (the frame at the output time) along
    /// `forward` (offset of each pixel to where it is one frame later) and
    /// `backward` (to where it was one frame earlier), with `params.samples`
    /// taps over `params.shutter` frames centred on the output time; with a
    /// reference point its vector is subtracted so it stays sharp. Zero
    /// vectors give the input back exactly. CPU and GPU agree to float
    /// rounding (bit for bit on lavapipe).
    ///
    /// # Errors
    /// [`EngineError::Core`] for parameters out of range (the message names
    /// the attribute and the allowed range), fields of another size or
    /// non-finite inputs; [`EngineError::Gpu`] for a GPU failure on the
    /// `GPU` platform.
    pub fn motion_blur(
        &self,
        image: &Image,
        forward: &FlowField,
        backward: &FlowField,
        params: &MotionBlurParams,
    ) -> Result<Image, EngineError> {
        self.motion_blur_with(&MotionBlurInputs::new(image, forward, backward), params)
    }

    /// [`Engine::motion_blur`] with the neighbouring frames (background
    /// revealed behind moving objects is read from them) and the occlusion
    /// maps of the flow (they decide which layer is in front); see
    /// [`MotionBlurInputs`].
    ///
    /// # Errors
    /// As [`Engine::motion_blur`], and for neighbours whose size or extra
    /// channels differ from the frame's.
    pub fn motion_blur_with(
        &self,
        inputs: &MotionBlurInputs<'_>,
        params: &MotionBlurParams,
    ) -> Result<Image, EngineError> {
        self.run(
            "motion_blur",
            || morph_core::ops::motion_blur::motion_blur_with(inputs, params),
            |ctx| morph_gpu::ops::motion_blur::motion_blur_with(ctx, inputs, params),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> (Image, FlowField, FlowField) {
        let image = Image::from_pixels(
            16,
            8,
            (0..128)
                .map(|i| [i as f32 / 128.0, 0.5, 1.0 - i as f32 / 128.0, 1.0])
                .collect(),
        );
        let forward = FlowField::from_vectors(16, 8, vec![[1.5, -0.5]; 128]).unwrap();
        let backward = FlowField::from_vectors(16, 8, vec![[-1.5, 0.5]; 128]).unwrap();
        (image, forward, backward)
    }

    #[test]
    fn cpu_engine_runs_the_reference() {
        let (image, forward, backward) = scene();
        let p = MotionBlurParams::default();
        let out = Engine::cpu()
            .motion_blur(&image, &forward, &backward, &p)
            .unwrap();
        let reference =
            morph_core::ops::motion_blur::motion_blur(&image, &forward, &backward, &p).unwrap();
        assert_eq!(out, reference);
        assert_ne!(out, image);
    }

    #[test]
    fn out_of_range_parameters_name_the_attribute() {
        let (image, forward, backward) = scene();
        let p = MotionBlurParams {
            shutter: 0.01,
            ..Default::default()
        };
        let err = Engine::cpu()
            .motion_blur(&image, &forward, &backward, &p)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shutter = 0.01") && err.contains("0.05..=10"),
            "{err}"
        );
    }
}
