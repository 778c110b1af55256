//! Small helpers shared by the controllers: JSON field access, the simulated clock, int-or-percent
//! arithmetic, label selectors, template hashing and conditions.
//!
//! One submodule per kind of helper: `fields` (JSON access, metadata, IntOrString), `time` (the
//! simulated clock), `hash` (hashes, generated names, template normalization), `conditions`,
//! `pods` (pod readiness and availability) and `writes` (store writes). Helpers never keep state
//! and never decide anything a controller should.

mod conditions;
mod fields;
mod hash;
mod pods;
mod time;
mod writes;

pub use conditions::*;
pub use fields::*;
pub use hash::*;
pub use pods::*;
pub use time::*;
pub use writes::*;
