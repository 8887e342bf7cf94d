//! The WGSL shaders of `shaders/`, embedded at build time.
//!
//! `build.rs` resolves each file's `//!include common/<file>.wgsl` lines,
//! validates the result with naga (a broken shader fails the build) and
//! writes it to `OUT_DIR`; this module includes those sources as one
//! [`Shader`] constant per file (`shaders/clamp.wgsl` → [`CLAMP`]), plus
//! [`ALL`]. Nothing here reads files at run time.
//!
//! It also holds [`UNIFORM_LAYOUTS`], the list of `Gpu<Op>Params` uniform
//! structs whose size and field offsets a test compares with naga's layout of
//! the WGSL twin.

/// A WGSL module: its file name (without `.wgsl`) and resolved source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shader {
    /// File name in `shaders/` without the extension, e.g. `clamp`.
    pub name: &'static str,
    /// WGSL source with includes resolved.
    pub source: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/shaders.rs"));

/// A Rust uniform struct and the WGSL struct it mirrors, for the layout test.
#[derive(Clone, Copy, Debug)]
pub struct UniformLayout {
    /// The shader that declares the WGSL struct.
    pub shader: Shader,
    /// Name of the struct in both Rust and WGSL, e.g. `GpuClampParams`.
    pub name: &'static str,
    /// `size_of` the Rust struct.
    pub size: usize,
    /// Each field's name and `offset_of` in the Rust struct.
    pub fields: &'static [(&'static str, usize)],
}

/// Builds a [`UniformLayout`] for a `#[repr(C)]` struct: names every field so
/// their offsets are compared too.
///
/// ```ignore
/// pub const UNIFORM_LAYOUT: UniformLayout =
///     uniform_layout!(shaders::CLAMP, GpuClampParams { min_value, max_value, count });
/// ```
#[macro_export]
macro_rules! uniform_layout {
    ($shader:expr, $ty:ident { $($field:ident),* $(,)? }) => {
        $crate::shaders::UniformLayout {
            shader: $shader,
            name: stringify!($ty),
            size: ::core::mem::size_of::<$ty>(),
            fields: &[$((stringify!($field), ::core::mem::offset_of!($ty, $field))),*],
        }
    };
}

/// Every `Gpu<Op>Params` uniform with its WGSL twin. Add one line per op.
pub const UNIFORM_LAYOUTS: &[UniformLayout] = &[
    crate::ops::clamp::UNIFORM_LAYOUT,
    crate::ops::stmap::UNIFORM_LAYOUT,
    crate::ops::stmap::PLANE_UNIFORM_LAYOUT,
    crate::ops::blur::UNIFORM_LAYOUT,
    crate::ops::frequency::UNIFORM_LAYOUT,
    crate::ops::interpolate::UNIFORM_LAYOUT,
    crate::ops::flow::PYRAMID_UNIFORM_LAYOUT,
    crate::ops::flow::SEARCH_UNIFORM_LAYOUT,
    crate::ops::flow::REFINE_UNIFORM_LAYOUT,
    crate::ops::flow::OUTPUT_UNIFORM_LAYOUT,
    crate::ops::motion_blur::UNIFORM_LAYOUT,
    crate::ops::motion_blur::PLANE_UNIFORM_LAYOUT,
    crate::ops::motion_blur::TILES_UNIFORM_LAYOUT,
];
