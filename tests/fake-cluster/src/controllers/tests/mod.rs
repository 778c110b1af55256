//! Unit tests of the simulated control plane.
