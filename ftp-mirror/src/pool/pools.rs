//! One pool per server, shared by every module on it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::ftp::{Pool, PoolConfig, ServerAuth, ServerKey};

/// The pools of a run: one [`Pool`] per [`ServerKey`], so every module on a
/// server draws from the same `NUM_CONNECTION` sessions.
#[derive(Debug, Default)]
pub struct Pools {
    pools: Mutex<HashMap<ServerKey, Pool>>,
}

impl Pools {
    /// The pool for `auth.key`, made on first use. Later calls with the same
    /// key get the same pool; their `auth` and `config` are not used (the
    /// first module on a server sets its password and limit).
    pub fn pool_for(&self, auth: ServerAuth, config: PoolConfig) -> Pool {
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        pools
            .entry(auth.key.clone())
            .or_insert_with(|| Pool::new(auth, config))
            .clone()
    }

    /// Every pool made so far.
    pub fn all(&self) -> Vec<Pool> {
        let pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        pools.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ftp_proto::client::Password;

    fn auth(host: &str, user: &str) -> ServerAuth {
        ServerAuth {
            key: ServerKey {
                host: host.into(),
                port: 21,
                user: user.into(),
            },
            password: Password::new("pw"),
        }
    }

    #[test]
    fn same_server_same_pool() {
        let pools = Pools::default();
        let small = PoolConfig {
            max_sessions: 2,
            ..PoolConfig::default()
        };
        let a = pools.pool_for(auth("127.0.0.1", "u"), small.clone());
        let b = pools.pool_for(auth("127.0.0.1", "u"), PoolConfig::default());
        let c = pools.pool_for(auth("127.0.0.1", "v"), small);
        assert!(std::ptr::eq(a.manager(), b.manager()));
        assert!(!std::ptr::eq(a.manager(), c.manager()));
        assert_eq!(b.limit(), 2, "the first config wins");
        assert_eq!(pools.all().len(), 2);
    }
}
