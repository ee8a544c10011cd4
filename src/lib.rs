//! temper library.
