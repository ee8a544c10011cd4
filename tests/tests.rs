//! temper's integration tests: one binary (fewer links with wasmtime in the
//! tree), one module per topic.

mod applicability;
mod cli;
mod fix;
mod fix_crates;
mod fuzz;
mod gate;
mod limits;
mod lint_fixtures;
mod members;
#[cfg(feature = "runtime")]
mod pool;
mod prefilter;
mod rendered;
mod server;
mod trust;
#[cfg(feature = "wit")]
mod wit;
mod writes;

/// `TEMPER_BLESS=1` rewrites expected-output files (fixture `.stderr` and
/// `.fixed` files, WIT reports, the sample workspace's `expected.json`); the
/// tests then still check every invariant. It has one spelling, and is
/// refused when `CI` is set, so a CI run can never bless its own failures.
pub fn bless() -> bool {
    let Some(value) = std::env::var_os("TEMPER_BLESS") else {
        return false;
    };
    let blessing = match value.to_str() {
        Some("1") => true,
        Some("" | "0") => false,
        _ => panic!("TEMPER_BLESS must be 1 (rewrite expected files) or unset, not {value:?}"),
    };
    let in_ci =
        std::env::var_os("CI").is_some_and(|ci| !ci.is_empty() && ci != "false" && ci != "0");
    assert!(
        !(blessing && in_ci),
        "TEMPER_BLESS=1 is refused when CI is set: bless locally and commit the reviewed files"
    );
    blessing
}
