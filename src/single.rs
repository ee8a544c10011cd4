//! Checking one source text in isolation, as library code with default
//! levels: what fixtures, benchmarks and editors want.

use crate::report::{LineIndex, Reported};
use std::sync::Arc;
use temper_lints::{CrateFacts, Edition, Options, registry};

/// Every finding in `source`, as if it were library code, at default levels,
/// sorted by position.
pub fn check_source(
    path: &str,
    source: &str,
    options: &Options,
    facts: &CrateFacts,
) -> Vec<Reported> {
    let analysis = temper_lints::analyze(source, Edition::Edition2024, options, facts);
    let shared: Arc<str> = Arc::from(source);
    let index = LineIndex::new(source);
    analysis
        .findings
        .into_iter()
        .filter_map(|finding| {
            let level = registry::lint(finding.lint)?.default_level;
            Some(Reported::new(
                path.to_string(),
                shared.clone(),
                &index,
                level,
                finding,
            ))
        })
        .collect()
}
