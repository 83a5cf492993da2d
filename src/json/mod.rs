//! A small JSON reader and writer for the few JSON texts the app handles: `config.json`, the
//! endpoint's frames and the signaling payloads peers seal for each other.
//!
//! serde_json did this before, at a cost of roughly a quarter of the wasm download (its generic
//! parser instantiated per message type, serde's buffering of internally tagged enums, float
//! parsing and formatting none of these texts need). This module parses any valid JSON into a
//! [`Value`] tree, keeps integers exact up to `u64` (session ids use all 64 bits, which the
//! browser's `JSON.parse` would round), and refuses malformed text with the byte where it went
//! wrong. Readers of each message (and of `config.json`) live next to their types, reading
//! members by name with [`Fields`]; a serde `Deserializer` for [`Value`] cost more first-load
//! bytes than all of those readers together.

mod fields;
mod parse;
mod write;

pub use fields::Fields;
pub use parse::parse;
pub use write::{write_str, ObjectWriter};

use std::fmt;

/// Objects and arrays nested deeper than this are refused (as serde_json did at 128), so hostile
/// text cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Objects keep their members in order; a key appears at most once.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// A JSON number: exact when it is an integer that fits `u64` or `i64`; other numbers (fractions,
/// exponents, huge integers) are valid JSON that none of our messages use, and are kept as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Unsigned(u64),
    Negative(i64),
    Other(String),
}

/// Why a text is not the JSON expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    fn at(reason: &str, position: usize) -> Self {
        Self(format!("{reason} at byte {position}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests;
