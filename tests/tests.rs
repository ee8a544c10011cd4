//! temper's integration tests: one binary (fewer links with wasmtime in the
//! tree), one module per topic.

mod cli;
mod fix;
mod fix_crates;
mod gate;
mod lint_fixtures;
#[cfg(feature = "runtime")]
mod pool;
mod trust;
#[cfg(feature = "wit")]
mod wit;
