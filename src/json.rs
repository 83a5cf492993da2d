//! A small JSON reader and writer for the few JSON texts the app handles: `config.json`, the
//! endpoint's frames and the signaling payloads peers seal for each other.
//!
//! serde_json did this before, at a cost of roughly a quarter of the wasm download (its generic
//! parser instantiated per message type, serde's buffering of internally tagged enums, float
//! parsing and formatting none of these texts need). This module parses any valid JSON into a
//! [`Value`] tree, keeps integers exact up to `u64` (session ids use all 64 bits, which the
//! browser's `JSON.parse` would round), and refuses malformed text with the byte where it went
//! wrong. Readers of each message live next to their types; [`Value`] is also a serde
//! `Deserializer`, for `config.json`'s derived structs.

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

/// Parses one JSON value; only whitespace may follow it.
pub fn parse(text: &str) -> Result<Value, Error> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        position: 0,
    };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.position != parser.bytes.len() {
        return Err(Error::at("trailing characters", parser.position));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Parser<'_> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.position += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    /// `reason`, or that the text ended, at the current byte.
    fn error(&self, reason: &str) -> Error {
        if self.position < self.bytes.len() {
            Error::at(reason, self.position)
        } else {
            Error::at("unexpected end of text", self.position)
        }
    }

    fn expect(&mut self, byte: u8, reason: &str) -> Result<(), Error> {
        self.skip_whitespace();
        if self.peek() != Some(byte) {
            return Err(self.error(reason));
        }
        self.position += 1;
        Ok(())
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, Error> {
        if !self.bytes[self.position..].starts_with(word.as_bytes()) {
            return Err(self.error("expected a value"));
        }
        self.position += word.len();
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'n') => self.literal("null", Value::Null),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(open @ (b'[' | b'{')) => {
                if depth >= MAX_DEPTH {
                    return Err(self.error("nested too deeply"));
                }
                self.position += 1;
                if open == b'[' {
                    self.array(depth + 1)
                } else {
                    self.object(depth + 1)
                }
            }
            _ => Err(self.error("expected a value")),
        }
    }

    /// After `[`.
    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.position += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b']') => {
                    self.position += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// After `{`.
    fn object(&mut self, depth: usize) -> Result<Value, Error> {
        let mut members: Vec<(String, Value)> = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.position += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key in quotes"));
            }
            let key_at = self.position;
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(Error::at(&format!("duplicate key `{key}`"), key_at));
            }
            self.expect(b':', "expected `:`")?;
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b'}') => {
                    self.position += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    /// At the opening quote.
    fn string(&mut self) -> Result<String, Error> {
        self.position += 1;
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character as it is: the
            // input is a `&str`, so such a run is valid UTF-8.
            let start = self.position;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.position += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.bytes[start..self.position]).expect("splits at ASCII"),
            );
            match self.peek() {
                Some(b'"') => {
                    self.position += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.position += 1;
                    let escaped = self.peek().ok_or_else(|| self.error("unfinished escape"))?;
                    self.position += 1;
                    out.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(Error::at("invalid escape", self.position - 1)),
                    });
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(Error::at("unterminated string", self.position)),
            }
        }
    }

    /// After `\u`: one code point, from a surrogate pair when it takes two escapes.
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.position..].starts_with(b"\\u") {
                    return Err(self.error("unpaired surrogate"));
                }
                self.position += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("unpaired surrogate"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("unpaired surrogate")),
            _ => first,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid code point"))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let digits = self
            .bytes
            .get(self.position..self.position + 4)
            .ok_or_else(|| self.error("unfinished escape"))?;
        let mut code = 0;
        for &d in digits {
            let digit = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid escape"))?;
            code = code * 16 + digit;
        }
        self.position += 4;
        Ok(code)
    }

    fn digits(&mut self) -> usize {
        let start = self.position;
        while let Some(b'0'..=b'9') = self.peek() {
            self.position += 1;
        }
        self.position - start
    }

    /// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Number, Error> {
        let start = self.position;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.position += 1;
        }
        let int_start = self.position;
        match self.digits() {
            0 => return Err(self.error("expected a digit")),
            n if n > 1 && self.bytes[int_start] == b'0' => {
                return Err(Error::at("leading zero in a number", int_start))
            }
            _ => {}
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.position += 1;
            integer = false;
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.position += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.position += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.position]).expect("ASCII");
        let exact = if !integer {
            None
        } else if negative {
            text.parse().ok().map(Number::Negative)
        } else {
            text.parse().ok().map(Number::Unsigned)
        };
        Ok(exact.unwrap_or_else(|| Number::Other(text.to_owned())))
    }
}

impl Value {
    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The members of an object, read by name.
    pub fn object(&self) -> Result<Fields<'_>, Error> {
        match self {
            Value::Object(members) => Ok(Fields { members }),
            other => Err(Error::new(format!(
                "expected an object, found {}",
                other.kind()
            ))),
        }
    }
}

/// The members of an object, with the readers our messages need. A missing field and a field of
/// the wrong type are errors naming the field, except for `opt_*` readers, which take a missing
/// field or `null` as `None`.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    members: &'a [(String, Value)],
}

impl<'a> Fields<'a> {
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.members
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    fn required(&self, name: &str) -> Result<&'a Value, Error> {
        self.get(name)
            .ok_or_else(|| Error::new(format!("missing field `{name}`")))
    }

    fn optional(&self, name: &str) -> Option<&'a Value> {
        self.get(name).filter(|value| **value != Value::Null)
    }

    pub fn str(&self, name: &str) -> Result<&'a str, Error> {
        as_str(name, self.required(name)?)
    }

    pub fn string(&self, name: &str) -> Result<String, Error> {
        self.str(name).map(str::to_owned)
    }

    pub fn opt_string(&self, name: &str) -> Result<Option<String>, Error> {
        self.optional(name)
            .map(|value| as_str(name, value).map(str::to_owned))
            .transpose()
    }

    pub fn bool(&self, name: &str) -> Result<bool, Error> {
        match self.required(name)? {
            Value::Bool(b) => Ok(*b),
            other => Err(wrong_type(name, "a boolean", other)),
        }
    }

    pub fn u64(&self, name: &str) -> Result<u64, Error> {
        as_u64(name, self.required(name)?)
    }

    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, Error> {
        self.optional(name)
            .map(|value| as_u64(name, value))
            .transpose()
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>, Error> {
        match self.required(name)? {
            Value::Array(items) => items
                .iter()
                .map(|item| as_str(name, item).map(str::to_owned))
                .collect(),
            other => Err(wrong_type(name, "an array", other)),
        }
    }
}

fn wrong_type(name: &str, expected: &str, found: &Value) -> Error {
    Error::new(format!(
        "field `{name}` must be {expected}, not {}",
        found.kind()
    ))
}

fn as_str<'a>(name: &str, value: &'a Value) -> Result<&'a str, Error> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(name, "a string", other)),
    }
}

fn as_u64(name: &str, value: &Value) -> Result<u64, Error> {
    match value {
        Value::Number(Number::Unsigned(n)) => Ok(*n),
        other => Err(wrong_type(name, "a whole number of at most 64 bits", other)),
    }
}

/// Writes `text` as a JSON string, escaped exactly as serde_json does (quote, backslash and
/// control characters; everything else as it is).
pub fn write_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Builds one JSON object, members in the order written.
pub struct ObjectWriter {
    out: String,
}

impl ObjectWriter {
    pub fn new() -> Self {
        Self {
            out: String::from("{"),
        }
    }

    fn key(&mut self, name: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        write_str(&mut self.out, name);
        self.out.push(':');
    }

    pub fn str(mut self, name: &str, value: &str) -> Self {
        self.key(name);
        write_str(&mut self.out, value);
        self
    }

    pub fn opt_str(mut self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.str(name, value),
            None => {
                self.key(name);
                self.out.push_str("null");
                self
            }
        }
    }

    pub fn u64(mut self, name: &str, value: u64) -> Self {
        self.key(name);
        self.out.push_str(&value.to_string());
        self
    }

    pub fn opt_u64(mut self, name: &str, value: Option<u64>) -> Self {
        match value {
            Some(value) => self.u64(name, value),
            None => {
                self.key(name);
                self.out.push_str("null");
                self
            }
        }
    }

    pub fn bool(mut self, name: &str, value: bool) -> Self {
        self.key(name);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

impl Default for ObjectWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// `config.json`'s structs derive `Deserialize`; they read a [`Value`] through this.
mod de {
    use super::{Error, Number, Value};
    use serde::de::value::{StrDeserializer, StringDeserializer};
    use serde::de::{self, IntoDeserializer, Unexpected, Visitor};
    use std::fmt::Display;

    impl de::Error for Error {
        fn custom<T: Display>(message: T) -> Self {
            Error(message.to_string())
        }

        // serde's own wording of these goes through `Unexpected`'s `Display`, which formats
        // floats and would bring float printing into the wasm for an error message.
        fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
            Error(format!(
                "invalid type: {}, expected {expected}",
                describe(unexpected)
            ))
        }

        fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
            Error(format!(
                "invalid value: {}, expected {expected}",
                describe(unexpected)
            ))
        }
    }

    fn describe(unexpected: Unexpected<'_>) -> String {
        match unexpected {
            Unexpected::Bool(b) => format!("boolean `{b}`"),
            Unexpected::Unsigned(n) => format!("integer `{n}`"),
            Unexpected::Signed(n) => format!("integer `{n}`"),
            Unexpected::Str(s) => format!("string {s:?}"),
            Unexpected::Float(_) | Unexpected::Other(_) => "a number".into(),
            Unexpected::Unit => "null".into(),
            Unexpected::Seq => "an array".into(),
            Unexpected::Map => "an object".into(),
            _ => "a value of another type".into(),
        }
    }

    impl<'de> IntoDeserializer<'de, Error> for &'de Value {
        type Deserializer = Self;

        fn into_deserializer(self) -> Self {
            self
        }
    }

    impl<'de> de::Deserializer<'de> for &'de Value {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self {
                Value::Null => visitor.visit_unit(),
                Value::Bool(b) => visitor.visit_bool(*b),
                Value::Number(Number::Unsigned(n)) => visitor.visit_u64(*n),
                Value::Number(Number::Negative(n)) => visitor.visit_i64(*n),
                Value::Number(Number::Other(text)) => Err(Error(format!(
                    "the number {text} is not supported here (whole numbers only)"
                ))),
                Value::String(s) => visitor.visit_str(s),
                Value::Array(items) => {
                    let mut seq = de::value::SeqDeserializer::new(items.iter());
                    let value = visitor.visit_seq(&mut seq)?;
                    seq.end()?;
                    Ok(value)
                }
                Value::Object(members) => {
                    let mut map = de::value::MapDeserializer::new(
                        members
                            .iter()
                            .map(|(k, v)| (StrDeserializer::<Error>::new(k), v)),
                    );
                    let value = visitor.visit_map(&mut map)?;
                    map.end()?;
                    Ok(value)
                }
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self {
                Value::Null => visitor.visit_none(),
                other => visitor.visit_some(other),
            }
        }

        /// Unit variants are strings, as serde_json reads them.
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Error> {
            match self {
                Value::String(s) => visitor.visit_enum(StringDeserializer::<Error>::new(s.clone())),
                other => Err(Error(format!(
                    "expected a string naming a variant, found {}",
                    other.kind()
                ))),
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, Error> {
            visitor.visit_newtype_struct(self)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
            identifier ignored_any
        }
    }

    /// Reads a derived `Deserialize` type from a parsed value.
    pub fn from_value<'de, T: de::Deserialize<'de>>(value: &'de Value) -> Result<T, Error> {
        T::deserialize(value)
    }
}

pub use de::from_value;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_value() {
        assert_eq!(
            parse(r#" {"a": [1, -2, 1.5e3, true, false, null, "x"], "b": {}} "#),
            Ok(Value::Object(vec![
                (
                    "a".into(),
                    Value::Array(vec![
                        Value::Number(Number::Unsigned(1)),
                        Value::Number(Number::Negative(-2)),
                        Value::Number(Number::Other("1.5e3".into())),
                        Value::Bool(true),
                        Value::Bool(false),
                        Value::Null,
                        Value::String("x".into()),
                    ])
                ),
                ("b".into(), Value::Object(vec![])),
            ]))
        );
        assert_eq!(parse("[]"), Ok(Value::Array(vec![])));
    }

    #[test]
    fn integers_are_exact_to_64_bits() {
        assert_eq!(
            parse("18446744073709551615"),
            Ok(Value::Number(Number::Unsigned(u64::MAX)))
        );
        assert_eq!(
            parse("18446744073709551616"),
            Ok(Value::Number(Number::Other("18446744073709551616".into())))
        );
        assert_eq!(
            parse("-9223372036854775808"),
            Ok(Value::Number(Number::Negative(i64::MIN)))
        );
    }

    #[test]
    fn strings_unescape_as_json_says() {
        assert_eq!(
            parse(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00ü""#),
            Ok(Value::String("a\"b\\c/d\u{8}\u{c}\n\r\té😀ü".into()))
        );
    }

    #[test]
    fn malformed_text_is_refused_with_a_position() {
        for (text, error) in [
            ("", "unexpected end of text at byte 0"),
            ("nul", "expected a value at byte 0"),
            ("{\"a\" 1}", "expected `:` at byte 5"),
            ("{\"a\":1,}", "expected a key in quotes at byte 7"),
            ("[1 2]", "expected `,` or `]` at byte 3"),
            ("{} x", "trailing characters at byte 3"),
            ("\"abc", "unterminated string at byte 4"),
            ("\"a\nb\"", "control character in a string at byte 2"),
            ("\"\\x\"", "invalid escape at byte 2"),
            ("\"\\ud800\"", "unpaired surrogate at byte 7"),
            ("01", "leading zero in a number at byte 0"),
            ("-", "unexpected end of text at byte 1"),
            ("1.", "unexpected end of text at byte 2"),
            ("1.x", "expected a digit at byte 2"),
            ("[1,", "unexpected end of text at byte 3"),
            ("{\"a\":1,\"a\":2}", "duplicate key `a` at byte 7"),
        ] {
            assert_eq!(parse(text), Err(Error::new(error)), "{text:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(&deep),
            Err(Error::new(format!("nested too deeply at byte {MAX_DEPTH}")))
        );
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn fields_read_by_name_and_type() {
        let value = parse(r#"{"s":"x","n":7,"b":true,"z":null,"l":["a","b"],"bad":-1}"#).unwrap();
        let fields = value.object().unwrap();
        assert_eq!(fields.str("s"), Ok("x"));
        assert_eq!(fields.u64("n"), Ok(7));
        assert_eq!(fields.bool("b"), Ok(true));
        assert_eq!(fields.opt_string("z"), Ok(None));
        assert_eq!(fields.opt_string("absent"), Ok(None));
        assert_eq!(fields.opt_u64("n"), Ok(Some(7)));
        assert_eq!(fields.strings("l"), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(
            fields.u64("missing"),
            Err(Error::new("missing field `missing`"))
        );
        assert_eq!(
            fields.u64("bad"),
            Err(Error::new(
                "field `bad` must be a whole number of at most 64 bits, not a number"
            ))
        );
        assert_eq!(
            fields.str("n"),
            Err(Error::new("field `n` must be a string, not a number"))
        );
        assert!(Value::Null.object().is_err());
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let text = "quote\" backslash\\ nl\n cr\r tab\t bs\u{8} ff\u{c} nul\u{0} us\u{1f} é/😀";
        let mut ours = String::new();
        write_str(&mut ours, text);
        assert_eq!(ours, serde_json::to_string(text).unwrap());
        assert_eq!(parse(&ours), Ok(Value::String(text.into())));

        let object = ObjectWriter::new()
            .str("s", "x")
            .u64("n", u64::MAX)
            .bool("b", false)
            .opt_str("o", None)
            .opt_u64("p", Some(3))
            .finish();
        assert_eq!(
            object,
            r#"{"s":"x","n":18446744073709551615,"b":false,"o":null,"p":3}"#
        );
        assert_eq!(ObjectWriter::new().finish(), "{}");
    }

    #[test]
    fn derived_structs_read_values() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct S {
            name: String,
            #[serde(default)]
            list: Vec<String>,
            maybe: Option<u32>,
            kind: Kind,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        #[serde(rename_all = "lowercase")]
        enum Kind {
            All,
            Relay,
        }
        let read = |text: &str| from_value::<S>(&parse(text).unwrap());
        assert_eq!(
            read(r#"{"name":"n","list":["a"],"maybe":null,"kind":"relay"}"#),
            Ok(S {
                name: "n".into(),
                list: vec!["a".into()],
                maybe: None,
                kind: Kind::Relay
            })
        );
        assert_eq!(
            read(r#"{"name":"n","maybe":4,"kind":"all"}"#).map(|s| (s.maybe, s.kind)),
            Ok((Some(4), Kind::All))
        );
        assert_eq!(
            read(r#"{"name":"n","kind":"all","nmae":1}"#),
            Err(Error::new(
                "unknown field `nmae`, expected one of `name`, `list`, `maybe`, `kind`"
            ))
        );
        assert_eq!(
            read(r#"{"name":5,"kind":"all"}"#),
            Err(Error::new("invalid type: integer `5`, expected a string"))
        );
        assert_eq!(
            read(r#"{"name":"n","kind":"some"}"#),
            Err(Error::new(
                "unknown variant `some`, expected `all` or `relay`"
            ))
        );
        assert_eq!(
            read(r#"{"name":"n","maybe":1.5,"kind":"all"}"#),
            Err(Error::new(
                "the number 1.5 is not supported here (whole numbers only)"
            ))
        );
        assert_eq!(
            read(r#"{"name":"n","maybe":70000000000,"kind":"all"}"#),
            Err(Error::new(
                "invalid value: integer `70000000000`, expected u32"
            ))
        );
        assert_eq!(
            read(r#"{"kind":"all"}"#),
            Err(Error::new("missing field `name`"))
        );
    }

    #[test]
    fn config_mistakes_are_explained() {
        use crate::config::{AppConfig, ConfigError};
        let reason = |text: &str| match AppConfig::from_json(text) {
            Err(ConfigError::Invalid(reason)) => reason,
            other => panic!("{text}: {other:?}"),
        };
        assert!(reason(r#"{"signalling_url": "/ws"}"#)
            .starts_with("unknown field `signalling_url`, expected "));
        assert_eq!(
            reason(r#"{"ice_servers": [{"urls": "stun:x"}]}"#),
            "invalid type: string \"stun:x\", expected a sequence"
        );
        assert_eq!(reason("{"), "unexpected end of text at byte 1");
    }
}
