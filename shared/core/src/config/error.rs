//! A config problem: where (the field path) and what (with the bad value).

use std::fmt;

/// One problem in a config file: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Field path such as `targets[2].policy.scale_in.cooldown`.
    pub path: String,
    /// What is wrong, with the bad value.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            // A problem with the whole document.
            return write!(f, "{}", self.message);
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl FieldError {
    /// The same error with its path placed under `prefix`.
    pub(super) fn under(mut self, prefix: &str) -> FieldError {
        self.path = match (prefix.is_empty(), self.path.as_str()) {
            // An empty path: the error is about the top level, or a key
            // that is the empty string.
            (true, "." | "") => "(top level)".to_string(),
            (true, _) => self.path,
            (false, "." | "") => prefix.to_string(),
            (false, p) => format!("{prefix}.{p}"),
        };
        self
    }
}
