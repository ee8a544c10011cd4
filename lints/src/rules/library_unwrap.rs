//! `library_unwrap`: see [`LINT`]'s docs.

use crate::diagnostic::Level;
use crate::registry::{FixAvailability, Lint};
use crate::{Finding, LintInput};

pub static LINT: Lint = Lint {
    name: "library_unwrap",
    default_level: Level::Warn,
    fix: FixAvailability::Sometimes,
    summary: "TODO",
    docs: include_str!("library_unwrap.md"),
    check,
};

fn check(_input: &LintInput<'_>, _findings: &mut Vec<Finding>) {}
