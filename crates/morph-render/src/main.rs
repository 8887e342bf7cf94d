//! morph-render: the command line.
fn main() {}
