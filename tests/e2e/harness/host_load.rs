//! How busy the shared machine was while a benchmark ran: CPU time given to other guests
//! (steal) and left idle, from `/proc/stat`, and the CPU each browser used. Browser figures are
//! reported with them.

/// The machine's cumulative CPU times from `/proc/stat` (all cores, in clock ticks).
#[derive(Clone, Copy)]
pub struct CpuTimes {
    total: u64,
    idle: u64,
    steal: u64,
}

/// Shares (fractions) of the CPU time between two readings.
#[derive(Clone, Copy)]
pub struct CpuShares {
    pub idle: f64,
    pub steal: f64,
}

impl CpuTimes {
    /// `None` where there is no `/proc/stat` (not Linux) or it reads unlike one.
    pub fn read() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        // cpu  user nice system idle iowait irq softirq steal ...
        let ticks: Vec<u64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .take(8)
            .map(|t| t.parse().ok())
            .collect::<Option<_>>()?;
        (ticks.len() == 8).then(|| CpuTimes {
            total: ticks.iter().sum(),
            idle: ticks[3] + ticks[4],
            steal: ticks[7],
        })
    }

    pub fn since(&self, earlier: &CpuTimes) -> CpuShares {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        CpuShares {
            idle: self.idle.saturating_sub(earlier.idle) as f64 / total,
            steal: self.steal.saturating_sub(earlier.steal) as f64 / total,
        }
    }
}

/// CPU time (user + system, in clock ticks) used so far by a process and every live process
/// descending from it, from `/proc/<pid>/stat`: one browser's Chromium processes under its
/// chromedriver. Processes that already exited are not counted. `None` where there is no
/// `/proc` (not Linux).
pub fn process_tree_ticks(root: u32) -> Option<u64> {
    // (pid, parent, ticks) of every process.
    let mut processes = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()? {
        let Some(pid) = entry
            .ok()
            .and_then(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue; // exited meanwhile
        };
        // pid (comm) state ppid ... utime(14) stime(15): the command may hold spaces or ')'.
        let Some(after_comm) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        // After the command: state(0) ppid(1) ... utime(11) stime(12).
        if let (Some(parent), Some(user), Some(system)) = (number(1), number(11), number(12)) {
            processes.push((pid, parent as u32, user + system));
        }
    }
    let mut tree = vec![root];
    let mut total = 0;
    let mut i = 0;
    while let Some(&pid) = tree.get(i) {
        for &(child, parent, ticks) in &processes {
            if child == pid {
                total += ticks;
            }
            if parent == pid {
                tree.push(child);
            }
        }
        i += 1;
    }
    Some(total)
}

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`; 100 on every Linux we run).
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The shares of the CPU time since `start`, if both readings could be taken.
pub fn shares_since(start: Option<CpuTimes>) -> Option<CpuShares> {
    start
        .zip(CpuTimes::read())
        .map(|(start, end)| end.since(&start))
}
