//! Tokens: HS256 JWTs carrying userID, platformID, tenant, iat and exp.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use schemas::limits::{PLATFORM_IDS, USER_ID_MAX};

use crate::cli::AdminTokenArgs;
use crate::error::AppError;
use crate::secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "platformID")]
    pub platform_id: i32,
    pub tenant: String,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// A signed token can still name what no login issues: such a token is
    /// malformed (1503).
    fn check(&self) -> Result<(), AppError> {
        let malformed = |why: String| Err(AppError::new(1503, format!("token rejected: {why}")));
        if let Err(e) = schemas::identifier("userID", &self.user_id, USER_ID_MAX) {
            return malformed(e.to_string());
        }
        if !PLATFORM_IDS.contains(&self.platform_id) {
            return malformed(format!(
                "platformID {} is outside {}..={}",
                self.platform_id,
                PLATFORM_IDS.start(),
                PLATFORM_IDS.end()
            ));
        }
        if self.tenant.is_empty() {
            return malformed("tenant must not be empty".into());
        }
        Ok(())
    }
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_secs: u64,
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Tokens {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    pub fn issue(&self, user_id: &str, platform_id: i32, tenant: &str) -> Result<String, AppError> {
        let iat = now_secs();
        let claims = Claims {
            user_id: user_id.to_owned(),
            platform_id,
            tenant: tenant.to_owned(),
            iat,
            exp: iat + self.ttl_secs as i64,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("signing token: {e}")))
    }

    /// Checks signature, expiry, `nbf` and the claims' values; the 150x
    /// code says what is wrong.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                let code = match e.kind() {
                    ErrorKind::ExpiredSignature => 1501,
                    ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => 1502,
                    ErrorKind::ImmatureSignature => 1504,
                    ErrorKind::InvalidToken
                    | ErrorKind::Base64(_)
                    | ErrorKind::Json(_)
                    | ErrorKind::Utf8(_)
                    | ErrorKind::MissingRequiredClaim(_) => 1503,
                    _ => 1505,
                };
                AppError::new(code, format!("token rejected: {e}"))
            })?;
        claims.check()?;
        Ok(claims)
    }
}

/// `parley admin-token`: a token signed with the configured (or the data
/// dir's) secret.
pub fn mint_token(args: AdminTokenArgs) -> Result<String, crate::deploy::BoxError> {
    let secret = secret::load_or_create(&args.secret, &args.data.data_dir)?;
    let tokens = Tokens::new(&secret, args.secret.token_ttl_secs);
    Ok(tokens
        .issue(&args.user_id, args.platform_id, &args.tenant)
        .map_err(|e| e.detail)?)
}
