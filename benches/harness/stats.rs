//! Repeated measurements: median and min–max spread, and how to print them.

use std::fmt::Write as _;

/// What a series measures, for printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Seconds,
    MiB,
    Count,
}

/// The values of one measurement over the repetitions.
#[derive(Debug, Clone)]
pub struct Series {
    pub unit: Unit,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(unit: Unit) -> Series {
        Series {
            unit,
            values: Vec::new(),
        }
    }

    pub fn of(unit: Unit, values: impl IntoIterator<Item = f64>) -> Series {
        Series {
            unit,
            values: values.into_iter().collect(),
        }
    }

    pub fn push(&mut self, value: f64) {
        self.values.push(value);
    }

    pub fn median(&self) -> Option<f64> {
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(sorted[n / 2]),
            _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
        }
    }

    pub fn min(&self) -> Option<f64> {
        self.values.iter().copied().min_by(f64::total_cmp)
    }

    pub fn max(&self) -> Option<f64> {
        self.values.iter().copied().max_by(f64::total_cmp)
    }

    /// `median (min–max)`, or `n/a` without values.
    pub fn summary(&self) -> String {
        match (self.median(), self.min(), self.max()) {
            (Some(median), Some(min), Some(max)) if self.values.len() > 1 => format!(
                "{} ({}–{})",
                self.format(median),
                self.number(min),
                self.number(max)
            ),
            (Some(median), ..) => self.format(median),
            _ => "n/a".to_owned(),
        }
    }

    /// A value with its unit.
    pub fn format(&self, value: f64) -> String {
        let suffix = match self.unit {
            Unit::Millis => " ms",
            Unit::Seconds => " s",
            Unit::MiB => " MiB",
            Unit::Count => "",
        };
        format!("{}{suffix}", self.number(value))
    }

    fn number(&self, value: f64) -> String {
        match self.unit {
            Unit::Millis if value.abs() >= 100.0 => format!("{value:.0}"),
            Unit::Millis => format!("{value:.1}"),
            Unit::Seconds => format!("{value:.2}"),
            Unit::MiB => format!("{value:.1}"),
            Unit::Count if value.fract() == 0.0 => format!("{value:.0}"),
            Unit::Count => format!("{value:.1}"),
        }
    }

    /// Every value, in run order, e.g. `12.0, 13.5, 11.9 ms`.
    pub fn all(&self) -> String {
        let mut out = String::new();
        for (idx, value) in self.values.iter().enumerate() {
            if idx > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}", self.number(*value));
        }
        out
    }
}

/// The header of a table of series, one per row.
pub const TABLE_HEADER: &str =
    "| | median | min | max | all runs |\n| --- | --- | --- | --- | --- |";

/// A table row: label, median, min, max and every value.
pub fn row(label: &str, series: &Series) -> String {
    let cell = |value: Option<f64>| value.map_or_else(|| "n/a".to_owned(), |it| series.format(it));
    format!(
        "| {label} | {} | {} | {} | {} |",
        cell(series.median()),
        cell(series.min()),
        cell(series.max()),
        series.all()
    )
}

/// A table of labelled series.
pub fn table(rows: &[(&str, &Series)]) -> String {
    let mut out = TABLE_HEADER.to_owned();
    for (label, series) in rows {
        out.push('\n');
        out.push_str(&row(label, series));
    }
    out
}

/// `a / b` of the medians, as `×N.NN`, or `n/a`.
pub fn ratio(a: &Series, b: &Series) -> String {
    match (a.median(), b.median()) {
        (Some(a), Some(b)) if b.abs() > f64::EPSILON => format!("×{:.2}", a / b),
        _ => "n/a".to_owned(),
    }
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
