//! go-yaml v2's implicit timestamps, printed as Go's `encoding/json` prints a `time.Time`
//! (RFC 3339 with nanoseconds, trailing zeros dropped). Only the four layouts go-yaml tries;
//! never a general date parser.
//!
//! Layouts (Go `time.Parse`): `2006-1-2T15:4:5.999999999Z07:00`, the same with a lower-case `t`,
//! `2006-1-2 15:4:5.999999999` (UTC) and `2006-1-2` (midnight UTC). Month, day, hour, minute and
//! second take one or two digits; the zone is `Z` or `±hh:mm`.

/// The RFC 3339 text kubectl sends for a plain scalar that go-yaml reads as a timestamp.
pub fn parse(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // go-yaml's quick check: exactly four digits, then `-`.
    if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let mut cursor = Cursor { bytes, idx: 5 };
    let year: u32 = text[..4].parse().ok()?;
    let month = cursor.number()?;
    cursor.expect(b'-')?;
    let day = cursor.number()?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let separator = match cursor.next() {
        None => return Some(format!("{date}T00:00:00Z")),
        Some(it @ (b'T' | b't' | b' ')) => it,
        Some(_) => return None,
    };
    let hour = cursor.number()?;
    cursor.expect(b':')?;
    let minute = cursor.number()?;
    cursor.expect(b':')?;
    let second = cursor.number()?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut fraction = String::new();
    if cursor.peek() == Some(b'.')
        && cursor
            .bytes
            .get(cursor.idx + 1)
            .is_some_and(u8::is_ascii_digit)
    {
        cursor.idx += 1;
        while let Some(digit) = cursor.peek().filter(u8::is_ascii_digit) {
            if fraction.len() < 9 {
                fraction.push(char::from(digit));
            }
            cursor.idx += 1;
        }
    }
    let fraction = fraction.trim_end_matches('0');
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    let zone = if separator == b' ' {
        "Z".to_owned()
    } else {
        match cursor.next()? {
            b'Z' => "Z".to_owned(),
            sign @ (b'+' | b'-') => {
                let rest = &text[cursor.idx..];
                let zone = rest.get(..5)?;
                let zb = zone.as_bytes();
                if !(zb[0].is_ascii_digit()
                    && zb[1].is_ascii_digit()
                    && zb[2] == b':'
                    && zb[3].is_ascii_digit()
                    && zb[4].is_ascii_digit())
                {
                    return None;
                }
                cursor.idx += 5;
                let hours: u32 = zone[..2].parse().ok()?;
                let minutes: u32 = zone[3..].parse().ok()?;
                if hours > 24 || minutes > 59 {
                    return None;
                }
                if hours == 0 && minutes == 0 {
                    "Z".to_owned()
                } else {
                    format!("{}{zone}", char::from(sign))
                }
            }
            _ => return None,
        }
    };
    if cursor.idx != bytes.len() {
        return None;
    }
    Some(format!(
        "{date}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
    ))
}

struct Cursor<'a> {
    bytes: &'a [u8],
    idx: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.idx).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let res = self.peek();
        self.idx += 1;
        res
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// One or two digits, as Go's `getnum(value, false)`.
    fn number(&mut self) -> Option<u32> {
        let first = self.peek().filter(u8::is_ascii_digit)?;
        self.idx += 1;
        let mut res = u32::from(first - b'0');
        if let Some(second) = self.peek().filter(u8::is_ascii_digit) {
            self.idx += 1;
            res = res * 10 + u32::from(second - b'0');
        }
        Some(res)
    }
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        for (text, expect) in [
            ("2001-12-14", Some("2001-12-14T00:00:00Z")),
            ("2001-1-2", Some("2001-01-02T00:00:00Z")),
            (
                "2001-12-14t21:59:43.10-05:00",
                Some("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-12-14T21:59:43Z", Some("2001-12-14T21:59:43Z")),
            ("2001-12-14T21:59:43+00:00", Some("2001-12-14T21:59:43Z")),
            ("2001-12-14 21:59:43.10", Some("2001-12-14T21:59:43.1Z")),
            ("2001-12-14 21:59:43.10 -5", None),
            ("2001-13-14", None),
            ("2001-02-29", None),
            ("2001-12-14T21:59:43", None),
            ("20011-12-14", None),
            ("1.2.3", None),
        ] {
            assert_eq!(parse(text).as_deref(), expect, "{text}");
        }
    }
}
