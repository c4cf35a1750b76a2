//! The reference count behind `lxc_container_get`/`lxc_container_put`.
//! Lock-free so that many threads may take and drop references at once.

use std::sync::atomic::{AtomicI32, Ordering};

#[derive(Debug)]
pub struct RefCount(AtomicI32);

impl Default for RefCount {
    fn default() -> Self {
        Self::new()
    }
}

impl RefCount {
    /// A fresh handle holds one reference.
    pub fn new() -> Self {
        RefCount(AtomicI32::new(1))
    }

    /// Takes a reference; false once the count reached zero (the handle is
    /// being freed and must not be revived).
    pub fn get(&self) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n >= 1).then_some(n + 1)
            })
            .is_ok()
    }

    /// Drops a reference; true when it was the last one. A put on a count
    /// already at zero is refused (returns false) rather than going negative.
    pub fn put(&self) -> bool {
        matches!(
            self.0
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n >= 1).then_some(n - 1)
                }),
            Ok(1)
        )
    }

    pub fn count(&self) -> i32 {
        self.0.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn get_put() {
        let r = RefCount::new();
        assert!(r.get());
        assert!(!r.put());
        assert!(r.put());
        assert!(!r.get(), "a freed handle cannot be revived");
        assert!(!r.put());
        assert_eq!(r.count(), 0);
    }

    #[test]
    fn threads() {
        let r = Arc::new(RefCount::new());
        let hs: Vec<_> = (0..8)
            .map(|_| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        assert!(r.get());
                        assert!(!r.put());
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(r.count(), 1);
        assert!(r.put());
    }
}
