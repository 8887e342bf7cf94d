//! A synthetic moving scene with exact motion, for motion-blur ground truth
//! (feature `test-support`, shared with the GPU tests and the benches).
//!
//! A real photo (scikit-image's `astronaut`, NASA, public domain) translates
//! as the background; a disk textured with another photo (`chelsea`, CC0)
//! moves over it at its own speed. The scene can be rendered at any time
//! `t` (frames, continuous), so the ground truth of a shutter is the mean of
//! many finely spaced renders ([`Scene::ground_truth`]), and the vectors at
//! time 0 are known exactly ([`Scene::vectors`]). Photos are sampled
//! bilinearly over a mirror-extended source, so every render is a smooth
//! function of `t`. The sprite's coverage is also carried in an extra
//! channel (`sprite.matte`), so tests see that extra channels blur with RGB.

use crate::flow::FlowField;
use crate::image::{Image, SampleFormat};
use crate::ops::flow::fixtures::Photo;

/// Name of the extra channel holding the sprite's coverage.
pub const MATTE_CHANNEL: &str = "sprite.matte";

/// A background photo translating at `background` px per frame and a
/// textured disk moving at `sprite` px per frame over it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scene {
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Background motion, px per frame (+y down).
    pub background: [f32; 2],
    /// Disk centre at time 0 (continuous coordinates, pixel centres at
    /// `i + 0.5`).
    pub centre: [f32; 2],
    /// Disk radius, px.
    pub radius: f32,
    /// Disk motion, px per frame.
    pub sprite: [f32; 2],
}

impl Scene {
    /// The scene the tests use: 160×128, background (−1.5, 0.5) px per
    /// frame, a disk of radius 24 px at (70, 62) moving (6, 2.5) px per frame.
    pub fn standard() -> Scene {
        Scene {
            width: 160,
            height: 128,
            background: [-1.5, 0.5],
            centre: [70.0, 62.0],
            radius: 24.0,
            sprite: [6.0, 2.5],
        }
    }

    /// The same motion at another frame size (the disk stays where it is).
    pub fn with_size(self, width: u32, height: u32) -> Scene {
        Scene {
            width,
            height,
            ..self
        }
    }

    /// Disk coverage of the point `p` at time `t`: 1 inside, 0 outside, a
    /// one-pixel anti-aliased edge.
    fn matte(&self, p: [f64; 2], t: f64) -> f32 {
        let c = self.centre_at(t);
        let d = ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt();
        (self.radius as f64 + 0.5 - d).clamp(0.0, 1.0) as f32
    }

    fn centre_at(&self, t: f64) -> [f64; 2] {
        [
            self.centre[0] as f64 + t * self.sprite[0] as f64,
            self.centre[1] as f64 + t * self.sprite[1] as f64,
        ]
    }

    /// The frame at time `t` (frames): RGB, alpha 1, and the disk's
    /// coverage in [`MATTE_CHANNEL`].
    pub fn render(&self, t: f64) -> Image {
        let (bg, fg) = (Photo::astronaut(), Photo::chelsea());
        let (w, h) = (self.width as usize, self.height as usize);
        let mut image = Image::new(self.width, self.height);
        let mut matte = vec![0.0f32; w * h];
        let c = self.centre_at(t);
        for y in 0..h {
            for x in 0..w {
                let p = [x as f64 + 0.5, y as f64 + 0.5];
                let b = bg.sample_bilinear(
                    p[0] - t * self.background[0] as f64 + 30.0,
                    p[1] - t * self.background[1] as f64 + 40.0,
                );
                let f = fg.sample_bilinear(p[0] - c[0] + 48.0, p[1] - c[1] + 48.0);
                let m = self.matte(p, t);
                let k = y * w + x;
                image.pixels_mut()[k] = [
                    f[0] * m + b[0] * (1.0 - m),
                    f[1] * m + b[1] * (1.0 - m),
                    f[2] * m + b[2] * (1.0 - m),
                    1.0,
                ];
                matte[k] = m;
            }
        }
        image.set_extra_channel(MATTE_CHANNEL, SampleFormat::F32, matte);
        image
    }

    /// The exact forward and backward vectors of the frame at time 0: the
    /// disk's motion where the disk covers more than half the pixel, else
    /// the background's; backward is the negative (linear motion).
    pub fn vectors(&self) -> (FlowField, FlowField) {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut forward = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let p = [x as f64 + 0.5, y as f64 + 0.5];
                forward.push(if self.matte(p, 0.0) > 0.5 {
                    self.sprite
                } else {
                    self.background
                });
            }
        }
        let backward = forward.iter().map(|v| [-v[0], -v[1]]).collect();
        (
            FlowField::from_vectors(self.width, self.height, forward).expect("size"),
            FlowField::from_vectors(self.width, self.height, backward).expect("size"),
        )
    }

    /// Exact occlusion maps of the frame at time 0: background pixels the
    /// disk covers one frame later (forward) and one frame earlier
    /// (backward).
    pub fn occlusion(&self) -> (Vec<f32>, Vec<f32>) {
        let (w, h) = (self.width as usize, self.height as usize);
        let (mut fwd, mut bwd) = (vec![0.0; w * h], vec![0.0; w * h]);
        for y in 0..h {
            for x in 0..w {
                let p = [x as f64 + 0.5, y as f64 + 0.5];
                if self.matte(p, 0.0) > 0.5 {
                    continue;
                }
                let (bx, by) = (self.background[0] as f64, self.background[1] as f64);
                let k = y * w + x;
                if self.matte([p[0] + bx, p[1] + by], 1.0) > 0.5 {
                    fwd[k] = 1.0;
                }
                if self.matte([p[0] - bx, p[1] - by], -1.0) > 0.5 {
                    bwd[k] = 1.0;
                }
            }
        }
        (fwd, bwd)
    }

    /// The ground truth of a shutter of `shutter` frames centred on time 0:
    /// the mean of `renders` frames at the midpoints of equal sub-intervals.
    pub fn ground_truth(&self, shutter: f32, renders: usize) -> Image {
        let n = renders.max(1);
        let mut sum = self.render(0.0);
        sum.pixels_mut().iter_mut().for_each(|p| *p = [0.0; 4]);
        sum.extra[0].data.iter_mut().for_each(|v| *v = 0.0);
        let mut acc = vec![[0.0f64; 5]; sum.pixels().len()];
        for j in 0..n {
            let t = shutter as f64 * ((j as f64 + 0.5) / n as f64 - 0.5);
            let frame = self.render(t);
            for (k, (a, p)) in acc.iter_mut().zip(frame.pixels()).enumerate() {
                for c in 0..4 {
                    a[c] += p[c] as f64;
                }
                a[4] += frame.extra[0].data[k] as f64;
            }
        }
        for (k, a) in acc.iter().enumerate() {
            sum.pixels_mut()[k] = [
                (a[0] / n as f64) as f32,
                (a[1] / n as f64) as f32,
                (a[2] / n as f64) as f32,
                (a[3] / n as f64) as f32,
            ];
            sum.extra[0].data[k] = (a[4] / n as f64) as f32;
        }
        sum
    }

    /// How far (px) any point of the scene moves within half a shutter.
    pub fn reach(&self, shutter: f32) -> f32 {
        let len = |v: [f32; 2]| (v[0] * v[0] + v[1] * v[1]).sqrt();
        0.5 * shutter * len(self.sprite).max(len(self.background))
    }
}

/// PSNR (dB, peak 1) of RGB over the pixels at least `margin` px inside
/// every edge, and of the extra channel `channel` if named.
pub fn psnr(a: &Image, b: &Image, margin: u32, channel: Option<&str>) -> f64 {
    let (w, h) = (a.width(), a.height());
    let (mut sum, mut n) = (0.0f64, 0usize);
    for y in margin..h.saturating_sub(margin) {
        for x in margin..w.saturating_sub(margin) {
            let k = (y * w + x) as usize;
            match channel {
                None => {
                    let (p, q) = (a.pixels()[k], b.pixels()[k]);
                    for c in 0..3 {
                        sum += ((p[c] - q[c]) as f64).powi(2);
                        n += 1;
                    }
                }
                Some(name) => {
                    let (p, q) = (
                        a.extra_channel(name).expect("channel").data[k],
                        b.extra_channel(name).expect("channel").data[k],
                    );
                    sum += ((p - q) as f64).powi(2);
                    n += 1;
                }
            }
        }
    }
    let mse = sum / n.max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        -10.0 * mse.log10()
    }
}
