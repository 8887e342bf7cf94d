//! Clamp (SPEC §5): every channel, alpha and extra channels included, clamped
//! component-wise to `[min_value, max_value]`.
//!
//! Twin of `shaders/clamp.wgsl`; keep the NaN rule in sync.

use rayon::prelude::*;

use crate::error::Result;
use crate::image::Image;
use crate::params::ClampParams;

/// Clamps one sample. NaN becomes `min_value` if `min_clamp` is on, else
/// `max_value` if `max_clamp` is on, else stays NaN (see [`ClampParams`]).
#[inline]
pub fn clamp_sample(v: f32, p: &ClampParams) -> f32 {
    if v.is_nan() {
        return if p.min_clamp {
            p.min_value
        } else if p.max_clamp {
            p.max_value
        } else {
            v
        };
    }
    let mut out = v;
    if p.min_clamp && out < p.min_value {
        out = p.min_value;
    }
    if p.max_clamp && out > p.max_value {
        out = p.max_value;
    }
    out
}

/// Returns a clamped copy of `image`.
pub fn clamp(image: &Image, params: &ClampParams) -> Result<Image> {
    let mut out = image.clone();
    clamp_in_place(&mut out, params)?;
    Ok(out)
}

/// Clamps `image` in place, extra channels included.
pub fn clamp_in_place(image: &mut Image, params: &ClampParams) -> Result<()> {
    params.validate()?;
    let p = *params;
    image
        .as_flat_mut()
        .par_chunks_mut(4096)
        .for_each(|chunk| chunk.iter_mut().for_each(|v| *v = clamp_sample(*v, &p)));
    for channel in &mut image.extra {
        channel
            .data
            .par_chunks_mut(4096)
            .for_each(|chunk| chunk.iter_mut().for_each(|v| *v = clamp_sample(*v, &p)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::SampleFormat;

    #[test]
    fn clamps_every_channel_including_alpha_and_extra() {
        let mut img = Image::from_pixels(2, 1, vec![[-1.0, 0.5, 2.0, 1.5], [0.2, 0.3, 0.4, -0.1]]);
        img.set_extra_channel("Z", SampleFormat::F32, vec![7.0, -3.0]);
        let out = clamp(&img, &ClampParams::default()).unwrap();
        assert_eq!(out.pixels(), &[[0.0, 0.5, 1.0, 1.0], [0.2, 0.3, 0.4, 0.0]]);
        assert_eq!(out.extra_channel("Z").unwrap().data, vec![1.0, 0.0]);
    }

    #[test]
    fn nan_and_inf_rule() {
        let both = ClampParams::default();
        assert_eq!(clamp_sample(f32::NAN, &both), 0.0);
        assert_eq!(clamp_sample(f32::INFINITY, &both), 1.0);
        assert_eq!(clamp_sample(f32::NEG_INFINITY, &both), 0.0);
        let max_only = ClampParams {
            min_clamp: false,
            ..both
        };
        assert_eq!(clamp_sample(f32::NAN, &max_only), 1.0);
        assert_eq!(clamp_sample(-5.0, &max_only), -5.0);
        let none = ClampParams {
            min_clamp: false,
            max_clamp: false,
            ..both
        };
        assert!(clamp_sample(f32::NAN, &none).is_nan());
        assert_eq!(clamp_sample(9.0, &none), 9.0);
    }

    #[test]
    fn one_sided_and_inverted_bounds() {
        let p = ClampParams {
            min_value: 0.25,
            max_clamp: false,
            max_value: -100.0,
            ..Default::default()
        };
        assert_eq!(clamp_sample(0.1, &p), 0.25);
        assert_eq!(clamp_sample(50.0, &p), 50.0);
        let bad = ClampParams {
            min_value: 1.0,
            max_value: 0.0,
            ..Default::default()
        };
        assert!(clamp(&Image::new(1, 1), &bad).is_err());
    }
}
