//! Label and field selectors: the query-string syntax (`app=web,tier!=db,env in (a,b),!legacy`)
//! and the structured `metav1.LabelSelector` (`matchLabels` + `matchExpressions`).
//!
//! `label` parses and matches label selectors, `field` field selectors. Neither reads storage or
//! filters lists itself; handlers and controllers apply them.

mod field;
mod label;

#[cfg(test)]
mod tests;

pub use field::{FieldSelector, FieldTerm};
pub use label::{LabelSelector, Requirement};
