//! Tables that fit the terminal: left-aligned columns, two spaces apart, widths measured without
//! colour codes. When a table is wider than the terminal it is made narrower in three steps, each
//! only when the previous one was not enough: the images column wraps onto continuation lines
//! (one image per line), kinds are abbreviated (`deploy`, `sts`, `ds`, `cj`), then names lose
//! their middle (`checkout-…-worker`). An image reference is never cut: a table whose images alone
//! are wider than the terminal stays wider.

use console::measure_text_width;

/// The width output is fitted to: `COLUMNS` when set, else the terminal's, else 100.
pub fn terminal_width() -> usize {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|it| it.trim().parse::<usize>().ok())
        .filter(|it| *it > 0)
    {
        return columns;
    }
    match console::Term::stdout().size_checked() {
        Some((_, columns)) if columns > 0 => usize::from(columns),
        _ => 100,
    }
}

/// What a column holds, which says how it may be narrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Plain,
    /// A Kubernetes kind: may be abbreviated.
    Kind,
    /// An object name: may lose its middle.
    Name,
    /// Image references (a cell's items): may wrap, one per line, never be cut.
    Images,
}

/// One cell: its items, joined with `, ` on one line, or one per line once wrapped. An item may
/// hold `SOFT_BREAK`s: a space on one line, a continuation line (indented) once wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell(pub Vec<String>);

/// Where a wrapped item continues on the next line, e.g. before `(tried …)`.
pub const SOFT_BREAK: char = '\u{1}';

impl Cell {
    /// The cell on one line.
    fn joined(&self) -> String {
        self.0.join(", ").replace(SOFT_BREAK, " ")
    }

    /// The cell's lines once wrapped: one per item, continuations indented.
    fn wrapped(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for item in &self.0 {
            for (idx, piece) in item.split(SOFT_BREAK).enumerate() {
                lines.push(if idx == 0 {
                    piece.to_owned()
                } else {
                    format!("  {piece}")
                });
            }
        }
        lines
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell(vec![text])
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell(vec![text.to_owned()])
    }
}

/// The shortest a name is cut to (an ellipsis and the ends around it).
const SHORTEST_NAME: usize = 12;

/// Renders `header` and `rows` to fit `width` columns (the leading indent included).
pub fn render<const N: usize>(
    header: [String; N],
    rows: &[[Cell; N]],
    roles: [Role; N],
    width: usize,
) -> String {
    let mut rows: Vec<[Cell; N]> = rows.to_vec();
    let mut wrap = false;
    if fits(&header, &rows, wrap, width) {
        return lines(&header, &rows, wrap);
    }
    wrap = roles.contains(&Role::Images);
    if fits(&header, &rows, wrap, width) {
        return lines(&header, &rows, wrap);
    }
    for row in &mut rows {
        for (cell, role) in row.iter_mut().zip(roles) {
            if role == Role::Kind {
                for item in &mut cell.0 {
                    *item = abbreviate_kind(item).to_owned();
                }
            }
        }
    }
    if fits(&header, &rows, wrap, width) {
        return lines(&header, &rows, wrap);
    }
    // Names lose their middle, the longest first, until the table fits or none can shrink.
    let over = total(&header, &rows, wrap).saturating_sub(width);
    for (idx, role) in roles.iter().enumerate() {
        if *role != Role::Name {
            continue;
        }
        let current = column_width(&header[idx], rows.iter().map(|it| &it[idx]), wrap);
        let target = current
            .saturating_sub(over)
            .max(SHORTEST_NAME)
            .max(measure_text_width(&header[idx]));
        for row in &mut rows {
            for item in &mut row[idx].0 {
                *item = middle_ellipsis(item, target);
            }
        }
        if fits(&header, &rows, wrap, width) {
            break;
        }
    }
    lines(&header, &rows, wrap)
}

pub fn abbreviate_kind(kind: &str) -> &str {
    match kind {
        "Deployment" => "deploy",
        "StatefulSet" => "sts",
        "DaemonSet" => "ds",
        "CronJob" => "cj",
        other => other,
    }
}

/// `text` cut to `width` columns by replacing its middle with `…`.
pub fn middle_ellipsis(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width || width < 3 {
        return text.to_owned();
    }
    let keep = width - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut res: String = chars[..head].iter().collect();
    res.push('…');
    res.extend(&chars[chars.len() - tail..]);
    res
}

fn cell_width(cell: &Cell, wrap: bool) -> usize {
    if wrap {
        cell.wrapped()
            .iter()
            .map(|it| measure_text_width(it))
            .max()
            .unwrap_or(0)
    } else {
        measure_text_width(&cell.joined())
    }
}

fn column_width<'a>(header: &str, cells: impl Iterator<Item = &'a Cell>, wrap: bool) -> usize {
    cells
        .map(|it| cell_width(it, wrap))
        .fold(measure_text_width(header), usize::max)
}

fn widths<const N: usize>(header: &[String; N], rows: &[[Cell; N]], wrap: bool) -> [usize; N] {
    std::array::from_fn(|idx| column_width(&header[idx], rows.iter().map(|it| &it[idx]), wrap))
}

/// The widest line: two spaces of indent, the columns, two spaces between them.
fn total<const N: usize>(header: &[String; N], rows: &[[Cell; N]], wrap: bool) -> usize {
    widths(header, rows, wrap).iter().sum::<usize>() + 2 * N
}

fn fits<const N: usize>(
    header: &[String; N],
    rows: &[[Cell; N]],
    wrap: bool,
    width: usize,
) -> bool {
    total(header, rows, wrap) <= width
}

fn lines<const N: usize>(header: &[String; N], rows: &[[Cell; N]], wrap: bool) -> String {
    let widths = widths(header, rows, wrap);
    let mut out = String::new();
    let mut push = |cells: [&str; N]| {
        let mut line = String::from(" ");
        for (idx, cell) in cells.iter().enumerate() {
            line.push(' ');
            line.push_str(cell);
            if idx + 1 < N {
                line.push_str(&" ".repeat(widths[idx] - measure_text_width(cell) + 1));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push(std::array::from_fn(|idx| header[idx].as_str()));
    for row in rows {
        let cells: [Vec<String>; N] = std::array::from_fn(|idx| {
            if wrap {
                row[idx].wrapped()
            } else {
                vec![row[idx].joined()]
            }
        });
        let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for line in 0..height {
            push(std::array::from_fn(|idx| {
                cells[idx].get(line).map_or("", String::as_str)
            }));
        }
    }
    out
}
