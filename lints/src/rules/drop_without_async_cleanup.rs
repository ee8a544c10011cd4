//! `drop_without_async_cleanup`: see [`LINT`]'s docs.

use crate::diagnostic::Level;
use crate::registry::{FixAvailability, Lint};
use crate::{Finding, LintInput};

pub static LINT: Lint = Lint {
    name: "drop_without_async_cleanup",
    default_level: Level::Warn,
    fix: FixAvailability::Sometimes,
    summary: "TODO",
    docs: include_str!("drop_without_async_cleanup.md"),
    check,
};

fn check(_input: &LintInput<'_>, _findings: &mut Vec<Finding>) {}
