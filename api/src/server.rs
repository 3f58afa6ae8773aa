//! Start-up, serving and shutdown, and the `rebuild` command.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

use crate::auth::Tokens;
use infra::projector::Progress;
use infra::read_store::Checkpoints;
use infra::readiness::Readiness;

use crate::cli::{BackendArgs, RebuildArgs, ServeArgs};
use crate::deploy::{self, BoxError};
use crate::gateway;
use crate::gateway::hub::Hub;
use crate::listener;
use crate::password::Passwords;
use crate::routes::router;
use crate::secret;
use crate::startup::{Starting, Switch};
use crate::state::{AppState, Inner};
use crate::throttle::{Limits, Rate, Throttle};

/// `parley serve`: runs until SIGINT/SIGTERM, then stops accepting, closes
/// the WebSocket sessions and the connections between requests, lets
/// requests in flight finish within the shutdown grace (and closes what is
/// left after it), flushes and returns.
pub async fn serve(args: ServeArgs) -> Result<(), BoxError> {
    if deploy::is_scale_out(&args.backend)? && args.secret.jwt_secret.is_none() {
        return Err("the scale-out deployment needs --jwt-secret (PARLEY_JWT_SECRET), shared by every API node".into());
    }
    let limits = listener::Limits::new(&args.connections, listener::open_files::raise())?;
    if let Some(listen) = args.backend.metrics_listen {
        crate::metrics::serve(listen).await?;
    }
    let secret = secret::load_or_create(&args.secret, &args.backend.data.data_dir)?;
    // Listen at once: while the backend starts (the log replayed into the
    // write side and the read models), /healthz says alive and /readyz
    // how far the start is.
    let tcp = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(
        data_dir = %args.backend.data.data_dir.display(),
        max_connections = limits.max_connections,
        "listening on http://{}",
        tcp.local_addr()?
    );
    let starting = Arc::new(Starting::default());
    let switch = Switch::default();
    let (stop, shutdown) = watch::channel(None);
    let serving = tokio::spawn(listener::serve(tcp, switch.router(starting.clone()), limits, shutdown));
    let (bar, progress) = rebuild_bar()?;
    let mut backend = deploy::api_backend(&args.backend, Some(starting.progress(progress))).await?;
    bar.finish_and_clear();
    let state = AppState(Arc::new(Inner {
        commands: backend.commands.clone(),
        store: backend.store.clone(),
        tokens: Tokens::new(&secret, args.secret.token_ttl_secs),
        admins: args.admin_user_ids.iter().cloned().collect::<HashSet<_>>(),
        platform_admins: args.platform_admin_user_ids.iter().cloned().collect(),
        read_wait: Duration::from_millis(args.read_wait_ms),
        friend_verify: args.friend_verify,
        history_for_new_members: args.group_history_for_new_members,
        hub: Arc::new(Hub::new(args.connections.max_sessions_per_user as usize)),
        readiness: Readiness {
            heads: backend.heads.clone(),
            store: backend.store.clone(),
            max_behind: args.ready_max_behind,
        },
        vault: backend.vault.clone(),
        progress: backend.progress.clone(),
        passwords: Passwords::new(
            args.passwords
                .password_checks
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        ),
        throttle: Throttle::new(Limits {
            login_failures_per_address: Rate {
                per_minute: args.passwords.login_failures_per_minute,
            },
            login_failures_per_user: Rate {
                per_minute: args.passwords.user_login_failures_per_minute,
            },
            registrations_per_address: Rate {
                per_minute: args.passwords.registrations_per_minute,
            },
        }),
    }));

    if args.backend.metrics_listen.is_some() {
        tokio::spawn(crate::metrics::follow_behind(state.clone()));
    }
    if let Some(tail) = backend.tail.take() {
        tokio::spawn(gateway::push::run(state.clone(), state.hub.clone(), tail));
    }
    switch.ready(router(state.clone()));
    tracing::info!("ready: serving the API");
    shutdown_signal().await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(args.connections.shutdown_grace_ms);
    let _ = stop.send(Some(deadline));
    let (served, ()) = tokio::join!(serving, gateway::close_sessions(&state.hub, deadline));
    served?;
    tracing::info!("no more requests in flight; closing");
    backend.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// `parley write` and `parley project`: a Kafka worker until SIGINT/SIGTERM,
/// then the batch in hand is finished.
pub async fn work(args: BackendArgs, projector: bool) -> Result<(), BoxError> {
    if let Some(listen) = args.metrics_listen {
        crate::metrics::serve(listen).await?;
    }
    let (stop, stopped) = watch::channel(false);
    let mut worker = tokio::spawn(async move { deploy::run_worker(&args, projector, stopped).await });
    tokio::select! {
        done = &mut worker => return done?,
        _ = shutdown_signal() => {}
    }
    // The worker finishes the batch in hand (its transaction) and returns.
    let _ = stop.send(true);
    worker.await?
}

/// A progress bar of a replay, and the projector's callback that moves it.
fn rebuild_bar() -> Result<(indicatif::ProgressBar, Progress), BoxError> {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} events, {per_sec}, eta {eta}")
            .map_err(|e| e.to_string())?,
    );
    let shown = bar.clone();
    let progress: Progress = Arc::new(move |applied, total| {
        shown.set_length(total);
        shown.set_position(applied);
    });
    Ok((bar, progress))
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
    tracing::info!("shutdown requested");
}

/// `parley rebuild`: drops the read models and replays the whole log (or,
/// with `--projection`, replaces one projection's collections with a fresh
/// replay of it).
pub async fn rebuild(args: RebuildArgs) -> Result<(), BoxError> {
    let started = Instant::now();
    let (events, what) = match &args.projection {
        None => {
            let (bar, progress) = rebuild_bar()?;
            let events = deploy::rebuild(&args.backend, Some(progress)).await?;
            bar.finish_and_clear();
            (events, "read models".to_owned())
        }
        Some(name) => {
            let collections = projections::collections_of(name).ok_or_else(|| {
                let names: Vec<&str> = projections::PROJECTIONS.iter().map(|(n, _)| *n).collect();
                format!("no projection {name:?}; there are {}", names.join(", "))
            })?;
            let scratch = deploy::scratch(&args.backend).await?;
            for collection in collections {
                let fresh = scratch.fresh.documents(collection).await?;
                scratch.live.replace(collection, fresh).await?;
            }
            let events = scratch.events;
            scratch.discard().await?;
            (events, format!("projection {name}"))
        }
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "rebuilt {what} from {events} events in {secs:.2} s ({:.0} events/s)",
        events as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// Where `live` checkpoints are short of `replayed` ones, in words.
fn behind(live: &Checkpoints, replayed: &Checkpoints) -> Option<String> {
    let short: Vec<String> = replayed
        .iter()
        .filter_map(|(partition, &end)| {
            let at = live.get(partition).copied().unwrap_or(0);
            (at < end).then(|| format!("partition {partition} at offset {at} of {end}"))
        })
        .collect();
    (!short.is_empty()).then(|| short.join(", "))
}

/// `parley verify`: a fresh replay into a scratch store, compared with the
/// live read models document by document.
pub async fn verify(args: BackendArgs) -> Result<(), BoxError> {
    let started = Instant::now();
    let scratch = deploy::scratch(&args).await?;
    if let Some(behind) = behind(&scratch.live.checkpoints().await?, &scratch.fresh.checkpoints().await?) {
        scratch.discard().await?;
        return Err(format!(
            "the live read models are behind the log ({behind}): let the projector workers catch up \
             (or run `parley rebuild`), then verify again"
        )
        .into());
    }
    let mut differences = 0usize;
    let mut documents = 0usize;
    for (projection, collections) in projections::PROJECTIONS {
        for collection in *collections {
            let live: BTreeMap<String, Value> = scratch.live.documents(collection).await?.into_iter().collect();
            let fresh: BTreeMap<String, Value> = scratch.fresh.documents(collection).await?.into_iter().collect();
            documents += fresh.len();
            for id in live.keys().chain(fresh.keys()).collect::<BTreeSet<_>>() {
                let verdict = match (live.get(id), fresh.get(id)) {
                    (Some(l), Some(f)) if l == f => continue,
                    (Some(l), Some(f)) => format!("differs\n  live:   {l}\n  replay: {f}"),
                    (Some(_), None) => "is live but not in the replay".to_owned(),
                    (None, Some(_)) => "is missing from the live read models".to_owned(),
                    (None, None) => continue,
                };
                differences += 1;
                println!("{projection}: {collection}/{id} {verdict}");
            }
        }
    }
    let events = scratch.events;
    scratch.discard().await?;
    let secs = started.elapsed().as_secs_f64();
    if differences > 0 {
        return Err(
            format!("{differences} differences between the live read models and a replay of {events} events").into(),
        );
    }
    println!("verified {documents} documents against a replay of {events} events in {secs:.2} s: identical");
    Ok(())
}
