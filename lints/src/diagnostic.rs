//! The data a lint produces: findings with labelled spans, help, notes and fixes.
//!
//! Everything here is plain data with byte offsets into the file's text, so the
//! reporting and fixing layers never need the syntax tree.

use std::ops::Range;

/// How severe a finding is; `Deny` findings make `temper check` exit with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// How much a fix can be trusted, in ruff's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Shown to the user, never applied.
    DisplayOnly,
    /// May change behaviour, or may not compile without type information.
    Unsafe,
    /// Keeps meaning and comments, and compiles.
    Safe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::DisplayOnly => "display-only",
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

/// Replace `range` of a file's text with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edit {
    /// The file the edit applies to; `None` is the linted file itself.
    ///
    /// `Some(path)` names another file of the same crate (call-site migration,
    /// struct-literal updates): an absolute path is used as it is, a relative
    /// one is resolved against the package directory of the linted file (the
    /// directory of its `Cargo.toml`; the linted file's own directory when it
    /// belongs to no package). Edits of one fix are applied all together or not
    /// at all, across files.
    pub file: Option<std::path::PathBuf>,
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn replace(range: Range<usize>, replacement: impl Into<String>) -> Edit {
        Edit {
            file: None,
            range,
            replacement: replacement.into(),
        }
    }

    pub fn insert(offset: usize, text: impl Into<String>) -> Edit {
        Edit::replace(offset..offset, text)
    }

    pub fn delete(range: Range<usize>) -> Edit {
        Edit::replace(range, "")
    }
}

/// A set of edits that together resolve one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// Imperative description, e.g. "propagate the error with `?`".
    pub message: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

/// A secondary span with its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub range: Range<usize>,
    pub message: String,
}

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The lint's snake_case name, as in the registry.
    pub lint: &'static str,
    /// Lowercase, no trailing period.
    pub message: String,
    /// The primary span.
    pub range: Range<usize>,
    /// The message shown at the primary span; empty for none.
    pub primary_label: String,
    pub labels: Vec<Label>,
    /// Imperative.
    pub help: Option<String>,
    pub notes: Vec<String>,
    pub fix: Option<Fix>,
    /// The finding only applies when the file is compiled into a library target
    /// (the module tree decides that, after every file has been read).
    pub library_only: bool,
    /// The finding does not apply in a file that only test targets compile
    /// (`tests/`, benches, modules reached only under `cfg(test)`).
    pub not_in_tests: bool,
    /// The fix is not complete until the lint has seen the crate's other files
    /// (call sites to migrate, struct literals to update): a lint-private
    /// payload for its `complete` hook. A finding that still carries one has a
    /// fix that must not be applied.
    pub crate_fix: Option<CrateFixRequest>,
}

/// What a lint needs to remember to finish a fix across the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateFixRequest {
    pub data: Vec<String>,
}

impl Finding {
    pub fn new(lint: &'static str, range: Range<usize>, message: impl Into<String>) -> Finding {
        Finding {
            lint,
            message: message.into(),
            range,
            primary_label: String::new(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
            library_only: false,
            not_in_tests: false,
            crate_fix: None,
        }
    }

    pub fn with_primary_label(mut self, message: impl Into<String>) -> Finding {
        self.primary_label = message.into();
        self
    }

    pub fn with_label(mut self, range: Range<usize>, message: impl Into<String>) -> Finding {
        self.labels.push(Label {
            range,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Finding {
        self.notes.push(note.into());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Finding {
        self.fix = Some(fix);
        self
    }

    /// Asks for the crate-wide pass to complete this finding's fix.
    pub fn needs_crate(mut self, data: Vec<String>) -> Finding {
        self.crate_fix = Some(CrateFixRequest { data });
        self
    }

    pub fn not_in_tests(mut self) -> Finding {
        self.not_in_tests = true;
        self
    }

    pub fn library_only(mut self) -> Finding {
        self.library_only = true;
        self
    }
}
