//! [`MlInterpolator`]: loads a model once and interpolates frame pairs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use half::f16;
use morph_core::Image;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::TensorRef;

use crate::colour::RangeMap;
use crate::contract::{self, ModelInfo, Precision, Sidecar};
use crate::runtime::{self, Runtime};
use crate::{MlError, MlOptions, Provider, cache, tiling};

/// Sessions kept per input size; a frame size change beyond this many
/// sizes drops the oldest.
const MAX_SESSIONS: usize = 4;

/// A loaded model, ready to interpolate frame pairs.
///
/// `Send + Sync`: ONNX Runtime's `Session::run` needs `&mut`, so sessions
/// sit behind a `Mutex` and calls from several threads take turns (ONNX
/// Runtime already uses every core inside one call). One session is built
/// per tile size, with that size fixed so the graph optimiser can specialise
/// it (and, with `engine_cache`, the optimised graph is kept on disk).
pub struct MlInterpolator {
    opts: MlOptions,
    model_path: PathBuf,
    model_hash: u64,
    info: ModelInfo,
    provider: Provider,
    sessions: Mutex<Vec<((u32, u32), Session)>>,
}

impl std::fmt::Debug for MlInterpolator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlInterpolator")
            .field("model", &self.model_path)
            .field("info", &self.info)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

fn ort_err(path: &Path) -> impl Fn(ort::Error) -> MlError + '_ {
    move |e| MlError::Model {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The model file to run for these options: the `_fp16` sibling when fp16 is
/// asked for and it exists.
fn resolve_model(opts: &MlOptions) -> PathBuf {
    if opts.fp16 {
        let stem = opts
            .model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !stem.ends_with("_fp16") {
            let variant = opts.model.with_file_name(format!("{stem}_fp16.onnx"));
            if variant.is_file() {
                return variant;
            }
        }
    }
    opts.model.clone()
}

impl MlInterpolator {
    /// Loads and validates the model.
    ///
    /// Errors: a missing model file ([`MlError::ModelMissing`]); no usable
    /// ONNX Runtime ([`MlError::RuntimeMissing`], [`MlError::NotOnnxRuntime`],
    /// [`MlError::RuntimeTooOld`], each with the fix); a model whose inputs or
    /// outputs are not the RIFE-style interface ([`MlError::ModelInterface`]);
    /// options out of range ([`MlError::Parameter`]).
    pub fn load(opts: &MlOptions) -> Result<Self, MlError> {
        if opts.tile_budget_pixels == 0 || opts.tile_budget_pixels > morph_core::limits::MAX_PIXELS
        {
            return Err(MlError::Parameter {
                attribute: "tile_budget_pixels",
                value: opts.tile_budget_pixels.to_string(),
                allowed: format!("1..={}", morph_core::limits::MAX_PIXELS),
            });
        }
        if opts.tile_overlap > 1024 {
            return Err(MlError::Parameter {
                attribute: "tile_overlap",
                value: opts.tile_overlap.to_string(),
                allowed: "0..=1024 pixels".to_owned(),
            });
        }
        if !opts.model.is_file() {
            return Err(MlError::ModelMissing {
                path: opts.model.clone(),
            });
        }
        let model_path = resolve_model(opts);
        if opts.fp16 && model_path == opts.model {
            tracing::info!(model = %opts.model.display(),
                "fp16 asked for but no _fp16 variant beside the model; running it in its own precision");
        }
        let rt = runtime::runtime()?;
        let sidecar = Sidecar::load_for(&model_path)?;
        // A probe session, unoptimised (cheap), only to read the interface.
        let probe = Session::builder(&rt.env)
            .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Disable)?))
            .and_then(|mut b| b.commit_from_file(&model_path))
            .map_err(ort_err(&model_path))?;
        let info = contract::validate(&model_path, &probe, &sidecar)?;
        drop(probe);
        let provider = match opts.provider {
            Provider::Cuda if !runtime::cuda_available() => {
                tracing::warn!(
                    "CUDA execution provider asked for but this ONNX Runtime has none; using the CPU"
                );
                Provider::Cpu
            }
            p => p,
        };
        let bytes = std::fs::read(&model_path).map_err(|e| MlError::Io {
            path: model_path.clone(),
            message: e.to_string(),
        })?;
        Ok(MlInterpolator {
            opts: opts.clone(),
            model_hash: cache::fnv1a64(&bytes),
            model_path,
            info,
            provider,
            sessions: Mutex::new(Vec::new()),
        })
    }

    /// What the model said about itself (names, precision, padding).
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The model file that runs (the `_fp16` variant when picked).
    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// The execution provider in use (CPU after a CUDA fallback).
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Builds a session for one input size, through the engine cache when
    /// one is configured. Returns the session and whether the cache had it.
    fn build_session(&self, width: u32, height: u32) -> Result<(Session, bool), MlError> {
        let rt: &Runtime = runtime::runtime()?;
        let path = &self.model_path;
        let err = ort_err(path);
        let mut builder = Session::builder(&rt.env).map_err(&err)?;
        if self.provider == Provider::Cuda {
            builder = builder
                .with_execution_providers([ort::ep::CUDA::default().build()])
                .map_err(|e| err(e.into()))?;
        }
        if self.opts.threads > 0 {
            builder = builder
                .with_intra_threads(self.opts.threads)
                .map_err(|e| err(e.into()))?;
        }
        for (symbol, size) in self.info.dim_symbols.iter().zip([1, height, width]) {
            if let Some(symbol) = symbol {
                builder = builder
                    .with_dimension_override(symbol, size as i64)
                    .map_err(|e| err(e.into()))?;
            }
        }
        let Some(dir) = &self.opts.engine_cache else {
            let session = optimised(builder)?.commit_from_file(path).map_err(&err)?;
            return Ok((session, false));
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entry = cache::entry_path(
            dir,
            &stem,
            self.model_hash,
            self.provider.name(),
            self.info.input_precision.name(),
            width,
            height,
        );
        if entry.is_file() {
            let cached = builder
                .clone()
                .with_optimization_level(GraphOptimizationLevel::Disable)
                .map_err(|e| err(e.into()))
                .and_then(|mut b| b.commit_from_file(&entry).map_err(&err));
            match cached {
                Ok(session) => return Ok((session, true)),
                Err(e) => tracing::warn!(entry = %entry.display(), error = %e,
                    "engine cache entry unusable; rebuilding it"),
            }
        }
        std::fs::create_dir_all(dir).map_err(|e| MlError::Io {
            path: dir.clone(),
            message: format!("cannot create the engine cache directory: {e}"),
        })?;
        let tmp = entry.with_extension(format!("tmp-{}", std::process::id()));
        let session = optimised(builder)?
            .with_optimized_model_path(&tmp)
            .map_err(|e| err(e.into()))?
            .commit_from_file(path)
            .map_err(&err)?;
        if let Err(e) = std::fs::rename(&tmp, &entry) {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!(entry = %entry.display(), error = %e, "could not store the engine cache entry");
        }
        Ok((session, false))
    }

    /// Starts (or reuses) the session for one input size and reports whether
    /// the engine cache supplied it; for benches and tests of the cache.
    pub fn warm_up(&self, width: u32, height: u32) -> Result<bool, MlError> {
        let mut sessions = self.lock_sessions();
        if sessions.iter().any(|(size, _)| *size == (width, height)) {
            return Ok(true);
        }
        let (session, hit) = self.build_session(width, height)?;
        Self::remember(&mut sessions, (width, height), session);
        Ok(hit)
    }

    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, Vec<((u32, u32), Session)>> {
        // A panic while holding the lock leaves the sessions usable.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(sessions: &mut Vec<((u32, u32), Session)>, size: (u32, u32), session: Session) {
        if sessions.len() >= MAX_SESSIONS {
            sessions.remove(0);
        }
        sessions.push((size, session));
    }

    /// Interpolates between `a` (t = 0) and `b` (t = 1).
    ///
    /// RGB goes through the model (range-compressed, padded or tiled, see
    /// the crate docs); alpha and extra channels follow the crate-level rule.
    /// Errors: `t` outside 0..=1, frames of different sizes, NaN/Inf samples
    /// (named by pixel and channel), or a runtime failure.
    pub fn interpolate(&self, a: &Image, b: &Image, t: f32) -> Result<Image, MlError> {
        if !(0.0..=1.0).contains(&t) {
            return Err(MlError::Parameter {
                attribute: "t",
                value: t.to_string(),
                allowed: "0..=1".to_owned(),
            });
        }
        a.check_same_size(b, "Back input")?;
        a.check_finite()?;
        b.check_finite()?;
        let (w, h) = (a.width(), a.height());
        if w == 0 || h == 0 {
            return Ok(a.clone());
        }
        let n = w as usize * h as usize;
        let linear = |img: &Image| img.metadata.format.is_some_and(|f| f.is_float());
        let curve = !self.info.supports_scene_linear && (linear(a) || linear(b));
        let map = RangeMap::for_values(
            curve,
            a.pixels().iter().chain(b.pixels()).flat_map(|p| &p[..3]),
        );

        let planes = |img: &Image, chans: [usize; 3], map: &RangeMap| {
            let mut out = vec![0.0f32; 3 * n];
            for (i, p) in img.pixels().iter().enumerate() {
                for (c, &src) in chans.iter().enumerate() {
                    out[c * n + i] = map.forward(p[src]);
                }
            }
            out
        };
        let rgb_out = self.run_frame(
            &planes(a, [0, 1, 2], &map),
            &planes(b, [0, 1, 2], &map),
            w,
            h,
            t,
        )?;

        // Alpha: a constant shared by both frames stays; otherwise a second
        // pass with alpha in all three channels (crate docs).
        let a0 = a.pixels()[0][3];
        let constant_alpha = a.pixels().iter().chain(b.pixels()).all(|p| p[3] == a0);
        let alpha = if constant_alpha {
            None
        } else {
            let amap =
                RangeMap::for_values(false, a.pixels().iter().chain(b.pixels()).map(|p| &p[3]));
            let out = self.run_frame(
                &planes(a, [3, 3, 3], &amap),
                &planes(b, [3, 3, 3], &amap),
                w,
                h,
                t,
            )?;
            Some((out, amap))
        };

        let mut pixels = Vec::with_capacity(n);
        for i in 0..n {
            let alpha_value = match &alpha {
                None => a0,
                Some((out, amap)) => amap.inverse((out[i] + out[n + i] + out[2 * n + i]) / 3.0),
            };
            pixels.push([
                map.inverse(rgb_out[i]),
                map.inverse(rgb_out[n + i]),
                map.inverse(rgb_out[2 * n + i]),
                alpha_value,
            ]);
        }
        let mut result = a.with_pixels(pixels);
        if b.base.has_alpha() && !a.base.has_alpha() {
            result.base = b.base;
        }
        // Extra channels: blended by t where both frames have them.
        for channel in &mut result.extra {
            if let Some(other) = b.extra_channel(&channel.name) {
                for (v, o) in channel.data.iter_mut().zip(&other.data) {
                    *v = (1.0 - t) * *v + t * o;
                }
            }
        }
        for channel in &b.extra {
            if a.extra_channel(&channel.name).is_none() {
                result.extra.push(channel.clone());
            }
        }
        Ok(result)
    }

    /// Runs the model over a whole frame given as two planar RGB buffers in
    /// the model's domain; returns planar RGB, `3 × w × h`.
    fn run_frame(&self, a: &[f32], b: &[f32], w: u32, h: u32, t: f32) -> Result<Vec<f32>, MlError> {
        let plan = tiling::plan(
            w,
            h,
            self.info.padding,
            self.opts.tile_budget_pixels,
            self.opts.tile_overlap,
            self.info.fixed_size,
        )?;
        let (tw, th) = (plan.tile_width, plan.tile_height);
        let (wu, n, tn) = (
            w as usize,
            w as usize * h as usize,
            tw as usize * th as usize,
        );
        let mut sessions = self.lock_sessions();
        if !sessions.iter().any(|(size, _)| *size == (tw, th)) {
            let (session, _) = self.build_session(tw, th)?;
            Self::remember(&mut sessions, (tw, th), session);
        }
        let session = &mut sessions
            .iter_mut()
            .find(|(size, _)| *size == (tw, th))
            .expect("session was just inserted")
            .1;

        let single = plan.len() == 1;
        let mut acc = vec![0.0f32; 3 * n];
        let mut weight = if single { Vec::new() } else { vec![0.0f32; n] };
        let mut input = vec![0.0f32; 7 * tn];
        for &y0 in &plan.ys {
            for &x0 in &plan.xs {
                // Gather the tile; beyond the frame, repeat the edge.
                for ty in 0..th as usize {
                    let sy = (y0 as usize + ty).min(h as usize - 1);
                    for tx in 0..tw as usize {
                        let sx = (x0 as usize + tx).min(wu - 1);
                        let s = sy * wu + sx;
                        let d = ty * tw as usize + tx;
                        for c in 0..3 {
                            input[c * tn + d] = a[c * n + s];
                            input[(3 + c) * tn + d] = b[c * n + s];
                        }
                        input[6 * tn + d] = t;
                    }
                }
                let out = self.run_model(session, &input, tw, th)?;
                // Scatter the part inside the frame, feathered.
                let rows = (th as usize).min(h as usize - y0 as usize);
                let cols = (tw as usize).min(wu - x0 as usize);
                for ty in 0..rows {
                    let wy = if single {
                        1.0
                    } else {
                        tiling::ramp(ty as u32, y0, th, h, plan.overlap)
                    };
                    for tx in 0..cols {
                        let d = (y0 as usize + ty) * wu + x0 as usize + tx;
                        let s = ty * tw as usize + tx;
                        if single {
                            for c in 0..3 {
                                acc[c * n + d] = out[c * tn + s];
                            }
                        } else {
                            let wgt = wy * tiling::ramp(tx as u32, x0, tw, w, plan.overlap);
                            for c in 0..3 {
                                acc[c * n + d] += wgt * out[c * tn + s];
                            }
                            weight[d] += wgt;
                        }
                    }
                }
            }
        }
        if !single {
            for c in 0..3 {
                for (v, &wgt) in acc[c * n..(c + 1) * n].iter_mut().zip(&weight) {
                    *v /= wgt;
                }
            }
        }
        Ok(acc)
    }

    /// One model call on a `7 × th × tw` planar input; returns `3 × th × tw`.
    fn run_model(
        &self,
        session: &mut Session,
        input: &[f32],
        tw: u32,
        th: u32,
    ) -> Result<Vec<f32>, MlError> {
        let path = &self.model_path;
        let err = ort_err(path);
        let shape = [1usize, 7, th as usize, tw as usize];
        let half_input: Vec<f16>;
        let tensor = match self.info.input_precision {
            Precision::F32 => TensorRef::from_array_view((shape, input))
                .map_err(&err)?
                .into_dyn(),
            Precision::F16 => {
                half_input = input.iter().map(|&v| f16::from_f32(v)).collect();
                TensorRef::from_array_view((shape, &half_input[..]))
                    .map_err(&err)?
                    .into_dyn()
            }
        };
        let outputs = session
            .run(ort::inputs![self.info.input_name.as_str() => tensor])
            .map_err(&err)?;
        let value = &outputs[self.info.output_name.as_str()];
        let tn = tw as usize * th as usize;
        let check = |dims: &[i64]| {
            if dims.len() == 4
                && dims[0] == 1
                && dims[1] >= 3
                && dims[2] == th as i64
                && dims[3] == tw as i64
            {
                Ok(())
            } else {
                Err(MlError::ModelInterface {
                    path: path.clone(),
                    reason: format!(
                        "output '{}' has shape {dims:?} for an input of {tw}x{th}; [1, 3, {th}, {tw}] is needed",
                        self.info.output_name
                    ),
                })
            }
        };
        let out = match self.info.output_precision {
            Precision::F32 => {
                let (shape, data) = value.try_extract_tensor::<f32>().map_err(&err)?;
                check(shape)?;
                data[..3 * tn].to_vec()
            }
            Precision::F16 => {
                let (shape, data) = value.try_extract_tensor::<f16>().map_err(&err)?;
                check(shape)?;
                data[..3 * tn].iter().map(|v| v.to_f32()).collect()
            }
        };
        Ok(out)
    }
}

/// Full graph optimisation (the default, made explicit).
fn optimised(builder: SessionBuilder) -> Result<SessionBuilder, MlError> {
    builder
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| MlError::Runtime(e.to_string()))
}
