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
    let analysis = temper_lints::analyze(source, Edition::LATEST, options, facts);
    let shared: Arc<str> = Arc::from(source);
    let index = LineIndex::new(source);
    let mut findings = analysis.findings;
    // The crate is this one file: fixes that reach across the crate (struct
    // literals to update) are completed against it, as `temper check` would.
    if findings.iter().any(|f| f.crate_fix.is_some()) {
        let file = std::path::PathBuf::from(path);
        let files = [(file.clone(), shared.clone())];
        let context = temper_lints::CrateContext {
            file: &file,
            files: &files,
            edition: Edition::LATEST,
            facts: Some(facts),
            index: &Default::default(),
        };
        temper_lints::complete_fixes(&mut findings, &context);
    }
    findings
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
