//! morph: the engine a render worker links.
