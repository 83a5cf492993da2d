//! Reading an object's members by name, with errors that name the field.

use super::{Error, Number, Value};

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

    /// A whole number that must also fit `T` (a `u32`, a `usize`, ...).
    pub fn uint<T: TryFrom<u64>>(&self, name: &str) -> Result<T, Error> {
        fits(name, self.u64(name)?)
    }

    pub fn opt_uint<T: TryFrom<u64>>(&self, name: &str) -> Result<Option<T>, Error> {
        self.opt_u64(name)?.map(|n| fits(name, n)).transpose()
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>, Error> {
        strings(name, self.required(name)?)
    }

    /// A list of strings, empty when the field is missing or `null`.
    pub fn opt_strings(&self, name: &str) -> Result<Vec<String>, Error> {
        self.optional(name)
            .map_or(Ok(Vec::new()), |value| strings(name, value))
    }

    /// The items of an array, none when the field is missing or `null`.
    pub fn opt_array(&self, name: &str) -> Result<&'a [Value], Error> {
        match self.optional(name) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(wrong_type(name, "an array", other)),
        }
    }

    /// Refuses a member not named in `known` (a typo in a hand-written file must not pass
    /// silently as a missing field).
    pub fn only(&self, known: &[&str]) -> Result<(), Error> {
        match self
            .members
            .iter()
            .find(|(key, _)| !known.contains(&key.as_str()))
        {
            Some((key, _)) => Err(Error::new(format!(
                "unknown field `{key}`, expected one of `{}`",
                known.join("`, `")
            ))),
            None => Ok(()),
        }
    }
}

fn strings(name: &str, value: &Value) -> Result<Vec<String>, Error> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| as_str(name, item).map(str::to_owned))
            .collect(),
        other => Err(wrong_type(name, "an array", other)),
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

fn fits<T: TryFrom<u64>>(name: &str, n: u64) -> Result<T, Error> {
    T::try_from(n).map_err(|_| Error::new(format!("field `{name}` is out of range")))
}
