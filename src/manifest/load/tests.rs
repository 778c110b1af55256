//! Unit tests of YAML loading: values, spans of `image:` scalars, aliases and documents loaded in
//! parts. Reads strings only, never files.

use super::*;

#[test]
fn values_spans_and_aliases() {
    let text =
        "a: 0644\nimage: &img 'x:1' # c\nlist:\n- image: *img\n- {image: \"y:2\"}\n<<: {b: yes}\n";
    let docs = load(text).unwrap();
    assert_eq!(docs.len(), 1);
    let value = &docs[0].value;
    assert_eq!(value["a"], 420);
    assert_eq!(value["b"], true);
    assert_eq!(value["list"][0]["image"], "x:1");
    let images = &docs[0].images;
    assert_eq!(images.len(), 3);
    assert_eq!(&text[images[0].range.clone()], "'x:1'");
    assert_eq!(images[1].pointer, "/list/0/image");
    assert_eq!(images[1].range, images[0].range);
    assert_eq!(&text[images[2].range.clone()], "\"y:2\"");
    assert_eq!(images[2].line, 5);
}

#[test]
fn empty_documents_are_skipped_and_lines_found() {
    let text = "---\n---\n# c\n---\na: 1\nb:\n  c: [1, x]\n";
    assert_eq!(load(text).unwrap().len(), 1);
    assert_eq!(line_of(text, 1, "/b/c/1"), Some(7));
    assert!(load("a: [1\n").unwrap_err().starts_with("line "));
}

#[test]
fn a_stream_loaded_in_parts_is_the_stream_loaded_whole() {
    let mut text = String::new();
    for it in 0..6_000 {
        text.push_str(&format!(
            "--- # {it}\nkind: Deployment\nmetadata: {{name: d-{it}}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: &i 'busybox:1.{it}'\n      - {{name: side, image: *i}}\n"
        ));
    }
    let whole = Loader::new(&text, None).stream().unwrap();
    let parts = load_on(&text, 4).unwrap();
    assert_eq!(split::parts(&text, 4).len(), 4);
    assert_eq!(whole.len(), parts.len());
    for (a, b) in whole.iter().zip(&parts) {
        assert_eq!(a.value, b.value);
        assert_eq!(a.images, b.images);
        assert_eq!(a.alias_uses, b.alias_uses);
    }
    let last = &parts[5_999].images[1];
    assert_eq!(&text[last.range.clone()], "'busybox:1.5999'");
    // The first error in the text is reported, at its line in the whole text.
    let broken = format!("{text}---\na: [1\n");
    let whole = Loader::new(&broken, None).stream().unwrap_err();
    assert_eq!(load_on(&broken, 4).unwrap_err(), whole);
    assert!(whole.starts_with("line 60002,"), "{whole}");
}

#[test]
fn anchors_do_not_cross_documents() {
    let err = load("a: &x 1\n---\nb: *x\n").unwrap_err();
    assert!(err.starts_with("line 3,"), "{err}");
}

#[test]
fn duplicate_keys_last_wins() {
    let docs = load("a: 1\na: 2\n").unwrap();
    assert_eq!(docs[0].value["a"], 2);
}
