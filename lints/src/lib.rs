//! temper analysis core.
