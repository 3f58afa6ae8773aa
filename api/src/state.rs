//! What every handler shares.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use commands::{Actor, Command};
use events::EventMeta;
use infra::progress::ReadProgress;
use infra::read_store::ReadStore;
use infra::readiness::Readiness;
use infra::vault::Vault;
use infra::write_side::{CommandBus, Executed, WriteError};
use projections::DocSource;

use crate::auth::Tokens;
use crate::error::AppError;
use crate::extract::RequestMeta;
use crate::gateway::hub::Hub;
use crate::password::Passwords;
use crate::throttle::Throttle;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub commands: Arc<dyn CommandBus>,
    pub store: Arc<dyn ReadStore>,
    pub progress: ReadProgress,
    pub tokens: Tokens,
    pub admins: HashSet<String>,
    /// Read the audit trail of every tenant.
    pub platform_admins: HashSet<String>,
    pub read_wait: Duration,
    /// Only friends may message each other one-to-one.
    pub friend_verify: bool,
    /// New group members see the messages from before they joined.
    pub history_for_new_members: bool,
    /// This node's WebSocket sessions.
    pub hub: Arc<Hub>,
    /// Seals personal fields before commands go anywhere; opens them in
    /// replies.
    pub vault: Arc<Vault>,
    /// Password hashing, with bounded concurrency.
    pub passwords: Passwords,
    /// Failed logins and registrations per client address and user.
    pub throttle: Throttle,
    /// `/readyz`: the log, the read store and how far behind they are.
    pub readiness: Readiness,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Inner {
    pub fn is_admin(&self, user_id: &str) -> bool {
        self.admins.contains(user_id)
    }

    /// App and platform admin IDs: nobody may register them.
    pub fn is_reserved(&self, user_id: &str) -> bool {
        self.is_admin(user_id) || self.platform_admins.contains(user_id)
    }

    pub fn reads(&self) -> &dyn DocSource {
        self.store.as_source()
    }

    /// Decides and appends a command, then waits (bounded) until the read
    /// models include its events, so the caller reads its own writes.
    /// Returns the log position of the command's last event (0 if it changed
    /// nothing).
    pub async fn execute(&self, meta: &RequestMeta, actor: Actor, command: Command) -> Result<u64, AppError> {
        Ok(self.try_execute(meta, actor, command).await?.position)
    }

    /// [`Inner::execute`], with the command's stored events or the
    /// decision's own rejection.
    pub async fn try_execute(
        &self,
        meta: &RequestMeta,
        actor: Actor,
        mut command: Command,
    ) -> Result<Executed, WriteError> {
        if let Some(fields) = command.personal_fields() {
            self.vault
                .seal(&meta.tenant, fields)
                .await
                .map_err(|e| WriteError::Unavailable(e.to_string()))?;
        }
        let event_meta = EventMeta {
            tenant_id: meta.tenant.clone(),
            actor_user_id: actor.user_id.clone(),
            operation_id: meta.operation_id.clone(),
            occurred_at: now_ms(),
        };
        let executed = self.commands.execute(command, actor, event_meta).await?;
        if !self.progress.wait_for(executed.position, self.read_wait).await {
            tracing::warn!(
                position = executed.position,
                "command is durable but the read models did not include it in time"
            );
        }
        Ok(executed)
    }

    /// Waits until the read models include `position` (a client's
    /// X-Parley-Min-Position); 500 if they do not within the bound.
    pub async fn await_position(&self, position: Option<u64>) -> Result<(), AppError> {
        match position {
            Some(p) if !self.progress.wait_for(p, self.read_wait).await => Err(AppError::internal(format!(
                "read models have not reached log position {p} within {} ms; retry later",
                self.read_wait.as_millis()
            ))),
            _ => Ok(()),
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
