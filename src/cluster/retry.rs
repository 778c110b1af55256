//! Retrying API calls that failed for reasons that pass: 500/502/503/504, 429 and transport errors.
//!
//! kube's own retry layer already handles 429/503/504 with `Retry-After`; it leaves 500s and
//! connection errors alone because a write may or may not have happened. Here:
//! - [`idempotent`] repeats a call that is safe to repeat (GETs, lists, access reviews, the image
//!   patch, lease reads) with bounded exponential back-off and an overall deadline;
//! - [`create_checked`] creates an object whose name is deterministic: when the outcome of a create
//!   is unknown (the connection was cut after sending, or the server answered 500), it reads the
//!   object back by name before trying again, instead of blindly repeating the create.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 6;
/// First pause between attempts; doubled each time up to [`MAX_DELAY`].
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
pub const MAX_DELAY: Duration = Duration::from_secs(4);
/// Time one call may spend retrying, all attempts together.
pub const BUDGET: Duration = Duration::from_secs(60);

/// Whether an error is worth another attempt: the server was busy or broken for a moment, or the
/// connection failed. Anything the server said on purpose (4xx) is final.
pub fn is_transient(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_) => true,
        _ => false,
    }
}

/// The pause before attempt `attempt + 1` (0-based), with some jitter so that parallel callers do
/// not retry in step.
pub fn delay(attempt: u32) -> Duration {
    let base = FIRST_DELAY
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_DELAY);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |it| it.subsec_nanos());
    // Up to a quarter more.
    base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

/// Runs `call` until it succeeds, fails for good, runs out of attempts, or the budget passes.
pub async fn idempotent<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let give_up = Instant::now() + BUDGET;
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(err) if is_transient(&err) && attempt + 1 < MAX_ATTEMPTS => {
                let pause = delay(attempt);
                if Instant::now() + pause > give_up {
                    return Err(err);
                }
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Creates an object with a deterministic name. `AlreadyExists` counts as created (a retried run,
/// or an earlier attempt whose answer was lost); an unknown outcome is checked with `get` (itself
/// retried) before the create is sent again.
pub async fn create_checked<T, C, CF, G, GF>(mut create: C, mut get: G) -> Result<(), kube::Error>
where
    C: FnMut() -> CF,
    CF: Future<Output = Result<T, kube::Error>>,
    G: FnMut() -> GF,
    GF: Future<Output = Result<Option<T>, kube::Error>>,
{
    let give_up = Instant::now() + BUDGET;
    let mut attempt = 0;
    loop {
        match create().await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.is_already_exists() => return Ok(()),
            Err(err) if is_transient(&err) && attempt + 1 < MAX_ATTEMPTS => {
                if idempotent(&mut get).await?.is_some() {
                    return Ok(());
                }
                let pause = delay(attempt);
                if Instant::now() + pause > give_up {
                    return Err(err);
                }
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use kube::core::Status;

    use super::*;

    fn status(code: u16, reason: &str) -> kube::Error {
        let mut status = Status::failure("boom", reason);
        status.code = code;
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn transient_errors() {
        assert!(is_transient(&status(500, "InternalError")));
        assert!(is_transient(&status(429, "TooManyRequests")));
        assert!(is_transient(&status(504, "Timeout")));
        assert!(!is_transient(&status(403, "Forbidden")));
        assert!(!is_transient(&status(404, "NotFound")));
        assert!(!is_transient(&status(409, "AlreadyExists")));
    }

    #[test]
    fn delays_grow_to_a_bound() {
        assert!(delay(0) >= FIRST_DELAY && delay(0) < FIRST_DELAY * 2);
        assert!(delay(30) <= MAX_DELAY + MAX_DELAY / 4);
        assert!(delay(3) > delay(1));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_then_succeeds() {
        let calls = AtomicU32::new(0);
        let res = idempotent(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(status(500, "InternalError"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(res.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_attempts_and_not_on_final_errors() {
        let calls = AtomicU32::new(0);
        let res: Result<(), _> = idempotent(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(503, "ServiceUnavailable"))
        })
        .await;
        assert!(res.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), MAX_ATTEMPTS);
        let calls = AtomicU32::new(0);
        let res: Result<(), _> = idempotent(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(403, "Forbidden"))
        })
        .await;
        assert!(res.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_create_is_checked_by_a_read_not_repeated() {
        let creates = AtomicU32::new(0);
        let res = create_checked(
            || async {
                creates.fetch_add(1, Ordering::SeqCst);
                Err::<u8, _>(status(500, "InternalError"))
            },
            // The first create went through after all.
            || async { Ok(Some(1u8)) },
        )
        .await;
        assert!(res.is_ok());
        assert_eq!(creates.load(Ordering::SeqCst), 1, "not sent twice");

        let creates = AtomicU32::new(0);
        let res = create_checked(
            || async {
                if creates.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(status(500, "InternalError"))
                } else {
                    Ok(1u8)
                }
            },
            || async { Ok(None) },
        )
        .await;
        assert!(res.is_ok());
        assert_eq!(
            creates.load(Ordering::SeqCst),
            2,
            "sent again once it is known missing"
        );
    }
}
