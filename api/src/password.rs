//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes,
//! OWASP's recommendation), off the async workers and with bounded
//! concurrency: at most `checks` hashes run at once (so at most `checks` x
//! 19 MiB and `checks` threads), and at most `QUEUE_PER_CHECK` x `checks`
//! requests wait for one (a waiting request holds no thread and no hash
//! memory), each for at most `MAX_WAIT`; beyond that a request is refused
//! at once as busy (1010).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Requests that may wait for a hash, per concurrent hash (a hash takes
/// about 25 ms: a full queue drains within `MAX_WAIT`).
const QUEUE_PER_CHECK: usize = 256;
/// The longest a request waits for its turn.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// The hashes in flight and those waiting for a turn.
pub struct Passwords {
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Leaves the waiting count when dropped (also when the request is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("parley_password_checks_waiting").decrement(1.0);
    }
}

impl Passwords {
    /// At most `checks` hashes at once (at least one).
    pub fn new(checks: usize) -> Self {
        let checks = checks.max(1);
        Passwords {
            running: Arc::new(Semaphore::new(checks)),
            waiting: AtomicUsize::new(0),
            max_waiting: checks * QUEUE_PER_CHECK,
        }
    }

    /// Runs `work` on a blocking thread once a hash may run.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            metrics::counter!("parley_password_checks_refused_total").increment(1);
            return Err(busy());
        }
        metrics::gauge!("parley_password_checks_waiting").increment(1.0);
        let waiting = Waiting(&self.waiting);
        let permit = tokio::time::timeout(MAX_WAIT, self.running.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|e| AppError::internal(format!("password checks closed: {e}")))?;
        drop(waiting);
        metrics::gauge!("parley_password_checks_running").increment(1.0);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let done = work();
            metrics::gauge!("parley_password_checks_running").decrement(1.0);
            done
        })
        .await
        .map_err(|e| AppError::internal(format!("password task: {e}")))
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AppError::internal(format!("hashing password: {e}")))
        })
        .await?
    }

    pub async fn verify(&self, password: String, stored: String) -> Result<bool, AppError> {
        self.run(move || {
            let parsed =
                PasswordHash::new(&stored).map_err(|e| AppError::internal(format!("stored password hash: {e}")))?;
            Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await?
    }
}

fn busy() -> AppError {
    AppError::too_many_requests(
        "too many password checks in progress; retry later",
        Duration::from_secs(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_allowed_and_the_overflow_is_refused() {
        let passwords = Arc::new(Passwords::new(2));
        let peak = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        // The running "hashes" hold until every request has been offered.
        let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let offered = 2 + 2 * QUEUE_PER_CHECK + 50;
        let tasks: Vec<_> = (0..offered)
            .map(|_| {
                let (passwords, peak, now, gate) = (passwords.clone(), peak.clone(), now.clone(), gate.clone());
                tokio::spawn(async move {
                    passwords
                        .run(move || {
                            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(running, Ordering::SeqCst);
                            let (open, opened) = &*gate;
                            let guard = open.lock().unwrap();
                            drop(opened.wait_while(guard, |open| !*open).unwrap());
                            now.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        while passwords.waiting.load(Ordering::SeqCst) < 2 * QUEUE_PER_CHECK {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        let mut refused = 0;
        for task in tasks {
            if let Err(e) = task.await.unwrap() {
                assert_eq!(e.code, crate::error::TOO_MANY_REQUESTS);
                refused += 1;
            }
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        // 2 running and 2 x QUEUE_PER_CHECK waiting are taken; the rest
        // are refused at once.
        assert_eq!(refused, 50);
        assert_eq!(passwords.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(1);
        let hash = passwords.hash("secret-1".into()).await.unwrap();
        assert!(passwords.verify("secret-1".into(), hash.clone()).await.unwrap());
        assert!(!passwords.verify("secret-2".into(), hash).await.unwrap());
    }
}
