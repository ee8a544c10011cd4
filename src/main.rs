//! temper command-line entry point.
fn main() {}
