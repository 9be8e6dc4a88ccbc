//! Who holds a file descriptor (SPEC §4: slow or bodiless clients can't starve others). Every
//! connection is registered with the time since which it has waited for a request to be whole
//! (its headers or its body still to come, or idle between requests). A connection that waits
//! past the deadline is closed, and at the cap the one that has waited longest is closed to admit
//! a new client. A connection whose request is whole (being judged, forwarded or answered) is
//! closed for no one.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Descriptors kept for all but client connections: stdio, the runtime's, the listener, signal
/// pipes, key fetches, and the upstream's idle pool ([`super::proxy::IDLE_POOL`]).
const RESERVED: u64 = 48;

pub struct Connections {
    table: Mutex<Table>,
    cap: usize,
    deadline: Duration,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Slot>,
    /// The waiting connections, oldest first.
    waiting: BTreeSet<(Instant, u64)>,
}

struct Slot {
    /// Since when it has waited for a whole request; None while one is being served.
    since: Option<Instant>,
    /// The request being served: events of an earlier one change nothing.
    request: u64,
    /// Whether the current request's answer has been written.
    answered: bool,
    close: oneshot::Sender<()>,
}

impl Connections {
    /// Room for as many client connections as RLIMIT_NOFILE leaves, each with its upstream
    /// connection when `forwarding`.
    pub fn new(forwarding: bool, deadline: Duration) -> Arc<Self> {
        let room = descriptor_limit().saturating_sub(RESERVED).max(16);
        let cap = (room / if forwarding { 2 } else { 1 }).min(1 << 20) as usize;
        Arc::new(Connections { table: Mutex::new(Table::default()), cap, deadline })
    }

    /// Registers a new connection; at the cap, first closes the one that has waited longest.
    /// The receiver fires when this connection is to be closed.
    pub fn admit(self: &Arc<Self>) -> (Conn, oneshot::Receiver<()>) {
        let mut table = self.table.lock().expect("not poisoned");
        if table.open.len() >= self.cap {
            table.close_oldest();
        }
        let id = table.next_id;
        table.next_id += 1;
        let (close, closed) = oneshot::channel();
        let now = Instant::now();
        table.open.insert(id, Slot { since: Some(now), request: 0, answered: true, close });
        table.waiting.insert((now, id));
        (Conn { id, connections: self.clone() }, closed)
    }

    /// Closes the connection that has waited longest, if any (accept failed: out of descriptors).
    pub fn close_oldest(&self) {
        self.table.lock().expect("not poisoned").close_oldest();
    }

    /// Closes every connection that has waited past the deadline; runs until the process ends.
    pub async fn reap(self: Arc<Self>) {
        let tick = (self.deadline / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
        loop {
            tokio::time::sleep(tick).await;
            let Some(expired) = Instant::now().checked_sub(self.deadline) else { continue };
            let mut table = self.table.lock().expect("not poisoned");
            while table.waiting.first().is_some_and(|&(since, _)| since <= expired) {
                table.close_oldest();
            }
        }
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut Slot)) {
        let mut table = self.table.lock().expect("not poisoned");
        let Some(slot) = table.open.get_mut(&id) else { return };
        let before = slot.since;
        change(slot);
        let after = slot.since;
        if before != after {
            if let Some(since) = before {
                table.waiting.remove(&(since, id));
            }
            if let Some(since) = after {
                table.waiting.insert((since, id));
            }
        }
    }
}

impl Table {
    fn close_oldest(&mut self) {
        if let Some((_, id)) = self.waiting.pop_first()
            && let Some(slot) = self.open.remove(&id)
        {
            let _ = slot.close.send(());
        }
    }
}

/// One registered connection; dropping it (when the connection's task ends) unregisters it.
pub struct Conn {
    id: u64,
    connections: Arc<Connections>,
}

impl Conn {
    /// A request's headers have arrived: it is whole now if it has no body. The returned marks
    /// travel with its body and its answer.
    pub fn request(&self, body_ended: bool) -> (Mark, Mark) {
        let mut number = 0;
        self.connections.update(self.id, |slot| {
            slot.request += 1;
            number = slot.request;
            slot.answered = false;
            // A request whose body is still to come keeps waiting from when it began to.
            if body_ended {
                slot.since = None;
            }
        });
        let mark = || Mark { id: self.id, request: number, connections: self.connections.clone() };
        (mark(), mark())
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let mut table = self.connections.table.lock().expect("not poisoned");
        if let Some(slot) = table.open.remove(&self.id)
            && let Some(since) = slot.since
        {
            table.waiting.remove(&(since, self.id));
        }
    }
}

/// A request of a connection, told when its body has all arrived or its answer is written.
pub struct Mark {
    id: u64,
    request: u64,
    connections: Arc<Connections>,
}

impl Mark {
    fn body_ended(&self) {
        self.connections.update(self.id, |slot| {
            if slot.request == self.request && !slot.answered {
                slot.since = None;
            }
        });
    }

    fn answered(&self) {
        self.connections.update(self.id, |slot| {
            if slot.request == self.request {
                slot.answered = true;
                // Idle until the next request (or still sending a body nobody reads).
                slot.since = Some(Instant::now());
            }
        });
    }
}

/// A request's body, marking its connection's request whole once it has all arrived. Its errors
/// are the client's ([`ClientBodyError`]), told apart from the upstream's when forwarding.
pub struct Inbound {
    inner: hyper::body::Incoming,
    mark: Option<Mark>,
}

impl Inbound {
    pub fn new(inner: hyper::body::Incoming, mark: Mark) -> Self {
        Inbound { inner, mark: Some(mark) }
    }
}

impl Body for Inbound {
    type Data = Bytes;
    type Error = ClientBodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx).map_err(ClientBodyError);
        if (matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream())
            && let Some(mark) = self.mark.take()
        {
            mark.body_ended();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The client's request body could not be read (a bad chunk size, a connection gone).
#[derive(Debug)]
pub struct ClientBodyError(pub hyper::Error);

impl std::fmt::Display for ClientBodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request's body could not be read: {}", self.0)
    }
}

impl std::error::Error for ClientBodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// An answer's body, marking its connection idle once written (or abandoned).
pub struct Outbound {
    inner: super::Body,
    mark: Mark,
}

impl Outbound {
    pub fn wrap(inner: super::Body, mark: Mark) -> super::Body {
        http_body_util::BodyExt::boxed(Outbound { inner, mark })
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        self.mark.answered();
    }
}

impl Body for Outbound {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The soft RLIMIT_NOFILE.
fn descriptor_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct it is given and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    limit.rlim_cur
}
