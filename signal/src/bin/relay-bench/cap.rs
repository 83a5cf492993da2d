//! A fixed CPU budget per server process, from a cgroup's CPU bandwidth limit.
//!
//! Rule: in the capped rows every server process (each insieme-signal node, matchbox_server,
//! peerjs-server) runs in a cgroup of its own whose quota is `--node-cpus` CPUs; nginx and the
//! load generator run uncapped.
//!
//! Reason: on a real deployment one node is one machine, and scale-out asks whether two of them
//! serve twice what one does. On a small shared host the uncapped rows measure the host
//! instead: the load generator, nginx and the nodes share the same few cores, so a second node
//! only takes CPU from the others. With each node held to a budget well below the host's, the
//! node is the bottleneck, as it would be on its own machine, and the rows compare like with
//! like. The row records how often the nodes hit their budget and how busy the host was, so a
//! reader can check that the node, not the host, set the pace.
//!
//! cgroup v2 (`cpu.max`) is used where the unified hierarchy has the cpu controller, else
//! cgroup v1 (`cpu.cfs_quota_us`). Both need root and a writable cgroup file system. Neither
//! `taskset` nor `nice` would do instead: pinning caps a process at whole cores (on two cores,
//! one node per core leaves nothing for nginx and the load generator, and one core for both
//! nodes is not a per-node budget), and priorities only order processes, they never hold one
//! back from an idle core.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use anyhow::{bail, Context, Result};

/// The scheduler period the quota is a share of. A tenth of the kernel's default (100 ms): a
/// capped node runs flat out until its quota is spent, then waits for the next period, and
/// clients waiting on it meanwhile are clients not keeping the other node busy. Short periods
/// keep those pauses to a few milliseconds, closer to a machine that is merely slower.
const PERIOD_US: u64 = 10_000;
/// The smallest quota the kernel accepts (1 ms per period).
const MIN_QUOTA_US: u64 = 1_000;

/// Which cgroup interface holds the cpu controller here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// A parent cgroup for this run, under which each capped process gets a group of its own.
/// Removed (with any group left in it) when dropped.
pub struct CpuCap {
    cpus: f64,
    version: Version,
    parent: PathBuf,
    next: AtomicUsize,
}

/// One process's group: its quota and its throttling counters.
pub struct Group {
    dir: PathBuf,
}

/// Scheduler periods seen by a group, and in how many of them it used up its quota.
#[derive(Debug, Clone, Copy, Default)]
pub struct Throttling {
    pub periods: u64,
    pub throttled: u64,
}

impl Throttling {
    pub fn since(self, before: Throttling) -> Throttling {
        Throttling {
            periods: self.periods.saturating_sub(before.periods),
            throttled: self.throttled.saturating_sub(before.throttled),
        }
    }

    pub fn add(self, other: Throttling) -> Throttling {
        Throttling {
            periods: self.periods + other.periods,
            throttled: self.throttled + other.throttled,
        }
    }

    /// Share of periods in which the quota ran out: near 1, the budget set the pace.
    pub fn share(self) -> Option<f64> {
        (self.periods > 0).then(|| self.throttled as f64 / self.periods as f64)
    }
}

impl CpuCap {
    /// Refuses a budget the kernel could not apply: a bad flag is the user's to fix, not a
    /// reason to fall back to uncapped rows.
    pub fn check_budget(cpus: f64) -> Result<()> {
        if !(cpus.is_finite() && cpus > 0.0) {
            bail!("the CPU budget must be a positive number of CPUs, not {cpus}");
        }
        if quota_us(cpus) < MIN_QUOTA_US {
            bail!(
                "a budget of {cpus} CPUs is below the kernel's minimum ({MIN_QUOTA_US} µs per {PERIOD_US} µs period)"
            );
        }
        Ok(())
    }

    /// Finds a writable cpu controller and makes this run's parent group in it.
    pub fn create(cpus: f64) -> Result<CpuCap> {
        CpuCap::check_budget(cpus)?;
        let mounts = std::fs::read_to_string("/proc/self/mounts")
            .context("reading /proc/self/mounts to find the cgroup file systems")?;
        let (version, root) = find_cpu_controller(&mounts)
            .context("no cgroup file system with the cpu controller is mounted")?;
        let parent = root.join(format!("insieme-relay-bench-{}", std::process::id()));
        std::fs::create_dir(&parent).with_context(|| {
            format!(
                "creating {} (the cap needs root and a writable cgroup file system)",
                parent.display()
            )
        })?;
        let cap = CpuCap {
            cpus,
            version,
            parent,
            next: AtomicUsize::new(0),
        };
        if version == Version::V2 {
            // Children of the parent get the cpu controller (the root already delegates it,
            // or find_cpu_controller would not have chosen v2).
            write(&cap.parent.join("cgroup.subtree_control"), "+cpu")?;
        }
        Ok(cap)
    }

    pub fn cpus(&self) -> f64 {
        self.cpus
    }

    /// How the cap is applied, for the report.
    pub fn method(&self) -> String {
        let quota = quota_us(self.cpus);
        match self.version {
            Version::V2 => format!(
                "cgroup v2, one group per server process with cpu.max \"{quota} {PERIOD_US}\""
            ),
            Version::V1 => format!(
                "cgroup v1, one group per server process with cpu.cfs_quota_us {quota} per cpu.cfs_period_us {PERIOD_US}"
            ),
        }
    }

    /// Moves process `pid` (all its threads, and what it starts later) into a new group
    /// limited to the budget.
    pub fn place(&self, pid: u32) -> Result<Group> {
        let n = self.next.fetch_add(1, Relaxed);
        let dir = self.parent.join(format!("server-{n}"));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let group = Group { dir };
        let quota = quota_us(self.cpus);
        match self.version {
            Version::V2 => write(&group.dir.join("cpu.max"), &format!("{quota} {PERIOD_US}"))?,
            Version::V1 => {
                write(&group.dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write(&group.dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
            }
        }
        write(&group.dir.join("cgroup.procs"), &pid.to_string())?;
        Ok(group)
    }
}

impl Drop for CpuCap {
    fn drop(&mut self) {
        // Groups of servers already stopped; a group still holding a process cannot go.
        if let Ok(entries) = std::fs::read_dir(&self.parent) {
            for entry in entries.flatten() {
                if entry.path().is_dir() {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
        let _ = std::fs::remove_dir(&self.parent);
    }
}

impl Group {
    pub fn throttling(&self) -> Result<Throttling> {
        let path = self.dir.join("cpu.stat");
        let stat = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let field = |name: &str| -> Result<u64> {
            stat.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|value| value.trim().parse().ok())
                .with_context(|| format!("no {name} in {}", path.display()))
        };
        Ok(Throttling {
            periods: field("nr_periods")?,
            throttled: field("nr_throttled")?,
        })
    }

    /// Removes the group; its process must have exited.
    pub fn remove(self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn quota_us(cpus: f64) -> u64 {
    (cpus * PERIOD_US as f64).round() as u64
}

fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).with_context(|| format!("writing {value:?} to {}", path.display()))
}

/// The cgroup mount that holds the cpu controller: the unified (v2) hierarchy if its root
/// delegates cpu to children, else a v1 hierarchy mounted with the cpu option.
fn find_cpu_controller(mounts: &str) -> Option<(Version, PathBuf)> {
    let entries: Vec<(&str, &str, &str)> = mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _device = fields.next()?;
            let mount_point = fields.next()?;
            let fs_type = fields.next()?;
            let options = fields.next()?;
            Some((mount_point, fs_type, options))
        })
        .collect();
    let v2 = entries
        .iter()
        .filter(|&&(_, fs_type, _)| fs_type == "cgroup2")
        .find_map(|&(mount_point, _, _)| {
            let root = Path::new(mount_point);
            let delegated = std::fs::read_to_string(root.join("cgroup.subtree_control")).ok()?;
            delegated
                .split_whitespace()
                .any(|c| c == "cpu")
                .then(|| (Version::V2, root.to_path_buf()))
        });
    v2.or_else(|| {
        entries.iter().find_map(|&(mount_point, fs_type, options)| {
            (fs_type == "cgroup" && options.split(',').any(|o| o == "cpu"))
                .then(|| (Version::V1, PathBuf::from(mount_point)))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_is_a_share_of_the_period() {
        assert_eq!(quota_us(0.3), 3_000);
        assert_eq!(quota_us(1.0), PERIOD_US);
    }

    #[test]
    fn v1_cpu_mount_is_found_by_its_option() {
        let mounts = "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n\
                      cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n";
        assert_eq!(
            find_cpu_controller(mounts),
            Some((Version::V1, PathBuf::from("/sys/fs/cgroup/cpu")))
        );
    }

    #[test]
    fn sensible_budgets_pass() {
        for cpus in [0.1, 0.15, 1.0, 2.5] {
            assert!(CpuCap::check_budget(cpus).is_ok(), "{cpus}");
        }
    }

    #[test]
    fn nonsense_budgets_are_refused() {
        for cpus in [0.0, -1.0, f64::NAN, 0.01] {
            assert!(CpuCap::check_budget(cpus).is_err(), "{cpus}");
        }
    }
}
