//! Decoding of hand-built messages: omitted empty fields, maps and repeated fields. Never starts a
//! server.

use super::*;
fn msg(fields: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, b) in fields {
        out.push(((n << 3) | 2) as u8);
        out.push(b.len() as u8);
        out.extend(b);
    }
    out
}

#[test]
fn decodes_a_namespace_and_omits_empty_fields() {
    let meta = msg(&[(1, b"prod".to_vec()), (2, Vec::new())]);
    let ns = msg(&[(1, meta), (2, Vec::new())]);
    assert_eq!(
        decode("Namespace", &ns).unwrap(),
        json!({"metadata": {"name": "prod"}})
    );
}

#[test]
fn decodes_maps_and_repeated_fields() {
    let entry = msg(&[(1, b"a".to_vec()), (2, b"b".to_vec())]);
    let meta = msg(&[(1, b"s".to_vec())]);
    let secret = msg(&[(1, meta), (2, entry)]);
    assert_eq!(
        decode("Secret", &secret).unwrap(),
        json!({"metadata": {"name": "s"}, "data": {"a": "Yg=="}})
    );
    let rule = msg(&[
        (1, b"get".to_vec()),
        (1, b"list".to_vec()),
        (2, b"apps".to_vec()),
    ]);
    let role = msg(&[(2, rule)]);
    assert_eq!(
        decode("Role", &role).unwrap(),
        json!({"rules": [{"verbs": ["get", "list"], "apiGroups": ["apps"]}]})
    );
}
