//! Every lint temper knows, in one alphabetical list.

use crate::diagnostic::Level;
use crate::rules;
use crate::{CrateContext, Finding, LintInput};

/// Whether, and how reliably, a lint's findings come with a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    /// Some findings have a fix, others do not (the diagnostic says why).
    Sometimes,
    Always,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::Always => "always",
        }
    }
}

/// A lint's metadata, documentation and detection entry point.
pub struct Lint {
    pub name: &'static str,
    pub default_level: Level,
    pub fix: FixAvailability,
    /// One line, lowercase, shown by `temper lints`.
    pub summary: &'static str,
    /// Markdown with the sections *What it does*, *Why is this bad?*,
    /// *Example*, *Use instead* and *Fix safety*; printed by `temper explain`.
    pub docs: &'static str,
    pub check: fn(&LintInput<'_>, &mut Vec<Finding>),
    /// Completes a finding marked with [`Finding::needs_crate`] using the
    /// crate's other files; clears `crate_fix` when the fix is whole.
    pub complete: Option<fn(&mut Finding, &CrateContext<'_>)>,
    /// Instead of [`Lint::complete`], when no fix is asked for: says what
    /// `temper fix` would plan across the crate, without reading it, and
    /// clears `crate_fix` (leaving no fix the file alone cannot vouch for).
    /// A lint without one is completed either way.
    pub describe: Option<fn(&mut Finding)>,
}

impl std::fmt::Debug for Lint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lint")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// All lints, sorted by name.
pub static LINTS: &[&Lint] = &[
    &rules::arc_from_ptr_read::LINT,
    &rules::drop_without_async_cleanup::LINT,
    &rules::library_unwrap::LINT,
];

/// Looks a lint up by its snake_case name.
pub fn lint(name: &str) -> Option<&'static Lint> {
    LINTS.iter().copied().find(|lint| lint.name == name)
}

/// Where a lint's documentation (its [`Lint::docs`] text) is in this crate's
/// sources, for editors that link to it; the file exists as long as the
/// sources the binary was built from do.
pub fn docs_path(name: &str) -> Option<std::path::PathBuf> {
    let lint = lint(name)?;
    Some(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/rules")
            .join(format!("{}.md", lint.name)),
    )
}
