//! The process's limit on open files: raised to its hard limit at start,
//! and the connection cap kept below it, so that a full cap never makes
//! `accept` fail with "too many open files".

/// Descriptors kept for everything but client connections: the event log,
/// the read store, the Kafka and MongoDB clients.
pub const RESERVED: u64 = 128;
/// What the soft limit is raised to when the hard limit is unlimited (the
/// kernel's default `fs.nr_open`).
const UNLIMITED_TARGET: u64 = 1 << 20;

/// The open-file limit leaves no descriptor for connections.
#[derive(Debug, thiserror::Error)]
#[error("the open-file limit ({limit}) leaves no room for connections: it must be above {RESERVED}")]
pub struct NoRoom {
    pub limit: u64,
}

/// Raises the soft limit on open files to the hard limit; the soft limit
/// in effect afterwards (None if it cannot be read).
pub fn raise() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        tracing::warn!("cannot read the open-file limit: {}", std::io::Error::last_os_error());
        return None;
    }
    let target = if limit.rlim_max == libc::RLIM_INFINITY {
        UNLIMITED_TARGET
    } else {
        limit.rlim_max
    };
    if limit.rlim_cur < target {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = target;
        } else {
            tracing::warn!(
                "cannot raise the open-file limit from {} to {target}: {}",
                limit.rlim_cur,
                std::io::Error::last_os_error()
            );
        }
    }
    Some(limit.rlim_cur)
}

/// The connection cap: `wanted`, kept `RESERVED` below the open-file limit.
pub fn connection_cap(wanted: usize, open_files: Option<u64>) -> Result<usize, NoRoom> {
    let Some(limit) = open_files else {
        return Ok(wanted);
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED)).unwrap_or(usize::MAX);
    if room == 0 {
        return Err(NoRoom { limit });
    }
    if wanted > room {
        tracing::warn!("at most {room} connections: the open-file limit is {limit} ({RESERVED} kept for the server)");
    }
    Ok(wanted.min(room))
}
