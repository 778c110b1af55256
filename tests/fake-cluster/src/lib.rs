//! A simulated Kubernetes API server for tests and demos: real-enough discovery, CRUD, watch,
//! patch, RBAC, TokenRequest and fault injection over HTTPS, with simulated controllers ticking
//! against the same storage.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let cluster = fake_cluster::FakeCluster::start(fake_cluster::Options::default()).await?;
//! let client = cluster.client().await?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! This root only declares the modules and re-exports the entry points; the embeddable simulator
//! lives in `cluster`. It holds no logic of its own.

pub mod access_log;
pub mod admission;
mod api;
pub mod auth;
mod cluster;
pub mod controllers;
pub mod defaults;
pub mod discovery;
pub mod errors;
pub mod faults;
pub mod key;
pub mod kubeconfig;
mod logs;
pub mod managed;
pub mod manifests;
pub mod openapi;
pub mod patch;
mod proto_schema;
mod proto_wire;
pub mod protobuf;
pub mod rbac;
pub mod resources;
mod reviews;
pub mod selector;
pub mod server;
pub mod storage;
pub mod table;
pub mod tls;
pub mod validation;
mod watch;

#[cfg(test)]
mod tests;

pub use cluster::{FakeCluster, Options, node_name};
