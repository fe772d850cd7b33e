//! A value the whole shell reads and a reload replaces: readers take the current `Arc` and
//! keep it for as long as they need (a request in flight finishes with the configuration it
//! started with); [`Shared::store`] swaps in the new one for everyone after.

use std::sync::{Arc, RwLock};

/// The current version of a reloadable value (users, the workflow's catalogue and calendar).
#[derive(Debug)]
pub struct Shared<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Shared<T> {
    /// Starts with `value`.
    pub fn new(value: T) -> Self {
        Shared(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// The current value (cheap: one clone of an `Arc` under a read lock).
    pub fn load(&self) -> Arc<T> {
        // A poisoned lock still holds a whole `Arc`: the writer only ever assigns one.
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Replaces the value for every later `load`.
    pub fn store(&self, value: Arc<T>) {
        match self.0.write() {
            Ok(mut g) => *g = value,
            Err(p) => *p.into_inner() = value,
        }
    }
}
