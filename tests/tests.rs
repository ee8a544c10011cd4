//! temper's integration tests: one binary (fewer links with wasmtime in the
//! tree), one module per topic.

mod cli;
mod fix;
mod fix_crates;
mod gate;
mod lint_fixtures;
mod members;
#[cfg(feature = "runtime")]
mod pool;
mod server;
mod trust;
#[cfg(feature = "wit")]
mod wit;
