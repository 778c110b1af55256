//! The simulated clock: instants in milliseconds, RFC 3339 formatting and parsing, and durations
//! stretched by the time scale. Never reads the wall clock except through `SimContext::now`.

use jiff::Timestamp;
use serde_json::Value;

use super::fields::str_at;
use crate::controllers::SimContext;

/// Milliseconds since the Unix epoch; every simulated instant is handled in this unit.
pub type Millis = i64;

/// Converts a timestamp to simulated milliseconds.
pub fn millis(timestamp: Timestamp) -> Millis {
    timestamp.as_millisecond()
}

pub fn now_ms(ctx: &SimContext) -> Millis {
    millis(ctx.now)
}

/// RFC 3339 with at most millisecond precision (Kubernetes clients parse fractional seconds).
pub fn fmt_time(at: Millis) -> String {
    match Timestamp::from_millisecond(at) {
        Ok(it) => it.to_string(),
        Err(_) => Timestamp::UNIX_EPOCH.to_string(),
    }
}

pub fn parse_time(text: &str) -> Option<Millis> {
    text.parse::<Timestamp>().ok().map(millis)
}

pub fn time_at(value: &Value, pointer: &str) -> Option<Millis> {
    str_at(value, pointer).and_then(parse_time)
}

/// A simulated duration of `seconds`, stretched by the time scale, in milliseconds (at least 1).
pub fn scaled(ctx: &SimContext, seconds: f64) -> Millis {
    let scale = if ctx.time_scale.is_finite() && ctx.time_scale > 0.0 {
        ctx.time_scale
    } else {
        0.001
    };
    ((seconds * scale * 1000.0).round() as Millis).max(1)
}
