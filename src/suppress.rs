//! Inline suppressions: `// temper: allow(lint_a, lint_b) -- reason` on a
//! finding's line suppresses that finding; on a line of its own it covers the
//! whole statement or item below it (every line of a rustfmt-style method
//! chain, a whole `fn`), as clippy's `#[allow]` attribute on that item would.
//!
//! A suppression that suppresses nothing is reported as `unused_suppression`.
//! That check needs every other lint's results for the file, so it runs here,
//! after analysis, rather than as a rule in `temper-lints`; its metadata is
//! registered beside the analysis lints through [`all_lints`] so that levels,
//! configuration, `temper lints` and `temper explain` treat it like the others.

use crate::report::LineIndex;
use ra_ap_rustc_lexer::{FrontmatterAllowed, TokenKind, tokenize};
use ra_ap_syntax::{AstNode, SourceFile, SyntaxKind, TextSize};
use std::ops::Range;
use temper_lints::registry::{FixAvailability, Lint};
use temper_lints::{Applicability, Edit, Finding, Fix, Level, LintInput};

/// The name of the unused-suppression lint.
pub const UNUSED_SUPPRESSION: &str = "unused_suppression";

/// The unused-suppression lint's metadata; its detection is [`apply`].
pub static UNUSED_SUPPRESSION_LINT: Lint = Lint {
    name: UNUSED_SUPPRESSION,
    default_level: Level::Warn,
    fix: FixAvailability::Always,
    summary: "a `// temper: allow(..)` comment that suppresses no finding",
    docs: include_str!("unused_suppression.md"),
    check: no_check,
    complete: None,
    describe: None,
};

/// Detection happens after the other lints ran, in [`apply`].
fn no_check(_: &LintInput<'_>, _: &mut Vec<Finding>) {}

/// Every lint temper reports, sorted by name: the analysis lints and
/// `unused_suppression`.
pub fn all_lints() -> impl Iterator<Item = &'static Lint> + Clone {
    static ALL: std::sync::OnceLock<Vec<&'static Lint>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static Lint> = temper_lints::LINTS.to_vec();
        all.push(&UNUSED_SUPPRESSION_LINT);
        all.sort_by_key(|lint| lint.name);
        all
    })
    .iter()
    .copied()
}

/// The marker a suppression comment starts with, after `//`.
const MARKER: &str = "temper:";

/// One `// temper: allow(..)` comment.
#[derive(Debug, Clone)]
struct Suppression {
    /// The comment token, `//` included.
    comment: Range<usize>,
    /// Byte range to delete to remove the comment (its line, when it stands
    /// alone; otherwise the comment and the spaces before it).
    removal: Range<usize>,
    /// The lint names with their ranges; empty when the comment is malformed.
    lints: Vec<(String, Range<usize>)>,
    /// The 1-based line ranges (inclusive) whose findings it suppresses.
    lines: Vec<(usize, usize)>,
    malformed: Option<String>,
    /// The comment explains itself (`-- reason`): someone reviewed it, so
    /// deleting it is never offered as a safe fix.
    reasoned: bool,
}

impl Suppression {
    fn covers(&self, line: usize) -> bool {
        self.lines
            .iter()
            .any(|&(first, last)| first <= line && line <= last)
    }
}

/// Whether `source` may hold a suppression comment (a cheap text test).
pub fn may_have_suppressions(source: &str) -> bool {
    source.contains(MARKER)
}

/// Finds the suppression comments in `source`.
fn parse(source: &str) -> Vec<Suppression> {
    // Most files have none; skip lexing them.
    if !source.contains(MARKER) {
        return Vec::new();
    }
    let mut comments = Vec::new();
    // Byte ranges of lines that hold nothing but a line comment.
    let mut offset = 0usize;
    for token in tokenize(source, FrontmatterAllowed::No) {
        let range = offset..offset + token.len as usize;
        offset = range.end;
        if let TokenKind::LineComment { doc_style: None } = token.kind {
            comments.push(range);
        }
    }
    let index = LineIndex::new(source);
    // Parsed only when a suppression stands on its own line.
    let mut tree: Option<SourceFile> = None;
    let comment_only_line = |line: usize| -> bool {
        let Some(start) = index.line_start(line) else {
            return false;
        };
        let text = &source[start..];
        let text = text.split('\n').next().unwrap_or_default();
        text.trim_start().starts_with("//")
    };
    let mut out = Vec::new();
    for comment in comments {
        let body = source[comment.start + 2..comment.end].trim_start();
        let Some(rest) = body.strip_prefix(MARKER) else {
            continue;
        };
        let rest_offset = comment.end - rest.len();
        let line = index.position(source, comment.start).line;
        let line_start = index.line_start(line).unwrap_or(comment.start);
        let before = &source[line_start..comment.start];
        let own_line = before.trim().is_empty();
        let mut lines = vec![(line, line)];
        let removal = if own_line {
            // The next line that is not itself a comment line starts what is
            // suppressed, so several suppression comments can stack.
            let mut next = line + 1;
            while next <= index.line_count() && comment_only_line(next) {
                next += 1;
            }
            let tree = tree.get_or_insert_with(|| {
                SourceFile::parse(source, ra_ap_syntax::Edition::Edition2024).tree()
            });
            let last = index
                .line_start(next)
                .and_then(|start| statement_end(tree, source, start))
                .map_or(next, |end| index.position(source, end).line.max(next));
            lines.push((next, last));
            let end = index.line_start(line + 1).unwrap_or(source.len());
            line_start..end
        } else {
            let trimmed = before.trim_end().len();
            line_start + trimmed..comment.end
        };
        let (lints, malformed) = match parse_allow(rest, rest_offset) {
            Ok(lints) => (lints, None),
            Err(message) => (Vec::new(), Some(message)),
        };
        let reasoned = rest
            .split_once("--")
            .is_some_and(|(_, reason)| !reason.trim().is_empty());
        out.push(Suppression {
            comment,
            removal,
            lints,
            lines,
            malformed,
            reasoned,
        });
    }
    out
}

/// The end offset of the statement or item that starts on the line at
/// `line_start`: the outermost node whose first token (comments and spaces
/// aside) is the line's first token, short of the block or file holding it.
fn statement_end(file: &SourceFile, source: &str, line_start: usize) -> Option<usize> {
    let text = source.get(line_start..)?;
    let first = line_start + (text.len() - text.trim_start_matches([' ', '\t']).len());
    let token = file
        .syntax()
        .token_at_offset(TextSize::from(u32::try_from(first).ok()?))
        .right_biased()?;
    let mut end = token.text_range().end();
    for node in token.parent_ancestors() {
        if matches!(
            node.kind(),
            SyntaxKind::SOURCE_FILE
                | SyntaxKind::STMT_LIST
                | SyntaxKind::ITEM_LIST
                | SyntaxKind::ASSOC_ITEM_LIST
                | SyntaxKind::EXTERN_ITEM_LIST
                | SyntaxKind::MATCH_ARM_LIST
                | SyntaxKind::RECORD_FIELD_LIST
                | SyntaxKind::VARIANT_LIST
                | SyntaxKind::ARG_LIST
        ) {
            break;
        }
        let starts_here = node
            .descendants_with_tokens()
            .filter_map(|element| element.into_token())
            .find(|t| !t.kind().is_trivia())
            .is_some_and(|t| t == token);
        if !starts_here {
            break;
        }
        end = node.text_range().end();
    }
    Some(usize::from(end))
}

/// Parses `allow(a, b) -- reason` (after the marker), returning each lint
/// name with its byte range in the file.
fn parse_allow(text: &str, offset: usize) -> Result<Vec<(String, Range<usize>)>, String> {
    let expected = "expected `// temper: allow(lint, ..) -- reason`";
    let trimmed = text.trim_start();
    let mut at = offset + (text.len() - trimmed.len());
    let Some(rest) = trimmed.strip_prefix("allow") else {
        return Err(expected.to_string());
    };
    at += "allow".len();
    let Some(inner) = rest.trim_start().strip_prefix('(') else {
        return Err(expected.to_string());
    };
    at += rest.len() - rest.trim_start().len() + 1;
    let Some((list, after)) = inner.split_once(')') else {
        return Err(expected.to_string());
    };
    let after = after.trim();
    if !(after.is_empty() || after.starts_with("--")) {
        return Err(expected.to_string());
    }
    let mut lints = Vec::new();
    let mut start = at;
    for part in list.split(',') {
        let name = part.trim();
        let lead = part.len() - part.trim_start().len();
        if !name.is_empty() {
            lints.push((name.to_string(), start + lead..start + lead + name.len()));
        }
        start += part.len() + 1;
    }
    if lints.is_empty() {
        return Err("the suppression names no lint".to_string());
    }
    Ok(lints)
}

/// Removes the findings that a suppression comment covers and appends an
/// `unused_suppression` finding for every suppression (or lint name in one)
/// that covered nothing. `findings` are the file's applicable findings at any
/// level; the result is sorted by position.
pub fn apply(source: &str, findings: Vec<Finding>) -> Vec<Finding> {
    let suppressions = parse(source);
    if suppressions.is_empty() {
        return findings;
    }
    let index = LineIndex::new(source);
    let mut used: Vec<Vec<bool>> = suppressions
        .iter()
        .map(|s| vec![false; s.lints.len()])
        .collect();
    let mut kept = Vec::with_capacity(findings.len());
    for finding in findings {
        let line = index.position(source, finding.range.start).line;
        let mut suppressed = false;
        for (s, suppression) in suppressions.iter().enumerate() {
            if !suppression.covers(line) {
                continue;
            }
            for (l, (name, _)) in suppression.lints.iter().enumerate() {
                if name == finding.lint {
                    used[s][l] = true;
                    suppressed = true;
                }
            }
        }
        if !suppressed {
            kept.push(finding);
        }
    }
    for (suppression, used) in suppressions.iter().zip(&used) {
        kept.extend(unused_findings(source, suppression, used));
    }
    kept.sort_by(|a, b| {
        (a.range.start, a.range.end, a.lint).cmp(&(b.range.start, b.range.end, b.lint))
    });
    kept
}

fn unused_findings(source: &str, suppression: &Suppression, used: &[bool]) -> Vec<Finding> {
    // A reviewed suppression (one with a reason) may be unused only for now
    // (code behind a cfg, a finding another configuration reports): removing
    // it is offered, but never applied by a plain `temper fix`.
    let remove_comment = || Fix {
        message: "remove the suppression comment".to_string(),
        applicability: if suppression.reasoned {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        edits: vec![Edit::delete(suppression.removal.clone())],
    };
    if let Some(problem) = &suppression.malformed {
        return vec![
            Finding::new(
                UNUSED_SUPPRESSION,
                suppression.comment.clone(),
                "malformed suppression comment suppresses nothing",
            )
            .with_primary_label(problem.clone())
            .with_help("write `// temper: allow(lint_name) -- reason`"),
        ];
    }
    let all_unused = used.iter().all(|u| !u);
    let mut out = Vec::new();
    for ((name, range), used) in suppression.lints.iter().zip(used) {
        if *used {
            continue;
        }
        let known = crate::config::lint_name(name).is_ok();
        if !known && let Some(suggestion) = did_you_mean(name) {
            // A misspelt name: the comment was meant to suppress something,
            // so the fix corrects the name rather than deleting the comment.
            out.push(
                Finding::new(
                    UNUSED_SUPPRESSION,
                    range.clone(),
                    format!("suppression of unknown lint `{name}`"),
                )
                .with_primary_label("not a temper lint")
                .with_help(format!("did you mean `{suggestion}`?"))
                .with_fix(Fix {
                    message: format!("replace `{name}` with `{suggestion}`"),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::replace(range.clone(), suggestion)],
                }),
            );
            continue;
        }
        let message = if known {
            format!("unused suppression of `{name}`: no such finding on its line or below")
        } else {
            format!("suppression of unknown lint `{name}`")
        };
        let fix = if all_unused {
            remove_comment()
        } else {
            Fix {
                message: format!("remove `{name}` from the suppression"),
                // A reviewed suppression keeps its reason; which lints it
                // names is the reviewer's to change.
                applicability: if suppression.reasoned {
                    Applicability::Unsafe
                } else {
                    Applicability::Safe
                },
                edits: vec![Edit::delete(list_entry_range(source, range))],
            }
        };
        let mut finding = Finding::new(UNUSED_SUPPRESSION, range.clone(), message)
            .with_primary_label(if known {
                "suppresses nothing"
            } else {
                "not a temper lint"
            })
            .with_fix(fix);
        finding = if known {
            finding.with_help("remove the suppression, or move it above the finding")
        } else {
            finding.with_help("run `temper lints` for the known lint names")
        };
        if all_unused && suppression.reasoned {
            finding = finding.with_note("the comment gives a reason: removing it is an unsafe fix");
        }
        out.push(finding);
    }
    out
}

/// The known lint closest to a misspelt `name`, when one is close enough to
/// be what was meant (as rustc's "did you mean" for unknown lints). A
/// `temper::` prefix, the code diagnostics print, is accepted too.
pub fn did_you_mean(name: &str) -> Option<&'static str> {
    let bare = name.strip_prefix("temper::").unwrap_or(name);
    crate::suppress::all_lints()
        .map(|lint| (strsim::jaro_winkler(bare, lint.name), lint.name))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, lint)| lint)
}

/// The range of one name in `allow(a, b)` with the separator that goes with it.
fn list_entry_range(source: &str, name: &Range<usize>) -> Range<usize> {
    let after = &source[name.end..];
    let trailing = after.len() - after.trim_start().len();
    if after[trailing..].starts_with(',') {
        let rest = &after[trailing + 1..];
        let spaces = rest.len() - rest.trim_start().len();
        return name.start..name.end + trailing + 1 + spaces;
    }
    let before = &source[..name.start];
    let trimmed = before.trim_end();
    match trimmed.strip_suffix(',') {
        Some(without) => without.len()..name.end,
        None => name.clone(),
    }
}

/// A finding to suppress with `--add-suppressions`: its lint and its start.
#[derive(Debug, Clone)]
pub struct ToSuppress {
    pub lint: &'static str,
    pub offset: usize,
}

/// `source` with a suppression comment above the line of every finding
/// (one comment per line, naming each lint once), or `None` when nothing
/// changes. Findings that start inside a multi-line literal or comment are
/// skipped (a comment there would change the literal) and counted in the
/// second value.
pub fn add_comments(
    source: &str,
    findings: &[ToSuppress],
    reason: &str,
) -> (Option<String>, usize) {
    let index = LineIndex::new(source);
    let newline = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut opaque = Vec::new();
    let mut offset = 0usize;
    for token in tokenize(source, FrontmatterAllowed::No) {
        let range = offset..offset + token.len as usize;
        offset = range.end;
        let multi_line = matches!(
            token.kind,
            TokenKind::Literal { .. } | TokenKind::BlockComment { .. }
        ) && source[range.clone()].contains('\n');
        if multi_line {
            opaque.push(range);
        }
    }
    let mut by_line: std::collections::BTreeMap<usize, Vec<&'static str>> = Default::default();
    let mut skipped = 0;
    for finding in findings {
        if finding.lint == UNUSED_SUPPRESSION {
            continue;
        }
        let line = index.position(source, finding.offset).line;
        let Some(start) = index.line_start(line) else {
            continue;
        };
        if opaque.iter().any(|r| r.start < start && start < r.end) {
            skipped += 1;
            continue;
        }
        let lints = by_line.entry(line).or_default();
        if !lints.contains(&finding.lint) {
            lints.push(finding.lint);
        }
    }
    if by_line.is_empty() {
        return (None, skipped);
    }
    let mut out = String::with_capacity(source.len() + by_line.len() * 60);
    let mut copied = 0;
    for (line, lints) in by_line {
        let Some(start) = index.line_start(line) else {
            continue;
        };
        let rest = &source[start..];
        let indent_len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        out.push_str(&source[copied..start]);
        out.push_str(&rest[..indent_len]);
        out.push_str(&format!(
            "// temper: allow({}) -- {reason}{newline}",
            lints.join(", ")
        ));
        copied = start;
    }
    out.push_str(&source[copied..]);
    (Some(out), skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(lint: &'static str, source: &str, needle: &str) -> Finding {
        let start = source.find(needle).expect("needle");
        Finding::new(lint, start..start + needle.len(), "m")
    }

    #[test]
    fn same_line_and_line_above_suppress() {
        let source = "fn f() {\n    a.unwrap(); // temper: allow(library_unwrap) -- ok\n    // temper: allow(library_unwrap) -- ok\n    b.unwrap();\n    c.unwrap();\n}\n";
        let findings = vec![
            finding("library_unwrap", source, "a.unwrap()"),
            finding("library_unwrap", source, "b.unwrap()"),
            finding("library_unwrap", source, "c.unwrap()"),
        ];
        let kept = apply(source, findings);
        assert_eq!(kept.len(), 1);
        assert_eq!(&source[kept[0].range.clone()], "c.unwrap()");
    }

    #[test]
    fn unused_and_unknown_are_reported_with_fixes() {
        let source = "// temper: allow(library_unwrap, nope) -- why\nfn f() {}\n";
        let kept = apply(source, Vec::new());
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().all(|f| f.lint == UNUSED_SUPPRESSION));
        assert!(kept[1].message.contains("unknown lint `nope`"));
        // Both names are unused: the fix removes the whole comment line.
        let fix = kept[0].fix.as_ref().expect("fix");
        assert_eq!(fix.edits[0].range, 0..source.find("fn").expect("fn"));
    }

    #[test]
    fn partly_used_suppression_drops_only_the_unused_name() {
        let source = "x.unwrap(); // temper: allow(nope, library_unwrap)\n";
        let kept = apply(
            source,
            vec![finding("library_unwrap", source, "x.unwrap()")],
        );
        assert_eq!(kept.len(), 1);
        let edit = &kept[0].fix.as_ref().expect("fix").edits[0];
        let mut fixed = source.to_string();
        fixed.replace_range(edit.range.clone(), "");
        assert_eq!(fixed, "x.unwrap(); // temper: allow(library_unwrap)\n");
    }

    #[test]
    fn comments_in_strings_are_not_suppressions() {
        let source = "let s = \"// temper: allow(library_unwrap)\"; x.unwrap();\n";
        let kept = apply(
            source,
            vec![finding("library_unwrap", source, "x.unwrap()")],
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].lint, "library_unwrap");
    }

    #[test]
    fn add_comments_is_idempotent() {
        let source = "fn f() {\n    a.unwrap().b.expect(\"x\");\n}\n";
        let findings = [
            ToSuppress {
                lint: "library_unwrap",
                offset: source.find("a.unwrap").expect("a"),
            },
            ToSuppress {
                lint: "library_unwrap",
                offset: source.find("b.expect").expect("b"),
            },
        ];
        let (added, skipped) = add_comments(source, &findings, "legacy");
        let added = added.expect("changed");
        assert_eq!(skipped, 0);
        assert_eq!(
            added,
            "fn f() {\n    // temper: allow(library_unwrap) -- legacy\n    a.unwrap().b.expect(\"x\");\n}\n"
        );
        // The comment now suppresses both findings.
        let a = added.find("a.unwrap()").expect("a");
        let kept = apply(&added, vec![Finding::new("library_unwrap", a..a + 10, "m")]);
        assert!(kept.is_empty(), "{kept:?}");
    }
}
