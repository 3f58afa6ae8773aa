//! The embedded event log: one append-only file of checksummed frames in
//! the data dir.
//!
//! A single writer thread takes append requests from a queue, writes every
//! request waiting at that moment, and makes them durable with one
//! `fdatasync` (group commit) before any of them is acknowledged. Readers
//! use positional reads through an in-memory index of frame offsets.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use async_trait::async_trait;
use events::Envelope;
use serde::Deserialize;
use tokio::sync::{oneshot, watch};

use super::frame::{self, Decoded};
use super::{AppendRequest, EventLog, LogError};
use crate::private_fs;

/// The most requests one group commit takes.
const MAX_GROUP: usize = 4096;

pub struct EmbeddedLog {
    queue: Mutex<Option<mpsc::Sender<Pending>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    shared: Arc<Shared>,
}

struct Shared {
    index: RwLock<Index>,
    reader: File,
    head: watch::Sender<u64>,
    /// How many group commits (each one `fdatasync`) have been made.
    syncs: AtomicU64,
}

/// `offsets[i]` is where the frame of position `i + 1` starts; `end` is the
/// durable length of the file.
#[derive(Default)]
struct Index {
    offsets: Vec<u64>,
    end: u64,
}

struct Pending {
    request: AppendRequest,
    reply: oneshot::Sender<Result<Vec<Envelope>, LogError>>,
}

/// What recovery needs of each stored envelope.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Position {
    stream_key: String,
    stream_version: u64,
    log_position: u64,
}

impl EmbeddedLog {
    /// Opens (or creates) the log in `dir`, cutting off a torn or corrupt
    /// tail left by a crash. Damage followed by intact frames is not a torn
    /// tail: opening fails rather than drop acknowledged events.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        private_fs::create_dir(dir)?;
        let path = dir.join("events.log");
        let created = !path.exists();
        let mut file = private_fs::options().read(true).append(true).create(true).open(&path)?;
        private_fs::restrict(&file)?;
        if created {
            File::open(dir)?.sync_all()?;
        }
        let recovered = recover(&mut file, &path)?;
        let head = recovered.index.offsets.len() as u64;
        let shared = Arc::new(Shared {
            index: RwLock::new(recovered.index),
            reader: File::open(&path)?,
            head: watch::Sender::new(head),
            syncs: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            file,
            len: shared.index.read().expect("index lock").end,
            next_position: head + 1,
            versions: recovered.versions,
            failed: None,
            shared: shared.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("event-log-writer".into())
            .spawn(move || writer.run(rx))?;
        tracing::info!(path = %path.display(), events = head, "embedded event log open");
        Ok(EmbeddedLog {
            queue: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            shared,
        })
    }
}

impl EmbeddedLog {
    /// Group commits made since open; each is one `fdatasync`.
    pub fn syncs(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }
}

struct Recovered {
    index: Index,
    versions: HashMap<String, u64>,
}

fn recover(file: &mut File, path: &Path) -> Result<Recovered, LogError> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let mut index = Index::default();
    let mut versions = HashMap::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let (payload, len) = match frame::decode(&bytes[at..]) {
            Decoded::Frame { payload, len } => (payload, len),
            Decoded::Incomplete => break,
            Decoded::Corrupt(why) => {
                if frame::any_intact_frame(&bytes[at + 1..]) {
                    return Err(LogError::Corrupt(format!(
                        "{}: {why} at byte {at}, with intact events after it; refusing to drop them",
                        path.display()
                    )));
                }
                break;
            }
        };
        let expected = index.offsets.len() as u64 + 1;
        let pos: Position = serde_json::from_slice(payload)
            .map_err(|e| LogError::Corrupt(format!("{}: event at byte {at}: {e}", path.display())))?;
        if pos.log_position != expected {
            return Err(LogError::Corrupt(format!(
                "{}: event at byte {at} has position {}, expected {expected}",
                path.display(),
                pos.log_position
            )));
        }
        versions.insert(pos.stream_key, pos.stream_version);
        index.offsets.push(at as u64);
        at += len;
    }
    if at < bytes.len() {
        tracing::warn!(
            path = %path.display(),
            kept_bytes = at,
            cut_bytes = bytes.len() - at,
            "event log had a torn tail (an append cut short by a crash, never acknowledged); cutting it off"
        );
        file.set_len(at as u64)?;
        file.sync_all()?;
    }
    index.end = at as u64;
    Ok(Recovered { index, versions })
}

struct Writer {
    file: File,
    len: u64,
    next_position: u64,
    versions: HashMap<String, u64>,
    failed: Option<String>,
    shared: Arc<Shared>,
}

impl Writer {
    fn run(mut self, queue: mpsc::Receiver<Pending>) {
        while let Ok(first) = queue.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(p) => group.push(p),
                    Err(_) => break,
                }
            }
            self.commit(group);
        }
    }

    /// Writes every acceptable request of the group, syncs once, then
    /// publishes and acknowledges them.
    fn commit(&mut self, group: Vec<Pending>) {
        if let Some(why) = &self.failed {
            for p in group {
                let _ = p.reply.send(Err(LogError::Failed(why.clone())));
            }
            return;
        }
        let mut buf = Vec::new();
        let mut offsets = Vec::new();
        let mut versions: HashMap<String, u64> = HashMap::new();
        let mut position = self.next_position;
        let mut accepted = Vec::with_capacity(group.len());
        for Pending { request, reply } in group {
            let current = versions
                .get(&request.stream_key)
                .or_else(|| self.versions.get(&request.stream_key))
                .copied()
                .unwrap_or(0);
            if current != request.expected_version {
                let _ = reply.send(Err(LogError::VersionConflict {
                    stream: request.stream_key,
                    expected: request.expected_version,
                    actual: current,
                }));
                continue;
            }
            let mut events = request.events;
            let mut frames = Vec::new();
            let mut frame_offsets = Vec::with_capacity(events.len());
            let encoded = events.iter_mut().enumerate().try_for_each(|(i, event)| {
                event.stream_key.clone_from(&request.stream_key);
                event.stream_version = current + i as u64 + 1;
                event.log_position = position + i as u64;
                frame_offsets.push(self.len + (buf.len() + frames.len()) as u64);
                frame::encode(event, &mut frames)
            });
            if let Err(e) = encoded {
                // Written, it would be refused as corrupt at the next open.
                let _ = reply.send(Err(LogError::TooLarge(e)));
                continue;
            }
            position += events.len() as u64;
            buf.extend_from_slice(&frames);
            offsets.extend(frame_offsets);
            versions.insert(request.stream_key, current + events.len() as u64);
            accepted.push((reply, events));
        }
        if buf.is_empty() {
            for (reply, events) in accepted {
                let _ = reply.send(Ok(events));
            }
            return;
        }
        let synced = std::time::Instant::now();
        if let Err(e) = self.file.write_all(&buf).and_then(|()| self.file.sync_data()) {
            // Nothing of this group was acknowledged: cut it off again. If
            // even that fails, the file's tail is unknown, so stop writing.
            let why = format!("append failed: {e}");
            tracing::error!(error = %e, "event log append failed");
            if self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.sync_data())
                .is_err()
            {
                self.failed = Some(why.clone());
            }
            for (reply, _) in accepted {
                let _ = reply.send(Err(LogError::Failed(why.clone())));
            }
            return;
        }
        self.shared.syncs.fetch_add(1, Ordering::Relaxed);
        let events = offsets.len();
        metrics::histogram!("parley_log_fsync_seconds").record(synced.elapsed().as_secs_f64());
        metrics::histogram!("parley_log_group_commit_events").record(events as f64);
        metrics::counter!("parley_log_appended_events_total").increment(events as u64);
        self.len += buf.len() as u64;
        self.next_position = position;
        self.versions.extend(versions);
        {
            let mut index = self.shared.index.write().expect("index lock");
            index.offsets.extend(offsets);
            index.end = self.len;
        }
        self.shared.head.send_replace(position - 1);
        for (reply, events) in accepted {
            let _ = reply.send(Ok(events));
        }
    }
}

impl Shared {
    fn read(&self, from: u64, max: usize) -> Result<Vec<Envelope>, LogError> {
        let (start, end, count) = {
            let index = self.index.read().expect("index lock");
            let total = index.offsets.len() as u64;
            if from == 0 || from > total || max == 0 {
                return Ok(Vec::new());
            }
            let first = (from - 1) as usize;
            let last = (first + max).min(total as usize);
            let end = index.offsets.get(last).copied().unwrap_or(index.end);
            (index.offsets[first], end, last - first)
        };
        let mut bytes = vec![0u8; (end - start) as usize];
        self.reader.read_exact_at(&mut bytes, start)?;
        let mut out = Vec::with_capacity(count);
        let mut at = 0;
        while at < bytes.len() {
            let Decoded::Frame { payload, len } = frame::decode(&bytes[at..]) else {
                return Err(LogError::Corrupt(format!(
                    "unreadable event at byte {}",
                    start + at as u64
                )));
            };
            out.push(serde_json::from_slice(payload).map_err(|e| LogError::Corrupt(e.to_string()))?);
            at += len;
        }
        Ok(out)
    }
}

#[async_trait]
impl EventLog for EmbeddedLog {
    async fn append(&self, request: AppendRequest) -> Result<Vec<Envelope>, LogError> {
        let (reply, answer) = oneshot::channel();
        {
            let queue = self.queue.lock().expect("queue lock");
            let queue = queue.as_ref().ok_or(LogError::Closed)?;
            queue.send(Pending { request, reply }).map_err(|_| LogError::Closed)?;
        }
        answer.await.map_err(|_| LogError::Closed)?
    }

    async fn read(&self, from: u64, max: usize) -> Result<Vec<Envelope>, LogError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || shared.read(from, max))
            .await
            .map_err(|e| LogError::Failed(format!("read task: {e}")))?
    }

    fn durable_head(&self) -> watch::Receiver<u64> {
        self.shared.head.subscribe()
    }

    async fn close(&self) {
        drop(self.queue.lock().expect("queue lock").take());
        let writer = self.writer.lock().expect("writer lock").take();
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }
}

#[cfg(test)]
mod tests;
