//! The CPU (rayon) implementation of every op: the specification each GPU
//! kernel in `morph-gpu` is tested against. Each module is written in the
//! shader's indexing order with the same edge rules, parallel over rows.

pub mod blur;
pub mod clamp;
pub mod flow;
pub mod frequency;
pub mod interpolate;
pub mod motion_blur;
pub mod stmap;
