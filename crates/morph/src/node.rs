//! The Morph node (SPEC §2) as a library type: [`MorphNode`] renders the
//! output frames of a transition between two clips, and [`Retimer`] those of
//! a one-clip retime (slow motion, speed change, fps conversion). Both keep
//! the last input pair prepared ([`Engine::prepare_pair_with_flow`]): every output
//! time between the same two frames reuses one flow computation and, on the
//! GPU, one upload of the pair.

use std::sync::{Arc, Mutex};

use morph_core::Image;
use morph_core::error::Error as CoreError;
use morph_core::flow::FlowField;
use morph_core::ops::flow::FlowParams;
use morph_core::ops::interpolate::{CutRule, Interpolated, PairMotion, Source};
use morph_core::params::{Interpolation, MorphParams, MotionBlurParams, RenderingPlatform};
use morph_core::timing::{MorphFrame, Retime, Sample, sample_at};

use morph_ml::{MlInterpolator, MlOptions, Provider};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::ops::interpolate::PreparedPair;

/// An input frame handed to [`MorphNode::render`] or [`Retimer::render`]:
/// an [`Image`] (copied once into the node's pair cache when it starts a
/// new pair) or an `Arc<Image>` (shared, never copied: what a caller that
/// caches its decoded frames should pass).
pub trait InputFrame {
    /// The frame.
    fn image(&self) -> &Image;
    /// A shared handle on the frame: a copy of a plain image, the same
    /// allocation for an `Arc`.
    fn shared(&self) -> Arc<Image>;
}

impl InputFrame for Image {
    fn image(&self) -> &Image {
        self
    }

    fn shared(&self) -> Arc<Image> {
        Arc::new(self.clone())
    }
}

impl InputFrame for Arc<Image> {
    fn image(&self) -> &Image {
        self
    }

    fn shared(&self) -> Arc<Image> {
        Arc::clone(self)
    }
}

/// A rendered in-between: the image, how it was made, and its vectors when
/// they were asked for.
struct Rendered {
    image: Image,
    source: Source,
    vectors: Option<FlowField>,
}

impl Rendered {
    fn full(out: Interpolated) -> Self {
        Rendered {
            image: out.image,
            source: out.source,
            vectors: Some(out.vectors),
        }
    }

    /// The public result; the vectors were asked for.
    fn into_interpolated(self) -> Interpolated {
        Interpolated {
            image: self.image,
            source: self.source,
            vectors: self.vectors.expect("vectors were asked for"),
        }
    }
}

/// The last pair a node rendered: its frame numbers and the prepared pair.
type LastPair = Option<((i64, i64), Arc<PreparedPair>)>;

/// How a node makes in-betweens: Motion Vectors with the last pair
/// rendered prepared (keyed by its frame numbers), or an ONNX model.
#[derive(Default)]
struct Renderer {
    last: Mutex<LastPair>,
    ml: Option<MlInterpolator>,
    blur: Option<MotionBlurParams>,
}

impl Renderer {
    /// Motion Vectors, or the model `ml` asks for when `params` say Machine
    /// Learning.
    fn new(params: &MorphParams, ml: Option<MlOptions>) -> Result<Self, EngineError> {
        let ml = match params.interpolation {
            Interpolation::MotionVectors => None,
            Interpolation::MachineLearning => {
                let opts = ml.unwrap_or_else(|| ml_options(params));
                Some(MlInterpolator::load(&opts)?)
            }
        };
        Ok(Renderer {
            last: Mutex::default(),
            ml,
            blur: params.motion_blur,
        })
    }

    /// The in-between at `t`: the model's when there is one (the inputs
    /// themselves at `t = 0` and `t = 1`; no vectors, so zero), else
    /// [`Renderer::interpolate`], with its vectors if `vectors` is set.
    ///
    /// With motion blur on, the in-between is then blurred along its
    /// vectors times `velocity` (the vectors are per pair interval; the
    /// blur wants pixels per output frame): forward `velocity·u`, backward
    /// its negation.
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        engine: &Engine,
        key: (i64, i64),
        (a, b): (&dyn InputFrame, &dyn InputFrame),
        t: f32,
        flow: &FlowParams,
        cut_rule: CutRule,
        velocity: f32,
        vectors: bool,
    ) -> Result<Rendered, EngineError> {
        let Some(ml) = &self.ml else {
            let blur = self.blur.as_ref().filter(|_| velocity != 0.0);
            let mut out = self.interpolate(
                engine,
                key,
                (a, b),
                t,
                flow,
                cut_rule,
                vectors || blur.is_some(),
            )?;
            if let Some(blur) = blur {
                let mut forward = out.vectors.clone().expect("vectors were asked for");
                forward
                    .vectors_mut()
                    .iter_mut()
                    .for_each(|v| *v = [v[0] * velocity, v[1] * velocity]);
                let mut backward = forward.clone();
                backward
                    .vectors_mut()
                    .iter_mut()
                    .for_each(|v| *v = [-v[0], -v[1]]);
                out.image = engine.motion_blur(&out.image, &forward, &backward, blur)?;
            }
            return Ok(out);
        };
        let (a, b) = (a.image(), b.image());
        morph_core::ops::interpolate::check_time(t)?;
        let (image, source) = if t == 0.0 {
            (a.clone(), Source::A)
        } else if t == 1.0 {
            (b.clone(), Source::B)
        } else {
            (ml.interpolate(a, b, t)?, Source::Warped)
        };
        Ok(Rendered {
            image,
            source,
            vectors: vectors.then(|| FlowField::zeros(a.width(), a.height())),
        })
    }

    /// Interpolates `a`/`b` (frames `key`) at `t`, preparing the pair
    /// (flow, and on the GPU the upload) only if the last pair was another
    /// one; reads the vectors back only if `vectors` is set. Exact times
    /// skip the flow.
    #[allow(clippy::too_many_arguments)]
    fn interpolate(
        &self,
        engine: &Engine,
        key: (i64, i64),
        (a, b): (&dyn InputFrame, &dyn InputFrame),
        t: f32,
        flow: &FlowParams,
        cut_rule: CutRule,
        vectors: bool,
    ) -> Result<Rendered, EngineError> {
        let prepared = |pair: &PreparedPair| {
            if vectors {
                engine
                    .interpolate_prepared(pair, t, cut_rule)
                    .map(Rendered::full)
            } else {
                let (image, source) = engine.interpolate_prepared_image(pair, t, cut_rule)?;
                Ok(Rendered {
                    image,
                    source,
                    vectors: None,
                })
            }
        };
        // An exact frame costs no flow unless motion blur needs its vectors
        // (then the caller pairs it with a neighbour: `key.0 != key.1`).
        if (t == 0.0 || t == 1.0) && (self.blur.is_none() || key.0 == key.1) {
            // Zero motion is the honest answer when none was computed for
            // this pair.
            let cached = self.cached(key);
            if let Some(pair) = cached {
                return prepared(&pair);
            }
            let still = still_motion(a.image())?;
            return engine
                .interpolate(a.image(), b.image(), &still, t, cut_rule)
                .map(Rendered::full);
        }
        let pair = {
            let mut guard = self.last.lock().unwrap_or_else(|e| e.into_inner());
            match guard.as_ref() {
                Some((k, pair)) if *k == key => Arc::clone(pair),
                _ => {
                    // Free the last pair (its device buffers) first.
                    *guard = None;
                    let pair =
                        Arc::new(engine.prepare_pair_with_flow(a.shared(), b.shared(), flow)?);
                    *guard = Some((key, Arc::clone(&pair)));
                    pair
                }
            }
        };
        // The cache lock is released: in-betweens of one pair may render
        // concurrently.
        prepared(&pair)
    }

    /// The prepared pair of frames `key`, if it is the last one.
    fn cached(&self, key: (i64, i64)) -> Option<Arc<PreparedPair>> {
        let guard = self.last.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, p)| Arc::clone(p))
    }
}

/// Zero motion both ways, nothing occluded (for exact frames).
fn still_motion(a: &Image) -> Result<PairMotion, EngineError> {
    use morph_core::FlowField;
    use morph_core::ops::flow::FlowResult;
    use morph_core::ops::interpolate::CutScore;
    let (w, h) = (a.width(), a.height());
    let n = w as usize * h as usize;
    Ok(PairMotion {
        flow: FlowResult {
            forward: FlowField::zeros(w, h),
            backward: FlowField::zeros(w, h),
            occlusion_forward: vec![0.0; n],
            occlusion_backward: vec![0.0; n],
        },
        cut: CutScore {
            correlation: 1.0,
            occluded: 0.0,
        },
    })
}

/// The ML options a node's attributes imply: the shipped model,
/// `use_16_bit_fp`, the CUDA provider on the `GPU` platform (CPU otherwise,
/// CUDA falling back to the CPU with a log line where the runtime lacks
/// it), and with `ml_engine_cache` the cache directory
/// [`default_engine_cache_dir`].
pub fn ml_options(params: &MorphParams) -> MlOptions {
    MlOptions {
        fp16: params.use_16_bit_fp,
        provider: match params.rendering_platform {
            RenderingPlatform::Gpu => Provider::Cuda,
            _ => Provider::Cpu,
        },
        engine_cache: params.ml_engine_cache.then(default_engine_cache_dir),
        ..MlOptions::default()
    }
}

/// Where the ML engine cache lives by default: `$MORPH_CACHE_DIR/ml`, else
/// `$XDG_CACHE_HOME/morph/ml`, else `~/.cache/morph/ml`, else the system's
/// temporary directory's `morph-ml-cache`.
pub fn default_engine_cache_dir() -> std::path::PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = env("MORPH_CACHE_DIR") {
        return std::path::PathBuf::from(d).join("ml");
    }
    if let Some(d) = env("XDG_CACHE_HOME") {
        return std::path::PathBuf::from(d).join("morph/ml");
    }
    if let Some(d) = env("HOME") {
        return std::path::PathBuf::from(d).join(".cache/morph/ml");
    }
    std::env::temp_dir().join("morph-ml-cache")
}

/// Rejects attribute combinations this build cannot render, naming the
/// attribute: motion blur with Machine Learning (the model gives no
/// vectors to blur along). [`MorphNode::new`] and
/// [`Retimer::new`] call it; callers driving [`Engine::interpolate`]
/// directly from a [`MorphParams`] can too.
///
/// # Errors
/// [`CoreError::Parameter`] naming the attribute.
pub fn check_supported(params: &MorphParams) -> Result<(), CoreError> {
    if let Some(blur) = &params.motion_blur {
        blur.validate()?;
        if params.interpolation == Interpolation::MachineLearning {
            return Err(CoreError::parameter(
                "motion_blur",
                "on",
                "off with interpolation = Machine Learning (the model gives no motion vectors; use Motion Vectors)",
            ));
        }
    }
    Ok(())
}

/// The Morph node: a transition from clip A (Front) to clip B (Back) over a
/// batch range, with every attribute of [`MorphParams`].
///
/// ```no_run
/// use morph::{Engine, MorphNode, RenderingPlatform};
/// use morph::core::params::{MorphParams, RangeMode};
/// # fn load(_clip: &str, _frame: i64) -> morph::core::Image { morph::core::Image::new(8, 8) }
///
/// let engine = Engine::new(RenderingPlatform::Auto)?;
/// let mut params = MorphParams {
///     range_mode: RangeMode::CustomRange,
///     range_first_frame: 1001,
///     range_last_frame: 1024,
///     ..Default::default()
/// };
/// params.set_mix_to_range();
/// let node = MorphNode::new(&engine, params, (1001, 1024))?;
/// for frame in 1001..=1024 {
///     let plan = node.plan(frame);
///     let out = node.render(frame, &load("A", plan.a), &load("B", plan.b))?;
///     // write out.image …
/// }
/// # Ok::<(), morph::EngineError>(())
/// ```
pub struct MorphNode<'e> {
    engine: &'e Engine,
    params: MorphParams,
    clip: (i64, i64),
    flow: FlowParams,
    cut_rule: CutRule,
    renderer: Renderer,
}

impl<'e> MorphNode<'e> {
    /// A node over a batch whose clips span `clip` (first, last frame).
    /// With `interpolation = Machine Learning` the shipped model is loaded
    /// with [`ml_options`]; [`MorphNode::with_ml`] takes other options.
    ///
    /// # Errors
    /// Any attribute out of range (named, with the allowed range), one
    /// this build cannot render, or (ML) a missing runtime or model.
    pub fn new(
        engine: &'e Engine,
        params: MorphParams,
        clip: (i64, i64),
    ) -> Result<Self, EngineError> {
        Self::with_ml(engine, params, clip, None)
    }

    /// [`MorphNode::new`] with explicit ML options (model, cache, precision;
    /// used only with `interpolation = Machine Learning`).
    ///
    /// # Errors
    /// As [`MorphNode::new`].
    pub fn with_ml(
        engine: &'e Engine,
        params: MorphParams,
        clip: (i64, i64),
        ml: Option<MlOptions>,
    ) -> Result<Self, EngineError> {
        params.validate(clip)?;
        check_supported(&params)?;
        let renderer = Renderer::new(&params, ml)?;
        Ok(MorphNode {
            engine,
            flow: FlowParams::with_quality(params.motion_analysis_quality),
            params,
            clip,
            // A morph joins two different clips: their correspondence is
            // whatever the flow finds, so "no correspondence" must not
            // turn the transition into a hard cut; it dissolves instead.
            cut_rule: CutRule::Dissolve,
            renderer,
        })
    }

    /// What to do at a detected scene cut (default for a morph: dissolve).
    pub fn with_cut_rule(mut self, rule: CutRule) -> Self {
        self.cut_rule = rule;
        self
    }

    /// The node's attributes.
    pub fn params(&self) -> &MorphParams {
        &self.params
    }

    /// Which frames of A and B output `frame` needs, and the time between
    /// them (see [`MorphParams::frame_at`]).
    pub fn plan(&self, frame: i64) -> MorphFrame {
        self.params.frame_at(frame, self.clip)
    }

    /// Renders output `frame` from A's frame `plan(frame).a` and B's frame
    /// `plan(frame).b` (each an [`Image`] or an `Arc<Image>`, see
    /// [`InputFrame`]), with the in-between's vectors. Consecutive frames
    /// with the same pair of input frames (both frozen) reuse the motion
    /// and, on the GPU, the uploaded pair.
    ///
    /// # Errors
    /// Frames of different sizes; a GPU failure on the `GPU` platform.
    pub fn render(
        &self,
        frame: i64,
        a: &impl InputFrame,
        b: &impl InputFrame,
    ) -> Result<Interpolated, EngineError> {
        Ok(self.render_with(frame, a, b, true)?.into_interpolated())
    }

    /// [`MorphNode::render`] without the vectors (the same image and
    /// source): on the GPU only the image is read back, half the transfer
    /// of an in-between. What a renderer that writes frames wants.
    ///
    /// # Errors
    /// As [`MorphNode::render`].
    pub fn render_image(
        &self,
        frame: i64,
        a: &impl InputFrame,
        b: &impl InputFrame,
    ) -> Result<(Image, Source), EngineError> {
        let out = self.render_with(frame, a, b, false)?;
        Ok((out.image, out.source))
    }

    fn render_with(
        &self,
        frame: i64,
        a: &dyn InputFrame,
        b: &dyn InputFrame,
        vectors: bool,
    ) -> Result<Rendered, EngineError> {
        let plan = self.plan(frame);
        // The in-between moves by `u` per unit of t; t changes by about
        // half the difference of its neighbours' per output frame.
        let velocity = (self.plan(frame + 1).t - self.plan(frame - 1).t) / 2.0;
        self.renderer.render(
            self.engine,
            (plan.a, plan.b),
            (a, b),
            plan.t,
            &self.flow,
            self.cut_rule,
            velocity,
            vectors,
        )
    }
}

/// A retime of one clip: consecutive frames of the clip are the node's A
/// and B.
pub struct Retimer<'e> {
    engine: &'e Engine,
    frames: Vec<i64>,
    times: Vec<f64>,
    speed: f64,
    flow: FlowParams,
    cut_rule: CutRule,
    renderer: Renderer,
}

impl<'e> Retimer<'e> {
    /// A retime of the clip whose frames are `frames` (ascending; gaps are
    /// spanned), with `params`' interpolation and analysis quality (ML: the
    /// shipped model with [`ml_options`]).
    ///
    /// # Errors
    /// No frames, invalid retime settings, unsupported attributes, (ML) a
    /// missing runtime or model.
    pub fn new(
        engine: &'e Engine,
        params: &MorphParams,
        retime: Retime,
        frames: Vec<i64>,
    ) -> Result<Self, EngineError> {
        Self::with_ml(engine, params, retime, frames, None)
    }

    /// [`Retimer::new`] with explicit ML options.
    ///
    /// # Errors
    /// As [`Retimer::new`].
    pub fn with_ml(
        engine: &'e Engine,
        params: &MorphParams,
        retime: Retime,
        frames: Vec<i64>,
        ml: Option<MlOptions>,
    ) -> Result<Self, EngineError> {
        check_supported(params)?;
        let (Some(&first), Some(&last)) = (frames.first(), frames.last()) else {
            return Err(CoreError::parameter("frames", "none", "at least one input frame").into());
        };
        if frames.windows(2).any(|w| w[1] <= w[0]) {
            return Err(CoreError::parameter(
                "frames",
                "out of order",
                "ascending frame numbers without repeats",
            )
            .into());
        }
        let times = retime.plan(first, last)?;
        Ok(Retimer {
            engine,
            frames,
            times,
            speed: retime.speed(),
            flow: FlowParams::with_quality(params.motion_analysis_quality),
            cut_rule: CutRule::Nearest,
            renderer: Renderer::new(params, ml)?,
        })
    }

    /// What to do at a detected scene cut (default: the nearest frame).
    pub fn with_cut_rule(mut self, rule: CutRule) -> Self {
        self.cut_rule = rule;
        self
    }

    /// Number of output frames.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True if there are no output frames (never, for a valid clip).
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The input time of output frame `k` (0-based).
    pub fn time(&self, k: usize) -> f64 {
        self.times[k]
    }

    /// Which input frames output frame `k` (0-based) needs.
    ///
    /// On an input frame `a == b` and `t = 0`, except with motion blur,
    /// which needs the frame's motion: then the frame is paired with the
    /// next one (`t = 0`), or at the clip's end with the previous one
    /// (`t = 1`), and the output is still that frame, blurred.
    pub fn plan(&self, k: usize) -> Sample {
        let s = sample_at(&self.frames, self.times[k]);
        if self.renderer.blur.is_none() || s.a != s.b {
            return s;
        }
        let i = self.frames.partition_point(|&f| f < s.a);
        match (self.frames.get(i + 1), i.checked_sub(1)) {
            (Some(&next), _) => Sample {
                a: s.a,
                b: next,
                t: 0.0,
            },
            (None, Some(p)) => Sample {
                a: self.frames[p],
                b: s.a,
                t: 1.0,
            },
            (None, None) => s,
        }
    }

    /// Renders output frame `k` from its input frames `plan(k).a` and
    /// `plan(k).b` (the same image twice on an exact frame; each an
    /// [`Image`] or an `Arc<Image>`, see [`InputFrame`]), blurred along the
    /// vectors with motion blur on (shutter in output frames), with the
    /// in-between's vectors. Every output time between the same two input
    /// frames reuses their motion and, on the GPU, the uploaded pair.
    ///
    /// # Errors
    /// Frames of different sizes; a GPU failure on the `GPU` platform.
    pub fn render(
        &self,
        k: usize,
        a: &impl InputFrame,
        b: &impl InputFrame,
    ) -> Result<Interpolated, EngineError> {
        Ok(self.render_with(k, a, b, true)?.into_interpolated())
    }

    /// [`Retimer::render`] without the vectors (the same image and
    /// source): on the GPU only the image is read back, half the transfer
    /// of an in-between. What a renderer that writes frames wants.
    ///
    /// # Errors
    /// As [`Retimer::render`].
    pub fn render_image(
        &self,
        k: usize,
        a: &impl InputFrame,
        b: &impl InputFrame,
    ) -> Result<(Image, Source), EngineError> {
        let out = self.render_with(k, a, b, false)?;
        Ok((out.image, out.source))
    }

    fn render_with(
        &self,
        k: usize,
        a: &dyn InputFrame,
        b: &dyn InputFrame,
        vectors: bool,
    ) -> Result<Rendered, EngineError> {
        let s = self.plan(k);
        // Vectors are per pair interval (b − a input frames); an output
        // frame lasts `speed` input frames.
        let velocity = if s.b == s.a {
            0.0
        } else {
            (self.speed / (s.b - s.a) as f64) as f32
        };
        self.renderer.render(
            self.engine,
            (s.a, s.b),
            (a, b),
            s.t,
            &self.flow,
            self.cut_rule,
            velocity,
            vectors,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use morph_core::ops::flow::fixtures::FlowCase;
    use morph_core::params::{MotionBlurParams, RangeMode};

    fn clips() -> (Image, Image) {
        (
            FlowCase::Layers.frame_at(0.0),
            FlowCase::Layers.frame_at(1.0),
        )
    }

    #[test]
    fn unsupported_and_out_of_range_attributes_are_named() {
        let engine = Engine::cpu();
        let ml = MorphParams {
            interpolation: Interpolation::MachineLearning,
            ..Default::default()
        };
        let missing = MlOptions {
            model: "/nonexistent/model.onnx".into(),
            ..ml_options(&ml)
        };
        let e = MorphNode::with_ml(&engine, ml, (1, 10), Some(missing))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/model.onnx"), "{e}");
        let blur = MorphParams {
            motion_blur: Some(MotionBlurParams {
                samples: 30,
                ..Default::default()
            }),
            ..Default::default()
        };
        let e = MorphNode::new(&engine, blur, (1, 10))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("samples") && e.contains("3..=25"), "{e}");
        let ml_blur = MorphParams {
            interpolation: Interpolation::MachineLearning,
            motion_blur: Some(MotionBlurParams::default()),
            ..Default::default()
        };
        let e = MorphNode::new(&engine, ml_blur, (1, 10))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("motion_blur"), "{e}");
        let outside = MorphParams {
            range_mode: RangeMode::CustomRange,
            range_first_frame: 0,
            range_last_frame: 5,
            ..Default::default()
        };
        let e = MorphNode::new(&engine, outside, (1, 10))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("range_first_frame") && e.contains("1..=10"),
            "{e}"
        );
    }

    #[test]
    fn morph_node_holds_a_before_and_b_after_its_range() {
        let engine = Engine::cpu();
        let mut params = MorphParams {
            range_mode: RangeMode::CustomRange,
            range_first_frame: 3,
            range_last_frame: 5,
            ..Default::default()
        };
        params.set_mix_to_range();
        let node = MorphNode::new(&engine, params, (1, 7)).unwrap();
        let (a, b) = clips();
        assert_eq!(node.render(1, &a, &b).unwrap().image.pixels(), a.pixels());
        assert_eq!(node.render(3, &a, &b).unwrap().image.pixels(), a.pixels());
        assert_eq!(node.render(5, &a, &b).unwrap().image.pixels(), b.pixels());
        assert_eq!(node.render(7, &a, &b).unwrap().image.pixels(), b.pixels());
        let mid = node.render(4, &a, &b).unwrap();
        let motion = engine
            .pair_motion(
                &a,
                &b,
                &FlowParams::with_quality(node.params().motion_analysis_quality),
            )
            .unwrap();
        let direct = engine
            .interpolate(&a, &b, &motion, 0.5, CutRule::Dissolve)
            .unwrap();
        assert_eq!(mid.image.pixels(), direct.image.pixels());
    }

    #[test]
    fn retimer_plans_and_renders_exact_frames_as_copies() {
        let engine = Engine::cpu();
        let r = Retimer::new(
            &engine,
            &MorphParams::default(),
            Retime::Factor(2),
            vec![10, 11],
        )
        .unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            r.plan(1),
            Sample {
                a: 10,
                b: 11,
                t: 0.5
            }
        );
        let (a, b) = clips();
        assert_eq!(r.render(0, &a, &a).unwrap().image.pixels(), a.pixels());
        assert_eq!(r.render(2, &b, &b).unwrap().image.pixels(), b.pixels());
        let mid = r.render(1, &a, &b).unwrap();
        assert_eq!(mid.source, morph_core::ops::interpolate::Source::Warped);
        let e = Retimer::new(&engine, &MorphParams::default(), Retime::Factor(2), vec![])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("frames"), "{e}");
    }

    #[test]
    fn every_time_of_a_pair_reuses_one_upload_of_it() {
        use morph_core::test_support::no_gpu;
        let Ok(ctx) = morph_gpu::GpuContext::shared_for_tests().map_err(no_gpu::<()>) else {
            return;
        };
        let engine = Engine::with_context(ctx, RenderingPlatform::Gpu);
        let r = Retimer::new(
            &engine,
            &MorphParams::default(),
            Retime::Factor(4),
            vec![10, 11],
        )
        .unwrap();
        let (a, b) = clips();
        let (a, b) = (Arc::new(a), Arc::new(b));
        let mut first: Option<(Arc<PreparedPair>, Arc<_>)> = None;
        for k in 1..4 {
            let s = r.plan(k);
            assert_eq!((s.a, s.b), (10, 11));
            let out = r.render(k, &a, &b).unwrap();
            assert_eq!(out.source, Source::Warped);
            let pair = r.renderer.cached((10, 11)).expect("the pair is cached");
            // Arc inputs are shared, not copied.
            assert!(Arc::ptr_eq(pair.a(), &a) && Arc::ptr_eq(pair.b(), &b));
            let device = pair.device_pair().expect("the pair is on the device");
            match &first {
                None => first = Some((Arc::clone(&pair), device)),
                Some((p, d)) => {
                    assert!(Arc::ptr_eq(p, &pair), "one prepared pair, k={k}");
                    assert!(Arc::ptr_eq(d, &device), "one upload, k={k}");
                }
            }
            // The same in-between as a one-off interpolate of that motion.
            let direct = engine
                .interpolate(&a, &b, pair.motion(), s.t, CutRule::Nearest)
                .unwrap();
            assert_eq!(out.image, direct.image, "k={k}");
            assert_eq!(out.vectors, direct.vectors, "k={k}");
            let (image, source) = r.render_image(k, &a, &b).unwrap();
            assert_eq!((image, source), (direct.image, direct.source), "k={k}");
        }
        // The exact frames stay copies of the inputs.
        assert_eq!(r.render(0, &a, &a).unwrap().image.pixels(), a.pixels());
        assert_eq!(r.render_image(4, &b, &b).unwrap().0.pixels(), b.pixels());
    }
}
