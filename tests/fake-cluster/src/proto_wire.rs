//! A minimal protobuf wire-format reader (varints, length-delimited fields, fixed 32/64) used by
//! the schema-driven decoder in `proto_schema`. Never interprets field numbers; callers do.

/// One field's raw value.
#[derive(Debug, Clone, PartialEq)]
pub enum Wire {
    Varint(u64),
    Bytes(Vec<u8>),
    Fixed64(u64),
    Fixed32(u32),
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err("varint too long".into())
}

/// Splits a message into (field number, value) pairs in wire order.
pub fn fields(buf: &[u8]) -> Result<Vec<(u32, Wire)>, String> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let num = u32::try_from(key >> 3).map_err(|_| "field number too large")?;
        let value = match key & 7 {
            0 => Wire::Varint(varint(buf, &mut pos)?),
            1 => {
                let b = buf.get(pos..pos + 8).ok_or("truncated fixed64")?;
                pos += 8;
                Wire::Fixed64(u64::from_le_bytes(b.try_into().map_err(|_| "fixed64")?))
            }
            2 => {
                let len =
                    usize::try_from(varint(buf, &mut pos)?).map_err(|_| "length too large")?;
                let b = buf
                    .get(pos..pos + len)
                    .ok_or("truncated length-delimited field")?;
                pos += len;
                Wire::Bytes(b.to_vec())
            }
            5 => {
                let b = buf.get(pos..pos + 4).ok_or("truncated fixed32")?;
                pos += 4;
                Wire::Fixed32(u32::from_le_bytes(b.try_into().map_err(|_| "fixed32")?))
            }
            other => return Err(format!("unsupported wire type {other}")),
        };
        out.push((num, value));
    }
    Ok(out)
}

/// A debugging dump: nested messages are tried recursively.
pub fn dump(buf: &[u8], depth: usize) -> String {
    let Ok(fs) = fields(buf) else {
        return format!("{:?}", String::from_utf8_lossy(buf));
    };
    let mut out = String::new();
    for (n, v) in fs {
        let pad = "  ".repeat(depth);
        match v {
            Wire::Bytes(b) => {
                let printable = std::str::from_utf8(&b)
                    .ok()
                    .filter(|s| s.chars().all(|c| !c.is_control()));
                match printable {
                    Some(s) if !s.is_empty() => out.push_str(&format!("{pad}{n}: {s:?}\n")),
                    _ if !b.is_empty() && fields(&b).is_ok() => {
                        out.push_str(&format!("{pad}{n} {{\n{}{pad}}}\n", dump(&b, depth + 1)))
                    }
                    _ => out.push_str(&format!(
                        "{pad}{n}: bytes {:?}\n",
                        String::from_utf8_lossy(&b)
                    )),
                }
            }
            other => out.push_str(&format!("{pad}{n}: {other:?}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_varints_and_strings() {
        // field 1 varint 150, field 2 string "hi"
        let buf = [0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i'];
        let f = fields(&buf).unwrap();
        assert_eq!(f[0], (1, Wire::Varint(150)));
        assert_eq!(f[1], (2, Wire::Bytes(b"hi".to_vec())));
        assert!(fields(&[0x08]).is_err());
    }
}
