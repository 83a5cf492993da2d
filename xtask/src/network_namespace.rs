//! A private network for the browser tests.
//!
//! WebRTC needs an interface other than loopback, and tests must send nothing off the machine.
//! On Linux as root we run the suite inside a fresh network namespace holding only `lo` and a
//! veth pair whose two ends both stay inside; Chromium gathers host candidates only on the
//! interface of the default route, so the route points through the pair. Elsewhere (a
//! developer's laptop) the suite runs on the normal network.

use crate::command::probe;
use std::process::Command;

/// Addresses of the two ends of the veth pair, private to the namespace.
const NEAR_END: &str = "10.213.0.1/24";
const FAR_END: &str = "10.213.0.2/24";
const GATEWAY: &str = "10.213.0.2";

pub fn available() -> bool {
    cfg!(target_os = "linux")
        && crate::command::is_root()
        && probe(Command::new("sh").args(["-c", "command -v unshare"])).is_some()
}

/// Wraps `inner` (a description, never spawned itself) so it runs inside a new private network namespace, or returns it
/// unchanged (with a note) where that is not possible.
pub fn wrap(inner: Command) -> Command {
    if !available() {
        println!("xtask: not root on Linux: browser tests use the normal network (loopback only)");
        return inner;
    }
    let setup = format!(
        "set -e; ip link set lo up; \
         ip link add insieme0 type veth peer name insieme1; \
         ip addr add {NEAR_END} dev insieme0; ip addr add {FAR_END} dev insieme1; \
         ip link set insieme0 up; ip link set insieme1 up; \
         ip route add default via {GATEWAY} dev insieme0; \
         exec \"$@\""
    );
    let mut outer = Command::new("unshare");
    outer.args(["--net", "--", "sh", "-c", &setup, "insieme-netns"]);
    outer.arg(inner.get_program()).args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => outer.env(key, value),
            None => outer.env_remove(key),
        };
    }
    if let Some(dir) = inner.get_current_dir() {
        outer.current_dir(dir);
    }
    outer
}
