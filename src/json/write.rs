//! Writing the flat objects our messages are, byte for byte as serde_json writes them.

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
