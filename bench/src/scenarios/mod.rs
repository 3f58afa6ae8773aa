//! The scenarios, and what they share: the run's settings and server, and
//! the users a scenario prepares (registered, with tokens, online).

pub mod baseline;
mod chat;
mod fanout;
mod idle;
mod read;
mod rebuild;
mod slow;
mod social;
mod users;

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::json;

use crate::auth::{self, Tokens};
use crate::client::{Api, Result};
use crate::load::each;
use crate::server::Launcher;
use crate::session::{Counters, Session};
use crate::stats::Figure;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Only the baseline (it runs first in every run anyway).
    Baseline,
    /// Register + login N users (argon2), then profile updates.
    Users,
    /// Friend requests and accepts over a random graph; group creation and joins.
    Social,
    /// M users online over WebSocket sending one-to-one messages.
    Chat,
    /// A group of G members, K of them online; group messages.
    Fanout,
    /// Friend list, member list and conversation list queries.
    Read,
    /// `parley rebuild` over a log the harness fills (starts its own server).
    Rebuild,
    /// N idle WebSocket sessions: the server's resident memory.
    Idle,
    /// A normal request's latency while N half-sent requests are held.
    Slow,
    /// Every scenario, in the order above.
    All,
}

impl Scenario {
    pub const EVERY: [Scenario; 8] = [
        Scenario::Users,
        Scenario::Social,
        Scenario::Chat,
        Scenario::Fanout,
        Scenario::Read,
        Scenario::Idle,
        Scenario::Slow,
        Scenario::Rebuild,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Baseline => "baseline",
            Scenario::Users => "users",
            Scenario::Social => "social",
            Scenario::Chat => "chat",
            Scenario::Fanout => "fanout",
            Scenario::Read => "read",
            Scenario::Rebuild => "rebuild",
            Scenario::Idle => "idle",
            Scenario::Slow => "slow",
            Scenario::All => "all",
        }
    }
}

/// The sizes of the scenarios.
#[derive(Debug, Clone, Args, Serialize)]
pub struct Sizes {
    /// users: how many users to register and log in.
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// social: users of the random friend graph.
    #[arg(long, default_value_t = 1000)]
    pub social_users: usize,
    /// social: groups created (then joined at random).
    #[arg(long, default_value_t = 100)]
    pub social_groups: usize,
    /// chat: users online over WebSocket, sending to each other at random.
    #[arg(long, default_value_t = 200)]
    pub online: usize,
    /// chat and fanout: target messages per second (0: flat out, within
    /// --concurrency sends in flight).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// fanout: members of the group.
    #[arg(long, default_value_t = 1000)]
    pub group_size: usize,
    /// fanout: members online over WebSocket (the senders are among them).
    #[arg(long, default_value_t = 200)]
    pub group_online: usize,
    /// read: users, each with up to 20 friends, 20 one-to-one conversations
    /// and one group of them all.
    #[arg(long, default_value_t = 200)]
    pub read_users: usize,
    /// rebuild: events to fill the log with (one-to-one messages).
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// idle: WebSocket sessions to open and hold for --duration.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// slow: connections holding half-sent requests.
    #[arg(long, default_value_t = 2000)]
    pub slow_connections: usize,
}

/// What a scenario works with.
pub struct Ctx {
    pub api: Arc<Api>,
    pub tokens: Arc<Tokens>,
    pub tenant: String,
    /// Unique to the run: every user and group ID starts with it.
    pub prefix: String,
    pub concurrency: usize,
    pub duration: Duration,
    pub sizes: Sizes,
    /// The server's process, to read its memory.
    pub server_pid: Option<u32>,
    /// How to start servers (`--parley`), for rebuild.
    pub launcher: Option<Launcher>,
}

/// A scenario's figures, and anything that makes its run a failure (a lost
/// or reordered message, a refused send).
pub struct Outcome {
    pub figures: Vec<Figure>,
    pub problems: Vec<String>,
}

impl From<Vec<Figure>> for Outcome {
    fn from(figures: Vec<Figure>) -> Outcome {
        Outcome {
            figures,
            problems: Vec::new(),
        }
    }
}

pub async fn run(scenario: Scenario, ctx: &Ctx) -> Result<Outcome> {
    match scenario {
        Scenario::Baseline | Scenario::All => Ok(Vec::new().into()),
        Scenario::Users => users::run(ctx).await,
        Scenario::Social => social::run(ctx).await,
        Scenario::Chat => chat::run(ctx).await,
        Scenario::Fanout => fanout::run(ctx).await,
        Scenario::Read => read::run(ctx).await,
        Scenario::Rebuild => rebuild::run(ctx).await,
        Scenario::Idle => idle::run(ctx).await,
        Scenario::Slow => slow::run(ctx).await,
    }
}

impl Ctx {
    /// `n` user IDs of this run, tagged by scenario: `<prefix><tag><i>`.
    pub fn ids(&self, tag: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{}{tag}{i}", self.prefix)).collect()
    }

    /// Registers `n` new users (concurrently; each is an argon2 hash on the
    /// server); their IDs.
    pub async fn register(&self, tag: &str, n: usize) -> Result<Vec<String>> {
        let ids = self.ids(tag, n);
        each(&ids, self.concurrency, |id| auth::register(&self.api, id)).await?;
        Ok(ids)
    }

    /// One WebSocket session per user, each registered with the server.
    pub async fn online(&self, users: &[String], counters: &Arc<Counters>) -> Result<Vec<Session>> {
        each(users, self.concurrency, |user| async move {
            let token = self.tokens.user(&self.api, user).await?;
            let socket = self.api.connect(&token, user).await?;
            Ok(Session::spawn(socket, user.clone(), counters.clone()))
        })
        .await
    }

    /// Creates a work group anyone may join directly, owned by `members[0]`
    /// with all the others (invited 1,000 at a time past the first 1,000).
    pub async fn create_group(&self, group_id: &str, members: &[String]) -> Result<()> {
        let (owner, rest) = members.split_first().ok_or("a group needs an owner")?;
        let (first, later) = rest.split_at(rest.len().min(999));
        let body = json!({"ownerUserID": owner, "memberUserIDs": first,
            "groupInfo": {"groupID": group_id, "groupName": "bench", "groupType": 2, "needVerification": 2}});
        self.api
            .post("/group/create_group", Some(&self.tokens.admin), &body)
            .await?;
        for invited in later.chunks(1000) {
            let body = json!({"groupID": group_id, "invitedUserIDs": invited});
            self.api
                .post("/group/invite_user_to_group", Some(&self.tokens.admin), &body)
                .await?;
        }
        Ok(())
    }
}
