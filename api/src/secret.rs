//! The JWT signing secret: from configuration, or generated once and kept
//! in the data dir with mode 0600.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use argon2::password_hash::rand_core::{OsRng, RngCore};

use crate::cli::SecretArgs;

const FILE: &str = "jwt-secret";
const MIN_LEN: usize = 16;

pub fn load_or_create(args: &SecretArgs, data_dir: &Path) -> Result<Vec<u8>, String> {
    if let Some(secret) = &args.jwt_secret {
        if secret.len() < MIN_LEN {
            return Err(format!("--jwt-secret must be at least {MIN_LEN} characters"));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= MIN_LEN => return Ok(secret.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(format!(
                "{} holds a secret shorter than {MIN_LEN} characters",
                path.display()
            ))
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("reading {}: {e}", path.display()));
        }
        Err(_) => {}
    }
    infra::private_fs::create_dir(data_dir).map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("creating {}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "no --jwt-secret configured: generated one and stored it in the data dir (mode 0600)"
    );
    Ok(secret.into_bytes())
}
