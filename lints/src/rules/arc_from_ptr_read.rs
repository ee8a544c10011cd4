//! `arc_from_ptr_read`: see [`LINT`]'s docs.

use crate::diagnostic::Level;
use crate::registry::{FixAvailability, Lint};
use crate::{Finding, LintInput};

pub static LINT: Lint = Lint {
    name: "arc_from_ptr_read",
    default_level: Level::Deny,
    fix: FixAvailability::Sometimes,
    summary: "TODO",
    docs: include_str!("arc_from_ptr_read.md"),
    check,
};

fn check(_input: &LintInput<'_>, _findings: &mut Vec<Finding>) {}
