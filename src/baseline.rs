//! Baselines: today's findings recorded in a file, so that CI fails only on new
//! ones. A finding is identified by its lint, file, enclosing item (for
//! example `impl Catalog::handle`) and the text of its source lines with
//! whitespace collapsed, plus an occurrence index among identical keys — never by line
//! number, so edits elsewhere in the file keep it matched.

use crate::report::Reported;
use ra_ap_syntax::ast::{self, AstNode, HasName};
use ra_ap_syntax::{Edition, SourceFile, TextSize};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The format version written to and accepted from baseline files.
pub const VERSION: u32 = 1;

/// Longest normalised source kept verbatim in a key; longer text keeps its
/// start and a hash of the whole, so keys stay readable in review.
const MAX_SOURCE: usize = 160;

/// What identifies a finding across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingKey {
    pub lint: String,
    /// Relative to the baseline's directory (or the current directory), with
    /// `/` separators.
    pub path: String,
    /// The enclosing items, outermost first, e.g. `mod pool::impl Pool::checkout`;
    /// empty at file level.
    pub item: String,
    /// The source lines of the finding, whitespace collapsed.
    pub source: String,
}

/// A key with its occurrence index among findings with equal keys, in file
/// order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub key: FindingKey,
    pub occurrence: usize,
}

/// The baseline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// Errors reading or writing a baseline.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {message}")]
    #[diagnostic(code(temper::baseline))]
    Read { path: String, message: String },
    #[error("invalid baseline {path}: {message}")]
    #[diagnostic(
        code(temper::baseline),
        help("write a new one with `temper check --write-baseline {path}`")
    )]
    Invalid { path: String, message: String },
    #[error("{path} is not a temper baseline: {message}")]
    #[diagnostic(
        code(temper::baseline),
        help("pass the file `temper check --write-baseline FILE` wrote")
    )]
    NotABaseline { path: String, message: String },
    #[error("cannot write baseline {path}: {message}")]
    #[diagnostic(code(temper::baseline))]
    Write { path: String, message: String },
    #[error("refusing to overwrite {path}: it is not a temper baseline")]
    #[diagnostic(
        code(temper::baseline),
        help("name a new file (e.g. `temper-baseline.json`) or an existing baseline")
    )]
    WouldClobber { path: String },
}

/// Computes the key of every finding (in the given order), with paths
/// relative to `base` when they are inside it.
pub fn entries(findings: &[Reported], cwd: &Path, base: &Path) -> Vec<Entry> {
    let mut items_by_file: HashMap<&str, ItemIndex> = HashMap::new();
    let mut seen: HashMap<FindingKey, usize> = HashMap::new();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| findings[a].sort_key().cmp(&findings[b].sort_key()));
    let mut out: Vec<Option<Entry>> = vec![None; findings.len()];
    for i in order {
        let reported = &findings[i];
        let items = items_by_file
            .entry(reported.path.as_str())
            .or_insert_with(|| ItemIndex::new(&reported.source, reported.edition));
        let key = FindingKey {
            lint: reported.finding.lint.to_string(),
            path: relative_path(cwd, base, &reported.path),
            item: items.enclosing(reported.finding.range.start),
            source: normalise(&without_comments(lines_of(
                &reported.source,
                &reported.finding.range,
            ))),
        };
        let occurrence = seen.entry(key.clone()).or_insert(0);
        out[i] = Some(Entry {
            key,
            occurrence: *occurrence,
        });
        *occurrence += 1;
    }
    out.into_iter().flatten().collect()
}

/// The whole lines a range touches: a finding's span is often just the
/// method name, and its line tells two findings in one item apart.
fn lines_of<'a>(source: &'a str, range: &std::ops::Range<usize>) -> &'a str {
    let start = range.start.min(source.len());
    let end = range.end.clamp(start, source.len());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[end..].find('\n').map_or(source.len(), |i| end + i);
    source.get(line_start..line_end).unwrap_or_default()
}

/// `text` without its comments: a comment at the end of a finding's line
/// (`x.unwrap(); // TODO`) is not the finding, and editing it must not make
/// the finding new.
fn without_comments(text: &str) -> String {
    use ra_ap_rustc_lexer::{FrontmatterAllowed, TokenKind, tokenize};
    let mut out = String::with_capacity(text.len());
    let mut offset = 0usize;
    for token in tokenize(text, FrontmatterAllowed::No) {
        let end = offset + token.len as usize;
        let comment = matches!(
            token.kind,
            TokenKind::LineComment { .. } | TokenKind::BlockComment { .. }
        );
        if !comment {
            out.push_str(text.get(offset..end).unwrap_or_default());
        } else {
            out.push(' ');
        }
        offset = end;
    }
    out
}

/// Whether `text` is a temper baseline file of any version: a JSON object
/// with `version` and `findings`, which `--write-baseline` may replace.
fn looks_like_baseline(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|value| {
        value.get("version").is_some_and(serde_json::Value::is_u64)
            && value
                .get("findings")
                .is_some_and(serde_json::Value::is_array)
    })
}

/// A stable fingerprint of an entry, for SARIF's `partialFingerprints`.
pub fn fingerprint(entry: &Entry) -> String {
    let mut hasher = Sha256::new();
    for part in [
        entry.key.lint.as_str(),
        entry.key.path.as_str(),
        entry.key.item.as_str(),
        entry.key.source.as_str(),
        &entry.occurrence.to_string(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex(&hasher.finalize()[..16])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `path` (as shown: relative to `cwd`, or absolute) relative to `base`.
pub fn relative_path(cwd: &Path, base: &Path, path: &str) -> String {
    let absolute = crate::discover::normalize(&cwd.join(path));
    let base = crate::discover::normalize(&cwd.join(base));
    let shown = absolute.strip_prefix(&base).unwrap_or(&absolute);
    shown.to_string_lossy().replace('\\', "/")
}

/// Whitespace runs collapsed to one space, ends trimmed; long text is cut and
/// completed with a hash of the whole.
pub fn normalise(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.len() <= MAX_SOURCE {
        return collapsed;
    }
    let mut cut = MAX_SOURCE - 20;
    while !collapsed.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = Sha256::digest(collapsed.as_bytes());
    format!("{}… #{}", &collapsed[..cut], hex(&digest[..8]))
}

/// Enclosing-item names for offsets in one file.
struct ItemIndex {
    file: SourceFile,
}

impl ItemIndex {
    fn new(source: &str, edition: Edition) -> ItemIndex {
        ItemIndex {
            file: SourceFile::parse(source, edition).tree(),
        }
    }

    fn enclosing(&self, offset: usize) -> String {
        let Ok(offset) = u32::try_from(offset) else {
            return String::new();
        };
        let Some(token) = self
            .file
            .syntax()
            .token_at_offset(TextSize::from(offset))
            .right_biased()
        else {
            return String::new();
        };
        let mut names: Vec<String> = token
            .parent_ancestors()
            .filter_map(|node| item_name(&node))
            .collect();
        names.reverse();
        names.join("::")
    }
}

fn collapse(node: &impl AstNode) -> String {
    normalise(&node.syntax().text().to_string())
}

fn item_name(node: &ra_ap_syntax::SyntaxNode) -> Option<String> {
    if let Some(imp) = ast::Impl::cast(node.clone()) {
        let self_ty = imp.self_ty().map(|t| collapse(&t)).unwrap_or_default();
        return Some(match imp.trait_() {
            Some(trait_) => format!("impl {} for {self_ty}", collapse(&trait_)),
            None => format!("impl {self_ty}"),
        });
    }
    if let Some(module) = ast::Module::cast(node.clone()) {
        return Some(format!("mod {}", module.name()?.text()));
    }
    if let Some(trait_) = ast::Trait::cast(node.clone()) {
        return Some(format!("trait {}", trait_.name()?.text()));
    }
    if let Some(function) = ast::Fn::cast(node.clone()) {
        return Some(function.name()?.text().to_string());
    }
    let named = ast::Struct::cast(node.clone())
        .map(|n| n.name())
        .or_else(|| ast::Enum::cast(node.clone()).map(|n| n.name()))
        .or_else(|| ast::Union::cast(node.clone()).map(|n| n.name()))
        .or_else(|| ast::Const::cast(node.clone()).map(|n| n.name()))
        .or_else(|| ast::Static::cast(node.clone()).map(|n| n.name()))
        .or_else(|| ast::MacroRules::cast(node.clone()).map(|n| n.name()))
        .flatten()?;
    Some(named.text().to_string())
}

impl Baseline {
    pub fn new(mut findings: Vec<Entry>) -> Baseline {
        findings.sort();
        findings.dedup();
        Baseline {
            version: VERSION,
            findings,
        }
    }

    pub fn read(path: &Path, shown: &str) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
            path: shown.to_string(),
            message: e.to_string(),
        })?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
            // Only a file that is a baseline may be rewritten: never suggest
            // `--write-baseline` over a manifest or a source file.
            if looks_like_baseline(&text) {
                BaselineError::Invalid {
                    path: shown.to_string(),
                    message: e.to_string(),
                }
            } else {
                BaselineError::NotABaseline {
                    path: shown.to_string(),
                    message: e.to_string(),
                }
            }
        })?;
        if baseline.version != VERSION {
            return Err(BaselineError::Invalid {
                path: shown.to_string(),
                message: format!(
                    "version {} is not supported (expected {VERSION})",
                    baseline.version
                ),
            });
        }
        Ok(baseline)
    }

    /// Writes the baseline as pretty, sorted JSON, atomically. An existing
    /// file is replaced only when it is a temper baseline: a mistyped path
    /// (`--write-baseline src/lib.rs`) must not destroy someone's work.
    pub fn write(&self, path: &Path, shown: &str) -> Result<(), BaselineError> {
        let error = |message: String| BaselineError::Write {
            path: shown.to_string(),
            message,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                if !looks_like_baseline(&text) {
                    return Err(BaselineError::WouldClobber {
                        path: shown.to_string(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(error(e.to_string())),
        }
        let mut text = serde_json::to_string_pretty(self).map_err(|e| error(e.to_string()))?;
        text.push('\n');
        write_atomic(path, text.as_bytes()).map_err(|e| error(e.to_string()))
    }

    /// Splits `current` (entries in finding order) into the indices of new
    /// findings, and returns the baseline entries no current finding matched,
    /// limited to `checked` paths (entries for files not checked this run are
    /// neither matched nor stale).
    pub fn compare(&self, current: &[Entry], checked: &[String]) -> Comparison {
        // Matching is by key, as a multiset: with n entries for a key in the
        // baseline, the first n current findings with that key are known.
        let mut budget: BTreeMap<&FindingKey, usize> = BTreeMap::new();
        for entry in &self.findings {
            *budget.entry(&entry.key).or_default() += 1;
        }
        let mut new = Vec::new();
        let mut matched = 0;
        let mut order: Vec<usize> = (0..current.len()).collect();
        order.sort_by_key(|&i| current[i].occurrence);
        for i in order {
            match budget.get_mut(&current[i].key) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    matched += 1;
                }
                _ => new.push(i),
            }
        }
        new.sort_unstable();
        let mut stale = Vec::new();
        let mut seen: BTreeMap<&FindingKey, usize> = BTreeMap::new();
        for entry in &self.findings {
            if !checked.iter().any(|p| p == &entry.key.path) {
                continue;
            }
            let index = seen.entry(&entry.key).or_default();
            let used = current.iter().filter(|c| c.key == entry.key).count();
            if *index >= used {
                stale.push(entry.clone());
            }
            *index += 1;
        }
        Comparison {
            new,
            matched,
            stale,
        }
    }
}

/// The result of comparing a run with a baseline.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Indices of findings not in the baseline.
    pub new: Vec<usize>,
    pub matched: usize,
    /// Baseline entries that no longer match any finding.
    pub stale: Vec<Entry>,
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename, so readers never see a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    // Keep the permissions of a file being replaced (an executable script);
    // a new file gets the usual 0644 rather than the temporary file's 0600.
    if let Ok(metadata) = std::fs::metadata(path) {
        std::fs::set_permissions(file.path(), metadata.permissions())?;
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644))?;
        }
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The directory baseline paths are relative to.
pub fn base_dir(cwd: &Path, file: &Path) -> PathBuf {
    let absolute = crate::discover::normalize(&cwd.join(file));
    absolute.parent().map(Path::to_path_buf).unwrap_or(absolute)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, occurrence: usize) -> Entry {
        Entry {
            key: FindingKey {
                lint: "library_unwrap".into(),
                path: "src/lib.rs".into(),
                item: "f".into(),
                source: source.into(),
            },
            occurrence,
        }
    }

    #[test]
    fn items_name_the_enclosing_impl_and_fn() {
        let source =
            "mod m {\n    impl Catalog {\n        fn handle(&self) { x.unwrap(); }\n    }\n}\n";
        let index = ItemIndex::new(source, Edition::Edition2024);
        let offset = source.find("x.unwrap").expect("x");
        assert_eq!(index.enclosing(offset), "mod m::impl Catalog::handle");
    }

    #[test]
    fn normalise_collapses_whitespace_and_caps_length() {
        assert_eq!(normalise("  a\n   .unwrap( )\t"), "a .unwrap( )");
        let long = "x".repeat(500);
        let short = normalise(&long);
        assert!(short.len() < 200 && short.contains('#'));
        assert_ne!(short, normalise(&"y".repeat(500)));
    }

    #[test]
    fn compare_counts_duplicates_and_stale_entries() {
        let baseline = Baseline::new(vec![entry("a", 0), entry("a", 1), entry("b", 0)]);
        let current = vec![entry("a", 0), entry("c", 0)];
        let cmp = baseline.compare(&current, &["src/lib.rs".to_string()]);
        assert_eq!(cmp.new, vec![1]);
        assert_eq!(cmp.matched, 1);
        assert_eq!(cmp.stale, vec![entry("a", 1), entry("b", 0)]);
        // Entries for files not checked are not stale.
        let cmp = baseline.compare(&[], &[]);
        assert!(cmp.stale.is_empty());
    }
}
