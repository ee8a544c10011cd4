//! `--statistics`: one line per lint with how many findings it has, at which
//! level, and how many `temper fix` can fix.

use crate::report::Reported;
use serde::Serialize;
use std::collections::BTreeMap;
use temper_lints::{Applicability, Level};

/// Counts for one lint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub lint: &'static str,
    pub level: &'static str,
    pub count: usize,
    /// Findings with a fix that `temper fix` applies (safe, or unsafe with
    /// `--unsafe-fixes`).
    pub fixable: usize,
}

/// Rows sorted by count (most first), then lint name.
pub fn rows(findings: &[Reported]) -> Vec<Row> {
    let mut by_lint: BTreeMap<(&'static str, Level), (usize, usize)> = BTreeMap::new();
    for reported in findings {
        let counts = by_lint
            .entry((reported.finding.lint, reported.level))
            .or_default();
        counts.0 += 1;
        if reported
            .finding
            .fix
            .as_ref()
            .is_some_and(|f| f.applicability != Applicability::DisplayOnly)
        {
            counts.1 += 1;
        }
    }
    let mut rows: Vec<Row> = by_lint
        .into_iter()
        .map(|((lint, level), (count, fixable))| Row {
            lint,
            level: level.as_str(),
            count,
            fixable,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.lint.cmp(b.lint)));
    rows
}

/// `  12  library_unwrap  warn  8 fixable`, aligned, one line per row.
pub fn render(rows: &[Row]) -> String {
    let count_width = rows
        .iter()
        .map(|r| r.count.to_string().len())
        .max()
        .unwrap_or(1);
    let lint_width = rows.iter().map(|r| r.lint.len()).max().unwrap_or(0);
    let mut out = String::new();
    for row in rows {
        out.push_str(&format!(
            "{:>count_width$}  {:lint_width$}  {:4}  {} fixable\n",
            row.count, row.lint, row.level, row.fixable
        ));
    }
    out
}
