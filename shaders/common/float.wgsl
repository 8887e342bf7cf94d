// common/float.wgsl — IEEE-754 helpers that must not be optimised away.
// No bindings.

// True if `x` is NaN, tested on the bit pattern: exponent all ones and a
// non-zero mantissa. `x != x` is not reliable, since shader compilers may
// assume finite math and fold it to false.
fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// `is_nan` per component.
fn is_nan4(x: vec4<f32>) -> vec4<bool> {
    return (bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}
