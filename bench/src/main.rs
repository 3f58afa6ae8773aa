//! `parley-bench`: drives a Parley server over real HTTP and WebSocket
//! connections, prints a table of figures (each rate also as a ratio to the
//! baseline: the same client against a no-op HTTP app) and writes them as
//! JSON. See docs/benchmarks.md.

mod auth;
mod client;
mod load;
mod scenarios;
mod server;
mod session;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde_json::json;

use crate::auth::Tokens;
use crate::client::{Api, Result};
use crate::scenarios::{Ctx, Scenario, Sizes};
use crate::server::Launcher;
use crate::stats::Figure;

#[derive(Debug, Parser)]
#[command(name = "parley-bench", version, about)]
struct Cli {
    /// What to run, in order (the baseline runs first in every run).
    #[arg(value_enum, required = true)]
    scenarios: Vec<Scenario>,
    /// Base URL of a running server (unless --parley).
    #[arg(long, default_value = "http://127.0.0.1:10002")]
    url: String,
    /// Start a fresh embedded server from this `parley` binary instead of
    /// using --url (rebuild always starts its own, so it needs this).
    #[arg(long)]
    parley: Option<PathBuf>,
    /// With --parley: the directory of the servers' data dirs and logs
    /// (kept); default a temporary one, removed at the end.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// With --parley: one more flag for `parley serve` (repeatable), e.g.
    /// --serve-arg=--read-wait-ms=0.
    #[arg(long = "serve-arg", allow_hyphen_values = true)]
    serve_args: Vec<String>,
    #[arg(long, default_value = "1000")]
    tenant: String,
    /// An app admin's token (`parley admin-token --user-id imAdmin
    /// --data-dir DIR`, with the server started with --admin-user-ids
    /// imAdmin). Not needed with --parley or --jwt-secret.
    #[arg(long, env = "PARLEY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The server's JWT secret (the contents of <data-dir>/jwt-secret, or
    /// its --jwt-secret): tokens are then minted here instead of logging
    /// users in (an argon2 verification each). Not needed with --parley.
    #[arg(long, env = "PARLEY_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The app admin whose token --jwt-secret mints.
    #[arg(long, default_value = server::ADMIN)]
    admin_id: String,
    /// The server's process ID, for idle's memory figures (known with --parley).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Requests (or message sends, or handshakes) in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds each timed phase runs (baseline, updates, social, chat,
    /// fanout, each read query, idle's hold).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// The start of every user and group ID of the run (default: random), so
    /// runs against one server do not collide.
    #[arg(long)]
    prefix: Option<String>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    sizes: Sizes,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("parley-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the baseline and the scenarios; false if any failed.
async fn run(cli: Cli) -> Result<bool> {
    raise_open_files_limit();
    let mut scenarios: Vec<Scenario> = Vec::new();
    for s in &cli.scenarios {
        let expanded = if *s == Scenario::All {
            &Scenario::EVERY[..]
        } else {
            std::slice::from_ref(s)
        };
        for s in expanded {
            if *s != Scenario::Baseline && !scenarios.contains(s) {
                scenarios.push(*s);
            }
        }
    }
    let duration = Duration::from_secs_f64(cli.duration);
    let prefix = cli
        .prefix
        .clone()
        .unwrap_or_else(|| format!("b{:06x}-", rand::random::<u32>() & 0xff_ffff));

    eprintln!("baseline: {} s at concurrency {}", cli.duration, cli.concurrency);
    let baseline = scenarios::baseline::run(cli.concurrency, duration).await?;
    let yardstick = baseline.iter().find(|f| f.rate).map(|f| f.value);
    let mut figures: Vec<Figure> = baseline;
    let mut failures = Vec::new();

    // Servers the harness starts keep their data here.
    let owned_dir = match (&cli.parley, &cli.data_dir) {
        (Some(_), None) => Some(tempfile::tempdir()?),
        _ => None,
    };
    let launcher = cli.parley.as_ref().map(|parley| Launcher {
        parley: parley.clone(),
        dir: owned_dir
            .as_ref()
            .map_or_else(|| cli.data_dir.clone().unwrap_or_default(), |d| d.path().to_owned()),
        prefix: prefix.clone(),
        secret: format!("{:032x}", rand::random::<u128>()),
        serve_args: cli.serve_args.clone(),
    });
    if let Some(dir) = &cli.data_dir {
        std::fs::create_dir_all(dir)?;
    }
    let needs_server = scenarios.iter().any(|s| *s != Scenario::Rebuild);
    let server = match &launcher {
        Some(launcher) if needs_server => Some(launcher.start("serve").await?),
        _ => None,
    };
    if let Some(server) = &server {
        eprintln!(
            "started parley at {} (pid {}, log {})",
            server.url,
            server.pid,
            server.log.display()
        );
    }

    if !scenarios.is_empty() {
        let (secret, admin_token) = match &launcher {
            Some(launcher) => (Some(launcher.secret.as_str()), None),
            None => (cli.jwt_secret.as_deref(), cli.admin_token.clone()),
        };
        let ctx = Ctx {
            api: Arc::new(Api::new(server.as_ref().map_or(&cli.url, |s| &s.url), &cli.tenant)?),
            tokens: Arc::new(Tokens::new(secret, admin_token, &cli.admin_id, &cli.tenant)?),
            tenant: cli.tenant.clone(),
            prefix: prefix.clone(),
            concurrency: cli.concurrency,
            duration,
            sizes: cli.sizes.clone(),
            server_pid: server.as_ref().map(|s| s.pid).or(cli.server_pid),
            launcher,
        };
        for scenario in scenarios {
            eprintln!("{}: running", scenario.name());
            match scenarios::run(scenario, &ctx).await {
                Ok(outcome) => {
                    eprint!("{}", stats::table(&outcome.figures, yardstick));
                    figures.extend(outcome.figures);
                    failures.extend(
                        outcome
                            .problems
                            .into_iter()
                            .map(|p| format!("{}: {p}", scenario.name())),
                    );
                }
                Err(e) => failures.push(format!("{}: {e}", scenario.name())),
            }
        }
    }

    let mut server_log = json!(null);
    if let Some(server) = server {
        let (count, first) = server::warnings(&server.log);
        server_log = json!({"log": server.log, "warnings_and_errors": count, "first": first});
        if count > 0 {
            eprintln!(
                "the server logged {count} warnings/errors (see {}):",
                server.log.display()
            );
            first.iter().for_each(|l| eprintln!("  {l}"));
        }
        if let Err(e) = server.stop().await {
            failures.push(format!("server: {e}"));
        }
    }

    println!("{}", stats::table(&figures, yardstick));
    for failure in &failures {
        println!("FAILED {failure}");
    }
    if let Some(path) = &cli.json {
        let run = json!({
            "scenarios": cli.scenarios.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "url": if cli.parley.is_some() { "(embedded, started by parley-bench)".to_owned() } else { cli.url.clone() },
            "prefix": prefix, "concurrency": cli.concurrency, "duration_s": cli.duration,
            "sizes": cli.sizes, "machine": machine(), "server": server_log,
        });
        stats::write_json(path, run, &figures, yardstick, &failures)?;
    }
    Ok(failures.is_empty())
}

/// Cores and CPU model of this machine.
fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")?
            .split_once(':')
            .map(|(_, m)| m.trim().to_owned())
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({"cores": cores, "cpu": model})
}

/// Thousands of sessions need thousands of descriptors: the soft limit on
/// open files goes up to the hard one (servers started here inherit it).
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
