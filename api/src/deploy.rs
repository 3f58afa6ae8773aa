//! The two deployments, chosen by configuration: what a process opens and
//! runs for each role.

use std::path::PathBuf;
use std::sync::Arc;

use infra::event_log::{EmbeddedLog, EventLog};
use infra::kafka::{self, KafkaCommands, KafkaConfig, KafkaHeads};
use infra::progress::ReadProgress;
use infra::projector::{Progress, Projector};
use infra::read_store::{EmbeddedStore, MongoStore, ReadStore};
use infra::readiness::{EmbeddedHeads, LogHeads};
use infra::tail::{self, Tail};
use infra::vault::{FileKeyStore, MongoKeyStore, Vault};
use infra::write_side::{CommandBus, WriteSide};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::{BackendArgs, EventLogKind, ReadStoreKind};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What an API node works with, and what it runs in the background.
pub struct ApiBackend {
    pub commands: Arc<dyn CommandBus>,
    pub store: Arc<dyn ReadStore>,
    pub progress: ReadProgress,
    /// New events from now on, for the push gateway.
    pub tail: Option<Tail>,
    /// The keys of personal data.
    pub vault: Arc<Vault>,
    /// Where the log ends, for readiness.
    pub heads: Arc<dyn LogHeads>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    log: Option<Arc<dyn EventLog>>,
}

impl ApiBackend {
    /// Stops the background work and flushes the log.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Some(log) = self.log {
            log.close().await;
        }
    }
}

fn kafka_config(args: &BackendArgs) -> KafkaConfig {
    KafkaConfig {
        brokers: args.kafka_brokers.clone(),
        namespace: args.kafka_namespace.clone(),
        partitions: args.kafka_partitions,
    }
}

/// The scale-out deployment needs both Kafka and MongoDB; the embedded one
/// neither.
pub fn is_scale_out(args: &BackendArgs) -> Result<bool, BoxError> {
    match (args.event_log, args.read_store) {
        (EventLogKind::Embedded, ReadStoreKind::Embedded) => Ok(false),
        (EventLogKind::Kafka, ReadStoreKind::Mongodb) => Ok(true),
        _ => Err(
            "--event-log kafka and --read-store mongodb go together (the scale-out deployment); \
                  leave both unset for the embedded one"
                .into(),
        ),
    }
}

/// The embedded deployment's key store, in the data dir.
const KEYS_FILE: &str = "personal-keys";

/// The scale-out deployment's key store: a database of its own, apart from
/// the read models (which a rebuild drops).
fn vault_database(args: &BackendArgs) -> String {
    format!("{}_vault", args.mongodb_database)
}

async fn mongo(args: &BackendArgs) -> Result<Arc<dyn ReadStore>, BoxError> {
    Ok(Arc::new(
        MongoStore::connect(&args.mongodb_uri, &args.mongodb_database).await?,
    ))
}

/// The embedded deployment's log and read store, both in the data dir.
struct Embedded {
    log: Arc<dyn EventLog>,
    store: Arc<dyn ReadStore>,
}

/// Opens the read models first: redb locks its file, so a second process on
/// the same data dir stops here, before it touches the event log.
fn embedded(args: &BackendArgs) -> Result<Embedded, BoxError> {
    let store = EmbeddedStore::open(&args.data.data_dir)?;
    let log = EmbeddedLog::open(&args.data.data_dir)?;
    Ok(Embedded {
        log: Arc::new(log),
        store: Arc::new(store),
    })
}

/// Read models stamped with another format than [`projections::FORMAT`]
/// (or none, and not empty) are rebuilt from the log, reporting to
/// `progress`; an empty store is stamped as it is.
async fn ensure_format(
    log: &dyn EventLog,
    store: &Arc<dyn ReadStore>,
    progress: Option<Progress>,
) -> Result<(), BoxError> {
    let stamped = store.format().await?;
    if stamped == Some(projections::FORMAT) {
        return Ok(());
    }
    let total = *log.durable_head().borrow();
    let empty = store.checkpoints().await?.is_empty() && total == 0;
    if !empty {
        tracing::warn!(
            stamped = ?stamped,
            format = projections::FORMAT,
            events = total,
            "read models are of another format: rebuilding them from the log"
        );
        store.reset().await?;
        Projector::new(store.clone())
            .await?
            .reporting(progress, total)
            .catch_up(log)
            .await?;
        store.flush().await?;
    }
    store.set_format(projections::FORMAT).await?;
    Ok(())
}

pub async fn api_backend(args: &BackendArgs, progress: Option<Progress>) -> Result<ApiBackend, BoxError> {
    let (stop, stopped) = watch::channel(false);
    if is_scale_out(args)? {
        let store = mongo(args).await?;
        let commands = KafkaCommands::start(kafka_config(args)).await?;
        let (tail, following) = kafka::follow(kafka_config(args), stopped).await?;
        let keys = MongoKeyStore::connect(&args.mongodb_uri, &vault_database(args)).await?;
        let heads = KafkaHeads::connect(&kafka_config(args)).await?;
        return Ok(ApiBackend {
            heads: Arc::new(heads),
            vault: Arc::new(Vault::new(Arc::new(keys))),
            commands: Arc::new(commands),
            progress: ReadProgress::shared(store.clone()),
            store,
            tail: Some(tail),
            stop,
            tasks: vec![following],
            log: None,
        });
    }
    let Embedded { log, store } = embedded(args)?;
    ensure_format(log.as_ref(), &store, progress.clone()).await?;
    let keys = FileKeyStore::open(&args.data.data_dir.join(KEYS_FILE)).await?;
    let write = WriteSide::recover(log.clone()).await?;
    let total = *log.durable_head().borrow();
    let projector = Projector::new(store.clone()).await?.reporting(progress, total);
    // Serve only once the read models include everything already durable:
    // a restart never answers from read models behind the log.
    let caught_up = projector.catch_up(log.as_ref()).await?;
    if caught_up > 0 {
        tracing::info!(events = caught_up, "read models caught up with the log");
    }
    let progress = ReadProgress::Local(projector.applied());
    let (tail, following) = tail::follow_embedded(log.clone(), stopped.clone());
    // Progress was the start's; the projector goes on quietly.
    let projecting = tokio::spawn(projector.reporting(None, 0).run(log.clone(), stopped));
    Ok(ApiBackend {
        heads: Arc::new(EmbeddedHeads(log.clone())),
        vault: Arc::new(Vault::new(Arc::new(keys))),
        commands: Arc::new(write),
        store,
        progress,
        tail: Some(tail),
        stop,
        tasks: vec![projecting, following],
        log: Some(log),
    })
}

/// `parley write` / `parley project`: runs a Kafka worker until `stop`.
pub async fn run_worker(args: &BackendArgs, projector: bool, stop: watch::Receiver<bool>) -> Result<(), BoxError> {
    if !is_scale_out(args)? {
        return Err("workers belong to the scale-out deployment: pass --event-log kafka --read-store mongodb".into());
    }
    let config = kafka_config(args);
    if projector {
        kafka::run_projector(config, mongo(args).await?, stop).await;
    } else {
        kafka::run_writer(config, stop).await;
    }
    Ok(())
}

/// Drops the read models and replays the whole log; returns the number of
/// events replayed.
pub async fn rebuild(args: &BackendArgs, progress: Option<Progress>) -> Result<u64, BoxError> {
    if is_scale_out(args)? {
        let store = mongo(args).await?;
        let events = kafka::rebuild(&kafka_config(args), store.clone(), progress).await?;
        store.set_format(projections::FORMAT).await?;
        return Ok(events);
    }
    let Embedded { log, store } = embedded(args)?;
    store.reset().await?;
    let total = *log.durable_head().borrow();
    let projector = Projector::new(store.clone()).await?.reporting(progress, total);
    let events = projector.catch_up(log.as_ref()).await?;
    store.set_format(projections::FORMAT).await?;
    log.close().await;
    Ok(events)
}

/// Read models rebuilt from the whole log into a scratch store, beside
/// the live ones: what `verify` compares with and `rebuild --projection`
/// copies from. Dropped with `Scratch::discard`.
pub struct Scratch {
    pub live: Arc<dyn ReadStore>,
    pub fresh: Arc<dyn ReadStore>,
    pub events: u64,
    dir: Option<PathBuf>,
}

impl Scratch {
    pub async fn discard(self) -> Result<(), BoxError> {
        match self.dir {
            Some(dir) => {
                drop(self.fresh);
                std::fs::remove_dir_all(dir)?;
            }
            None => self.fresh.destroy().await?,
        }
        Ok(())
    }
}

pub async fn scratch(args: &BackendArgs) -> Result<Scratch, BoxError> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    if is_scale_out(args)? {
        let live = mongo(args).await?;
        let database = format!("{}_scratch_{}", args.mongodb_database, &tag[..12]);
        let fresh: Arc<dyn ReadStore> = Arc::new(MongoStore::connect(&args.mongodb_uri, &database).await?);
        let events = kafka::rebuild(&kafka_config(args), fresh.clone(), None).await?;
        return Ok(Scratch {
            live,
            fresh,
            events,
            dir: None,
        });
    }
    let Embedded { log, store } = embedded(args)?;
    // Live read models behind the log (a crash before their flush) catch
    // up first, as `serve` would have them.
    let caught_up = Projector::new(store.clone()).await?.catch_up(log.as_ref()).await?;
    if caught_up > 0 {
        store.flush().await?;
        tracing::info!(events = caught_up, "live read models caught up with the log");
    }
    let dir = std::env::temp_dir().join(format!("parley-scratch-{tag}"));
    let fresh: Arc<dyn ReadStore> = Arc::new(EmbeddedStore::open(&dir)?);
    let events = Projector::new(fresh.clone()).await?.catch_up(log.as_ref()).await?;
    log.close().await;
    Ok(Scratch {
        live: store,
        fresh,
        events,
        dir: Some(dir),
    })
}
