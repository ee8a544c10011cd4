//! Machine-readable reporters for `temper check --format`: SARIF 2.1.0 for
//! code scanning, GitHub workflow annotations, rustc's JSON diagnostics for
//! rust-analyzer and other cargo-aware tools, and `--statistics`.

pub mod github;
pub mod printer;
pub mod rustc_json;
pub mod sarif;
pub mod statistics;

use crate::report::{LineIndex, Position, Reported};
use temper_lints::{Edit, Fix};

/// The finding's fix when every edit applies to the finding's own file:
/// machine formats cannot express edits whose file is only known relative to
/// the crate, and half a fix would break the code it is applied to.
pub fn in_file_fix(reported: &Reported) -> Option<&Fix> {
    let fix = reported.finding.fix.as_ref()?;
    fix.edits.iter().all(|e| e.file.is_none()).then_some(fix)
}

/// Start and end positions of an edit's range.
pub fn edit_positions(reported: &Reported, index: &LineIndex, edit: &Edit) -> (Position, Position) {
    (
        index.position(&reported.source, edit.range.start),
        index.position(&reported.source, edit.range.end),
    )
}
