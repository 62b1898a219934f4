//! One transport connection's tasks: a reader that frames the byte stream
//! with [`RxBuf`] and hands whole messages to the node's thread, and a
//! writer that writes what the node queued, then closes on request. They
//! run on the application's runtime; the protocol runs on the node's
//! thread.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diameter_cc::endpoint::PeerHandle;
use diameter_core::{RxBuf, RxError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::Input;
use crate::config::Limits;

/// Any byte stream a connection runs on (TCP, TLS over TCP).
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// A connection's stream, boxed.
pub(crate) type BoxStream = Box<dyn Stream>;

/// The largest message a connection can frame.
pub(crate) const RX_CAPACITY: usize = 65_536;

/// Batches of messages (one read each, up to [`RX_CAPACITY`] bytes) a
/// connection's reader may have queued for the node's thread at once.
pub(crate) const READ_AHEAD: usize = 4;

/// What the node's thread tells a connection's writer.
#[derive(Debug)]
pub(crate) enum WriterMsg {
    /// Write these bytes (whole messages).
    Data(Vec<u8>),
    /// Everything queued is written: close the connection.
    Close,
}

/// Names one connection of one peer: a peer handle outlives its
/// connections (an initiator reconnects), the serial does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ConnId {
    pub peer: PeerHandle,
    pub serial: u64,
}

/// Why a connection ended, as the tasks saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The peer closed, or the node asked the writer to close.
    Closed,
    /// A read or write failed.
    Io(String),
    /// A limit was broken (logged with the reason).
    Limit(String),
}

/// One connection's tasks as the node's thread holds them.
pub(crate) struct Tasks {
    /// The writer's queue.
    pub tx: mpsc::UnboundedSender<WriterMsg>,
    /// Bytes queued and not yet written.
    pub queued: Arc<AtomicUsize>,
    /// The reader, aborted when the connection is dropped.
    pub reader: tokio::task::JoinHandle<()>,
    /// The writer, aborted when the connection is dropped for a broken
    /// limit or an error (it may be stuck writing to a peer that does not
    /// read, and it holds the socket open).
    pub writer: tokio::task::JoinHandle<()>,
}

/// Start the reader and the writer of one connection.
pub(crate) fn spawn(
    rt: &tokio::runtime::Handle,
    id: ConnId,
    stream: BoxStream,
    remote: Option<SocketAddr>,
    limits: Limits,
    inputs: mpsc::Sender<Input>,
) -> Tasks {
    let (read, write) = tokio::io::split(stream);
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let span = tracing::info_span!("connection", peer = id.peer.index(), serial = id.serial, remote = ?remote);
    let reader = rt.spawn(tracing::Instrument::instrument(
        read_loop(id, read, limits, inputs.clone()),
        span.clone(),
    ));
    let writer = rt.spawn(tracing::Instrument::instrument(
        write_loop(id, write, rx, queued.clone(), limits, inputs),
        span,
    ));
    Tasks {
        tx,
        queued,
        reader,
        writer,
    }
}

async fn read_loop(
    id: ConnId,
    mut read: tokio::io::ReadHalf<BoxStream>,
    limits: Limits,
    inputs: mpsc::Sender<Input>,
) {
    let mut rx: Box<RxBuf<RX_CAPACITY>> = Box::new(RxBuf::with_max(
        limits.max_message_size.clamp(20, RX_CAPACITY),
    ));
    let read_ahead = Arc::new(tokio::sync::Semaphore::new(READ_AHEAD));
    // When the message in the buffer began: it must be whole within the
    // stall timeout of that, however the peer trickles its bytes.
    let mut begun: Option<tokio::time::Instant> = None;
    let reason = loop {
        // A message begun and not finished must finish within the stall
        // timeout; an idle connection may wait for the idle timeout.
        let deadline = match begun {
            Some(t) => t + limits.stall_timeout,
            None => tokio::time::Instant::now() + limits.idle_timeout,
        };
        let n = match tokio::time::timeout_at(deadline, read.read(rx.spare())).await {
            Err(_) if begun.is_some() => {
                break CloseReason::Limit(format!(
                    "stalled in the middle of a message for {}",
                    human(limits.stall_timeout)
                ))
            }
            Err(_) => break CloseReason::Limit(format!("idle for {}", human(limits.idle_timeout))),
            Ok(Err(e)) => break CloseReason::Io(e.to_string()),
            Ok(Ok(0)) => break CloseReason::Closed,
            Ok(Ok(n)) => n,
        };
        let now = tokio::time::Instant::now();
        rx.filled(n);
        let mut batch = Vec::new();
        let mut broken = None;
        let mut whole = false;
        while let Some(m) = rx.next_message() {
            match m {
                Ok(m) => {
                    whole = true;
                    batch.extend_from_slice(m);
                }
                Err(e) => {
                    broken = Some(framing_error(e));
                    break;
                }
            }
        }
        // What is left began with this read, unless it is the same
        // message as before.
        begun = match (rx.buffered(), begun) {
            (0, _) => None,
            (_, Some(t)) if !whole => Some(t),
            _ => Some(now),
        };
        if !batch.is_empty() {
            // At most READ_AHEAD batches of one connection wait for the
            // node's thread: a peer that floods requests is read no
            // faster than it is served, and cannot fill the queue all
            // connections share.
            let Ok(permit) = read_ahead.clone().acquire_owned().await else {
                return;
            };
            let msg = Input::Messages {
                conn: id,
                bytes: batch,
                _permit: permit,
            };
            if inputs.send(msg).await.is_err() {
                return;
            }
        }
        if let Some(reason) = broken {
            break reason;
        }
    };
    match &reason {
        CloseReason::Limit(what) => tracing::warn!(%what, "closing the connection"),
        CloseReason::Io(e) => tracing::debug!(error = %e, "read failed"),
        CloseReason::Closed => tracing::debug!("closed by the peer"),
    }
    let _ = inputs.send(Input::Closed { conn: id, reason }).await;
}

fn framing_error(e: RxError) -> CloseReason {
    CloseReason::Limit(e.to_string())
}

async fn write_loop(
    id: ConnId,
    mut write: tokio::io::WriteHalf<BoxStream>,
    mut rx: mpsc::UnboundedReceiver<WriterMsg>,
    queued: Arc<AtomicUsize>,
    limits: Limits,
    inputs: mpsc::Sender<Input>,
) {
    let reason = loop {
        match rx.recv().await {
            Some(WriterMsg::Data(bytes)) => {
                // A peer that takes none of our bytes for the idle timeout
                // is gone, or hostile.
                let r = tokio::time::timeout(limits.idle_timeout, write.write_all(&bytes)).await;
                queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                match r {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => break CloseReason::Io(e.to_string()),
                    Err(_) => {
                        break CloseReason::Limit(format!(
                            "read nothing we sent for {}",
                            human(limits.idle_timeout)
                        ))
                    }
                }
            }
            Some(WriterMsg::Close) | None => {
                let _ = write.flush().await;
                let _ = write.shutdown().await;
                break CloseReason::Closed;
            }
        }
    };
    let _ = inputs.send(Input::Closed { conn: id, reason }).await;
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
