//! SecLang (ModSecurity rule language) parser, as the OWASP Core Rule Set 4 uses it.
//!
//! [`parse`] is pure (`&str -> Result<Vec<Directive>, ParseError>`) and leaves `Include` directives
//! in place; [`load_file`] reads a file and resolves its includes (globs relative to the including
//! file). Every error names the file, line and column.

mod ast;
mod include;
mod lines;
mod parse;

pub use ast::*;
pub use include::load_file;
pub use parse::{parse, parse_actions, parse_id_range, parse_operator, parse_variables};

/// A syntax error or an unreadable included file, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ParseError {
    pub location: Location,
    pub message: String,
}

impl ParseError {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        ParseError {
            location,
            message: message.into(),
        }
    }
}
