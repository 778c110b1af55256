//! Loads a YAML stream into JSON values the way kubectl does (scalars through `yaml11`, keys as
//! strings, duplicate keys: the last wins, `<<` merge keys as go-yaml v2 merges them), and
//! remembers where each `image:` scalar is in the text, so `rewrite` can splice a new value in.
//! Reads text only; never writes, never prints.

use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::{Map, Value};

use crate::yaml11;

/// One non-empty document of a stream.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub value: Value,
    /// Every scalar under a key `image`, by JSON pointer into `value`.
    pub images: Vec<ImageScalar>,
    /// How many aliases refer to each anchor of the document.
    pub alias_uses: HashMap<usize, usize>,
}

/// Where an `image:` value is written in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScalar {
    pub pointer: String,
    /// Byte range of the scalar as written (quotes included). Through an alias, the anchored
    /// scalar's range.
    pub range: Range<usize>,
    pub style: Style,
    /// 1-based line of the scalar.
    pub line: usize,
    /// The anchor the scalar defines or comes from (`*name`); 0 for none.
    pub anchor: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Block,
}

/// Loads every non-empty document. Errors read `line L, column C: what is wrong`.
pub fn load(text: &str) -> Result<Vec<Loaded>, String> {
    let mut loader = Loader::new(text, None);
    loader.stream()
}

/// The 1-based line where the node at `pointer` starts in the `document`-th (1-based) non-empty
/// document, for error messages.
pub fn line_of(text: &str, document: usize, pointer: &str) -> Option<usize> {
    let mut loader = Loader::new(text, Some((document, pointer.to_owned())));
    let _ = loader.stream();
    loader.found
}

struct Loader<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, (Value, Option<ImageScalar>)>,
    images: Vec<ImageScalar>,
    pointer: String,
    alias_uses: HashMap<usize, usize>,
    /// `line_of`: the document and pointer looked for, and the line found.
    wanted: Option<(usize, String)>,
    document: usize,
    found: Option<usize>,
}

impl<'a> Loader<'a> {
    fn new(text: &'a str, wanted: Option<(usize, String)>) -> Self {
        Loader {
            parser: Parser::new_from_str(text),
            anchors: HashMap::new(),
            images: Vec::new(),
            pointer: String::new(),
            alias_uses: HashMap::new(),
            wanted,
            document: 0,
            found: None,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), String> {
        loop {
            match self.parser.next_event() {
                // Comments and anchor names are presentation, not data.
                Some(Ok(it)) if is_data(&it.0) => return Ok(it),
                Some(Ok(_)) => (),
                Some(Err(err)) => return Err(scan_error(&err)),
                None => return Err("unexpected end of the YAML stream".to_owned()),
            }
        }
    }

    fn stream(&mut self) -> Result<Vec<Loaded>, String> {
        let mut res = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd => (),
                Event::StreamEnd => return Ok(res),
                Event::DocumentStart(..) => {
                    self.images.clear();
                    self.alias_uses.clear();
                    self.pointer.clear();
                    let (event, span) = self.next()?;
                    let value = self.node(event, span, false)?;
                    if value.is_null() {
                        continue;
                    }
                    self.document += 1;
                    res.push(Loaded {
                        value,
                        images: std::mem::take(&mut self.images),
                        alias_uses: std::mem::take(&mut self.alias_uses),
                    });
                }
                _ => return Err(at(span, "unexpected YAML event outside a document")),
            }
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span, is_image: bool) -> Result<Value, String> {
        if let Some((document, pointer)) = &self.wanted
            && *document == self.document + 1
            && *pointer == self.pointer
            && self.found.is_none()
        {
            self.found = Some(span.start.line());
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let core = tag
                    .as_ref()
                    .and_then(|it| it.core_suffix().map(str::to_owned));
                let scalar = match (style, tag.is_some(), core.as_deref()) {
                    (_, true, Some("int" | "float" | "bool" | "null")) => yaml11::resolve(&text),
                    (ScalarStyle::Plain, false, _) => yaml11::resolve(&text),
                    _ => yaml11::Scalar::Str(text.clone().into_owned()),
                };
                let value = scalar.into_value().map_err(|err| at(span, &err))?;
                let image = (is_image && value.is_string())
                    .then(|| self.image_scalar(&span, style, anchor))
                    .flatten();
                if let Some(image) = &image {
                    self.images.push(image.clone());
                }
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), image));
                }
                Ok(value)
            }
            Event::Alias(id) => {
                *self.alias_uses.entry(id).or_default() += 1;
                let (value, image) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(span, "an alias to an unknown anchor"))?;
                if let (true, Some(image)) = (is_image, image) {
                    self.images.push(ImageScalar {
                        pointer: self.pointer.clone(),
                        ..image
                    });
                }
                Ok(value)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    let len = self.pointer.len();
                    self.pointer.push('/');
                    self.pointer.push_str(&items.len().to_string());
                    items.push(self.node(event, span, false)?);
                    self.pointer.truncate(len);
                }
                let value = Value::Array(items);
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), None));
                }
                Ok(value)
            }
            Event::MappingStart(_, anchor, _) => {
                let value = Value::Object(self.mapping()?);
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), None));
                }
                Ok(value)
            }
            _ => Err(at(span, "unexpected YAML event")),
        }
    }

    fn mapping(&mut self) -> Result<Map<String, Value>, String> {
        let mut res = Map::new();
        loop {
            let (event, span) = self.next()?;
            let is_merge =
                matches!(&event, Event::Scalar(text, ScalarStyle::Plain, _, None) if text == "<<");
            let key = match event {
                Event::MappingEnd => return Ok(res),
                Event::Scalar(..) | Event::Alias(_) => {
                    let len = self.pointer.len();
                    self.pointer.push_str("/~key");
                    let key = self.node(event, span, false);
                    self.pointer.truncate(len);
                    match key? {
                        Value::String(it) => it,
                        Value::Bool(it) => it.to_string(),
                        Value::Number(it) => it.to_string(),
                        Value::Null => {
                            return Err(at(span, "a null mapping key (kubectl rejects it too)"));
                        }
                        _ => return Err(at(span, "a mapping or list as a mapping key")),
                    }
                }
                _ => return Err(at(span, "a mapping or list as a mapping key")),
            };
            let (event, span) = self.next()?;
            let len = self.pointer.len();
            self.pointer.push('/');
            self.pointer
                .push_str(&key.replace('~', "~0").replace('/', "~1"));
            let value = self.node(event, span, key == "image");
            self.pointer.truncate(len);
            let value = value?;
            if is_merge {
                // go-yaml v2: a mapping, or a list of mappings of which earlier ones win; merged
                // keys replace keys written before the `<<`.
                let sources = match value {
                    Value::Object(it) => vec![it],
                    Value::Array(items) => items
                        .into_iter()
                        .rev()
                        .map(|it| match it {
                            Value::Object(it) => Ok(it),
                            _ => Err(at(span, "`<<` merges mappings only")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(at(span, "`<<` merges mappings only")),
                };
                for source in sources {
                    res.extend(source);
                }
                continue;
            }
            res.insert(key, value);
        }
    }

    fn image_scalar(&self, span: &Span, style: ScalarStyle, anchor: usize) -> Option<ImageScalar> {
        Some(ImageScalar {
            pointer: self.pointer.clone(),
            range: span.byte_range()?,
            style: match style {
                ScalarStyle::Plain => Style::Plain,
                ScalarStyle::SingleQuoted => Style::SingleQuoted,
                ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
            },
            line: span.start.line(),
            anchor,
        })
    }
}

fn is_data(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(..)
            | Event::DocumentEnd
            | Event::Alias(_)
            | Event::UnresolvedAlias(_)
            | Event::Scalar(..)
            | Event::SequenceStart(..)
            | Event::SequenceEnd
            | Event::MappingStart(..)
            | Event::MappingEnd
    )
}

fn at(span: Span, message: &str) -> String {
    format!(
        "line {}, column {}: {message}",
        span.start.line(),
        span.start.col() + 1
    )
}

fn scan_error(err: &ScanError) -> String {
    let text = err.to_string();
    let reason = text.lines().next().unwrap_or_default().trim();
    // The parser appends its own position; the message gives it once, first.
    let reason = [" at char ", " at line "]
        .iter()
        .filter_map(|it| reason.find(it))
        .min()
        .map_or(reason, |idx| &reason[..idx]);
    format!(
        "line {}, column {}: invalid YAML: {reason}",
        err.marker().line(),
        err.marker().col() + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_spans_and_aliases() {
        let text = "a: 0644\nimage: &img 'x:1' # c\nlist:\n- image: *img\n- {image: \"y:2\"}\n<<: {b: yes}\n";
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
    fn duplicate_keys_last_wins() {
        let docs = load("a: 1\na: 2\n").unwrap();
        assert_eq!(docs[0].value["a"], 2);
    }
}
