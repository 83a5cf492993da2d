//! How busy the whole machine was during a measurement, from /proc/stat: the share of CPU time
//! not idle, and the share stolen by the hypervisor (time this VM wanted but another guest got).
//! A row measured while the host was saturated, or heavily stolen from, says so. Also the CPU
//! time of single processes (the load generator, nginx), from /proc/<pid>/stat.

use anyhow::{Context, Result};

/// The unit of /proc's CPU times: USER_HZ, which the kernel fixes at 100 for user space on
/// every architecture it reports to /proc (whatever the scheduler's own tick rate).
const USER_HZ: f64 = 100.0;

/// User plus system CPU time of process `pid` (all its threads), in seconds.
pub fn process_cpu_seconds(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_process_ticks(&stat)
        .map(|ticks| ticks as f64 / USER_HZ)
        .with_context(|| format!("unreadable {path}"))
}

/// The processes whose parent is `pid` (nginx's workers), from /proc.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| parse_parent(&stat))
                == Some(pid)
        })
        .collect()
}

/// `pid (comm) state ppid ... utime stime ...`: the command may hold spaces and parentheses,
/// so fields are counted from the last `)`.
fn after_comm(stat: &str) -> Option<Vec<&str>> {
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

fn parse_parent(stat: &str) -> Option<u32> {
    after_comm(stat)?.get(1)?.parse().ok()
}

fn parse_process_ticks(stat: &str) -> Option<u64> {
    let fields = after_comm(stat)?;
    // Fields 14 and 15 of the whole line; the rest starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The aggregate `cpu` line of /proc/stat, in clock ticks: since boot (`now`), or over an
/// interval (`since`), summed over intervals (`add`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTimes {
    total: u64,
    idle: u64,
    steal: u64,
}

impl CpuTimes {
    pub fn now() -> Result<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
        parse(&stat).context("unreadable cpu line in /proc/stat")
    }

    pub fn since(self, before: CpuTimes) -> CpuTimes {
        CpuTimes {
            total: self.total.saturating_sub(before.total),
            idle: self.idle.saturating_sub(before.idle),
            steal: self.steal.saturating_sub(before.steal),
        }
    }

    pub fn add(self, other: CpuTimes) -> CpuTimes {
        CpuTimes {
            total: self.total + other.total,
            idle: self.idle + other.idle,
            steal: self.steal + other.steal,
        }
    }

    /// Share of CPU time spent on anything but idling (steal included: it was not ours).
    pub fn busy(self) -> Option<f64> {
        (self.total > 0).then(|| 1.0 - self.idle as f64 / self.total as f64)
    }

    pub fn steal(self) -> Option<f64> {
        (self.total > 0).then(|| self.steal as f64 / self.total as f64)
    }
}

/// `cpu  user nice system idle iowait irq softirq steal guest guest_nice`; guest time is
/// already counted in user and nice, so it is left out of the total.
fn parse(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let field = |i: usize| fields.get(i).copied().unwrap_or(0);
    let total = (0..8).map(field).sum();
    Some(CpuTimes {
        total,
        idle: field(3) + field(4),
        steal: field(7),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_steal_come_from_the_cpu_line() {
        // 1000 ticks between the two: 500 user, 100 system, 300 idle, 100 stolen.
        let before = parse("cpu  100 0 0 800 0 0 0 100 0 0\ncpu0 1 2 3\n").unwrap();
        let after = parse("cpu  600 0 100 1100 0 0 0 200 0 0\n").unwrap();
        let load = after.since(before);
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        assert!(close(load.busy(), 0.7), "{:?}", load.busy());
        assert!(close(load.steal(), 0.1), "{:?}", load.steal());
    }

    #[test]
    fn process_times_are_counted_past_the_command() {
        let stat = "42 (nginx: a) b) S 7 42 42 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(parse_parent(stat), Some(7));
        assert_eq!(parse_process_ticks(stat), Some(300));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse("cpu  1 x 3\n").is_none());
        assert!(parse("intr 1 2\n").is_none());
    }
}
