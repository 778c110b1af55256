//! Fault injection with a seeded RNG, so that a run's faults are reproducible: 500s, 429s with
//! `Retry-After: 1`, and 410 Expired at watch start. Never decides how a fault looks on the wire;
//! the server renders it.

use rand::{Rng, SeedableRng, rngs::StdRng};

/// What to do to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    InternalError,
    Throttle,
    Gone,
}

/// Configured rates and the seeded generator.
pub struct Faults {
    pub error_rate: f64,
    pub throttle_rate: f64,
    pub gone_rate: f64,
    rng: StdRng,
}

impl Faults {
    pub fn new(error_rate: f64, throttle_rate: f64, gone_rate: f64, seed: u64) -> Faults {
        Faults {
            error_rate,
            throttle_rate,
            gone_rate,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Draws the fault for one request; `watch` requests only get `Gone`.
    pub fn draw(&mut self, watch: bool) -> Fault {
        if watch {
            if self.gone_rate > 0.0 && self.rng.random_bool(self.gone_rate.clamp(0.0, 1.0)) {
                return Fault::Gone;
            }
            return Fault::None;
        }
        if self.error_rate > 0.0 && self.rng.random_bool(self.error_rate.clamp(0.0, 1.0)) {
            return Fault::InternalError;
        }
        if self.throttle_rate > 0.0 && self.rng.random_bool(self.throttle_rate.clamp(0.0, 1.0)) {
            return Fault::Throttle;
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_faults_repeat() {
        let draws = |seed| {
            let mut f = Faults::new(0.3, 0.3, 0.5, seed);
            (0..50).map(|i| f.draw(i % 5 == 0)).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert!(draws(7).contains(&Fault::InternalError));
        let mut none = Faults::new(0.0, 0.0, 0.0, 1);
        assert!((0..100).all(|i| none.draw(i % 2 == 0) == Fault::None));
    }
}
