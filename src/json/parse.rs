//! Text to [`Value`]: a recursive-descent parser, depth-bounded, exact for 64-bit integers.

use super::{Error, Number, Value, MAX_DEPTH};

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
