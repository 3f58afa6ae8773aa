//! Embedded Parley servers the harness starts itself (`--parley`): `parley
//! serve` on 127.0.0.1:0 with a fresh data dir, its log in a file beside
//! it, stopped with SIGTERM; and the server's resident memory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::client::Result;

/// The app admin of the servers the harness starts.
pub const ADMIN: &str = "imAdmin";

pub struct Server {
    child: Child,
    pub url: String,
    pub pid: u32,
    pub data_dir: PathBuf,
    pub log: PathBuf,
}

impl Server {
    /// `parley serve --data-dir DATA_DIR --listen 127.0.0.1:0 --admin-user-ids
    /// imAdmin --registrations-per-minute 0` with `secret` as its JWT
    /// secret, plus `extra` flags; returns once it listens. Its stderr goes
    /// to `DATA_DIR.log`. (Every user of a run registers from this one
    /// address: the per-address registration limit is off.)
    pub async fn start(parley: &Path, data_dir: &Path, secret: &str, extra: &[String]) -> Result<Server> {
        let log = data_dir.with_extension("log");
        let mut child = Command::new(parley)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0", "--admin-user-ids", ADMIN])
            .args(["--registrations-per-minute", "0"])
            .args(extra)
            .env("PARLEY_JWT_SECRET", secret)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", parley.display()))?;
        let pid = child.id().ok_or("parley exited at once")?;
        let mut lines = BufReader::new(child.stderr.take().ok_or("no stderr")?).lines();
        let mut file = tokio::fs::File::create(&log).await?;
        let (found, address) = tokio::sync::oneshot::channel();
        // Copies the log to its file for as long as the server runs, and
        // reports the address it listens on once it serves the API.
        tokio::spawn(async move {
            let mut found = Some(found);
            let mut listening = None;
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("listening on http://") {
                    listening = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .map(str::to_owned);
                }
                if line.contains("ready: serving the API") {
                    if let (Some(found), Some(address)) = (found.take(), listening.take()) {
                        let _ = found.send(address);
                    }
                }
                if file.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                    break;
                }
            }
            let _ = file.flush().await;
        });
        let url = tokio::time::timeout(Duration::from_secs(120), address)
            .await
            .map_err(|_| format!("parley did not listen within 120 s; see {}", log.display()))?
            .map_err(|_| format!("parley exited before listening; see {}", log.display()))?;
        Ok(Server {
            child,
            url,
            pid,
            data_dir: data_dir.to_owned(),
            log,
        })
    }

    /// SIGTERM, then waits for a clean exit (it drains and flushes first).
    pub async fn stop(mut self) -> Result<()> {
        // SAFETY: kill(2) on the pid of a child that has not been reaped.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        let status = tokio::time::timeout(Duration::from_secs(120), self.child.wait())
            .await
            .map_err(|_| "parley did not stop within 120 s of SIGTERM")??;
        if !status.success() {
            return Err(format!("parley exited with {status}; see {}", self.log.display()).into());
        }
        Ok(())
    }
}

/// Resident memory of a process (VmRSS), in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status").into())
}

/// Lines of a server log at level WARN or ERROR (the first few of them, and
/// how many there were).
pub fn warnings(log: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    (bad.len(), bad.iter().take(5).map(|l| l.to_string()).collect())
}

/// How the harness starts servers: this parley binary, data dirs under
/// `dir` named after the run's prefix, this JWT secret, extra serve flags.
pub struct Launcher {
    pub parley: PathBuf,
    pub dir: PathBuf,
    pub prefix: String,
    pub secret: String,
    pub serve_args: Vec<String>,
}

impl Launcher {
    /// A fresh server on the data dir `<dir>/<prefix><name>`.
    pub async fn start(&self, name: &str) -> Result<Server> {
        let data_dir = self.dir.join(format!("{}{name}", self.prefix));
        Server::start(&self.parley, &data_dir, &self.secret, &self.serve_args).await
    }
}

/// CPU time used by the server and by this process over a phase, as a
/// share of one core (200% = both cores of a 2-core machine): who was busy,
/// the server or the load generator beside it.
pub struct CpuMeter {
    server: Option<(u32, u64)>,
    own: u64,
    started: std::time::Instant,
}

impl CpuMeter {
    pub fn start(server_pid: Option<u32>) -> CpuMeter {
        CpuMeter {
            server: server_pid.and_then(|pid| Some((pid, cpu_ticks(pid)?))),
            own: cpu_ticks(std::process::id()).unwrap_or(0),
            started: std::time::Instant::now(),
        }
    }

    /// `server_cpu_percent` (if its pid is known) and `bench_cpu_percent`.
    pub fn figures(&self, scenario: &'static str) -> Vec<crate::stats::Figure> {
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let percent = |pid: u32, before: u64| {
            let used = cpu_ticks(pid).unwrap_or(before).saturating_sub(before);
            100.0 * used as f64 / per_second / elapsed
        };
        let mut figures = Vec::new();
        if let Some((pid, before)) = self.server {
            figures.push(crate::stats::Figure::value(
                scenario,
                "server_cpu_percent",
                percent(pid, before),
            ));
        }
        let own = percent(std::process::id(), self.own);
        figures.push(crate::stats::Figure::value(scenario, "bench_cpu_percent", own));
        figures
    }
}

/// utime + stime of a process, in clock ticks (/proc/PID/stat).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces): state is
    // field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}
