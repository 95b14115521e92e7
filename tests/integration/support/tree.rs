//! Peak memory of a process and all its descendants (the read workers), sampled from /proc.

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

/// (pid -> (parent pid, resident bytes)) for every process.
fn processes() -> HashMap<u32, (u32, u64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may hold spaces: split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // state ppid ... rss is field 24 of the whole line, 22 after the name.
        let (Some(ppid), Some(rss)) = (fields.get(1), fields.get(21)) else {
            continue;
        };
        let (Ok(ppid), Ok(rss)) = (ppid.parse::<u32>(), rss.parse::<u64>()) else {
            continue;
        };
        out.insert(pid, (ppid, rss * 4096));
    }
    out
}

fn tree_rss(root: u32) -> u64 {
    let all = processes();
    let mut total = 0;
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if let Some((_, rss)) = all.get(&p) {
            total += rss;
        }
        stack.extend(all.iter().filter(|(_, (pp, _))| *pp == p).map(|(c, _)| *c));
    }
    total
}

/// Wait for `child` while sampling its process tree every 10 ms. Returns (exit code, wall
/// time, peak resident bytes of the tree). Kills the child past `limit`.
pub fn watch(mut child: Child, limit: Duration) -> (Option<i32>, Duration, u64) {
    let start = Instant::now();
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), start.elapsed(), peak);
        }
        peak = peak.max(tree_rss(pid));
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, start.elapsed(), peak);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
