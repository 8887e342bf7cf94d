//! The model contract (SPEC §6): the RIFE-style interface and the optional
//! same-name `.json` sidecar.
//!
//! A model has one NCHW input of 7 channels (img0 RGB, img1 RGB, a constant
//! timestep plane), values 0..1, height and width padded to a multiple
//! (the sidecar's `Padding`, default 32), and its first output is NCHW RGB
//! of the same size. Element type float32 or float16. Channel counts that the
//! graph leaves symbolic are taken from the sidecar when it gives them.
//!
//! The sidecar follows Flame's Inference-node fields where they fit:
//!
//! ```json
//! { "Name": "ifnet_lite",
//!   "Inputs":  [{ "Name": "input",  "Type": "float32", "Channels": ["img0.R", "…", "timestep"] }],
//!   "Outputs": [{ "Name": "output", "Type": "float32", "Channels": ["R", "G", "B"] }],
//!   "Padding": 32,
//!   "SupportsSceneLinear": false }
//! ```
//!
//! `Channels` may be a list of names, a count, or a string of channel letters
//! (`"RGB"`). Unknown fields are ignored.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::{TensorElementType, ValueType};
use serde::Deserialize;

use crate::MlError;

/// Channels of the model input: img0 RGB, img1 RGB, timestep.
pub const INPUT_CHANNELS: i64 = 7;
/// Channels of the model output: RGB.
pub const OUTPUT_CHANNELS: i64 = 3;
/// Padding multiple when the sidecar gives none.
pub const DEFAULT_PADDING: u32 = 32;

/// A channel list as a sidecar may write it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Channels {
    /// A number of channels.
    Count(u32),
    /// Channel names, one per channel.
    Names(Vec<String>),
    /// Channel letters, one per channel (`"RGB"`).
    Letters(String),
}

impl Channels {
    /// How many channels this describes.
    pub fn count(&self) -> u32 {
        match self {
            Channels::Count(n) => *n,
            Channels::Names(v) => v.len() as u32,
            Channels::Letters(s) => s.chars().filter(|c| c.is_alphanumeric()).count() as u32,
        }
    }
}

/// One input or output as the sidecar describes it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct TensorDesc {
    /// Tensor name in the graph.
    pub name: Option<String>,
    /// Element type (`float32`, `float16`).
    #[serde(rename = "Type")]
    pub ty: Option<String>,
    /// Channels of the tensor.
    pub channels: Option<Channels>,
}

/// The optional `.json` sidecar next to a model.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Sidecar {
    /// The model's display name.
    pub name: Option<String>,
    /// Inputs, in graph order.
    pub inputs: Vec<TensorDesc>,
    /// Outputs, in graph order.
    pub outputs: Vec<TensorDesc>,
    /// Height and width must be multiples of this.
    pub padding: Option<u32>,
    /// Whether the model takes scene-linear input as is (no range compression).
    pub supports_scene_linear: Option<bool>,
}

impl Sidecar {
    /// The sidecar's path for a model: same name, `.json`.
    pub fn path_for(model: &Path) -> PathBuf {
        model.with_extension("json")
    }

    /// Reads the sidecar next to `model`, or the default when there is none.
    pub fn load_for(model: &Path) -> Result<Sidecar, MlError> {
        let path = Self::path_for(model);
        if !path.is_file() {
            return Ok(Sidecar::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| MlError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| MlError::ModelInterface {
            path: path.clone(),
            reason: format!("sidecar JSON is not valid: {e}"),
        })
    }
}

/// Element type of the model's input and output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
}

impl Precision {
    /// `fp32` or `fp16`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "fp32",
            Precision::F16 => "fp16",
        }
    }
}

/// What the engine needs to know about a validated model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// Display name (sidecar `Name`, else the file stem).
    pub name: String,
    /// The input tensor's name.
    pub input_name: String,
    /// The RGB output tensor's name.
    pub output_name: String,
    /// Element type of input and output.
    pub input_precision: Precision,
    /// Element type of the output.
    pub output_precision: Precision,
    /// Height and width multiple.
    pub padding: u32,
    /// Whether scene-linear input goes in unchanged.
    pub supports_scene_linear: bool,
    /// Symbolic names of the input's N, H and W dimensions, where symbolic.
    pub dim_symbols: [Option<String>; 3],
    /// Fixed input size (width, height) when the graph fixes it.
    pub fixed_size: Option<(u32, u32)>,
}

fn precision_of(ty: TensorElementType) -> Option<Precision> {
    match ty {
        TensorElementType::Float32 => Some(Precision::F32),
        TensorElementType::Float16 => Some(Precision::F16),
        _ => None,
    }
}

/// Checks a session's inputs and outputs (and the sidecar) against the
/// RIFE-style interface; the error says what differs and what is expected.
pub fn validate(path: &Path, session: &Session, sidecar: &Sidecar) -> Result<ModelInfo, MlError> {
    let wrong = |reason: String| MlError::ModelInterface {
        path: path.to_owned(),
        reason,
    };
    let inputs = session.inputs();
    if inputs.len() != 1 {
        let names: Vec<&str> = inputs.iter().map(|i| i.name()).collect();
        return Err(wrong(format!(
            "it has {} inputs ({}); the RIFE-style interface has one NCHW input of 7 channels \
             (img0 RGB, img1 RGB, timestep)",
            inputs.len(),
            names.join(", ")
        )));
    }
    let input = &inputs[0];
    let ValueType::Tensor {
        ty,
        shape,
        dimension_symbols,
    } = input.dtype()
    else {
        return Err(wrong(format!("input '{}' is not a tensor", input.name())));
    };
    let input_precision = precision_of(*ty).ok_or_else(|| {
        wrong(format!(
            "input '{}' is {ty:?}; float32 or float16 is needed",
            input.name()
        ))
    })?;
    if shape.len() != 4 {
        return Err(wrong(format!(
            "input '{}' has rank {} (shape {shape:?}); an NCHW tensor of rank 4 is needed",
            input.name(),
            shape.len()
        )));
    }
    let side_in = sidecar.inputs.first().and_then(|d| d.channels.as_ref());
    let channels = if shape[1] >= 0 {
        shape[1]
    } else {
        side_in.map_or(INPUT_CHANNELS, |c| c.count() as i64)
    };
    if channels != INPUT_CHANNELS {
        return Err(wrong(format!(
            "input '{}' has {channels} channels; the RIFE-style interface needs 7 \
             (img0 RGB, img1 RGB, timestep)",
            input.name()
        )));
    }
    if let Some(c) = side_in
        && c.count() as i64 != INPUT_CHANNELS
    {
        return Err(wrong(format!(
            "the sidecar gives input '{}' {} channels; 7 are needed",
            input.name(),
            c.count()
        )));
    }

    let Some(output) = session.outputs().first() else {
        return Err(wrong(
            "it has no outputs; an NCHW RGB output is needed".to_owned(),
        ));
    };
    let ValueType::Tensor {
        ty: out_ty,
        shape: out_shape,
        ..
    } = output.dtype()
    else {
        return Err(wrong(format!("output '{}' is not a tensor", output.name())));
    };
    let output_precision = precision_of(*out_ty).ok_or_else(|| {
        wrong(format!(
            "output '{}' is {out_ty:?}; float32 or float16 is needed",
            output.name()
        ))
    })?;
    let side_out = sidecar.outputs.first().and_then(|d| d.channels.as_ref());
    let out_channels = if out_shape.len() == 4 && out_shape[1] >= 0 {
        out_shape[1]
    } else {
        side_out.map_or(OUTPUT_CHANNELS, |c| c.count() as i64)
    };
    if out_shape.len() != 4 || out_channels != OUTPUT_CHANNELS {
        return Err(wrong(format!(
            "output '{}' has shape {out_shape:?} ({out_channels} channels); an NCHW RGB \
             output (3 channels) is needed",
            output.name()
        )));
    }

    let padding = sidecar.padding.unwrap_or(DEFAULT_PADDING);
    if padding == 0 || padding > 1024 {
        return Err(wrong(format!(
            "sidecar Padding = {padding}; a multiple in 1..=1024 is needed"
        )));
    }
    let symbol = |i: usize| {
        dimension_symbols
            .get(i)
            .filter(|s| !s.is_empty() && shape[i] < 0)
            .cloned()
    };
    let fixed_size = (shape[2] > 0 && shape[3] > 0).then(|| (shape[3] as u32, shape[2] as u32));
    let name = sidecar.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Ok(ModelInfo {
        name,
        input_name: input.name().to_owned(),
        output_name: output.name().to_owned(),
        input_precision,
        output_precision,
        padding,
        supports_scene_linear: sidecar.supports_scene_linear.unwrap_or(false),
        dim_symbols: [symbol(0), symbol(2), symbol(3)],
        fixed_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_accepts_names_counts_and_letters() {
        let s: Sidecar = serde_json::from_str(
            r#"{"Name":"m","Inputs":[{"Name":"input","Type":"float32","Channels":7}],
                "Outputs":[{"Channels":"RGB"}],"Padding":64,"SupportsSceneLinear":true,
                "Other":1}"#,
        )
        .unwrap();
        assert_eq!(s.inputs[0].channels.as_ref().unwrap().count(), 7);
        assert_eq!(s.outputs[0].channels.as_ref().unwrap().count(), 3);
        assert_eq!(s.padding, Some(64));
        assert_eq!(s.supports_scene_linear, Some(true));
        let names: Sidecar =
            serde_json::from_str(r#"{"Outputs":[{"Channels":["R","G","B"]}]}"#).unwrap();
        assert_eq!(names.outputs[0].channels.as_ref().unwrap().count(), 3);
    }

    #[test]
    fn missing_sidecar_is_the_default_and_a_broken_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m.onnx");
        assert_eq!(Sidecar::load_for(&model).unwrap(), Sidecar::default());
        std::fs::write(dir.path().join("m.json"), "{ not json").unwrap();
        let e = Sidecar::load_for(&model).unwrap_err().to_string();
        assert!(e.contains("m.json") && e.contains("sidecar JSON"), "{e}");
    }
}
