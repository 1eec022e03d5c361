//! Lease renewal: while this worker holds a job (fetched, running or settling), its idle time in
//! the consumer group is reset every [`QueueConfig::lease_renew_interval`], so a slow chunk is not
//! taken over by another worker. A crashed worker stops renewing, and its jobs are taken over
//! after the claim idle timeout.
//!
//! [`QueueConfig::lease_renew_interval`]: crate::QueueConfig::lease_renew_interval

use std::{sync::Weak, time::Duration};

use super::settle::Shared;
use crate::{keys::GROUP, scripts::RENEW};

pub(crate) async fn renew_leases(shared: Weak<Shared>, every: Duration) {
    let every = every.max(Duration::from_millis(50));
    loop {
        tokio::time::sleep(every).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let ids = shared.held_ids();
        if ids.is_empty() {
            continue;
        }
        let reply: redis::RedisResult<Vec<String>> = RENEW
            .prepare_invoke()
            .key(shared.queue.keys().jobs())
            .arg(GROUP)
            .arg(&shared.consumer)
            .arg(&ids)
            .invoke_async(&mut shared.queue.conn())
            .await;
        match reply {
            Ok(lost) => {
                for id in lost {
                    // Settled meanwhile (normal), or taken over after we missed renewals.
                    if shared.is_held(&id) {
                        tracing::warn!(entry = %id, "lost the lease of a job still running here; another worker may run it too");
                        shared.release(&id);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not renew job leases; retrying"),
        }
    }
}
