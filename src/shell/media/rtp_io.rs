//! The media thread's packet I/O (issue 20): every RTP leg's socket of a media thread sits in
//! one epoll set of its own, whose descriptor is the only thing the thread's tokio reactor
//! watches for them. One wake of the media task then takes every ready socket
//! ([`Poller::ready`], one `epoll_wait`), and each socket's queued datagrams in one
//! `recvmmsg` into a fixed [`Batch`] of buffers, with the kernel's receive times: no task
//! per leg, no `Vec` and no channel hop per packet. The cores are then called in place by
//! the task that received the packet (`super::receive`).
//!
//! The per-call port stays the public contract (the SDP names one port per leg): latching,
//! relatching and refusing foreign sources are per port, as RFC 3550's symmetric RTP
//! expects. The price is one `sendto` per packet sent: `sendmmsg` batches only on one socket,
//! and each leg sends one packet per 20 ms on its own.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::unix::AsyncFd;

/// Datagrams taken from one socket per `recvmmsg`.
pub const BATCH: usize = 16;
/// Bytes per buffer: the largest RTP or SRTP datagram a leg takes (larger ones are cut and
/// then refused by the parsers).
pub const BUF_LEN: usize = 2048;
/// Ready sockets taken per `epoll_wait`.
pub const READY_MAX: usize = 256;

/// A leg's non-blocking UDP socket. Not registered with tokio: the media thread's
/// [`Poller`] says when it is readable.
#[derive(Debug)]
pub struct RtpSocket(UdpSocket);

impl RtpSocket {
    /// Takes a bound socket (made non-blocking here).
    pub fn new(socket: UdpSocket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(Self(socket))
    }

    /// Sends without blocking (`WouldBlock` when the socket's buffer is full).
    pub fn try_send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.0.send_to(buf, to)
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl AsRawFd for RtpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// A media task's hold on one leg's place in its poller: dropping (or aborting) it takes
/// the leg out before the task's next receive, and the leg's socket closes with it.
#[derive(Debug)]
pub struct LegHandle {
    token: u64,
    closed: std::sync::mpsc::Sender<u64>,
}

impl LegHandle {
    pub(super) fn new(token: u64, closed: std::sync::mpsc::Sender<u64>) -> Self {
        Self { token, closed }
    }

    /// Stops receiving this leg (as dropping the handle does).
    pub fn abort(&self) {
        let _ = self.closed.send(self.token);
    }
}

impl Drop for LegHandle {
    fn drop(&mut self) {
        self.abort();
    }
}

/// One datagram of a [`Batch`].
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub len: usize,
    pub from: SocketAddr,
    /// The kernel's receive time (`CLOCK_REALTIME` since the epoch), when it gave one.
    pub stamp: Option<Duration>,
}

/// Reused receive buffers: one `recvmmsg` fills up to [`BATCH`] of them.
pub struct Batch {
    bufs: Box<[[u8; BUF_LEN]; BATCH]>,
    got: [Option<Received>; BATCH],
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            bufs: Box::new([[0; BUF_LEN]; BATCH]),
            got: [None; BATCH],
        }
    }
}

impl Batch {
    /// The `i`th datagram of the last receive: its bytes and where it came from.
    pub fn get(&self, i: usize) -> Option<(&[u8], Received)> {
        let r = self.got.get(i).copied().flatten()?;
        Some((&self.bufs[i][..r.len.min(BUF_LEN)], r))
    }

    /// Takes what `socket` has queued, up to [`BATCH`] datagrams in one `recvmmsg`, without
    /// blocking. Returns how many (0 when none was waiting).
    pub fn receive(&mut self, socket: &impl AsRawFd) -> io::Result<usize> {
        self.got = [None; BATCH];
        // SAFETY: plain C structs for which all-zero is valid.
        let mut addrs: [libc::sockaddr_storage; BATCH] = unsafe { zeroed() };
        let mut controls = [[0u64; 8]; BATCH];
        let mut iovs: [libc::iovec; BATCH] = std::array::from_fn(|_| libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        });
        for (iov, buf) in iovs.iter_mut().zip(self.bufs.iter_mut()) {
            iov.iov_base = buf.as_mut_ptr().cast();
            iov.iov_len = BUF_LEN;
        }
        // SAFETY: as above.
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for (i, m) in msgs.iter_mut().enumerate() {
            let h = &mut m.msg_hdr;
            h.msg_name = (&raw mut addrs[i]).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &raw mut iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = controls[i].as_mut_ptr().cast();
            h.msg_controllen = size_of::<[u64; 8]>() as _;
        }
        // SAFETY: every pointer in `msgs` points at a live buffer of the stated length.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        let Ok(n) = usize::try_from(n) else {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(e),
            };
        };
        for i in 0..n.min(BATCH) {
            let Some(from) = super::stamp::to_socket_addr(&addrs[i]) else {
                continue;
            };
            // SAFETY: the kernel filled this message's control buffer up to its
            // `msg_controllen`.
            let stamp = unsafe { super::stamp::read_stamp(&raw const msgs[i].msg_hdr) };
            self.got[i] = Some(Received {
                len: msgs[i].msg_len as usize,
                from,
                stamp,
            });
        }
        Ok(n)
    }
}

/// A media thread's epoll set of leg sockets, itself watched by the thread's reactor.
#[derive(Clone)]
pub struct Poller {
    fd: Arc<AsyncFd<OwnedFd>>,
}

impl Poller {
    /// A new, empty set. Must be called within the media thread's runtime.
    pub fn new() -> io::Result<Self> {
        // SAFETY: no pointers; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a descriptor just created and owned by nothing else.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: `owned` is an open epoll descriptor that only this `AsyncFd` holds, so it
        // stays open and the same until the `AsyncFd` is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Self { fd: Arc::new(fd) })
    }

    /// Watches `socket` (level-triggered): its datagrams are reported under `token`.
    pub fn add(&self, socket: &impl AsRawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: valid descriptors and a live event struct.
        let rc = unsafe {
            libc::epoll_ctl(
                self.fd.get_ref().as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                socket.as_raw_fd(),
                &raw mut ev,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Stops watching `socket` (closing it would too; this is for sockets still shared).
    pub fn remove(&self, socket: &impl AsRawFd) {
        // SAFETY: valid descriptors; the event argument may be null for DEL.
        unsafe {
            libc::epoll_ctl(
                self.fd.get_ref().as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                socket.as_raw_fd(),
                std::ptr::null_mut(),
            );
        }
    }

    /// Waits until some socket may be readable. Clear the guard's readiness only after
    /// [`Poller::ready`] found fewer than it asked for (every ready socket taken).
    pub async fn readable(&self) -> io::Result<tokio::io::unix::AsyncFdReadyGuard<'_, OwnedFd>> {
        self.fd.readable().await
    }

    /// The tokens of ready sockets, into `out` (up to its capacity), without blocking.
    pub fn ready(&self, out: &mut Vec<u64>) -> io::Result<()> {
        out.clear();
        // SAFETY: an all-zero epoll_event is valid.
        let mut events: [libc::epoll_event; READY_MAX] = unsafe { zeroed() };
        let max = out.capacity().clamp(1, READY_MAX);
        // SAFETY: `events` has room for `max` entries.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.get_ref().as_raw_fd(),
                events.as_mut_ptr(),
                max as libc::c_int,
                0,
            )
        };
        let Ok(n) = usize::try_from(n) else {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(()),
                _ => Err(e),
            };
        };
        out.extend(events[..n].iter().map(|e| e.u64));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_sockets_are_reported_and_drained_in_one_batch_each() {
        let poller = Poller::new().unwrap();
        let a = RtpSocket::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        let b = RtpSocket::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        super::super::stamp::enable(&a).unwrap();
        poller.add(&a, 1).unwrap();
        poller.add(&b, 2).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..3u8 {
            tx.send_to(&[i; 20], a.local_addr().unwrap()).unwrap();
        }
        tx.send_to(&[9; 5], b.local_addr().unwrap()).unwrap();
        let guard = tokio::time::timeout(Duration::from_secs(2), poller.readable())
            .await
            .expect("readable within 2 s")
            .unwrap();
        let mut ready = Vec::with_capacity(8);
        poller.ready(&mut ready).unwrap();
        ready.sort_unstable();
        assert_eq!(ready, vec![1, 2]);
        let mut batch = Batch::default();
        assert_eq!(batch.receive(&a).unwrap(), 3);
        for i in 0..3 {
            let (bytes, r) = batch.get(i).unwrap();
            assert_eq!(bytes, &[i as u8; 20]);
            assert_eq!(r.from, tx.local_addr().unwrap());
            assert!(r.stamp.is_some(), "kernel receive time");
        }
        assert!(batch.get(3).is_none());
        assert_eq!(batch.receive(&b).unwrap(), 1);
        assert_eq!(batch.get(0).unwrap().0, &[9; 5]);
        assert_eq!(batch.receive(&b).unwrap(), 0, "drained");
        poller.ready(&mut ready).unwrap();
        assert!(ready.is_empty(), "level-triggered: nothing left");
        drop(guard);
        poller.remove(&a);
        tx.send_to(&[1; 4], a.local_addr().unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        poller.ready(&mut ready).unwrap();
        assert!(ready.is_empty(), "a removed socket is not reported");
    }
}
