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
fn optional_lists_and_unknown_members() {
    let value = parse(r#"{"l":["a"],"z":null,"s":"x","o":[{"k":1}]}"#).unwrap();
    let fields = value.object().unwrap();
    assert_eq!(fields.opt_strings("l"), Ok(vec!["a".into()]));
    assert_eq!(fields.opt_strings("z"), Ok(vec![]));
    assert_eq!(fields.opt_strings("absent"), Ok(vec![]));
    assert_eq!(
        fields.opt_strings("s"),
        Err(Error::new("field `s` must be an array, not a string"))
    );
    assert_eq!(fields.opt_array("o").map(<[Value]>::len), Ok(1));
    assert_eq!(fields.opt_array("z").map(<[Value]>::len), Ok(0));
    assert!(fields.opt_array("s").is_err());
    assert_eq!(fields.only(&["l", "z", "s", "o"]), Ok(()));
    assert_eq!(
        fields.only(&["l", "z", "o"]),
        Err(Error::new(
            "unknown field `s`, expected one of `l`, `z`, `o`"
        ))
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
        "field `urls` must be an array, not a string"
    );
    assert_eq!(
        reason(r#"{"ice_servers": [{"urls": [], "user": "u"}]}"#),
        "unknown field `user`, expected one of `urls`, `username`, `credential`"
    );
    assert_eq!(
        reason(r#"{"ice_transport_policy": "sometimes"}"#),
        "ice_transport_policy `sometimes` must be `all` or `relay`"
    );
    assert_eq!(
        reason(r#"{"turn_urls": 3}"#),
        "field `turn_urls` must be an array, not a number"
    );
    assert_eq!(reason("[]"), "expected an object, found an array");
    assert_eq!(reason("{"), "unexpected end of text at byte 1");
}
