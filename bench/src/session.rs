//! An online user in the chat and fanout scenarios: one WebSocket session
//! that sends one-to-one messages when told to, and notes every reply and
//! every pushed message (with its send-to-push latency) for the checks at
//! the end: each accepted message arrives exactly once at each online
//! recipient, in seq order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Socket, WS_PUSH, WS_SEND};

/// The clock of send stamps: messages carry their send instant as
/// microseconds since this, and receivers (in this process) compare.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

pub fn micros(at: Instant) -> u64 {
    at.saturating_duration_since(*EPOCH).as_micros() as u64
}

/// A message's `content`: the text, and when it was (due to be) sent.
pub fn content(stamp: Instant) -> serde_json::Value {
    json!({"content": "bench", "sentUs": micros(stamp)})
}

/// A message as it arrived: its seq and send-to-push latency (µs).
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub seq: i64,
    pub latency_us: u64,
}

/// A message this session sent and the server accepted.
pub struct Accepted {
    pub to: String,
    pub conversation: String,
    pub seq: i64,
}

/// What a session saw by the time it was stopped.
#[derive(Default)]
pub struct Seen {
    pub user: String,
    /// By conversation, in arrival order.
    pub arrivals: HashMap<String, Vec<Arrival>>,
    pub accepted: Vec<Accepted>,
    /// Send-to-reply latencies (µs) of its own sends.
    pub acks_us: Vec<u64>,
    /// Refused sends, unexpected frames, a close by the server.
    pub problems: Vec<String>,
}

/// Totals across sessions, watched while waiting for the last pushes.
#[derive(Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub pushed: AtomicU64,
    /// When the latest push arrived ([`micros`]).
    pub last_push_us: AtomicU64,
}

struct Send {
    to: String,
    stamp: Instant,
    /// Held until the reply arrives.
    _permit: OwnedSemaphorePermit,
}

pub struct Session {
    sends: mpsc::UnboundedSender<Send>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Seen>,
}

impl Session {
    pub fn spawn(socket: Socket, user: String, counters: Arc<Counters>) -> Session {
        let (sends, queued) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(socket, user, counters, queued, stopped));
        Session { sends, stop, task }
    }

    /// Sends a one-to-one message to `to` stamped `stamp`; the permit is
    /// returned when its reply arrives.
    pub fn send(&self, to: &str, stamp: Instant, permit: OwnedSemaphorePermit) {
        let send = Send {
            to: to.to_owned(),
            stamp,
            _permit: permit,
        };
        // A session that already ended has noted why; the permit returns.
        let _ = self.sends.send(send);
    }

    pub async fn stop(self) -> Seen {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_else(|e| Seen {
            problems: vec![format!("session task: {e}")],
            ..Seen::default()
        })
    }
}

#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "reqIdentifier")]
    req_identifier: i64,
    #[serde(rename = "errCode", default)]
    err_code: i64,
    #[serde(rename = "errMsg", default)]
    err_msg: String,
    #[serde(default)]
    data: Option<FrameData>,
}

/// The fields of a SendMsg reply (`seq`, `conversationID`) or a push (`msgs`).
#[derive(Deserialize)]
struct FrameData {
    #[serde(default)]
    seq: i64,
    #[serde(rename = "conversationID", default)]
    conversation_id: String,
    #[serde(default)]
    msgs: HashMap<String, Pushed>,
}

#[derive(Deserialize)]
struct Pushed {
    #[serde(rename = "Msgs")]
    msgs: Vec<PushedMsg>,
}

#[derive(Deserialize)]
struct PushedMsg {
    seq: i64,
    content: PushedContent,
}

#[derive(Deserialize)]
struct PushedContent {
    #[serde(rename = "sentUs")]
    sent_us: Option<u64>,
}

async fn run(
    mut socket: Socket,
    user: String,
    counters: Arc<Counters>,
    mut queued: mpsc::UnboundedReceiver<Send>,
    mut stopped: oneshot::Receiver<()>,
) -> Seen {
    let mut seen = Seen {
        user,
        ..Seen::default()
    };
    // Sends awaiting their reply; the gateway answers a session's requests
    // in order.
    let mut in_flight = std::collections::VecDeque::new();
    let mut sent = 0u64;
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(send) = queued.recv() => {
                sent += 1;
                let frame = json!({"reqIdentifier": WS_SEND, "operationID": format!("bench-{}-{sent}", seen.user),
                    "msgIncr": sent.to_string(), "sendID": seen.user,
                    "data": {"sendID": seen.user, "recvID": send.to, "sessionType": 1, "contentType": 101,
                        "content": content(send.stamp), "clientMsgID": format!("{}-{sent}", seen.user)}});
                if let Err(e) = socket.send(Message::text(frame.to_string())).await {
                    seen.problems.push(format!("{}: sending: {e}", seen.user));
                    break;
                }
                in_flight.push_back(send);
            }
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => on_frame(&mut seen, &counters, &mut in_flight, text.as_str()),
                Some(Ok(Message::Close(close))) => {
                    seen.problems.push(format!("{}: closed by the server: {close:?}", seen.user));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    seen.problems.push(format!("{}: {e}", seen.user));
                    break;
                }
                None => {
                    seen.problems.push(format!("{}: the connection ended", seen.user));
                    break;
                }
            },
        }
    }
    let _ = socket.close(None).await;
    seen
}

fn on_frame(seen: &mut Seen, counters: &Counters, in_flight: &mut std::collections::VecDeque<Send>, text: &str) {
    let frame: Frame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(e) => {
            return seen
                .problems
                .push(format!("{}: unreadable frame ({e}): {text}", seen.user))
        }
    };
    let now = micros(Instant::now());
    match frame.req_identifier {
        WS_PUSH => {
            for (conversation, pushed) in frame.data.map(|d| d.msgs).unwrap_or_default() {
                for msg in pushed.msgs {
                    // Only messages of this run carry a send stamp.
                    let Some(sent_us) = msg.content.sent_us else { continue };
                    let arrival = Arrival {
                        seq: msg.seq,
                        latency_us: now.saturating_sub(sent_us),
                    };
                    seen.arrivals.entry(conversation.clone()).or_default().push(arrival);
                    counters.pushed.fetch_add(1, Ordering::Relaxed);
                    counters.last_push_us.fetch_max(now, Ordering::Relaxed);
                }
            }
        }
        WS_SEND => {
            let Some(send) = in_flight.pop_front() else {
                return seen.problems.push(format!("{}: a reply to no send: {text}", seen.user));
            };
            match frame.data.filter(|_| frame.err_code == 0) {
                Some(data) => {
                    seen.acks_us.push(now.saturating_sub(micros(send.stamp)));
                    seen.accepted.push(Accepted {
                        to: send.to,
                        conversation: data.conversation_id,
                        seq: data.seq,
                    });
                    counters.accepted.fetch_add(1, Ordering::Relaxed);
                }
                None => seen.problems.push(format!(
                    "{}: send refused: {} {}",
                    seen.user, frame.err_code, frame.err_msg
                )),
            }
        }
        other => seen
            .problems
            .push(format!("{}: unexpected frame {other}: {text}", seen.user)),
    }
}

/// Waits until the sessions have received `expected` pushed messages, or
/// none arrived for `quiet`.
pub async fn await_pushes(counters: &Counters, expected: u64, quiet: std::time::Duration) {
    let mut last = (counters.pushed.load(Ordering::Relaxed), Instant::now());
    while last.0 < expected && last.1.elapsed() < quiet {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let pushed = counters.pushed.load(Ordering::Relaxed);
        if pushed != last.0 {
            last = (pushed, Instant::now());
        }
    }
}

/// Send-to-push latencies (µs) of every arrival, as a histogram.
pub fn push_latencies(sessions: &[Seen]) -> hdrhistogram::Histogram<u64> {
    let mut h = crate::stats::histogram();
    for arrival in sessions.iter().flat_map(|s| s.arrivals.values().flatten()) {
        h.saturating_record(arrival.latency_us);
    }
    h
}

/// Checks that every online user got exactly the messages `expected` says
/// (by user, then conversation: the accepted seqs), each once and in seq
/// order; returns what is wrong, briefly.
pub fn check(expected: &HashMap<String, HashMap<String, Vec<i64>>>, sessions: &[Seen]) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut missing, mut duplicated, mut unexpected, mut reordered) = (0usize, 0usize, 0usize, 0usize);
    let mut example = None;
    let nothing = HashMap::new();
    for seen in sessions {
        problems.extend(seen.problems.iter().take(3).cloned());
        let wanted = expected.get(&seen.user).unwrap_or(&nothing);
        let conversations: std::collections::BTreeSet<&String> = wanted.keys().chain(seen.arrivals.keys()).collect();
        for conversation in conversations {
            let arrived: Vec<i64> = seen
                .arrivals
                .get(conversation)
                .into_iter()
                .flatten()
                .map(|a| a.seq)
                .collect();
            reordered += arrived.windows(2).filter(|w| w[0] > w[1]).count();
            let mut got = arrived;
            got.sort_unstable();
            let all = got.len();
            got.dedup();
            duplicated += all - got.len();
            let mut want = wanted.get(conversation).cloned().unwrap_or_default();
            want.sort_unstable();
            let lost = want.iter().filter(|s| got.binary_search(s).is_err()).count();
            let extra = got.iter().filter(|s| want.binary_search(s).is_err()).count();
            if (lost > 0 || extra > 0) && example.is_none() {
                example = Some(format!(
                    "{} in {conversation}: {lost} missing, {extra} unexpected",
                    seen.user
                ));
            }
            missing += lost;
            unexpected += extra;
        }
    }
    if missing + duplicated + unexpected + reordered > 0 {
        problems.push(format!(
            "pushes: {missing} missing, {duplicated} duplicated, {unexpected} unexpected, {reordered} out of seq order{}",
            example.map(|e| format!(" (e.g. {e})")).unwrap_or_default()
        ));
    }
    problems
}
