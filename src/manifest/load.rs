//! Loads a YAML stream into JSON values the way kubectl does (scalars through `yaml11`, keys as
//! strings, duplicate keys: the last wins, `<<` merge keys as go-yaml v2 merges them), and
//! remembers where each `image:` scalar is in the text, so `rewrite` can splice a new value in.
//! Reads text only; never writes, never prints.

use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::{Map, Value};

use crate::manifest::{split, yaml11};

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

/// Loads every non-empty document. Errors read `line L, column C: what is wrong`. A large stream
/// is cut at kubectl's document separators (`split`) and its parts load on every core; the
/// documents, positions and the first error in text order are the same as loading it whole.
pub fn load(text: &str) -> Result<Vec<Loaded>, String> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    load_on(text, threads)
}

fn load_on(text: &str, threads: usize) -> Result<Vec<Loaded>, String> {
    let parts = split::parts(text, threads);
    if parts.len() == 1 {
        return Loader::new(text, None).stream();
    }
    let loaded: Vec<Result<Vec<Loaded>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    let line = text[..part.start].bytes().filter(|it| *it == b'\n').count();
                    let mut loader = Loader::new(&text[part.clone()], None);
                    loader.base = Base {
                        byte: part.start,
                        line,
                    };
                    loader.stream()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|it| {
                it.join()
                    .unwrap_or_else(|_| Err("the YAML reader panicked".to_owned()))
            })
            .collect()
    });
    let mut res = Vec::new();
    for part in loaded {
        res.extend(part?);
    }
    Ok(res)
}

/// The 1-based line where the node at `pointer` starts in the `document`-th (1-based) non-empty
/// document, for error messages.
pub fn line_of(text: &str, document: usize, pointer: &str) -> Option<usize> {
    let mut loader = Loader::new(text, Some((document, pointer.to_owned())));
    let _ = loader.stream();
    loader.found
}

/// Where a part of the stream starts in the whole text: positions are reported in the whole.
#[derive(Default, Clone, Copy)]
struct Base {
    byte: usize,
    /// Lines before the part.
    line: usize,
}

struct Loader<'a> {
    base: Base,
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, (Value, Option<ImageScalar>)>,
    images: Vec<ImageScalar>,
    pointer: String,
    alias_uses: HashMap<usize, usize>,
    /// `line_of`: the document and pointer looked for, and the line found.
    wanted: Option<(usize, String)>,
    document: usize,
    found: Option<usize>,
    /// The parser numbers anchors across the stream; the loader numbers them from 1 in each
    /// document (the parser's number minus `anchor_base`), so a part loads as the whole does.
    anchor_base: usize,
    anchor_max: usize,
}

impl<'a> Loader<'a> {
    fn new(text: &'a str, wanted: Option<(usize, String)>) -> Self {
        Loader {
            base: Base::default(),
            parser: Parser::new_from_str(text),
            anchors: HashMap::new(),
            images: Vec::new(),
            pointer: String::new(),
            alias_uses: HashMap::new(),
            wanted,
            document: 0,
            found: None,
            anchor_base: 0,
            anchor_max: 0,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), String> {
        loop {
            match self.parser.next_event() {
                // Comments and anchor names are presentation, not data.
                Some(Ok((mut event, span))) if is_data(&event) => {
                    self.number_anchors(&mut event);
                    return Ok((event, span));
                }
                Some(Ok(_)) => (),
                Some(Err(err)) => return Err(self.scan_error(&err)),
                None => return Err("unexpected end of the YAML stream".to_owned()),
            }
        }
    }

    /// Renumbers the event's anchor within its document (0 stays "none"; an alias to an earlier
    /// document's anchor becomes 0, which no anchor has).
    fn number_anchors(&mut self, event: &mut Event<'a>) {
        match event {
            Event::DocumentStart(..) => self.anchor_base = self.anchor_max,
            Event::Scalar(_, _, id, _)
            | Event::SequenceStart(_, id, _)
            | Event::MappingStart(_, id, _)
                if *id != 0 =>
            {
                self.anchor_max = self.anchor_max.max(*id);
                *id = id.saturating_sub(self.anchor_base);
            }
            Event::Alias(id) => *id = id.saturating_sub(self.anchor_base),
            _ => (),
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
                    // kubectl parses each document on its own: anchors do not cross documents.
                    self.anchors.clear();
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
                _ => return Err(self.at(span, "unexpected YAML event outside a document")),
            }
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span, is_image: bool) -> Result<Value, String> {
        if let Some((document, pointer)) = &self.wanted
            && *document == self.document + 1
            && *pointer == self.pointer
            && self.found.is_none()
        {
            self.found = Some(self.base.line + span.start.line());
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
                let value = scalar.into_value().map_err(|err| self.at(span, &err))?;
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
                    .ok_or_else(|| self.at(span, "an alias to an unknown anchor"))?;
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
            _ => Err(self.at(span, "unexpected YAML event")),
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
                            return Err(
                                self.at(span, "a null mapping key (kubectl rejects it too)")
                            );
                        }
                        _ => return Err(self.at(span, "a mapping or list as a mapping key")),
                    }
                }
                _ => return Err(self.at(span, "a mapping or list as a mapping key")),
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
                            _ => Err(self.at(span, "`<<` merges mappings only")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(self.at(span, "`<<` merges mappings only")),
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
            range: span
                .byte_range()
                .map(|it| it.start + self.base.byte..it.end + self.base.byte)?,
            style: match style {
                ScalarStyle::Plain => Style::Plain,
                ScalarStyle::SingleQuoted => Style::SingleQuoted,
                ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
            },
            line: self.base.line + span.start.line(),
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

impl Loader<'_> {
    fn at(&self, span: Span, message: &str) -> String {
        format!(
            "line {}, column {}: {message}",
            self.base.line + span.start.line(),
            span.start.col() + 1
        )
    }

    fn scan_error(&self, err: &ScanError) -> String {
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
            self.base.line + err.marker().line(),
            err.marker().col() + 1
        )
    }
}

#[cfg(test)]
mod tests;
