//! How kubectl resolves a plain (unquoted, untagged) YAML scalar: YAML 1.1 as go-yaml v2 reads it,
//! then turned into JSON as sigs.k8s.io/yaml does. Pure functions on one scalar's text; never
//! parses documents (that is `manifest::load`) and never guesses beyond what those two libraries do.
//!
//! The rules, checked against go-yaml v2.4.2 `resolve.go` and sigs.k8s.io/yaml v1.6.0 `yaml.go`,
//! and compared with kubectl v1.34.4 by `tests/it/yaml11.rs`:
//!
//! | Plain scalar | kubectl reads | Why |
//! | --- | --- | --- |
//! | `0644`, `-0644`, `+0644` | 420, -420, 420 | Go `ParseInt(s, 0, 64)`: a leading `0` is octal |
//! | `0o17`, `0x1F`, `0X1f`, `0b1010`, `-0b11` | 15, 31, 31, 10, -3 | the same, Go prefixes |
//! | `08`, `09.5` | 8, 9.5 | not octal, so a YAML float |
//! | `1_000`, `0x_FF`, `1_0.5` | 1000, 255, 10.5 | underscores are removed first |
//! | `+12`, `-0`, `1e3`, `1E3`, `3.0`, `1.`, `.5` | 12, 0, 1000, 1000, 3, 1, 0.5 | integral floats print as integers in JSON |
//! | `18446744073709551615` | that integer | `ParseUint` after `ParseInt` overflows |
//! | `1e400` | the string `1e400` | out of range, so not a float |
//! | `y Y yes Yes YES on On ON true True TRUE` | true | go-yaml's table, case exactly so |
//! | `n N no No NO off Off OFF false False FALSE` | false | `yEs`, `oN` stay strings |
//! | `~`, `null`, `Null`, `NULL`, empty | null | |
//! | `.inf`, `-.Inf`, `.nan` | an error | JSON has no infinity; kubectl fails the same way |
//! | `inf`, `nan`, `Infinity`, `0x1p-2`, `1e`, `._1` | strings | not in go-yaml's grammar |
//! | `2001-12-14`, `2001-12-14t21:59:43.10-05:00` | the same strings | go-yaml v2 resolves timestamps but decodes them into `interface{}` as the text written (`decode.go`) |
//!
//! Quoted scalars, block scalars and `!!str` are always strings. Mapping keys become strings:
//! `1: a` is `"1"`, `yes: a` is `"true"`; a null key is an error, as in kubectl. A duplicate key:
//! the last value wins (go-yaml v2 without strict mode). `<<` merges: keys written after it win.

use serde_json::{Number, Value};

/// A resolved plain scalar, before it becomes JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

/// Resolves a plain scalar as go-yaml v2 does.
pub fn resolve(text: &str) -> Scalar {
    let hint = match text.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return Scalar::Str(text.to_owned()),
    };
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        _ => (),
    }
    match hint {
        b'.' => {
            if let Some(float) = parse_float(text) {
                return Scalar::Float(float);
            }
        }
        b'D' | b'S' => {
            let plain = text.replace('_', "");
            if let Some(int) = go_parse_int(&plain) {
                return int;
            }
            if let Some(float) = parse_float(&plain) {
                return Scalar::Float(float);
            }
        }
        _ => (),
    }
    Scalar::Str(text.to_owned())
}

impl Scalar {
    /// The JSON value kubectl sends: integral floats print as integers (Go's `encoding/json`).
    pub fn into_value(self) -> Result<Value, String> {
        Ok(match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(it) => Value::Bool(it),
            Scalar::Int(it) => Value::from(it),
            Scalar::Uint(it) => Value::from(it),
            Scalar::Float(it) if !it.is_finite() => {
                return Err(format!(
                    "{it} (.inf or .nan) cannot be written as JSON, so kubectl rejects it too; quote it if it is text"
                ));
            }
            #[expect(
                clippy::cast_possible_truncation,
                reason = "checked integral and in range"
            )]
            Scalar::Float(it) if it.fract() == 0.0 && it.abs() < 9.0e18 => Value::from(it as i64),
            Scalar::Float(it) => Number::from_f64(it).map_or(Value::Null, Value::Number),
            Scalar::Str(it) => Value::String(it),
        })
    }
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut idx = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |idx: &mut usize| {
        let start = *idx;
        while bytes.get(*idx).is_some_and(u8::is_ascii_digit) {
            *idx += 1;
        }
        *idx - start
    };
    if bytes.get(idx) == Some(&b'.') {
        idx += 1;
        if digits(&mut idx) == 0 {
            return false;
        }
    } else {
        if digits(&mut idx) == 0 {
            return false;
        }
        if bytes.get(idx) == Some(&b'.') {
            idx += 1;
            digits(&mut idx);
        }
    }
    if matches!(bytes.get(idx), Some(b'e' | b'E')) {
        idx += 1;
        if matches!(bytes.get(idx), Some(b'+' | b'-')) {
            idx += 1;
        }
        if digits(&mut idx) == 0 {
            return false;
        }
    }
    idx == bytes.len()
}

/// A finite float in go-yaml's float syntax.
fn parse_float(text: &str) -> Option<f64> {
    if !is_yaml_float(text) {
        return None;
    }
    text.parse::<f64>().ok().filter(|it| it.is_finite())
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: a sign, then `0x`, `0o`, `0b`
/// or a leading `0` (octal) choose the base.
fn go_parse_int(text: &str) -> Option<Scalar> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|it| it.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    let signed = if negative {
        -i128::try_from(magnitude).ok()?
    } else {
        i128::try_from(magnitude).ok()?
    };
    if let Ok(int) = i64::try_from(signed) {
        return Some(Scalar::Int(int));
    }
    // `ParseUint` accepts no sign at all.
    if text.starts_with(['+', '-']) {
        return None;
    }
    u64::try_from(magnitude).ok().map(Scalar::Uint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: &str) {
        let got = match resolve(text).into_value() {
            Ok(value) => value.to_string(),
            Err(_) => "error".to_owned(),
        };
        assert_eq!(got, expect, "{text:?}");
    }

    #[test]
    fn table() {
        for (text, expect) in [
            ("0644", "420"),
            ("-0644", "-420"),
            ("+0644", "420"),
            ("0400", "256"),
            ("0o17", "15"),
            ("0x1F", "31"),
            ("0X1f", "31"),
            ("0b1010", "10"),
            ("-0b11", "-3"),
            ("08", "8"),
            ("09.5", "9.5"),
            ("1_000", "1000"),
            ("0x_FF", "255"),
            ("1_0.5", "10.5"),
            ("+12", "12"),
            ("-0", "0"),
            ("1e3", "1000"),
            ("1E3", "1000"),
            ("3.0", "3"),
            ("1.", "1"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("18446744073709551615", "18446744073709551615"),
            ("1e400", "\"1e400\""),
            ("yes", "true"),
            ("Y", "true"),
            ("ON", "true"),
            ("yEs", "\"yEs\""),
            ("off", "false"),
            ("n", "false"),
            ("~", "null"),
            ("", "null"),
            ("Null", "null"),
            (".inf", "error"),
            ("-.Inf", "error"),
            (".nan", "error"),
            ("inf", "\"inf\""),
            ("nan", "\"nan\""),
            ("0x1p-2", "\"0x1p-2\""),
            ("1e", "\"1e\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("1.2.3", "\"1.2.3\""),
            ("nginx:1.25", "\"nginx:1.25\""),
            ("12:30", "\"12:30\""),
        ] {
            check(text, expect);
        }
    }
}
