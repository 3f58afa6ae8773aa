//! Command line and environment configuration of the `parley` binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Parley: an event-sourced instant-messaging backend.
///
/// With no configuration, `parley serve` runs everything in one process:
/// the event log and the read models live under ./data.
#[derive(Debug, Parser)]
#[command(name = "parley", version)]
pub struct Cli {
    /// How log lines look on stderr: `text` for people, `json` (one object
    /// per line, with the request's operationID, route, errCode and
    /// latency) for a log shipper. `RUST_LOG` sets the level (default
    /// `info`).
    #[arg(long, env = "PARLEY_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API. Embedded: also the write side and the projector.
    /// Kafka: a stateless API node (run `write` and `project` workers too).
    Serve(ServeArgs),
    /// Kafka deployment: run a writer worker (decides commands of the
    /// command partitions the writers' group assigns it).
    Write(BackendArgs),
    /// Kafka deployment: run a projector worker (feeds the MongoDB read
    /// models from the event partitions the projectors' group assigns it).
    Project(BackendArgs),
    /// Drop the read models and rebuild them by replaying the event log.
    /// Embedded: run it while no server uses the data dir. Kafka: stop the
    /// projector workers first.
    Rebuild(RebuildArgs),
    /// Rebuild the read models into a scratch store and compare them with
    /// the live ones, document by document; exits 1 on any difference.
    /// Embedded: run it while no server uses the data dir. Kafka: run it
    /// while no command is being written (the live models must be caught up).
    Verify(BackendArgs),
    /// Print a token for a user, signed with the server's secret (how app
    /// admins, who cannot self-register, get theirs).
    AdminToken(AdminTokenArgs),
    /// Query the event history of a running server (app admins): matching
    /// events as JSON lines, oldest first; `audit state` for time travel.
    Audit(AuditArgs),
}

/// How the audit commands reach a server.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of a running Parley API node.
    #[arg(long, env = "PARLEY_URL", default_value = "http://127.0.0.1:10002", global = true)]
    pub url: String,
    /// An app admin's token (see `parley admin-token`).
    #[arg(
        long,
        env = "PARLEY_TOKEN",
        default_value = "",
        hide_default_value = true,
        global = true
    )]
    pub token: String,
    /// The tenant whose history to read (the token's own).
    #[arg(long, env = "PARLEY_TENANT", default_value = "1000", global = true)]
    pub tenant: String,
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub state: Option<AuditCommand>,
    /// Only the events of this stream (e.g. group:1000:g1).
    #[arg(long)]
    pub stream: Option<String>,
    /// Only events where this user is the actor or a subject.
    #[arg(long)]
    pub user: Option<String>,
    /// Only events of these types (repeatable).
    #[arg(long = "event-type")]
    pub event_types: Vec<String>,
    /// Only events of this operationID.
    #[arg(long)]
    pub operation_id: Option<String>,
    /// Only events at or after this time (RFC 3339 or milliseconds).
    #[arg(long)]
    pub from_time: Option<String>,
    /// Only events at or before this time (RFC 3339 or milliseconds).
    #[arg(long)]
    pub to_time: Option<String>,
    /// Only events at or after this log position.
    #[arg(long)]
    pub from_position: Option<u64>,
    /// Events fetched per request (1..=1000).
    #[arg(long, default_value_t = 1000)]
    pub page: usize,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Print one stream's decision state as of a log position or a time.
    State {
        /// The stream (decision key), e.g. group:1000:g1.
        #[arg(long)]
        stream: String,
        /// A log position or an RFC 3339 time (2026-11-26T10:00:00Z).
        #[arg(long)]
        at: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Directory of the event log, the read models and the generated JWT secret.
    #[arg(long, env = "PARLEY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventLogKind {
    /// A file in the data dir.
    Embedded,
    /// Apache Kafka (needs --read-store mongodb).
    Kafka,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadStoreKind {
    /// A redb database in the data dir.
    Embedded,
    /// MongoDB 6 or newer (needs --event-log kafka).
    Mongodb,
}

/// Where the event log and the read models live.
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The event log.
    #[arg(long, env = "PARLEY_EVENT_LOG", value_enum, default_value = "embedded")]
    pub event_log: EventLogKind,
    /// Kafka bootstrap servers.
    #[arg(long, env = "PARLEY_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub kafka_brokers: String,
    /// Prefix of every Kafka topic and consumer group of this deployment.
    #[arg(long, env = "PARLEY_KAFKA_NAMESPACE", default_value = "parley")]
    pub kafka_namespace: String,
    /// Partitions of the commands/events topics when Parley creates them.
    #[arg(long, env = "PARLEY_KAFKA_PARTITIONS", default_value_t = 8)]
    pub kafka_partitions: u32,
    /// The read models.
    #[arg(long, env = "PARLEY_READ_STORE", value_enum, default_value = "embedded")]
    pub read_store: ReadStoreKind,
    /// MongoDB connection string.
    #[arg(long, env = "PARLEY_MONGODB_URI", default_value = "mongodb://127.0.0.1:27017")]
    pub mongodb_uri: String,
    /// MongoDB database of the read models.
    #[arg(long, env = "PARLEY_MONGODB_DATABASE", default_value = "parley")]
    pub mongodb_database: String,
    /// Serve Prometheus metrics at `GET /metrics` on this address (apart
    /// from the API, so only who reaches it reads them; port 0 picks a free
    /// port, the log says which). Unset: no metrics are recorded.
    #[arg(long, env = "PARLEY_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, Args)]
pub struct SecretArgs {
    /// HS256 secret that signs tokens (at least 16 characters). If unset, one
    /// is generated on first start and kept in <data-dir>/jwt-secret (mode
    /// 0600); required with the Kafka event log, where API nodes share it.
    #[arg(long, env = "PARLEY_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, env = "PARLEY_TOKEN_TTL_SECS", default_value_t = 90 * 24 * 3600)]
    pub token_ttl_secs: u64,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Address the HTTP API listens on (port 0 picks a free port; the log says which).
    #[arg(long, env = "PARLEY_LISTEN", default_value = "127.0.0.1:10002")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// App admins: user IDs (comma-separated) that may act for any user of
    /// their tenant. They cannot self-register; see `parley admin-token`.
    #[arg(long, env = "PARLEY_ADMIN_USER_IDS", value_delimiter = ',')]
    pub admin_user_ids: Vec<String>,
    /// Platform admins: user IDs (comma-separated) that may read the audit
    /// trail of every tenant (`tenant` of /audit/events, any stream of
    /// /audit/state). Like app admins, they cannot self-register.
    #[arg(long, env = "PARLEY_PLATFORM_ADMIN_USER_IDS", value_delimiter = ',')]
    pub platform_admin_user_ids: Vec<String>,
    /// How long a request waits for the read models to include a position
    /// (its own command's, or the one passed in X-Parley-Min-Position).
    #[arg(long, env = "PARLEY_READ_WAIT_MS", default_value_t = 5000)]
    pub read_wait_ms: u64,
    /// Only friends may send each other one-to-one messages (else 1303).
    #[arg(long, env = "PARLEY_FRIEND_VERIFY")]
    pub friend_verify: bool,
    /// Whether new group members see the group's messages from before they
    /// joined (`--group-history-for-new-members false` hides them).
    #[arg(long, env = "PARLEY_GROUP_HISTORY_FOR_NEW_MEMBERS", default_value_t = true, action = clap::ArgAction::Set)]
    pub group_history_for_new_members: bool,
    #[command(flatten)]
    pub passwords: PasswordArgs,
    /// `/readyz` answers not ready while the read models are more than this
    /// many events behind the log's head.
    #[arg(long, env = "PARLEY_READY_MAX_BEHIND", default_value_t = 1000)]
    pub ready_max_behind: u64,
}

/// What password checks may cost: their concurrency and how often a client
/// may fail or register (docs/api.md, "Limits").
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// Password hashes (argon2id, 19 MiB each) that run at once; more
    /// requests wait (up to 256 per hash, at most 10 s) or are refused with
    /// 1010. Default: the number of CPUs.
    #[arg(long, env = "PARLEY_PASSWORD_CHECKS")]
    pub password_checks: Option<usize>,
    /// Failed logins a client address may make per minute (also its burst);
    /// then 1010 until a token refills. 0: no limit.
    #[arg(long, env = "PARLEY_LOGIN_FAILURES_PER_MINUTE", default_value_t = 10)]
    pub login_failures_per_minute: u32,
    /// Failed logins per user and minute, from addresses that failed
    /// recently (an address with no recent failure is let through). 0: no
    /// limit.
    #[arg(long, env = "PARLEY_USER_LOGIN_FAILURES_PER_MINUTE", default_value_t = 5)]
    pub user_login_failures_per_minute: u32,
    /// Registrations a client address may make per minute (also its burst).
    /// 0: no limit.
    #[arg(long, env = "PARLEY_REGISTRATIONS_PER_MINUTE", default_value_t = 120)]
    pub registrations_per_minute: u32,
}

/// Bounds on what clients hold: open connections, WebSocket sessions per
/// user, how long a request may take to arrive, and how long shutdown waits
/// (docs/api.md, "Limits").
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Open connections (WebSocket sessions included). At the cap, a new
    /// connection closes the half-sent request that has waited longest (if
    /// none, the connection idle longest); the cap stays 128 below the
    /// open-file limit, which is raised to its hard limit at start.
    #[arg(long, env = "PARLEY_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Time from a request's first byte to the end of its header; past it
    /// the connection is closed.
    #[arg(long, env = "PARLEY_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Time from the end of a request's header to the end of its body; past
    /// it the request fails (1001) and the connection is closed.
    #[arg(long, env = "PARLEY_BODY_TIMEOUT_MS", default_value_t = 30_000)]
    pub body_timeout_ms: u64,
    /// How long a connection may wait for its next request (after its
    /// last response, or since it opened) before it is closed.
    #[arg(long, env = "PARLEY_IDLE_TIMEOUT_MS", default_value_t = 60_000)]
    pub idle_timeout_ms: u64,
    /// On SIGTERM/SIGINT: how long requests in flight (and WebSocket
    /// sessions answering their close) may take before what is left is
    /// closed.
    #[arg(long, env = "PARLEY_SHUTDOWN_GRACE_MS", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,
    /// WebSocket sessions one user may have open on this node; a session
    /// beyond it closes the user's oldest (kick frame 2002, then close code
    /// 1008 "1506 kicked: ...").
    #[arg(long, env = "PARLEY_MAX_SESSIONS_PER_USER", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sessions_per_user: u32,
}

#[derive(Debug, Clone, Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Rebuild only this projection (users, friends, groups, messages,
    /// conversations, notifications or audit): the whole log is replayed into a scratch
    /// store and this projection's collections replace the live ones.
    #[arg(long)]
    pub projection: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AdminTokenArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// The user the token is for.
    #[arg(long)]
    pub user_id: String,
    /// The tenant the token is valid in.
    #[arg(long, default_value = "1000")]
    pub tenant: String,
    /// Platform recorded in the token (10 = admin console).
    #[arg(long, default_value_t = 10)]
    pub platform_id: i32,
}
