//! `config.json`'s structs derive `Deserialize`; they read a [`Value`] through this.

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
