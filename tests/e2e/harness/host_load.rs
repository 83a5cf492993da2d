//! How busy the shared machine was while a benchmark ran: CPU time given to other guests
//! (steal) and left idle, from `/proc/stat`. Browser figures are reported with them.

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
