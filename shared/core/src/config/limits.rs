//! Bounds checked before the YAML parser sees a config: its size and how
//! deeply its flow collections (`[...]`, `{...}`) nest. The parser's time
//! grows quadratically with nesting (20,000 levels took 1.6 s, 200 KB of
//! brackets over 10 s), so deep input is refused by a linear scan instead.

use super::FieldError;

/// Largest config accepted, bytes. Real configs are a few KB per target.
pub const MAX_BYTES: usize = 1 << 20;
/// Deepest flow-collection nesting accepted. A target needs about 5.
pub const MAX_DEPTH: usize = 64;

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
