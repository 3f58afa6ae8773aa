//! Throttles for what costs a password hash: failed logins per client
//! address and per user, registrations per client address. Token buckets:
//! a bucket of `per_minute` tokens refills one token every `60 s /
//! per_minute`; an attempt needs a token, and a throttled one is refused
//! with the time until the next token.
//!
//! Only a failed login pays: a token of its address and one of its user.
//! Guesses in flight together all pay when they fail, into debt, so a burst
//! buys a longer wait and the average rate holds. A user whose bucket is
//! empty is refused only to addresses that failed for that user in the last
//! `FAILURE_MEMORY`: an attacker guessing from a few addresses is held to the
//! user's rate, while the real user, from an address that did not fail for
//! it, still gets in. Memory is bounded: buckets that have
//! refilled and failures older than `FAILURE_MEMORY` are forgotten, and at
//! most `MAX_TRACKED` of each kind are kept.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most buckets kept per kind; beyond it the fullest are dropped first
/// (a forgotten bucket starts full again).
const MAX_TRACKED: usize = 100_000;
/// How long an address that failed for a user counts as suspect for it.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);

/// A rate: at most `per_minute` in a burst, refilled evenly over a minute.
/// 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
}

impl Rate {
    fn refill_every(self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Self {
        Bucket {
            tokens: f64::from(rate.per_minute),
            at: now,
        }
    }

    fn refill(&mut self, rate: Rate, now: Instant) {
        let gained = now.saturating_duration_since(self.at).as_secs_f64() / rate.refill_every().as_secs_f64();
        self.tokens = (self.tokens + gained).min(f64::from(rate.per_minute));
        self.at = now;
    }

    fn is_full(&self, rate: Rate) -> bool {
        self.tokens >= f64::from(rate.per_minute)
    }

    /// How long until a token is there.
    fn wait(&self, rate: Rate) -> Duration {
        rate.refill_every().mul_f64((1.0 - self.tokens).max(0.0))
    }
}

/// Buckets by key, forgetting those that refilled.
struct Buckets<K> {
    rate: Rate,
    by_key: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(rate: Rate) -> Self {
        Buckets {
            rate,
            by_key: HashMap::new(),
        }
    }

    fn enabled(&self) -> bool {
        self.rate.per_minute > 0
    }

    /// The key's bucket, refilled to `now`.
    fn get(&mut self, key: &K, now: Instant) -> Bucket {
        let rate = self.rate;
        let mut bucket = self.by_key.get(key).copied().unwrap_or_else(|| Bucket::full(rate, now));
        bucket.refill(rate, now);
        bucket
    }

    fn put(&mut self, key: K, bucket: Bucket, now: Instant) {
        if bucket.is_full(self.rate) {
            self.by_key.remove(&key);
            return;
        }
        if self.by_key.len() >= MAX_TRACKED && !self.by_key.contains_key(&key) {
            self.forget_refilled(now);
        }
        self.by_key.insert(key, bucket);
    }

    fn forget_refilled(&mut self, now: Instant) {
        let rate = self.rate;
        self.by_key.retain(|_, b| {
            b.refill(rate, now);
            !b.is_full(rate)
        });
        if self.by_key.len() >= MAX_TRACKED {
            // Still full of live debts: drop the ones closest to refilled.
            let mut fullest: Vec<(K, f64)> = self.by_key.iter().map(|(k, b)| (k.clone(), b.tokens)).collect();
            fullest.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (key, _) in fullest.into_iter().take(MAX_TRACKED / 10) {
                self.by_key.remove(&key);
            }
        }
    }
}

/// The limits, from configuration (docs/api.md, "Limits").
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins per client address.
    pub login_failures_per_address: Rate,
    /// Failed logins per user (from addresses that failed recently).
    pub login_failures_per_user: Rate,
    /// Registrations per client address.
    pub registrations_per_address: Rate,
}

/// A refused attempt: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
    pub by: ThrottledBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottledBy {
    Address,
    User,
}

/// A login let through: who tries for whom, to charge if it fails.
#[derive(Debug)]
pub struct LoginAttempt {
    address: IpAddr,
    user: UserKey,
}

type UserKey = (String, String);

/// When each address last failed for each user.
#[derive(Default)]
struct Failures {
    at: HashMap<(UserKey, IpAddr), Instant>,
}

impl Failures {
    fn recent(&self, key: &(UserKey, IpAddr), now: Instant) -> bool {
        self.at
            .get(key)
            .is_some_and(|&t| now.saturating_duration_since(t) < FAILURE_MEMORY)
    }

    fn record(&mut self, key: (UserKey, IpAddr), now: Instant) {
        if self.at.len() >= MAX_TRACKED && !self.at.contains_key(&key) {
            self.at
                .retain(|_, &mut t| now.saturating_duration_since(t) < FAILURE_MEMORY);
            if self.at.len() >= MAX_TRACKED {
                let mut oldest: Vec<_> = self.at.iter().map(|(k, &t)| (k.clone(), t)).collect();
                oldest.sort_by_key(|&(_, t)| t);
                for (key, _) in oldest.into_iter().take(MAX_TRACKED / 10) {
                    self.at.remove(&key);
                }
            }
        }
        self.at.insert(key, now);
    }
}

pub struct Throttle {
    logins_by_address: Mutex<Buckets<IpAddr>>,
    logins_by_user: Mutex<Buckets<UserKey>>,
    failures: Mutex<Failures>,
    registrations: Mutex<Buckets<IpAddr>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Throttle {
    pub fn new(limits: Limits) -> Self {
        Throttle {
            logins_by_address: Mutex::new(Buckets::new(limits.login_failures_per_address)),
            logins_by_user: Mutex::new(Buckets::new(limits.login_failures_per_user)),
            failures: Mutex::default(),
            registrations: Mutex::new(Buckets::new(limits.registrations_per_address)),
        }
    }

    /// May `address` try a password for `user` of `tenant` now?
    pub fn login(&self, tenant: &str, user: &str, address: IpAddr) -> Result<LoginAttempt, Throttled> {
        self.login_at(tenant, user, address, Instant::now())
    }

    fn login_at(&self, tenant: &str, user: &str, address: IpAddr, now: Instant) -> Result<LoginAttempt, Throttled> {
        let mut by_address = lock(&self.logins_by_address);
        let from = by_address.get(&address, now);
        if by_address.enabled() && from.tokens < 1.0 {
            return Err(Throttled {
                retry_after: from.wait(by_address.rate),
                by: ThrottledBy::Address,
            });
        }
        let mut by_user = lock(&self.logins_by_user);
        let key = (tenant.to_owned(), user.to_owned());
        let of = by_user.get(&key, now);
        if by_user.enabled() && of.tokens < 1.0 && lock(&self.failures).recent(&(key.clone(), address), now) {
            return Err(Throttled {
                retry_after: of.wait(by_user.rate),
                by: ThrottledBy::User,
            });
        }
        Ok(LoginAttempt { address, user: key })
    }

    /// The password was wrong: the address and the user each pay a token
    /// (going into debt if guesses were in flight together, so a burst is
    /// paid for with a longer wait), and the address is suspect for the
    /// user. A right password costs nothing: drop the attempt.
    pub fn failed(&self, attempt: LoginAttempt) {
        self.failed_at(attempt, Instant::now());
    }

    fn failed_at(&self, attempt: LoginAttempt, now: Instant) {
        let mut by_address = lock(&self.logins_by_address);
        if by_address.enabled() {
            let mut from = by_address.get(&attempt.address, now);
            from.tokens -= 1.0;
            by_address.put(attempt.address, from, now);
        }
        let mut by_user = lock(&self.logins_by_user);
        if by_user.enabled() {
            let mut of = by_user.get(&attempt.user, now);
            of.tokens -= 1.0;
            by_user.put(attempt.user.clone(), of, now);
        }
        lock(&self.failures).record((attempt.user, attempt.address), now);
    }

    /// May `address` register a user now? Every registration takes a token.
    pub fn register(&self, address: IpAddr) -> Result<(), Throttled> {
        self.register_at(address, Instant::now())
    }

    fn register_at(&self, address: IpAddr, now: Instant) -> Result<(), Throttled> {
        let mut registrations = lock(&self.registrations);
        if !registrations.enabled() {
            return Ok(());
        }
        let mut from = registrations.get(&address, now);
        if from.tokens < 1.0 {
            return Err(Throttled {
                retry_after: from.wait(registrations.rate),
                by: ThrottledBy::Address,
            });
        }
        from.tokens -= 1.0;
        registrations.put(address, from, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 66));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 77));
    const REAL_USER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    fn throttle(address: u32, user: u32, registrations: u32) -> Throttle {
        Throttle::new(Limits {
            login_failures_per_address: Rate { per_minute: address },
            login_failures_per_user: Rate { per_minute: user },
            registrations_per_address: Rate {
                per_minute: registrations,
            },
        })
    }

    fn fail(t: &Throttle, user: &str, from: IpAddr, now: Instant) -> Result<(), Throttled> {
        t.login_at("1000", user, from, now).map(|a| t.failed_at(a, now))
    }

    #[test]
    fn an_address_gets_its_burst_of_failures_then_waits_for_a_token() {
        let t = throttle(10, 1000, 0);
        let now = Instant::now();
        for i in 0..10 {
            fail(&t, &format!("u{i}"), ATTACKER, now).unwrap();
        }
        let refused = fail(&t, "u10", ATTACKER, now).unwrap_err();
        assert_eq!(refused.by, ThrottledBy::Address);
        assert_eq!(refused.retry_after, Duration::from_secs(6));
        assert!(fail(&t, "u10", ATTACKER, now + Duration::from_secs(5)).is_err());
        fail(&t, "u10", ATTACKER, now + Duration::from_secs(6)).unwrap();
        fail(&t, "u0", OTHER, now).unwrap();
    }

    #[test]
    fn right_passwords_cost_nothing() {
        let t = throttle(3, 3, 0);
        let now = Instant::now();
        for _ in 0..100 {
            t.login_at("1000", "alice", REAL_USER, now).unwrap();
        }
        assert!(t.logins_by_address.lock().unwrap().by_key.is_empty());
        assert!(t.logins_by_user.lock().unwrap().by_key.is_empty());
    }

    #[test]
    fn guesses_in_flight_together_pay_with_a_longer_wait() {
        let t = throttle(10, 1000, 0);
        let now = Instant::now();
        let burst: Vec<_> = (0..30)
            .map(|i| t.login_at("1000", &format!("u{i}"), ATTACKER, now).unwrap())
            .collect();
        for attempt in burst {
            t.failed_at(attempt, now);
        }
        // 30 failures against a burst of 10: 20 in debt, 21 tokens to wait.
        let refused = fail(&t, "u0", ATTACKER, now).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(6 * 21));
        assert!(fail(&t, "u0", ATTACKER, now + Duration::from_secs(6 * 21 - 1)).is_err());
        fail(&t, "u0", ATTACKER, now + Duration::from_secs(6 * 21)).unwrap();
    }

    #[test]
    fn a_guessed_user_is_held_to_its_rate_but_the_real_user_still_gets_in() {
        let t = throttle(100, 5, 0);
        let now = Instant::now();
        let at = |s: u64| now + Duration::from_secs(s);
        for _ in 0..5 {
            fail(&t, "alice", ATTACKER, now).unwrap();
        }
        let refused = fail(&t, "alice", ATTACKER, now).unwrap_err();
        assert_eq!(refused.by, ThrottledBy::User);
        assert_eq!(refused.retry_after, Duration::from_secs(12));
        // Other users are not affected; the attacker's address failed for
        // alice, so she stays closed to it but for one guess per token.
        fail(&t, "bob", ATTACKER, now).unwrap();
        assert!(fail(&t, "alice", ATTACKER, at(11)).is_err());
        fail(&t, "alice", ATTACKER, at(12)).unwrap();
        assert!(fail(&t, "alice", ATTACKER, at(13)).is_err());
        // A new address gets one guess, then is held like the first.
        fail(&t, "alice", OTHER, at(13)).unwrap();
        assert!(fail(&t, "alice", OTHER, at(13)).is_err());
        // The real user, from an address that did not fail for her, gets in
        // throughout the attack.
        for later in [14, 20, 30] {
            t.login_at("1000", "alice", REAL_USER, at(later)).unwrap();
        }
        // After a typo of her own, she waits for one of her user's tokens.
        fail(&t, "alice", REAL_USER, at(31)).unwrap();
        assert_eq!(
            t.login_at("1000", "alice", REAL_USER, at(31)).unwrap_err().by,
            ThrottledBy::User
        );
    }

    #[test]
    fn an_address_is_suspect_for_a_user_for_a_while_only() {
        let t = throttle(1000, 1, 0);
        let now = Instant::now();
        fail(&t, "alice", ATTACKER, now).unwrap();
        assert!(fail(&t, "alice", ATTACKER, now).is_err());
        // Twenty other addresses put alice 20 tokens into debt.
        for i in 0..20 {
            fail(&t, "alice", IpAddr::from([10, 2, 0, i]), now).unwrap();
        }
        let later = now + FAILURE_MEMORY - Duration::from_secs(1);
        assert!(fail(&t, "alice", ATTACKER, later).is_err());
        // Her bucket is still in debt, but the attacker's failure is
        // forgotten: it is let through like any address.
        let after = now + FAILURE_MEMORY;
        t.login_at("1000", "alice", ATTACKER, after).unwrap();
    }

    #[test]
    fn users_are_per_tenant() {
        let t = throttle(100, 1, 0);
        let now = Instant::now();
        fail(&t, "alice", ATTACKER, now).unwrap();
        assert!(fail(&t, "alice", ATTACKER, now).is_err());
        t.login_at("2000", "alice", ATTACKER, now)
            .map(|a| t.failed_at(a, now))
            .unwrap();
    }

    #[test]
    fn registrations_are_counted_per_address_successful_or_not() {
        let t = throttle(0, 0, 2);
        let now = Instant::now();
        t.register_at(ATTACKER, now).unwrap();
        t.register_at(ATTACKER, now).unwrap();
        assert_eq!(
            t.register_at(ATTACKER, now),
            Err(Throttled {
                retry_after: Duration::from_secs(30),
                by: ThrottledBy::Address
            })
        );
        t.register_at(OTHER, now).unwrap();
        t.register_at(ATTACKER, now + Duration::from_secs(30)).unwrap();
    }

    #[test]
    fn a_rate_of_zero_turns_a_limit_off() {
        let t = throttle(0, 0, 0);
        let now = Instant::now();
        for _ in 0..1000 {
            fail(&t, "alice", ATTACKER, now).unwrap();
            t.register_at(ATTACKER, now).unwrap();
        }
        assert!(t.logins_by_address.lock().unwrap().by_key.is_empty());
    }

    #[test]
    fn refilled_buckets_are_forgotten_so_memory_stays_bounded() {
        let t = throttle(10, 10, 0);
        let now = Instant::now();
        for i in 0..1000 {
            fail(
                &t,
                &format!("u{i}"),
                IpAddr::from([10, 1, (i / 256) as u8, (i % 256) as u8]),
                now,
            )
            .unwrap();
        }
        assert_eq!(t.logins_by_user.lock().unwrap().by_key.len(), 1000);
        let later = now + Duration::from_secs(60);
        t.logins_by_user.lock().unwrap().forget_refilled(later);
        assert!(t.logins_by_user.lock().unwrap().by_key.is_empty());
    }
}
