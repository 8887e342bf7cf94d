// common/float.wgsl — IEEE-754 helpers that do no float arithmetic, so
// neither "fast math" folding nor subnormal flushing can change them.
// No bindings.
//
// GPUs may flush subnormals to zero in float compares, min/max and selects
// (the H100's Vulkan driver does: found by the clamp parity test), and may
// fold `x != x` to false. Ops that must match the CPU bit for bit work on bit
// patterns (`bitcast<u32>`) with these helpers.

// True if the f32 with these bits is NaN: exponent all ones, mantissa non-zero.
fn is_nan_bits(bits: u32) -> bool {
    return (bits & 0x7fffffffu) > 0x7f800000u;
}

// `is_nan_bits` per component.
fn is_nan_bits4(bits: vec4<u32>) -> vec4<bool> {
    return (bits & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

// True if `x` is NaN, tested on its bit pattern.
fn is_nan(x: f32) -> bool {
    return is_nan_bits(bitcast<u32>(x));
}

// An integer with the order of the (non-NaN) f32 with these bits: for any
// non-NaN a, b: a < b  <=>  order_key(a) < order_key(b), and -0 and +0 get the
// same key 0, exactly like IEEE comparisons, subnormals included.
// Negative floats (sign bit set, i < 0) map to -(magnitude) = i32::MIN - i.
fn order_key(bits: u32) -> i32 {
    let i = bitcast<i32>(bits);
    return select(i, bitcast<i32>(0x80000000u) - i, i < 0i);
}

// `order_key` per component.
fn order_key4(bits: vec4<u32>) -> vec4<i32> {
    let i = bitcast<vec4<i32>>(bits);
    return select(i, vec4<i32>(bitcast<i32>(0x80000000u)) - i, i < vec4<i32>(0i));
}
