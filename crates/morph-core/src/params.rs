//! The SPEC's node attributes as typed parameters.
//!
//! Every `*Params` has a `Default` matching the SPEC's defaults and a
//! `validate()` that rejects an out-of-range or inconsistent value with an
//! [`Error::Parameter`] naming the attribute (by the SPEC's name), the value
//! and the allowed range. Nothing is clamped silently.

use std::fmt::Display;
use std::ops::RangeInclusive;

use crate::error::{Error, Result};

/// Checks that `value` lies in `range`; NaN is never in range.
pub fn check_range<T: PartialOrd + Display + Copy>(
    attribute: &'static str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<()> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(Error::parameter(
            attribute,
            value,
            format!("allowed range {}..={}", range.start(), range.end()),
        ))
    }
}

/// Checks that a float is finite.
pub fn check_finite(attribute: &'static str, value: f32) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::parameter(attribute, value, "a finite number"))
    }
}

/// `rendering_platform` (SPEC §2) plus our `Auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RenderingPlatform {
    /// A hardware GPU adapter if there is one, else the CPU, with the reason
    /// logged. A software adapter (lavapipe) is never picked by `Auto`.
    #[default]
    Auto,
    /// wgpu compute; an error if no adapter at all exists (software ones
    /// included).
    Gpu,
    /// The rayon CPU implementation.
    Cpu,
}

impl RenderingPlatform {
    /// Parses `gpu`, `cpu` or `auto` (any case).
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "gpu" => Ok(Self::Gpu),
            "cpu" => Ok(Self::Cpu),
            _ => Err(Error::parameter(
                "rendering_platform",
                s,
                "one of GPU, CPU, Auto",
            )),
        }
    }
}

// ---------------------------------------------------------------------------
// Clamp (SPEC §5)
// ---------------------------------------------------------------------------

/// Clamp node: every channel, alpha and extra channels included, clamped
/// component-wise.
///
/// NaN rule (ours): a NaN sample becomes `min_value` when `min_clamp` is on,
/// else `max_value` when `max_clamp` is on, else it passes through (the node
/// then does nothing to any value). +inf and −inf clamp like any other number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClampParams {
    /// Apply the lower bound.
    pub min_clamp: bool,
    /// Apply the upper bound.
    pub max_clamp: bool,
    /// Lower bound.
    pub min_value: f32,
    /// Upper bound.
    pub max_value: f32,
}

impl Default for ClampParams {
    fn default() -> Self {
        ClampParams {
            min_clamp: true,
            max_clamp: true,
            min_value: 0.0,
            max_value: 1.0,
        }
    }
}

impl ClampParams {
    /// Rejects NaN/inf bounds and `min_value > max_value` with both on.
    pub fn validate(&self) -> Result<()> {
        check_finite("min_value", self.min_value)?;
        check_finite("max_value", self.max_value)?;
        if self.min_clamp && self.max_clamp && self.min_value > self.max_value {
            return Err(Error::parameter(
                "min_value",
                self.min_value,
                format!(
                    "at most max_value ({}) when both clamps are on",
                    self.max_value
                ),
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Frequency (SPEC §4)
// ---------------------------------------------------------------------------

/// Largest blur radius, in pixels.
pub const MAX_BLUR_RADIUS: f32 = 1000.0;

/// How many bands the Frequency node splits into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Bands {
    /// Low and High.
    #[default]
    Two,
    /// Low, Mid and High.
    Three,
}

/// The blur the Frequency node separates bands with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BlurFilter {
    /// Box average over 2r+1 pixels, fractional r weighting the end taps.
    Box,
    /// Gaussian with σ = r/3 (our convention).
    #[default]
    Gaussian,
}

/// A blur radius per axis, in pixels, 0..=1000 each.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlurSize {
    /// Horizontal radius.
    pub width: f32,
    /// Vertical radius.
    pub height: f32,
}

impl BlurSize {
    /// The same radius on both axes.
    pub const fn uniform(r: f32) -> Self {
        BlurSize {
            width: r,
            height: r,
        }
    }
}

/// Frequency node (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrequencyParams {
    /// 2 or 3 bands.
    pub bands: Bands,
    /// Box or Gaussian.
    pub filter: BlurFilter,
    /// Radius of the blur that makes Low.
    pub low: BlurSize,
    /// Radius of the blur that makes M (3 bands only): Mid = M − Low.
    pub mid: BlurSize,
    /// Store Mid and High as 0.5 + 0.5·band (Low unchanged).
    pub centre_scale: bool,
}

impl Default for FrequencyParams {
    fn default() -> Self {
        FrequencyParams {
            bands: Bands::Two,
            filter: BlurFilter::Gaussian,
            low: BlurSize::uniform(10.0),
            mid: BlurSize::uniform(3.0),
            centre_scale: false,
        }
    }
}

impl FrequencyParams {
    /// Rejects radii outside 0..=1000 (or NaN).
    pub fn validate(&self) -> Result<()> {
        let range = 0.0..=MAX_BLUR_RADIUS;
        check_range("low_blur_width", self.low.width, range.clone())?;
        check_range("low_blur_height", self.low.height, range.clone())?;
        if self.bands == Bands::Three {
            check_range("mid_blur_width", self.mid.width, range.clone())?;
            check_range("mid_blur_height", self.mid.height, range)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// STMap (SPEC §3)
// ---------------------------------------------------------------------------

/// How the STMap's (0,0)–(1,1) relates to the Front image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FramingMode {
    /// (0,0)–(1,1) spans the whole Front; output size = STMap size.
    #[default]
    EntireFront,
    /// s, t scaled by STMap size / Front size, centred.
    StMapToFrontRatio,
    /// (0,0)–(1,1) spans the display window; output covers the data window.
    DataDisplayWindow,
}

/// What lies outside the source, per axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RepeatMode {
    /// Transparent black.
    #[default]
    Off,
    /// Mirror at each edge.
    Mirrored,
    /// Wrap around.
    Tiled,
    /// Clamp to the edge pixel.
    Last,
}

impl RepeatMode {
    /// The period of positions on an axis of `n` pixels: `n` when Tiled
    /// (a difference of positions wraps at it: the STMap footprint's
    /// Jacobian), 0 (no wrap) otherwise.
    pub fn period(self, n: u32) -> f32 {
        if self == RepeatMode::Tiled {
            n as f32
        } else {
            0.0
        }
    }
}

/// STMap sampling filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StMapFilter {
    /// Point sampling.
    Nearest,
    /// Bilinear.
    #[default]
    Linear,
    /// Bicubic, B = C = 1/3.
    MitchellNetravali,
    /// Bicubic, B = 0, C = 1/2.
    CatmullRom,
    /// Bilinear probes along the footprint's major axis.
    Anisotropic,
    /// Anisotropic, bilinear where the map magnifies.
    AnisoLinear,
    /// Heckbert's elliptical weighted average, Gaussian weight.
    Ewa,
    /// EWA, bilinear where the map magnifies.
    EwaLinear,
}

/// An integer window used by the Data & Display Window framing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Window {
    /// Left column (inclusive).
    pub min_x: i32,
    /// Top row (inclusive).
    pub min_y: i32,
    /// Right column (inclusive).
    pub max_x: i32,
    /// Bottom row (inclusive).
    pub max_y: i32,
}

/// STMap node (SPEC §3).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StMapParams {
    /// Framing mode.
    pub framing_mode: FramingMode,
    /// Data window (Data & Display Window framing, when not read from the
    /// STMap file).
    pub data_window: Option<Window>,
    /// Display window (likewise).
    pub display_window: Option<Window>,
    /// Added to the sample position, in pixels.
    pub offset_x: f32,
    /// Added to the sample position, in pixels.
    pub offset_y: f32,
    /// Repeat mode on the horizontal axis.
    pub repeat_x: RepeatMode,
    /// Repeat mode on the vertical axis.
    pub repeat_y: RepeatMode,
    /// Sampling filter.
    pub filter_mode: StMapFilter,
}

impl StMapParams {
    /// Checks windows (data −16384..=16384, display 0..=16384, min ≤ max)
    /// and the offsets (finite, within ± the STMap size).
    pub fn validate(&self, stmap_width: u32, stmap_height: u32) -> Result<()> {
        if let Some(w) = self.data_window {
            let r = -16384..=16384;
            check_range("data_window_min_x", w.min_x, r.clone())?;
            check_range("data_window_min_y", w.min_y, r.clone())?;
            check_range("data_window_max_x", w.max_x, w.min_x..=16384)?;
            check_range("data_window_max_y", w.max_y, w.min_y..=16384)?;
        }
        if let Some(w) = self.display_window {
            let r = 0..=16384;
            check_range("display_window_min_x", w.min_x, r.clone())?;
            check_range("display_window_min_y", w.min_y, r.clone())?;
            check_range("display_window_max_x", w.max_x, w.min_x..=16384)?;
            check_range("display_window_max_y", w.max_y, w.min_y..=16384)?;
        }
        let (w, h) = (stmap_width as f32, stmap_height as f32);
        check_range("offset_x", self.offset_x, -w..=w)?;
        check_range("offset_y", self.offset_y, -h..=h)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Morph and motion blur (SPEC §2)
// ---------------------------------------------------------------------------

/// `interpolation`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Interpolation {
    /// Optical flow and warping.
    #[default]
    MotionVectors,
    /// An ONNX model.
    MachineLearning,
}

/// `motion_analysis_quality`: the fraction of the input size flow is
/// estimated at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AnalysisQuality {
    /// 1/16 resolution.
    Sixteenth,
    /// 1/8 resolution.
    Eighth,
    /// 1/4 resolution.
    #[default]
    Quarter,
    /// 1/2 resolution.
    Half,
    /// Full resolution.
    Full,
}

impl AnalysisQuality {
    /// The downscale divisor (16, 8, 4, 2, 1).
    pub fn divisor(self) -> u32 {
        match self {
            AnalysisQuality::Sixteenth => 16,
            AnalysisQuality::Eighth => 8,
            AnalysisQuality::Quarter => 4,
            AnalysisQuality::Half => 2,
            AnalysisQuality::Full => 1,
        }
    }

    /// Parses `1/16`, `1/8`, `1/4`, `1/2`, `full` (or `1/1`).
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "1/16" | "sixteenth" => Ok(Self::Sixteenth),
            "1/8" | "eighth" => Ok(Self::Eighth),
            "1/4" | "quarter" => Ok(Self::Quarter),
            "1/2" | "half" => Ok(Self::Half),
            "1/1" | "full" | "1" => Ok(Self::Full),
            _ => Err(Error::parameter(
                "motion_analysis_quality",
                s,
                "one of 1/16, 1/8, 1/4, 1/2, full",
            )),
        }
    }
}

/// A reference point, in Flame's viewer convention: x from the left, y from
/// the bottom, in pixels 0..=10000.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferencePoint {
    /// `reference_position_x`.
    pub x: i32,
    /// `reference_position_y` (from the bottom).
    pub y: i32,
}

/// Motion blur along the motion vectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MotionBlurParams {
    /// Taps along the shutter interval, 3..=25.
    pub samples: u32,
    /// Shutter length in frames, 0.05..=10, centred on the output time.
    pub shutter: f32,
    /// `reference` on with its position, or off.
    pub reference: Option<ReferencePoint>,
    /// Crosshair colour for `--show-reference` previews only.
    pub reference_colour: [f32; 3],
}

impl Default for MotionBlurParams {
    fn default() -> Self {
        MotionBlurParams {
            samples: 9,
            shutter: 0.5,
            reference: None,
            reference_colour: [1.0, 0.0, 0.0],
        }
    }
}

impl MotionBlurParams {
    /// Rejects samples outside 3..=25, shutter outside 0.05..=10, reference
    /// positions outside 0..=10000 and colours outside 0..=1.
    pub fn validate(&self) -> Result<()> {
        check_range("samples", self.samples, 3..=25)?;
        check_range("shutter", self.shutter, 0.05..=10.0)?;
        if let Some(r) = self.reference {
            check_range("reference_position_x", r.x, 0..=10000)?;
            check_range("reference_position_y", r.y, 0..=10000)?;
        }
        for c in self.reference_colour {
            check_range("reference_colour", c, 0.0..=1.0)?;
        }
        Ok(())
    }

    /// Time offsets of the taps, in frames relative to the output time:
    /// `shutter · (i/(n−1) − ½)` for i = 0..n−1 (SPEC §2).
    pub fn tap_offsets(&self) -> Vec<f32> {
        let n = self.samples.max(2);
        (0..n)
            .map(|i| self.shutter * (i as f32 / (n - 1) as f32 - 0.5))
            .collect()
    }
}

/// `mix`: a constant or keyframes (frame, value 0..=100), linear between keys
/// and held before the first and after the last.
#[derive(Clone, Debug, PartialEq)]
pub enum Mix {
    /// The same mix on every frame.
    Constant(f32),
    /// Keyframes sorted by frame.
    Keys(Vec<(i64, f32)>),
}

impl Default for Mix {
    fn default() -> Self {
        Mix::Constant(50.0)
    }
}

impl Mix {
    /// The mix (0..=100) at `frame`.
    pub fn at(&self, frame: i64) -> f32 {
        match self {
            Mix::Constant(v) => *v,
            Mix::Keys(keys) => match keys.as_slice() {
                [] => 50.0,
                [(_, v)] => *v,
                _ => {
                    let (f0, v0) = keys[0];
                    if frame <= f0 {
                        return v0;
                    }
                    for pair in keys.windows(2) {
                        let ((fa, va), (fb, vb)) = (pair[0], pair[1]);
                        if frame <= fb {
                            let u = (frame - fa) as f32 / (fb - fa) as f32;
                            return va + (vb - va) * u;
                        }
                    }
                    keys[keys.len() - 1].1
                }
            },
        }
    }

    fn validate(&self) -> Result<()> {
        match self {
            Mix::Constant(v) => check_range("mix", *v, 0.0..=100.0),
            Mix::Keys(keys) => {
                for pair in keys.windows(2) {
                    if pair[1].0 <= pair[0].0 {
                        return Err(Error::parameter(
                            "mix",
                            format!("key at frame {} after frame {}", pair[1].0, pair[0].0),
                            "keyframes in increasing frame order",
                        ));
                    }
                }
                keys.iter()
                    .try_for_each(|(_, v)| check_range("mix", *v, 0.0..=100.0))
            }
        }
    }
}

/// `range_mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RangeMode {
    /// The whole batch range.
    #[default]
    AllFrames,
    /// `range_first_frame..=range_last_frame`.
    CustomRange,
}

/// Morph node (SPEC §2).
#[derive(Clone, Debug, PartialEq)]
pub struct MorphParams {
    /// Motion Vectors or Machine Learning.
    pub interpolation: Interpolation,
    /// GPU, CPU or Auto.
    pub rendering_platform: RenderingPlatform,
    /// Resolution flow is estimated at.
    pub motion_analysis_quality: AnalysisQuality,
    /// Run the ML model in fp16.
    pub use_16_bit_fp: bool,
    /// Keep the optimised model on disk.
    pub ml_engine_cache: bool,
    /// Motion blur, when on.
    pub motion_blur: Option<MotionBlurParams>,
    /// All Frames or Custom Range.
    pub range_mode: RangeMode,
    /// First frame of the custom range.
    pub range_first_frame: i64,
    /// Last frame of the custom range.
    pub range_last_frame: i64,
    /// Position of the in-between, 0 (A) ..= 100 (B).
    pub mix: Mix,
    /// Hold A at its range-start frame.
    pub freeze_first_frame: bool,
    /// Hold B at its range-end frame.
    pub freeze_last_frame: bool,
}

impl Default for MorphParams {
    fn default() -> Self {
        MorphParams {
            interpolation: Interpolation::MotionVectors,
            rendering_platform: RenderingPlatform::Auto,
            motion_analysis_quality: AnalysisQuality::Quarter,
            use_16_bit_fp: false,
            ml_engine_cache: true,
            motion_blur: None,
            range_mode: RangeMode::AllFrames,
            range_first_frame: 1,
            range_last_frame: 100,
            mix: Mix::default(),
            freeze_first_frame: false,
            freeze_last_frame: false,
        }
    }
}

impl MorphParams {
    /// `set_mix_to_range()`: mix becomes 0 at `range_first_frame` rising
    /// linearly to 100 at `range_last_frame`.
    pub fn set_mix_to_range(&mut self) {
        self.mix = Mix::Keys(vec![
            (self.range_first_frame, 0.0),
            (self.range_last_frame, 100.0),
        ]);
    }

    /// Validates every attribute; `clip` is the frame range of the clips
    /// (first, last), which a custom range must lie inside.
    pub fn validate(&self, clip: (i64, i64)) -> Result<()> {
        if let Some(mb) = &self.motion_blur {
            mb.validate()?;
        }
        if self.range_mode == RangeMode::CustomRange {
            check_range("range_first_frame", self.range_first_frame, clip.0..=clip.1)?;
            check_range(
                "range_last_frame",
                self.range_last_frame,
                self.range_first_frame..=clip.1,
            )?;
        }
        self.mix.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<()>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn motion_blur_ranges_are_named() {
        let mut p = MotionBlurParams {
            samples: 2,
            ..Default::default()
        };
        assert_eq!(
            message(p.validate()),
            "samples = 2 is not allowed: allowed range 3..=25"
        );
        p.samples = 26;
        assert!(message(p.validate()).contains("samples = 26"));
        p.samples = 25;
        p.shutter = 0.01;
        assert!(message(p.validate()).contains("shutter = 0.01"));
        p.shutter = f32::NAN;
        assert!(message(p.validate()).contains("shutter = NaN"));
        p.shutter = 10.0;
        assert!(p.validate().is_ok());
    }

    #[test]
    fn shutter_taps_are_centred() {
        let p = MotionBlurParams {
            samples: 3,
            shutter: 1.0,
            ..Default::default()
        };
        assert_eq!(p.tap_offsets(), vec![-0.5, 0.0, 0.5]);
    }

    #[test]
    fn mix_and_range() {
        let mut p = MorphParams {
            mix: Mix::Constant(101.0),
            ..Default::default()
        };
        assert!(message(p.validate((1, 100))).contains("mix = 101"));
        p.range_mode = RangeMode::CustomRange;
        p.range_first_frame = 1001;
        p.range_last_frame = 1024;
        p.mix = Mix::Constant(0.0);
        assert!(message(p.validate((1, 100))).contains("range_first_frame = 1001"));
        assert!(p.validate((1001, 1100)).is_ok());
        p.set_mix_to_range();
        assert_eq!(p.mix.at(1000), 0.0);
        assert_eq!(p.mix.at(1001), 0.0);
        assert!((p.mix.at(1012) - 100.0 * 11.0 / 23.0).abs() < 1e-4);
        assert_eq!(p.mix.at(1024), 100.0);
        assert_eq!(p.mix.at(2000), 100.0);
    }

    #[test]
    fn clamp_bounds() {
        let p = ClampParams {
            min_value: 2.0,
            ..Default::default()
        };
        assert!(message(p.validate()).contains("min_value = 2"));
        let p = ClampParams {
            min_value: 2.0,
            max_clamp: false,
            ..Default::default()
        };
        assert!(p.validate().is_ok());
    }

    #[test]
    fn frequency_radius() {
        let p = FrequencyParams {
            low: BlurSize {
                width: 1000.5,
                height: 1.0,
            },
            ..Default::default()
        };
        assert!(message(p.validate()).contains("low_blur_width = 1000.5"));
    }

    #[test]
    fn quality_parse() {
        assert_eq!(AnalysisQuality::parse("1/16").unwrap().divisor(), 16);
        assert_eq!(AnalysisQuality::parse("full").unwrap().divisor(), 1);
        assert!(AnalysisQuality::parse("1/3").is_err());
    }
}
