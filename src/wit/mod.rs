//! WIT validator.
