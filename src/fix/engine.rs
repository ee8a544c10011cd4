//! The fixpoint loop: take every applicable fix that does not overlap one
//! already taken, apply the edits, refuse a round that makes a file parse
//! worse, re-lint what changed, and repeat until nothing is left to apply (or
//! the round cap is reached).
//!
//! Pure apart from the caller's re-lint: texts in, texts out, no IO. The same
//! engine serves `temper fix` (many files, cross-file edits) and the lint
//! fixture harness (one text).

use super::syntax;
use crate::report::Reported;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper_lints::{Applicability, Fix, Level};

/// Lints a file's new text as `temper check` would report it: the file's
/// path, its text, and the current texts of every file of its package (the
/// file included) for fixes that reach across files.
/// Re-lints a file's new text; the package's current files come with one
/// crate index per package and round, built once when a fix first needs it.
pub type Relint<'a> = dyn Fn(&Path, &str, &[(PathBuf, Arc<str>)], &temper_lints::IndexCell) -> Vec<Reported>
    + Sync
    + 'a;

/// A package's current files in one round, and their crate index.
type Package = (Vec<(PathBuf, Arc<str>)>, temper_lints::IndexCell);

/// The default round cap: ruff's loop is capped the same way, for the same
/// reason (two fixes that undo each other must not loop forever).
pub const MAX_ROUNDS: usize = 10;

/// One file given to the engine.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Absolute; cross-file edits are matched against it.
    pub path: PathBuf,
    pub display: String,
    pub text: Arc<str>,
    /// The file's findings on `text`, as `temper check` reports them.
    pub findings: Vec<Reported>,
    /// What relative `Edit::file` paths of this file's fixes resolve against.
    pub base_dir: PathBuf,
    /// Why the file must not be changed (syntax errors, read-only), if so.
    pub blocked: Option<String>,
    /// `ra_ap_syntax`'s error count on `text`, when the caller knows it.
    pub parse_errors: Option<usize>,
    /// The edition every re-parse of the fixed text uses.
    pub edition: temper_lints::Edition,
}

/// What identifies a fix across rounds and across runs from the same
/// original text: the lint, the finding's file and message, and each edit's
/// old text, new text, the line it sits on and the header of the item around
/// it. Two identical fixes on identical lines of one function share a key, so
/// rejecting one rejects both: conservative.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FixKey {
    pub lint: &'static str,
    pub file: PathBuf,
    pub message: String,
    pub edits: Vec<KeyEdit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyEdit {
    pub file: PathBuf,
    /// The header of the innermost item around the edit
    /// (`pub fn g(x: Option<u8>) -> Option<u8>`).
    pub item: String,
    pub context: String,
    pub old: String,
    pub new: String,
}

/// Why a fix was not applied, or was taken back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Applying the round made the file parse worse.
    ParseWorse {
        file: String,
        parser: &'static str,
        message: String,
    },
    /// The fix's edits are malformed (a lint bug): out of bounds, not on a
    /// character boundary, overlapping each other, or aimed at a file that
    /// was not read.
    Invalid(String),
    /// The fix edits a file that must not change.
    Blocked { file: String, reason: String },
    /// `--verify`: the fix introduced a compile error.
    Verify { message: String },
}

impl Rejection {
    /// A short phrase that reads after a count: "2 fix would not parse".
    pub fn short(&self) -> String {
        match self {
            Rejection::ParseWorse { .. } => "fix would not parse".to_string(),
            Rejection::Invalid(_) => "invalid fix".to_string(),
            Rejection::Blocked { reason, .. } => reason.clone(),
            Rejection::Verify { .. } => "reverted by --verify".to_string(),
        }
    }

    /// The full reason, for the per-finding line.
    pub fn detail(&self) -> String {
        match self {
            Rejection::ParseWorse {
                file,
                parser,
                message,
            } => format!("the fixed {file} would not parse with {parser}: {message}"),
            Rejection::Invalid(message) => format!("invalid fix: {message}"),
            Rejection::Blocked { file, reason } => format!("{file}: {reason}"),
            Rejection::Verify { message } => format!("reverted by --verify: {message}"),
        }
    }
}

/// A fix that was applied.
#[derive(Debug, Clone)]
pub struct AppliedFix {
    pub key: FixKey,
    pub lint: &'static str,
    /// The finding's file.
    pub path: PathBuf,
    pub display: String,
    /// Where the finding was when the fix was applied.
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub level: Level,
    pub fix_message: String,
    pub applicability: Applicability,
    pub round: usize,
    /// Where the fix's edits are in the final texts.
    pub footprint: Vec<(PathBuf, Range<usize>)>,
}

/// A finding still present after fixing, with why.
#[derive(Debug, Clone)]
pub struct Left {
    pub display: String,
    pub line: usize,
    pub column: usize,
    pub lint: &'static str,
    pub level: Level,
    pub message: String,
    /// A short phrase that reads after a count ("need a fallible return type").
    pub reason: String,
    /// Longer explanation, when there is more to say than `reason`.
    pub detail: Option<String>,
    /// An unsafe fix exists that `--unsafe-fixes` would apply.
    pub unsafe_available: bool,
}

/// A file after fixing.
#[derive(Debug, Clone)]
pub struct FixedFile {
    pub path: PathBuf,
    pub display: String,
    pub original: Arc<str>,
    pub text: String,
    /// Findings on `text`.
    pub findings: Vec<Reported>,
    pub blocked: Option<String>,
}

impl FixedFile {
    pub fn changed(&self) -> bool {
        *self.original != *self.text
    }
}

/// The result of running fixes to a fixpoint.
#[derive(Debug, Clone)]
pub struct Fixpoint {
    /// In the order given.
    pub files: Vec<FixedFile>,
    pub applied: Vec<AppliedFix>,
    /// Every rejected fix, the caller's blacklist included.
    pub rejected: HashMap<FixKey, Rejection>,
    /// Rounds that changed something.
    pub rounds: usize,
    /// Nothing applicable was left when the loop stopped.
    pub converged: bool,
    pub left: Vec<Left>,
}

/// Applies fixes at or above an applicability, to a fixpoint.
pub struct Engine<'a> {
    pub threshold: Applicability,
    pub max_rounds: usize,
    pub relint: &'a Relint<'a>,
}

struct State {
    path: PathBuf,
    display: String,
    original: Arc<str>,
    text: Arc<str>,
    findings: Vec<Reported>,
    base_dir: PathBuf,
    blocked: Option<String>,
    edition: temper_lints::Edition,
    /// Cached parse results of `text`; computed only once the file changes.
    ra_errors: Option<usize>,
    syn_ok: Option<bool>,
    /// Item ranges and headers of `text`, for fix keys; reset when it changes.
    items: std::sync::OnceLock<Vec<(Range<usize>, String)>>,
}

impl State {
    fn item_header(&self, range: &Range<usize>) -> String {
        self.items
            .get_or_init(|| syntax::item_headers(&self.text, self.edition))
            .iter()
            .filter(|(item, _)| item.start <= range.start && range.end <= item.end)
            .min_by_key(|(item, _)| item.end - item.start)
            .map(|(_, header)| header.clone())
            .unwrap_or_default()
    }
}

struct Candidate {
    file: usize,
    finding: usize,
    key: FixKey,
    /// (file, range, replacement) in the round's starting texts.
    edits: Vec<(usize, Range<usize>, String)>,
}

/// Where one edit went: its old range and its range in the new text.
type Moves = Vec<(Range<usize>, Range<usize>)>;

impl Engine<'_> {
    /// Whether a fix of this applicability is applied.
    pub fn applies(&self, applicability: Applicability) -> bool {
        applicability != Applicability::DisplayOnly && applicability >= self.threshold
    }

    /// Runs fixes to a fixpoint. Fixes whose key is in `blacklist` are never
    /// applied (`--verify` re-runs from the original texts with the fixes
    /// that broke the build blacklisted).
    pub fn run(&self, inputs: Vec<SourceFile>, blacklist: &HashMap<FixKey, Rejection>) -> Fixpoint {
        let mut files: Vec<State> = inputs
            .into_iter()
            .map(|input| State {
                path: input.path,
                display: input.display,
                text: input.text.clone(),
                original: input.text,
                findings: input.findings,
                base_dir: input.base_dir,
                blocked: input.blocked,
                edition: input.edition,
                ra_errors: input.parse_errors,
                syn_ok: None,
                items: std::sync::OnceLock::new(),
            })
            .collect();
        let index: HashMap<PathBuf, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let mut rejected = blacklist.clone();
        let mut applied: Vec<AppliedFix> = Vec::new();
        let mut rounds = 0;
        let converged = loop {
            let candidates = self.select(&files, &index, &mut rejected);
            if candidates.is_empty() {
                break true;
            }
            if rounds == self.max_rounds {
                break false;
            }
            let Some((changed, moves, taken)) = apply_round(&mut files, candidates, &mut rejected)
            else {
                // Every fix of the round was refused; the refused ones are
                // blacklisted now, so the next selection is smaller.
                continue;
            };
            rounds += 1;
            for fix in &mut applied {
                for (path, range) in &mut fix.footprint {
                    if let Some(moves) = index.get(path).and_then(|i| moves.get(i)) {
                        *range = map_range(moves, range);
                    }
                }
            }
            for candidate in taken {
                let file = &files[candidate.file];
                let reported = &file.findings[candidate.finding];
                let footprint = candidate
                    .edits
                    .iter()
                    .map(|(target, range, _)| {
                        let moved = moves
                            .get(target)
                            .map_or_else(|| range.clone(), |m| map_range(m, range));
                        (files[*target].path.clone(), moved)
                    })
                    .collect();
                let fix = reported.finding.fix.as_ref();
                applied.push(AppliedFix {
                    key: candidate.key,
                    lint: reported.finding.lint,
                    path: file.path.clone(),
                    display: file.display.clone(),
                    line: reported.start.line,
                    column: reported.start.column,
                    message: reported.finding.message.clone(),
                    level: reported.level,
                    fix_message: fix.map(|f| f.message.clone()).unwrap_or_default(),
                    applicability: fix.map_or(Applicability::Safe, |f| f.applicability),
                    round: rounds,
                    footprint,
                });
            }
            self.relint_changed(&mut files, &changed);
        };
        let left = self.left(&files, &index, &rejected, converged);
        Fixpoint {
            files: files
                .into_iter()
                .map(|f| FixedFile {
                    path: f.path,
                    display: f.display,
                    original: f.original,
                    text: f.text.to_string(),
                    findings: f.findings,
                    blocked: f.blocked,
                })
                .collect(),
            applied,
            rejected,
            rounds,
            converged,
            left,
        }
    }

    /// The fixes of one round: in file and position order, each one whose
    /// edits overlap none already taken (identical edits are shared, so two
    /// fixes adding the same import can go together).
    fn select(
        &self,
        files: &[State],
        index: &HashMap<PathBuf, usize>,
        rejected: &mut HashMap<FixKey, Rejection>,
    ) -> Vec<Candidate> {
        let mut taken: HashMap<usize, Vec<(Range<usize>, String)>> = HashMap::new();
        let mut out = Vec::new();
        for (file_index, file) in files.iter().enumerate() {
            if file.blocked.is_some() {
                continue;
            }
            for (finding_index, reported) in file.findings.iter().enumerate() {
                let Some(fix) = &reported.finding.fix else {
                    continue;
                };
                if !self.applies(fix.applicability) {
                    continue;
                }
                let targets = resolve_targets(fix, file, index);
                let key = fix_key(reported, fix, file_index, &targets, files);
                if rejected.contains_key(&key) {
                    continue;
                }
                let edits = match validate(fix, file, &targets, files) {
                    Ok(edits) => edits,
                    Err(rejection) => {
                        rejected.insert(key, rejection);
                        continue;
                    }
                };
                let conflicts = edits.iter().any(|(target, range, replacement)| {
                    taken.get(target).is_some_and(|taken| {
                        taken.iter().any(|(r, text)| {
                            !(r == range && text == replacement) && overlaps(r, range)
                        })
                    })
                });
                if conflicts {
                    // Left for the next round, on the text this round produces.
                    continue;
                }
                for (target, range, replacement) in &edits {
                    taken
                        .entry(*target)
                        .or_default()
                        .push((range.clone(), replacement.clone()));
                }
                out.push(Candidate {
                    file: file_index,
                    finding: finding_index,
                    key,
                    edits,
                });
            }
        }
        out
    }

    /// Re-lints every changed file, and every file whose fixes edit a changed
    /// file (their edit ranges are stale now).
    fn relint_changed(&self, files: &mut [State], changed: &BTreeSet<usize>) {
        let changed_paths: Vec<PathBuf> = changed.iter().map(|&i| files[i].path.clone()).collect();
        let mut to_relint: BTreeSet<usize> = changed.clone();
        for (i, file) in files.iter().enumerate() {
            let dependent = file.findings.iter().any(|r| {
                r.finding.fix.as_ref().is_some_and(|fix| {
                    fix.edits.iter().any(|edit| {
                        edit.file.as_ref().is_some_and(|p| {
                            let target = resolve_path(p, &file.base_dir);
                            changed_paths.contains(&target)
                        })
                    })
                })
            });
            if dependent {
                to_relint.insert(i);
            }
        }
        // Files of one package share a base directory: that is the crate a
        // cross-file fix may reach into.
        let mut packages: HashMap<&Path, Package> = HashMap::new();
        for file in files.iter() {
            packages
                .entry(file.base_dir.as_path())
                .or_default()
                .0
                .push((file.path.clone(), file.text.clone()));
        }
        let no_files = (Vec::new(), temper_lints::IndexCell::default());
        let relint = self.relint;
        let fresh: Vec<(usize, Vec<Reported>)> = to_relint
            .into_par_iter()
            .map(|i| {
                let file = &files[i];
                let (crate_files, index) =
                    packages.get(file.base_dir.as_path()).unwrap_or(&no_files);
                (i, relint(&file.path, &file.text, crate_files, index))
            })
            .collect();
        for (i, findings) in fresh {
            files[i].findings = findings;
        }
    }

    fn left(
        &self,
        files: &[State],
        index: &HashMap<PathBuf, usize>,
        rejected: &HashMap<FixKey, Rejection>,
        converged: bool,
    ) -> Vec<Left> {
        let mut out = Vec::new();
        for (file_index, file) in files.iter().enumerate() {
            for reported in &file.findings {
                let finding = &reported.finding;
                let (reason, detail, unsafe_available) = match &finding.fix {
                    // The help says what the code would need for a fix.
                    None => (no_fix_reason(finding), finding.help.clone(), false),
                    Some(fix) if fix.applicability == Applicability::DisplayOnly => (
                        "fix needs manual review".to_string(),
                        Some(fix.message.clone()),
                        false,
                    ),
                    Some(fix) if !self.applies(fix.applicability) => (
                        "need --unsafe-fixes".to_string(),
                        Some(format!("unsafe fix: {}", fix.message)),
                        true,
                    ),
                    Some(fix) => {
                        let targets = resolve_targets(fix, file, index);
                        let key = fix_key(reported, fix, file_index, &targets, files);
                        if let Some(rejection) = rejected.get(&key) {
                            (rejection.short(), Some(rejection.detail()), false)
                        } else if let Some(reason) = &file.blocked {
                            (reason.clone(), None, false)
                        } else if !converged {
                            (
                                format!("not converged within {} rounds", self.max_rounds),
                                None,
                                false,
                            )
                        } else {
                            // Only reachable when a fix re-creates its own
                            // finding; the harness catches that as a lint bug.
                            ("fix did not resolve the finding".to_string(), None, false)
                        }
                    }
                };
                out.push(Left {
                    display: reported.path.clone(),
                    line: reported.start.line,
                    column: reported.start.column,
                    lint: finding.lint,
                    level: reported.level,
                    message: finding.message.clone(),
                    reason,
                    detail,
                    unsafe_available,
                });
            }
        }
        out
    }
}

/// The file index each edit targets (`None`: a file that was not read).
fn resolve_targets(
    fix: &Fix,
    file: &State,
    index: &HashMap<PathBuf, usize>,
) -> Vec<Result<usize, PathBuf>> {
    fix.edits
        .iter()
        .map(|edit| match &edit.file {
            None => index
                .get(&file.path)
                .copied()
                .ok_or_else(|| file.path.clone()),
            Some(path) => {
                let target = resolve_path(path, &file.base_dir);
                index.get(&target).copied().ok_or(target)
            }
        })
        .collect()
}

/// Resolves an `Edit::file` path: absolute as is, relative against the
/// linted file's package directory.
pub fn resolve_path(path: &Path, base_dir: &Path) -> PathBuf {
    if path.is_absolute() {
        crate::discover::normalize(path)
    } else {
        crate::discover::normalize(&base_dir.join(path))
    }
}

fn fix_key(
    reported: &Reported,
    fix: &Fix,
    file_index: usize,
    targets: &[Result<usize, PathBuf>],
    files: &[State],
) -> FixKey {
    let edits = fix
        .edits
        .iter()
        .zip(targets)
        .map(|(edit, target)| {
            let (file, text, item) = match target {
                Ok(i) => (
                    files[*i].path.clone(),
                    &*files[*i].text,
                    files[*i].item_header(&edit.range),
                ),
                Err(path) => (path.clone(), "", String::new()),
            };
            KeyEdit {
                file,
                item,
                context: line_context(text, &edit.range),
                old: text.get(edit.range.clone()).unwrap_or_default().to_string(),
                new: edit.replacement.clone(),
            }
        })
        .collect();
    FixKey {
        lint: reported.finding.lint,
        file: files[file_index].path.clone(),
        message: reported.finding.message.clone(),
        edits,
    }
}

/// The trimmed text of the lines an edit touches.
fn line_context(text: &str, range: &Range<usize>) -> String {
    let (Some(before), Some(after)) = (text.get(..range.start), text.get(range.end..)) else {
        return String::new();
    };
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let end = after.find('\n').map_or(text.len(), |i| range.end + i);
    text.get(start..end).unwrap_or_default().trim().to_string()
}

/// Checks a fix's edits against the texts they apply to.
fn validate(
    fix: &Fix,
    file: &State,
    targets: &[Result<usize, PathBuf>],
    files: &[State],
) -> Result<Vec<(usize, Range<usize>, String)>, Rejection> {
    if fix.edits.is_empty() {
        return Err(Rejection::Invalid(format!(
            "`{}` has no edits",
            fix.message
        )));
    }
    let mut out = Vec::with_capacity(fix.edits.len());
    for (edit, target) in fix.edits.iter().zip(targets) {
        let target = match target {
            Ok(i) => *i,
            Err(path) => {
                return Err(Rejection::Invalid(format!(
                    "edits {}, which is not among the files read (from {})",
                    path.display(),
                    file.display
                )));
            }
        };
        let state = &files[target];
        if let Some(reason) = &state.blocked {
            return Err(Rejection::Blocked {
                file: state.display.clone(),
                reason: reason.clone(),
            });
        }
        let range = edit.range.clone();
        if range.start > range.end || state.text.get(range.clone()).is_none() {
            return Err(Rejection::Invalid(format!(
                "edit range {}..{} is outside {} ({} bytes) or not on a character boundary",
                range.start,
                range.end,
                state.display,
                state.text.len()
            )));
        }
        out.push((target, range, edit.replacement.clone()));
    }
    if out
        .iter()
        .all(|(target, range, new)| files[*target].text.get(range.clone()) == Some(new.as_str()))
    {
        // Applying it would loop: the finding stays, and so does the fix.
        return Err(Rejection::Invalid(format!(
            "`{}` changes nothing",
            fix.message
        )));
    }
    let mut sorted: Vec<&(usize, Range<usize>, String)> = out.iter().collect();
    sorted.sort_by_key(|(target, range, _)| (*target, range.start, range.end));
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.0 == b.0 && a.1.end > b.1.start {
            return Err(Rejection::Invalid(format!(
                "edits {}..{} and {}..{} of {} overlap",
                a.1.start, a.1.end, b.1.start, b.1.end, files[a.0].display
            )));
        }
    }
    Ok(out)
}

/// A short, groupable reason for a finding that carries no fix, from what the
/// lint already told the user: its `no automatic fix: ..` note, or a help
/// that names what the function would need.
fn no_fix_reason(finding: &temper_lints::Finding) -> String {
    if let Some(reason) = finding
        .notes
        .iter()
        .find_map(|note| note.strip_prefix("no automatic fix: "))
    {
        return format!("no automatic fix ({reason})");
    }
    let help = finding.help.as_deref().unwrap_or_default();
    if help.contains("to propagate this error") {
        "need a fallible return type".to_string()
    } else if help.contains("closure") {
        "inside a closure".to_string()
    } else if help.contains("`async` block") {
        "inside an async block".to_string()
    } else if help.contains("cannot return an error") {
        // `fn poll` implements `Future` (or `Drop::drop`, `Display::fmt`).
        "in a trait method that cannot return an error".to_string()
    } else if help.is_empty() {
        "no automatic fix".to_string()
    } else {
        format!("no automatic fix; help: {help}")
    }
}

/// Whether two edits cannot both be applied in one pass: their ranges
/// intersect, or they start at the same offset and one of them inserts (the
/// order of the two texts would be a guess).
pub fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    (a.start < b.end && b.start < a.end) || (a.start == b.start && (a.is_empty() || b.is_empty()))
}

/// Applies the candidates' edits, refusing files that would parse worse
/// (with every fix that touches them, across files), until a set of fixes
/// applies cleanly. Returns the changed files, the edit moves per file, and
/// the fixes taken; `None` when every fix was refused.
#[allow(clippy::type_complexity)]
fn apply_round(
    files: &mut [State],
    mut candidates: Vec<Candidate>,
    rejected: &mut HashMap<FixKey, Rejection>,
) -> Option<(BTreeSet<usize>, HashMap<usize, Moves>, Vec<Candidate>)> {
    loop {
        if candidates.is_empty() {
            return None;
        }
        let mut per_file: BTreeMap<usize, Vec<(Range<usize>, String)>> = BTreeMap::new();
        for candidate in &candidates {
            for (target, range, replacement) in &candidate.edits {
                per_file
                    .entry(*target)
                    .or_default()
                    .push((range.clone(), replacement.clone()));
            }
        }
        let results: Vec<(
            usize,
            String,
            Moves,
            Result<(usize, Option<bool>), (&'static str, String)>,
        )> = per_file
            .into_par_iter()
            .map(|(target, edits)| {
                let state = &files[target];
                let (text, moves) = apply_edits(&state.text, edits);
                let verdict = judge(state, &text);
                (target, text, moves, verdict)
            })
            .collect();
        let refused: Vec<(usize, &'static str, String)> = results
            .iter()
            .filter_map(|(target, _, _, verdict)| match verdict {
                Err((parser, message)) => Some((*target, *parser, message.clone())),
                Ok(_) => None,
            })
            .collect();
        if refused.is_empty() {
            let mut changed = BTreeSet::new();
            let mut all_moves = HashMap::new();
            for (target, text, moves, verdict) in results {
                let state = &mut files[target];
                if let Ok((ra_errors, syn_ok)) = verdict {
                    state.ra_errors = Some(ra_errors);
                    state.syn_ok = syn_ok;
                }
                if *state.text != *text {
                    state.text = Arc::from(text);
                    state.items = std::sync::OnceLock::new();
                    changed.insert(target);
                }
                all_moves.insert(target, moves);
            }
            return Some((changed, all_moves, candidates));
        }
        for (target, parser, message) in refused {
            let display = files[target].display.clone();
            candidates.retain(|candidate| {
                let touches = candidate.edits.iter().any(|(t, _, _)| *t == target);
                if touches {
                    rejected.insert(
                        candidate.key.clone(),
                        Rejection::ParseWorse {
                            file: display.clone(),
                            parser,
                            message: message.clone(),
                        },
                    );
                }
                !touches
            });
        }
    }
}

/// Whether `after` parses no worse than the file's current text; on success
/// the new text's `ra_ap_syntax` error count and `syn` verdict (when known).
#[allow(clippy::type_complexity)]
fn judge(state: &State, after: &str) -> Result<(usize, Option<bool>), (&'static str, String)> {
    let before_ra = state
        .ra_errors
        .unwrap_or_else(|| syntax::ra_parse(&state.text, state.edition).errors);
    let after_ra = syntax::ra_parse(after, state.edition);
    if after_ra.errors > before_ra {
        return Err((
            "ra_ap_syntax",
            after_ra.first.unwrap_or_else(|| "syntax error".to_string()),
        ));
    }
    match syntax::syn_parse(after) {
        Ok(()) => Ok((after_ra.errors, Some(true))),
        Err(message) => {
            let before_ok = state
                .syn_ok
                .unwrap_or_else(|| syntax::syn_parse(&state.text).is_ok());
            if before_ok {
                Err(("syn", message))
            } else {
                Ok((after_ra.errors, Some(false)))
            }
        }
    }
}

/// Applies non-overlapping edits (identical ones once) and says where each
/// went.
pub fn apply_edits(text: &str, mut edits: Vec<(Range<usize>, String)>) -> (String, Moves) {
    // A stable sort keeps the selection order for insertions at one offset.
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    edits.dedup();
    let mut out = String::with_capacity(text.len());
    let mut moves = Vec::with_capacity(edits.len());
    let mut last = 0;
    for (range, replacement) in edits {
        if range.start < last {
            // Selection guarantees this cannot happen; skip rather than corrupt.
            continue;
        }
        out.push_str(&text[last..range.start]);
        let start = out.len();
        out.push_str(&replacement);
        moves.push((range.clone(), start..out.len()));
        last = range.end;
    }
    out.push_str(&text[last..]);
    (out, moves)
}

/// Maps a range of the old text to the new text after `moves`.
pub fn map_range(moves: &Moves, range: &Range<usize>) -> Range<usize> {
    if let Some((_, new)) = moves.iter().find(|(old, _)| old == range) {
        return new.clone();
    }
    map_offset(moves, range.start, false)..map_offset(moves, range.end, true)
}

fn map_offset(moves: &Moves, offset: usize, end: bool) -> usize {
    let mut delta: isize = 0;
    for (old, new) in moves {
        // Text inserted at `offset` lands before whatever started there.
        if old.end <= offset {
            delta += new.len() as isize - old.len() as isize;
        } else if old.start < offset && offset < old.end {
            return if end { new.end } else { new.start };
        } else {
            break;
        }
    }
    offset.saturating_add_signed(delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_rules() {
        assert!(overlaps(&(0..5), &(4..6)));
        assert!(!overlaps(&(0..5), &(5..6)));
        assert!(overlaps(&(5..5), &(5..6)));
        assert!(overlaps(&(5..5), &(5..5)));
        assert!(!overlaps(&(5..5), &(0..5)));
    }

    #[test]
    fn apply_and_map() {
        let text = "let v = x.unwrap();";
        let (out, moves) = apply_edits(
            text,
            vec![(8..18, "x?".to_string()), (0..0, "// a\n".to_string())],
        );
        assert_eq!(out, "// a\nlet v = x?;");
        assert_eq!(map_range(&moves, &(8..18)), 13..15);
        assert_eq!(map_range(&moves, &(18..19)), 15..16);
        assert_eq!(map_range(&moves, &(0..3)), 5..8);
    }

    #[test]
    fn context_is_the_line() {
        let text = "a\n  let v = x.unwrap();\nb";
        assert_eq!(line_context(text, &(10..20)), "let v = x.unwrap();");
    }
}
