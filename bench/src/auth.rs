//! Tokens: the app admin's (for everything an admin may do for any user)
//! and users' (for what only the user itself may do: join a group, open a
//! WebSocket session). With the server's JWT secret they are minted here,
//! as `parley admin-token` does; without it users log in (argon2, slow).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::client::{Api, Result};

/// The password of every user the harness registers.
pub const PASSWORD: &str = "bench-password";

pub struct Tokens {
    key: Option<EncodingKey>,
    tenant: String,
    pub admin: String,
}

impl Tokens {
    /// The admin token is `admin_token` if given, else minted for `admin_id`.
    pub fn new(secret: Option<&str>, admin_token: Option<String>, admin_id: &str, tenant: &str) -> Result<Tokens> {
        let mut tokens = Tokens {
            key: secret.map(|s| EncodingKey::from_secret(s.as_bytes())),
            tenant: tenant.to_owned(),
            admin: String::new(),
        };
        tokens.admin = match admin_token {
            Some(token) => token,
            None => tokens.mint(admin_id)?.ok_or(
                "an app admin's token is needed: --admin-token (see `parley admin-token`), --jwt-secret, or --parley",
            )?,
        };
        Ok(tokens)
    }

    /// A token for `user` signed with the secret, if the secret is known.
    pub fn mint(&self, user: &str) -> Result<Option<String>> {
        let Some(key) = &self.key else { return Ok(None) };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let claims =
            json!({"userID": user, "platformID": 1, "tenant": self.tenant, "iat": now, "exp": now + 24 * 3600});
        Ok(Some(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            key,
        )?))
    }

    /// A token of a registered user: minted, or from self_login.
    pub async fn user(&self, api: &Api, user: &str) -> Result<String> {
        if let Some(token) = self.mint(user)? {
            return Ok(token);
        }
        login(api, user).await
    }
}

/// self_login with the harness's password; returns the token.
pub async fn login(api: &Api, user: &str) -> Result<String> {
    let body = json!({"userID": user, "platformID": 1, "password": PASSWORD});
    let reply = api.post("/user/self_login", None, &body).await?;
    reply.data["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("self_login of {user}: no token in {}", reply.data).into())
}

/// self_register with the harness's password.
pub async fn register(api: &Api, user: &str) -> Result<()> {
    let body = json!({"userID": user, "nickname": user, "password": PASSWORD});
    api.post("/user/self_register", None, &body).await.map(drop)
}
