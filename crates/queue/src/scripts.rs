//! The Lua scripts that make every multi-key change atomic.
//!
//! Each script lives in `src/lua/<name>.lua` with a header listing its KEYS and ARGV. Every key a
//! script touches is passed in KEYS (never built inside the script), and all of them share the
//! namespace's hash tag, so the scripts run unchanged on Redis Cluster.

use std::sync::LazyLock;

use redis::Script;

macro_rules! scripts {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(
            pub(crate) static $name: LazyLock<Script> =
                LazyLock::new(|| Script::new(include_str!(concat!("lua/", $file))));
        )*
    };
}

scripts! {
    BEGIN => "begin.lua",
    STAGE => "stage.lua",
    COMMIT => "commit.lua",
    ABORT => "abort.lua",
    RECORD => "record.lua",
    IN_FLIGHT => "in_flight.lua",
    REQUEUE => "requeue.lua",
    PROMOTE => "promote.lua",
    CLAIM => "claim.lua",
    SETTLE_OK => "settle_ok.lua",
    SETTLE_RETRY => "settle_retry.lua",
    SETTLE_DEAD => "settle_dead.lua",
    RENEW => "renew.lua",
    HANDBACK => "handback.lua",
    RETIRE => "retire.lua",
    PRUNE => "prune.lua",
}
