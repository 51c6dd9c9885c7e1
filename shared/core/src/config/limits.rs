//! Bounds checked before the YAML parser sees a config: its size and how
//! deeply its flow collections (`[...]`, `{...}`) nest. The parser's time
//! grows quadratically with nesting (20,000 levels took 1.6 s, 200 KB of
//! brackets over 10 s), so deep input is refused by a linear scan instead.

use super::error::FieldError;

/// Largest config accepted, bytes. Real configs are a few KB per target.
pub const MAX_BYTES: usize = 1 << 20;
/// Deepest flow-collection nesting accepted. A target needs about 5.
pub const MAX_DEPTH: usize = 64;
/// Widest indentation accepted, columns: block nesting by indentation, the
/// other way to nest deeply (a real config indents 12 or so).
pub const MAX_INDENT: usize = 256;

/// The first bound `text` breaks, as a field error at the top level.
pub(super) fn check(text: &str) -> Result<(), FieldError> {
    if text.len() > MAX_BYTES {
        return Err(FieldError {
            path: String::new(),
            message: format!(
                "the config is {} bytes, above the {MAX_BYTES}-byte limit",
                text.len()
            ),
        });
    }
    check_block_nesting(text)?;
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut previous = '\n';
    for c in text.chars() {
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
            comment = false;
            previous = c;
            continue;
        }
        match (quote, c) {
            _ if comment => {}
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            // A comment starts at a `#` after white space or at a line's start.
            (None, '#') if previous.is_whitespace() => comment = true,
            (None, '[' | '{') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(FieldError {
                        path: String::new(),
                        message: format!(
                            "line {line}, column {column}: collections nest deeper than {MAX_DEPTH} levels"
                        ),
                    });
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    Ok(())
}

/// Block collections nest by indentation and by `- ` entries on one line
/// (`- - - x`); 300,000 of those took 130 ms to parse and an error path as
/// long as the input to report.
fn check_block_nesting(text: &str) -> Result<(), FieldError> {
    for (i, line) in text.lines().enumerate() {
        let content = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - content.len();
        let mut entries = 0;
        let mut rest = content;
        while let Some(after) = rest.strip_prefix('-') {
            if !(after.is_empty() || after.starts_with([' ', '\t'])) {
                break;
            }
            entries += 1;
            rest = after.trim_start_matches([' ', '\t']);
        }
        let why = if indent > MAX_INDENT {
            format!("indented {indent} columns, deeper than {MAX_INDENT}")
        } else if entries > MAX_DEPTH {
            format!("{entries} nested `- ` entries, more than {MAX_DEPTH}")
        } else {
            continue;
        };
        return Err(FieldError {
            path: String::new(),
            message: format!("line {}: {why}", i + 1),
        });
    }
    Ok(())
}
