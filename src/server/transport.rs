//! The LSP base protocol over stdio: `Content-Length` framing in, JSON-RPC
//! messages out. Unlike `lsp_server::Connection::stdio`, whose reader thread
//! stops at the first malformed message, a bad message here becomes a
//! JSON-RPC error reply and reading goes on.

use lsp_server::{ErrorCode, Message, RequestId};
use serde_json::Value;
use std::io::{self, BufRead, Write};

/// One message read from the client.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// Not a JSON-RPC message: answered with `error` (and `id`, when the
    /// message had a usable one), never dispatched.
    Malformed {
        id: Option<RequestId>,
        code: ErrorCode,
        message: String,
    },
}

/// Reads the next framed message; `Ok(None)` at the end of the stream.
pub fn read(input: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    let mut bad_header = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            // Stray blank lines between messages are tolerated.
            continue;
        }
        saw_header = true;
        match line.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => {
                        bad_header = Some(format!("invalid Content-Length `{}`", value.trim()))
                    }
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("malformed header line `{line}`")),
        }
    }
    let Some(length) = length.filter(|_| bad_header.is_none()) else {
        // Without a length the body cannot be found: report and read on from
        // the next header.
        return Ok(Some(Incoming::Malformed {
            id: None,
            code: ErrorCode::ParseError,
            message: bad_header.unwrap_or_else(|| "missing Content-Length header".to_string()),
        }));
    };
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(parse(&body)))
}

fn parse(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            return Incoming::Malformed {
                id: None,
                code: ErrorCode::ParseError,
                message: format!("malformed JSON: {error}"),
            };
        }
    };
    let id = match value.get("id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(RequestId::from),
        Some(Value::String(s)) => Some(RequestId::from(s.clone())),
        _ => None,
    };
    // `Message` is an untagged enum that reads `{"id": 1}` as a response;
    // decide the kind from the fields first, as JSON-RPC defines them.
    let is_object = value.is_object();
    let method = value.get("method");
    let kind = if !is_object {
        Err("a message must be a JSON object".to_string())
    } else if let Some(method) = method {
        if method.is_string() {
            Ok(())
        } else {
            Err("`method` must be a string".to_string())
        }
    } else if id.is_some() && (value.get("result").is_some() || value.get("error").is_some()) {
        Ok(())
    } else {
        Err("neither a request, a response nor a notification".to_string())
    };
    let parsed = kind
        .and_then(|()| serde_json::from_value::<Message>(value).map_err(|error| error.to_string()));
    match parsed {
        Ok(message) => Incoming::Message(message),
        Err(error) => Incoming::Malformed {
            id,
            code: ErrorCode::InvalidRequest,
            message: format!("invalid JSON-RPC message: {error}"),
        },
    }
}

/// What the writer thread sends.
#[derive(Debug)]
pub enum Outgoing {
    Message(Message),
    /// An error reply without a request id (`"id": null`), which
    /// `lsp_server::Response` cannot express.
    ErrorWithoutId {
        code: ErrorCode,
        message: String,
    },
}

/// Writes one message with its framing and flushes.
pub fn write(output: &mut impl Write, message: Outgoing) -> io::Result<()> {
    match message {
        Outgoing::Message(message) => message.write(output),
        Outgoing::ErrorWithoutId { code, message } => {
            let body = serde_json::json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": code as i32, "message": message },
            })
            .to_string();
            write!(output, "Content-Length: {}\r\n\r\n{body}", body.len())?;
            output.flush()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn malformed_messages_do_not_stop_reading() {
        let input = [
            frame("{not json"),
            frame(r#"{"jsonrpc":"2.0","id": 7, "method": 5}"#),
            "X-Nothing: 1\r\n\r\n".to_string(),
            frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#),
        ]
        .concat();
        let mut reader = io::Cursor::new(input.into_bytes());
        let mut got = Vec::new();
        while let Some(incoming) = read(&mut reader).unwrap() {
            got.push(incoming);
        }
        assert!(matches!(
            &got[0],
            Incoming::Malformed {
                id: None,
                code: ErrorCode::ParseError,
                ..
            }
        ));
        assert!(matches!(
            &got[1],
            Incoming::Malformed { id: Some(id), code: ErrorCode::InvalidRequest, .. } if *id == RequestId::from(7)
        ));
        assert!(matches!(
            &got[2],
            Incoming::Malformed {
                id: None,
                code: ErrorCode::ParseError,
                ..
            }
        ));
        assert!(
            matches!(&got[3], Incoming::Message(Message::Request(r)) if r.method == "shutdown")
        );
        assert_eq!(got.len(), 4);
    }
}
