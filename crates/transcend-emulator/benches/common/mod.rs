//! What the emulator's benches share.
#![allow(dead_code)]

/// A memory figure of this process from `/proc/self/status` (`VmRSS`, `VmHWM`), in bytes.
pub fn memory(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// The resident set size now.
pub fn rss() -> u64 {
    memory("VmRSS:")
}

/// The peak resident set size since the process started (or the last reset).
pub fn rss_peak() -> u64 {
    memory("VmHWM:")
}
