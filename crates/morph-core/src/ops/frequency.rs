//! Frequency (SPEC §4): splits an image into Low, (Mid,) High bands with the
//! blurs of [`super::blur`], and [`merge`] sums them back.
//!
//! - 2 bands: `Low = blur_low(F)`, `High = F − Low`;
//! - 3 bands: `M = blur_mid(F)`, `Low = blur_low(F)`, `Mid = M − Low`,
//!   `High = F − M`.
//!
//! So `Low + Mid + High = F` up to f32 rounding. With `centre_scale`, Mid and
//! High are stored as `0.5 + 0.5·band`; Low never changes. The band maths is
//! on RGB only: every output's alpha is the input's alpha. Extra channels
//! (depth, flow, ...) go unchanged to Low only, and Mid and High carry none,
//! since a band of a non-colour channel means nothing; [`merge`] takes them
//! back from Low, so a split and merge round-trips them.
//!
//! Twin of the GPU Frequency kernels; same blur arithmetic and pass order
//! (see [`super::blur`]), same per-pixel band arithmetic as here.

use rayon::prelude::*;

use crate::error::Result;
use crate::image::Image;
use crate::ops::blur::blur_pixels;
use crate::params::{Bands, FrequencyParams};

/// The outputs of the Frequency node.
#[derive(Clone, Debug, PartialEq)]
pub struct FrequencyBands {
    /// The low band (the blurred image), with the input's extra channels.
    pub low: Image,
    /// The mid band, in 3-band mode only; no extra channels.
    pub mid: Option<Image>,
    /// The high band; no extra channels.
    pub high: Image,
}

/// Pixels per parallel chunk of the per-pixel band arithmetic.
const CHUNK: usize = 16 * 1024;

/// `0.5 + 0.5·band` with `centre_scale`, else `band`.
#[inline]
fn encode(band: f32, centre_scale: bool) -> f32 {
    if centre_scale { 0.5 + 0.5 * band } else { band }
}

/// Undoes [`encode`]: `(v − 0.5)·2` (exact in f32 for v in [0.25, 1]).
#[inline]
fn decode(v: f32, centre_scale: bool) -> f32 {
    if centre_scale { (v - 0.5) * 2.0 } else { v }
}

/// A band image: `pixels` with the windows, channel layout and metadata of
/// `like`, but no extra channels.
fn band_image(like: &Image, pixels: Vec<[f32; 4]>) -> Image {
    let mut out = Image::from_pixels(like.width(), like.height(), pixels);
    out.base = like.base;
    out.data_window = like.data_window;
    out.display_window = like.display_window;
    out.metadata = like.metadata.clone();
    out
}

/// `encode(a − b)` on RGB, alpha from `alpha`, pixel by pixel.
fn difference(
    a: &[[f32; 4]],
    b: &[[f32; 4]],
    alpha: &[[f32; 4]],
    centre_scale: bool,
) -> Vec<[f32; 4]> {
    let mut out = vec![[0.0; 4]; a.len()];
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .zip(b.par_chunks(CHUNK))
        .zip(alpha.par_chunks(CHUNK))
        .for_each(|(((o, a), b), alpha)| {
            for (((o, a), b), al) in o.iter_mut().zip(a).zip(b).zip(alpha) {
                *o = [
                    encode(a[0] - b[0], centre_scale),
                    encode(a[1] - b[1], centre_scale),
                    encode(a[2] - b[2], centre_scale),
                    al[3],
                ];
            }
        });
    out
}

/// Splits `image` into frequency bands (SPEC §4). Parameters are validated
/// first (radii 0..=1000 per axis).
///
/// Low is `blur(image, params.filter, params.low)` and keeps the input's
/// extra channels; Mid (3 bands) and High are differences of blurs, encoded
/// as `0.5 + 0.5·band` when `params.centre_scale` is on. Alpha is the
/// input's on every output.
pub fn frequency(image: &Image, params: &FrequencyParams) -> Result<FrequencyBands> {
    params.validate()?;
    let f = image.pixels();
    let low = blur_pixels(image, params.filter, params.low);
    let (mid, high) = match params.bands {
        Bands::Two => (None, difference(f, &low, f, params.centre_scale)),
        Bands::Three => {
            let m = blur_pixels(image, params.filter, params.mid);
            let mid = difference(&m, &low, f, params.centre_scale);
            (Some(mid), difference(f, &m, f, params.centre_scale))
        }
    };
    Ok(FrequencyBands {
        low: image.with_pixels(low),
        mid: mid.map(|p| band_image(image, p)),
        high: band_image(image, high),
    })
}

/// Sums bands back into one image: `Low + Mid + High` on RGB, undoing
/// `0.5 + 0.5·band` on Mid and High first when `centre_scale` is on. Alpha,
/// extra channels, windows and metadata come from `low`.
///
/// # Errors
/// [`crate::Error::SizeMismatch`] if Mid or High differs in size from Low.
pub fn merge(low: &Image, mid: Option<&Image>, high: &Image, centre_scale: bool) -> Result<Image> {
    low.check_same_size(high, "High band")?;
    if let Some(mid) = mid {
        low.check_same_size(mid, "Mid band")?;
    }
    let mut out = low.pixels().to_vec();
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let start = c * CHUNK;
            let high = &high.pixels()[start..][..chunk.len()];
            let mid = mid.map(|m| &m.pixels()[start..][..chunk.len()]);
            for (i, (o, h)) in chunk.iter_mut().zip(high).enumerate() {
                for ch in 0..3 {
                    if let Some(mid) = mid {
                        o[ch] += decode(mid[i][ch], centre_scale);
                    }
                    o[ch] += decode(h[ch], centre_scale);
                }
            }
        });
    Ok(low.with_pixels(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::image::SampleFormat;
    use crate::ops::blur::blur;
    use crate::params::{BlurFilter, BlurSize};
    use crate::test_support::{
        EDGE_SIZES, Tolerance, assert_images_close, pattern_image, random_image,
    };

    /// |Low + Mid + High − F| allowed by SPEC §4 ("to float rounding").
    const RECOMBINATION: Tolerance = Tolerance {
        abs: 1e-5,
        rel: 0.0,
    };

    fn params(bands: Bands, filter: BlurFilter, centre_scale: bool) -> FrequencyParams {
        FrequencyParams {
            bands,
            filter,
            low: BlurSize {
                width: 12.0,
                height: 7.5,
            },
            mid: BlurSize::uniform(2.5),
            centre_scale,
        }
    }

    fn all_params() -> Vec<FrequencyParams> {
        let mut out = Vec::new();
        for bands in [Bands::Two, Bands::Three] {
            for filter in [BlurFilter::Box, BlurFilter::Gaussian] {
                for centre_scale in [false, true] {
                    out.push(params(bands, filter, centre_scale));
                }
            }
        }
        out
    }

    #[test]
    fn bands_recombine_through_merge() {
        let mut img = pattern_image(61, 47, 1);
        img.set_extra_channel("Z", SampleFormat::F32, vec![2.0; 61 * 47]);
        for p in all_params() {
            let b = frequency(&img, &p).unwrap();
            assert_eq!(b.mid.is_some(), p.bands == Bands::Three);
            let merged = merge(&b.low, b.mid.as_ref(), &b.high, p.centre_scale).unwrap();
            assert_images_close(&merged, &img, RECOMBINATION, &format!("{p:?}"));
            assert_eq!(merged.extra, img.extra);
        }
    }

    #[test]
    fn bands_are_the_spec_differences() {
        let img = random_image(40, 33, 2, -0.5, 2.0);
        for p in all_params() {
            let b = frequency(&img, &p).unwrap();
            let low = blur(&img, p.filter, p.low);
            assert_eq!(b.low.pixels(), low.pixels(), "Low is blur_low(F)");
            let m = match p.bands {
                Bands::Two => low.clone(),
                Bands::Three => blur(&img, p.filter, p.mid),
            };
            let code = |v: f32| if p.centre_scale { 0.5 + 0.5 * v } else { v };
            for i in 0..img.pixels().len() {
                let (f, l, mm) = (img.pixels()[i], low.pixels()[i], m.pixels()[i]);
                for c in 0..3 {
                    assert_eq!(b.high.pixels()[i][c], code(f[c] - mm[c]), "High = F - M");
                    if let Some(mid) = &b.mid {
                        assert_eq!(mid.pixels()[i][c], code(mm[c] - l[c]), "Mid = M - Low");
                    }
                }
            }
            if !p.centre_scale {
                // The plain sum, without merge.
                let mut sum = b.low.clone();
                for (i, s) in sum.pixels_mut().iter_mut().enumerate() {
                    let mid = b.mid.as_ref().map_or([0.0; 4], |m| m.pixels()[i]);
                    let high = b.high.pixels()[i];
                    for (c, v) in s.iter_mut().take(3).enumerate() {
                        *v += mid[c] + high[c];
                    }
                }
                assert_images_close(&sum, &img, RECOMBINATION, &format!("sum {p:?}"));
            }
        }
    }

    #[test]
    fn alpha_on_every_output_extra_channels_on_low_only() {
        let mut img = random_image(25, 19, 3, 0.0, 1.0);
        img.set_extra_channel(
            "depth.Z",
            SampleFormat::F16,
            (0..25 * 19).map(|i| i as f32).collect(),
        );
        for p in all_params() {
            let b = frequency(&img, &p).unwrap();
            let outputs = [Some(&b.low), b.mid.as_ref(), Some(&b.high)];
            for out in outputs.into_iter().flatten() {
                for (o, i) in out.pixels().iter().zip(img.pixels()) {
                    assert_eq!(o[3].to_bits(), i[3].to_bits());
                }
                assert_eq!(out.base, img.base);
                assert_eq!(out.display_window, img.display_window);
            }
            assert_eq!(b.low.extra, img.extra);
            assert!(b.high.extra.is_empty());
            assert!(b.mid.as_ref().is_none_or(|m| m.extra.is_empty()));
        }
    }

    #[test]
    fn zero_radius_puts_everything_in_low() {
        let img = random_image(17, 9, 4, 0.0, 1.0);
        let p = FrequencyParams {
            low: BlurSize::uniform(0.0),
            centre_scale: true,
            ..FrequencyParams::default()
        };
        let b = frequency(&img, &p).unwrap();
        assert_eq!(b.low, img);
        assert!(b.high.pixels().iter().all(|h| h[..3] == [0.5; 3]));
    }

    #[test]
    fn every_edge_size_recombines() {
        for (i, &(w, h)) in EDGE_SIZES.iter().enumerate() {
            let img = random_image(w, h, 30 + i as u64, 0.0, 1.0);
            for p in [
                params(Bands::Three, BlurFilter::Gaussian, true),
                params(Bands::Two, BlurFilter::Box, false),
            ] {
                let b = frequency(&img, &p).unwrap();
                let merged = merge(&b.low, b.mid.as_ref(), &b.high, p.centre_scale).unwrap();
                assert_images_close(&merged, &img, RECOMBINATION, &format!("{w}x{h} {p:?}"));
            }
        }
    }

    #[test]
    fn radius_over_1000_is_rejected() {
        let img = Image::new(4, 4);
        let low = FrequencyParams {
            low: BlurSize {
                width: 5.0,
                height: 1001.0,
            },
            ..FrequencyParams::default()
        };
        let err = frequency(&img, &low).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Parameter {
                    attribute: "low_blur_height",
                    ..
                }
            ),
            "{err}"
        );
        let mid = FrequencyParams {
            bands: Bands::Three,
            mid: BlurSize::uniform(1001.0),
            ..FrequencyParams::default()
        };
        assert!(frequency(&img, &mid).is_err());
        // Mid's radius means nothing with two bands.
        assert!(
            frequency(
                &img,
                &FrequencyParams {
                    bands: Bands::Two,
                    ..mid
                }
            )
            .is_ok()
        );
        // 1000 itself is allowed.
        assert!(
            frequency(
                &img,
                &FrequencyParams {
                    low: BlurSize::uniform(1000.0),
                    ..low
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn merge_rejects_mismatched_sizes() {
        let (a, b) = (Image::new(4, 3), Image::new(3, 4));
        assert!(matches!(
            merge(&a, None, &b, false),
            Err(Error::SizeMismatch { .. })
        ));
        assert!(matches!(
            merge(&a, Some(&b), &a, true),
            Err(Error::SizeMismatch { .. })
        ));
    }
}
