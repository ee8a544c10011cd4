//! temper's integration tests: one binary (fewer links with wasmtime in the
//! tree), one module per topic.

mod lint_fixtures;
