//! Text coordinates for the editor: byte offsets to LSP positions and back
//! (UTF-16 code units unless the client agreed to UTF-8), incremental
//! document edits, and `file:` URIs to paths and back.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How `Position::character` counts, as negotiated at `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// Line starts of one text, for converting offsets and positions.
#[derive(Debug)]
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    pub fn position(&self, offset: usize, encoding: Encoding) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let start = self.starts[line];
        let prefix = &self.text[start..offset];
        let character = match encoding {
            Encoding::Utf8 => prefix.len(),
            Encoding::Utf16 => prefix.encode_utf16().count(),
        };
        Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&self, range: &std::ops::Range<usize>, encoding: Encoding) -> Range {
        Range::new(
            self.position(range.start, encoding),
            self.position(range.end, encoding),
        )
    }

    /// The byte offset of `position`; past the end of a line it is the line's
    /// end, past the last line the text's end (as LSP asks clients to expect).
    pub fn offset(&self, position: Position, encoding: Encoding) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(self.text.len(), |next| next - 1);
        let line = &self.text[start..end];
        let wanted = position.character as usize;
        let mut units = 0;
        for (index, ch) in line.char_indices() {
            if units >= wanted {
                return start + index;
            }
            units += match encoding {
                Encoding::Utf8 => ch.len_utf8(),
                Encoding::Utf16 => ch.len_utf16(),
            };
        }
        end
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Applies `didChange` content changes in order: a change without a range
/// replaces the whole text.
pub fn apply_changes(
    text: &str,
    changes: Vec<TextDocumentContentChangeEvent>,
    encoding: Encoding,
) -> String {
    let mut text = text.to_string();
    for change in changes {
        match change.range {
            None => text = change.text,
            Some(range) => {
                let lines = Lines::new(&text);
                let start = lines.offset(range.start, encoding);
                let end = lines.offset(range.end, encoding).max(start);
                text.replace_range(start..end, &change.text);
            }
        }
    }
    text
}

/// Characters a path segment keeps percent-encoded in a `file:` URI (what
/// VS Code and Neovim encode).
const PATH_SET: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let text = path.to_str()?.replace('\\', "/");
    let text = if text.starts_with('/') {
        text
    } else {
        // A Windows drive path: `file:///C:/...`.
        format!("/{text}")
    };
    Uri::from_str(&format!("file://{}", utf8_percent_encode(&text, PATH_SET))).ok()
}

/// The path a `file:` URI names; `None` for other schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let rest = text.strip_prefix("file://")?;
    // `file://host/path` is not a local file; `file:///path` and
    // `file://localhost/path` are.
    let path = if let Some(path) = rest.strip_prefix("localhost") {
        path
    } else {
        rest
    };
    if !path.starts_with('/') {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    let decoded = decoded.as_ref();
    // `/C:/x` on Windows is `C:/x`.
    let bytes = decoded.as_bytes();
    if cfg!(windows) && bytes.len() > 2 && bytes[2] == b':' {
        return Some(PathBuf::from(&decoded[1..]));
    }
    Some(PathBuf::from(decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_count_surrogate_pairs() {
        let text = "a\n😀b\n";
        let lines = Lines::new(text);
        let b = text.find('b').unwrap();
        assert_eq!(lines.position(b, Encoding::Utf16), Position::new(1, 2));
        assert_eq!(lines.position(b, Encoding::Utf8), Position::new(1, 4));
        assert_eq!(lines.offset(Position::new(1, 2), Encoding::Utf16), b);
        assert_eq!(lines.offset(Position::new(1, 99), Encoding::Utf16), b + 1);
        assert_eq!(
            lines.offset(Position::new(9, 0), Encoding::Utf16),
            text.len()
        );
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let change = |range: Option<Range>, text: &str| TextDocumentContentChangeEvent {
            range,
            range_length: None,
            text: text.to_string(),
        };
        let text = apply_changes(
            "fn a() {}\n",
            vec![
                change(
                    Some(Range::new(Position::new(0, 3), Position::new(0, 4))),
                    "bc",
                ),
                change(
                    Some(Range::new(Position::new(1, 0), Position::new(1, 0))),
                    "x",
                ),
            ],
            Encoding::Utf16,
        );
        assert_eq!(text, "fn bc() {}\nx");
    }

    #[test]
    fn file_uris_round_trip_with_escapes() {
        let path = Path::new("/tmp/a dir/crate#1/src/lib.rs");
        let uri = path_to_uri(path).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20dir/crate%231/src/lib.rs");
        assert_eq!(uri_to_path(&uri).unwrap(), path);
        let other = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_to_path(&other), None);
    }
}
