//! `--statistics`: one line per lint with how many findings it has, at which
//! level, and how many `temper fix` fixes (safe fixes), with the unsafe ones
//! (`temper fix --unsafe-fixes`) counted apart.

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
    /// Findings with a safe fix: what a plain `temper fix` applies.
    pub fixable: usize,
    /// Findings whose fix is unsafe: applied only with `--unsafe-fixes`.
    pub unsafe_fixable: usize,
}

/// Rows sorted by count (most first), then lint name.
pub fn rows(findings: &[Reported]) -> Vec<Row> {
    let mut by_lint: BTreeMap<(&'static str, Level), (usize, usize, usize)> = BTreeMap::new();
    for reported in findings {
        let counts = by_lint
            .entry((reported.finding.lint, reported.level))
            .or_default();
        counts.0 += 1;
        match reported.finding.fix.as_ref().map(|f| f.applicability) {
            Some(Applicability::Safe) => counts.1 += 1,
            Some(Applicability::Unsafe) => counts.2 += 1,
            Some(Applicability::DisplayOnly) | None => {}
        }
    }
    let mut rows: Vec<Row> = by_lint
        .into_iter()
        .map(|((lint, level), (count, fixable, unsafe_fixable))| Row {
            lint,
            level: level.as_str(),
            count,
            fixable,
            unsafe_fixable,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.lint.cmp(b.lint)));
    rows
}

/// `  12  library_unwrap  warn  8 fixable (3 more with --unsafe-fixes)`,
/// aligned, one line per row; one line saying so when there is nothing.
pub fn render(rows: &[Row], files_checked: usize) -> String {
    if rows.is_empty() {
        return format!(
            "no findings in {files_checked} file{}\n",
            if files_checked == 1 { "" } else { "s" }
        );
    }
    let count_width = rows
        .iter()
        .map(|r| r.count.to_string().len())
        .max()
        .unwrap_or(1);
    let lint_width = rows.iter().map(|r| r.lint.len()).max().unwrap_or(0);
    let mut out = String::new();
    for row in rows {
        let more = if row.unsafe_fixable > 0 {
            format!(" ({} more with --unsafe-fixes)", row.unsafe_fixable)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:>count_width$}  {:lint_width$}  {:4}  {} fixable{more}\n",
            row.count, row.lint, row.level, row.fixable
        ));
    }
    out
}
