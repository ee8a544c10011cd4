//! temper's integration tests: one binary (fewer links with wasmtime in the
//! tree), one module per topic.

mod cli;
mod fix;
mod fix_crates;
mod fuzz;
mod gate;
mod limits;
mod lint_fixtures;
#[cfg(feature = "runtime")]
mod pool;
#[cfg(feature = "wit")]
mod wit;
