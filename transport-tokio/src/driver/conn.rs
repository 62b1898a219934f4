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

/// Start the reader and the writer of one connection; returns the
/// writer's queue, the bytes queued and not yet written, and the reader
/// task (aborted when the connection is dropped).
pub(crate) fn spawn(
    rt: &tokio::runtime::Handle,
    id: ConnId,
    stream: BoxStream,
    remote: Option<SocketAddr>,
    limits: Limits,
    inputs: mpsc::Sender<Input>,
) -> (
    mpsc::UnboundedSender<WriterMsg>,
    Arc<AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let (read, write) = tokio::io::split(stream);
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let span = tracing::info_span!("connection", peer = id.peer.index(), serial = id.serial, remote = ?remote);
    let reader = rt.spawn(tracing::Instrument::instrument(
        read_loop(id, read, limits, inputs.clone()),
        span.clone(),
    ));
    rt.spawn(tracing::Instrument::instrument(
        write_loop(id, write, rx, queued.clone(), inputs),
        span,
    ));
    (tx, queued, reader)
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
    let reason = loop {
        // A message begun and not finished must finish within the stall
        // timeout; an idle connection may wait for the idle timeout.
        let wait = if rx.buffered() > 0 {
            limits.stall_timeout
        } else {
            limits.idle_timeout
        };
        let n = match tokio::time::timeout(wait, read.read(rx.spare())).await {
            Err(_) if rx.buffered() > 0 => {
                break CloseReason::Limit(format!(
                    "stalled in the middle of a message for {}",
                    human(wait)
                ))
            }
            Err(_) => break CloseReason::Limit(format!("idle for {}", human(wait))),
            Ok(Err(e)) => break CloseReason::Io(e.to_string()),
            Ok(Ok(0)) => break CloseReason::Closed,
            Ok(Ok(n)) => n,
        };
        rx.filled(n);
        let mut batch = Vec::new();
        let mut broken = None;
        while let Some(m) = rx.next_message() {
            match m {
                Ok(m) => batch.extend_from_slice(m),
                Err(e) => {
                    broken = Some(framing_error(e));
                    break;
                }
            }
        }
        if !batch.is_empty() {
            let msg = Input::Messages {
                conn: id,
                bytes: batch,
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
    inputs: mpsc::Sender<Input>,
) {
    let reason = loop {
        match rx.recv().await {
            Some(WriterMsg::Data(bytes)) => {
                let r = write.write_all(&bytes).await;
                queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                if let Err(e) = r {
                    break CloseReason::Io(e.to_string());
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
