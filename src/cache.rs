//! The analysis cache: an unchanged file is not parsed or linted again.
//!
//! Each file's analysis (findings before levels, suppressions and library
//! classification are applied, its `mod` declarations and parse errors) is
//! stored under the key SHA-256(temper's version and binary, the lint
//! options, the crate facts, the edition, the file's bytes). Anything that
//! changes what analysis would produce changes the key, so a stale entry is
//! never used; levels, excludes and suppressions are applied after the cache
//! and need no key.
//!
//! The cache is one JSON file, `.temper-cache/check-v1.json`, in the
//! configuration's directory (else the workspace root, else the current
//! directory), holding one entry per path. The directory gets a `.gitignore`
//! of `*` and a `CACHEDIR.TAG`, so it never shows up in `git status` or
//! backups. `--no-cache` neither reads nor writes it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use temper_lints::{
    Applicability, CrateFacts, Edit, FileAnalysis, Finding, Fix, Label, ModDecl, Options,
    ParseError,
};

/// The cache directory's name.
pub const DIR_NAME: &str = ".temper-cache";
const FILE_NAME: &str = "check-v1.json";

/// A loaded cache, shared by the analysis threads.
#[derive(Debug)]
pub struct Cache {
    file: PathBuf,
    /// What every key starts with: temper's identity and the lint options.
    salt: Vec<u8>,
    old: HashMap<String, Entry>,
    new: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    key: String,
    analysis: CachedAnalysis,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    entries: HashMap<String, Entry>,
}

impl Cache {
    /// Opens (or starts) the cache in `dir`/.temper-cache for `options`. A
    /// missing or unreadable cache file is an empty cache.
    pub fn open(dir: &Path, options: &Options) -> Cache {
        let file = dir.join(DIR_NAME).join(FILE_NAME);
        let old = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            .map(|f| f.entries)
            .unwrap_or_default();
        let mut salt = format!("temper {}\n", env!("CARGO_PKG_VERSION")).into_bytes();
        // The binary's size and modification time stand in for the lint code's
        // identity: a rebuilt temper of the same version (during development)
        // must not reuse findings of the old code.
        if let Some(metadata) = std::env::current_exe()
            .ok()
            .and_then(|exe| std::fs::metadata(exe).ok())
        {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            salt.extend(format!("{} {modified}\n", metadata.len()).as_bytes());
        }
        salt.extend(format!("{options:?}\n").as_bytes());
        Cache {
            file,
            salt,
            old,
            new: Mutex::new(HashMap::new()),
        }
    }

    /// The key of one file's analysis.
    pub fn key(
        &self,
        options: &Options,
        facts: &CrateFacts,
        edition: temper_lints::Edition,
        text: &str,
    ) -> String {
        let mut hasher = Sha256::new();
        hasher.update(&self.salt);
        // Each file may have its own (nearest) configuration's options.
        hasher.update(format!("{options:?}\n").as_bytes());
        hasher.update(format!("{facts:?}\nedition {}\n", edition.number()).as_bytes());
        hasher.update(text.as_bytes());
        crate::baseline::hex(&hasher.finalize())
    }

    /// The cached analysis of `path` when its key is `key`.
    pub fn get(&self, path: &Path, key: &str) -> Option<FileAnalysis> {
        let entry = self.old.get(&path_key(path))?;
        (entry.key == key).then(|| entry.analysis.to_analysis())
    }

    /// Records a fresh analysis.
    pub fn put(&self, path: &Path, key: String, analysis: &FileAnalysis) {
        let entry = Entry {
            key,
            analysis: CachedAnalysis::from_analysis(analysis),
        };
        if let Ok(mut new) = self.new.lock() {
            new.insert(path_key(path), entry);
        }
    }

    /// Writes the cache back when anything changed. Failing to write a cache
    /// is not an error for the check: the next run is just slower.
    pub fn save(self) {
        let Ok(new) = self.new.into_inner() else {
            return;
        };
        if new.is_empty() {
            return;
        }
        let mut entries = self.old;
        // Entries of deleted files are dropped so the cache does not grow
        // without bound.
        entries.retain(|path, _| Path::new(path).exists());
        entries.extend(new);
        let Some(dir) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let _ = std::fs::write(dir.join(".gitignore"), "# Created by temper.\n*\n");
        let _ = std::fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by temper.\n",
        );
        if let Ok(bytes) = serde_json::to_vec(&CacheFile { entries }) {
            let _ = crate::baseline::write_atomic(&self.file, &bytes);
        }
    }
}

fn path_key(path: &Path) -> String {
    path.to_string_lossy().to_string()
}

/// [`FileAnalysis`] in a serialisable form (the lints crate stays free of
/// serde).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedAnalysis {
    findings: Vec<CachedFinding>,
    modules: Vec<CachedMod>,
    cfg_test: bool,
    #[serde(default)]
    allows: Vec<String>,
    parse_errors: Vec<(usize, usize, String)>,
    #[serde(default)]
    crate_calls: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedFinding {
    lint: String,
    message: String,
    range: (usize, usize),
    primary_label: String,
    labels: Vec<(usize, usize, String)>,
    help: Option<String>,
    notes: Vec<String>,
    fix: Option<CachedFix>,
    library_only: bool,
    #[serde(default)]
    not_in_tests: bool,
    #[serde(default)]
    crate_fix: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedFix {
    message: String,
    applicability: String,
    edits: Vec<CachedEdit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedEdit {
    file: Option<PathBuf>,
    range: (usize, usize),
    replacement: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedMod {
    name: String,
    path_attr: Option<String>,
    cfg_test: bool,
    inline: Option<Vec<CachedMod>>,
    #[serde(default)]
    allows: Vec<String>,
}

impl CachedMod {
    fn from_decl(decl: &ModDecl) -> CachedMod {
        CachedMod {
            name: decl.name.clone(),
            path_attr: decl.path_attr.clone(),
            cfg_test: decl.cfg_test,
            allows: decl.allows.clone(),
            inline: decl
                .inline
                .as_ref()
                .map(|inner| inner.iter().map(CachedMod::from_decl).collect()),
        }
    }

    fn to_decl(&self) -> ModDecl {
        ModDecl {
            name: self.name.clone(),
            path_attr: self.path_attr.clone(),
            cfg_test: self.cfg_test,
            allows: self.allows.clone(),
            inline: self
                .inline
                .as_ref()
                .map(|inner| inner.iter().map(CachedMod::to_decl).collect()),
        }
    }
}

fn applicability_from(text: &str) -> Applicability {
    match text {
        "safe" => Applicability::Safe,
        "unsafe" => Applicability::Unsafe,
        _ => Applicability::DisplayOnly,
    }
}

impl CachedAnalysis {
    fn from_analysis(analysis: &FileAnalysis) -> CachedAnalysis {
        CachedAnalysis {
            findings: analysis
                .findings
                .iter()
                .map(|f| CachedFinding {
                    lint: f.lint.to_string(),
                    message: f.message.clone(),
                    range: (f.range.start, f.range.end),
                    primary_label: f.primary_label.clone(),
                    labels: f
                        .labels
                        .iter()
                        .map(|l| (l.range.start, l.range.end, l.message.clone()))
                        .collect(),
                    help: f.help.clone(),
                    notes: f.notes.clone(),
                    fix: f.fix.as_ref().map(|fix| CachedFix {
                        message: fix.message.clone(),
                        applicability: fix.applicability.as_str().to_string(),
                        edits: fix
                            .edits
                            .iter()
                            .map(|e| CachedEdit {
                                file: e.file.clone(),
                                range: (e.range.start, e.range.end),
                                replacement: e.replacement.clone(),
                            })
                            .collect(),
                    }),
                    library_only: f.library_only,
                    not_in_tests: f.not_in_tests,
                    crate_fix: f.crate_fix.as_ref().map(|c| c.data.clone()),
                })
                .collect(),
            modules: analysis.modules.iter().map(CachedMod::from_decl).collect(),
            cfg_test: analysis.cfg_test,
            crate_calls: analysis.crate_calls.clone(),
            allows: analysis.allows.clone(),
            parse_errors: analysis
                .parse_errors
                .iter()
                .map(|e| (e.range.start, e.range.end, e.message.clone()))
                .collect(),
        }
    }

    fn to_analysis(&self) -> FileAnalysis {
        FileAnalysis {
            findings: self
                .findings
                .iter()
                .filter_map(|f| {
                    // A lint that no longer exists cannot have produced this
                    // entry under the current key; skip rather than guess.
                    let lint = crate::suppress::all_lints().find(|l| l.name == f.lint)?;
                    // Built from `Finding::new` so fields added to the
                    // lints crate later start at their defaults.
                    let mut finding = Finding::new(lint.name, f.range.0..f.range.1, &f.message);
                    finding.primary_label = f.primary_label.clone();
                    finding.labels = f
                        .labels
                        .iter()
                        .map(|(start, end, message)| Label {
                            range: *start..*end,
                            message: message.clone(),
                        })
                        .collect();
                    finding.help = f.help.clone();
                    finding.notes = f.notes.clone();
                    finding.fix = f.fix.as_ref().map(|fix| Fix {
                        message: fix.message.clone(),
                        applicability: applicability_from(&fix.applicability),
                        edits: fix
                            .edits
                            .iter()
                            .map(|e| Edit {
                                file: e.file.clone(),
                                range: e.range.0..e.range.1,
                                replacement: e.replacement.clone(),
                            })
                            .collect(),
                    });
                    finding.library_only = f.library_only;
                    finding.not_in_tests = f.not_in_tests;
                    finding.crate_fix = f
                        .crate_fix
                        .clone()
                        .map(|data| temper_lints::diagnostic::CrateFixRequest { data });
                    Some(finding)
                })
                .collect(),
            modules: self.modules.iter().map(CachedMod::to_decl).collect(),
            cfg_test: self.cfg_test,
            crate_calls: self.crate_calls.clone(),
            // Not kept: the search for spawn wrappers parses the file again.
            functions: None,
            allows: self.allows.clone(),
            parse_errors: self
                .parse_errors
                .iter()
                .map(|(start, end, message)| ParseError {
                    range: *start..*end,
                    message: message.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_invalidates_on_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = Options::default();
        let facts = CrateFacts::default();
        let text = "pub fn f(x: Option<u8>) -> u8 { x.unwrap() }\nmod inner;\n";
        let analysis =
            temper_lints::analyze(text, temper_lints::Edition::Edition2024, &options, &facts);
        let path = dir.path().join("lib.rs");
        let cache = Cache::open(dir.path(), &options);
        let key = cache.key(&options, &facts, temper_lints::Edition::Edition2024, text);
        cache.put(&path, key.clone(), &analysis);
        cache.save();

        let cache = Cache::open(dir.path(), &options);
        let cached = cache.get(&path, &key).expect("hit");
        assert_eq!(cached.findings, analysis.findings);
        assert_eq!(cached.modules, analysis.modules);
        // Different text, options or facts: a different key.
        assert_ne!(
            cache.key(
                &options,
                &facts,
                temper_lints::Edition::Edition2024,
                "pub fn g() {}"
            ),
            key
        );
        let mut other = Options::default();
        other.library_unwrap.allow_lock_results = true;
        assert_ne!(
            Cache::open(dir.path(), &other).key(
                &other,
                &facts,
                temper_lints::Edition::Edition2024,
                text
            ),
            key
        );
        let facts2 = CrateFacts {
            uses_anyhow: true,
            ..CrateFacts::default()
        };
        assert_ne!(
            cache.key(&options, &facts2, temper_lints::Edition::Edition2024, text),
            key
        );
        // The same text parses differently per edition (`gen`, `async`).
        assert_ne!(
            cache.key(&options, &facts, temper_lints::Edition::Edition2021, text),
            key
        );
        assert!(dir.path().join(DIR_NAME).join(".gitignore").is_file());
    }
}
