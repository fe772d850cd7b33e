//! Receiving RTP with the kernel's receive time (`SO_TIMESTAMPNS`): how long a packet waited
//! in the engine before the media task handled it is then measured, not guessed (issue 14:
//! a conference party's late frame is either late on the wire or late in the engine).

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Asks the kernel to stamp every datagram this socket receives (best effort: without the
/// stamps the packets still flow, only the delay is not measured).
pub(super) fn enable(socket: &impl AsRawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid fd and a pointer to a c_int of the given length.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The kernel's receive time in a received message's control data (`SCM_TIMESTAMPNS`).
///
/// # Safety
/// `msg` points at a `msghdr` the kernel filled by a receive: its `msg_control` is valid up
/// to `msg_controllen`.
pub(super) unsafe fn read_stamp(msg: *const libc::msghdr) -> Option<Duration> {
    let mut stamp = None;
    // SAFETY: the caller's promise; the CMSG_* helpers stay inside the control buffer, and
    // the data of an SCM_TIMESTAMPNS message is one `timespec`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                if let (Ok(s), Ok(ns)) = (u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
                    stamp = Some(Duration::new(s, ns));
                }
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    stamp
}

pub(super) fn to_socket_addr(a: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(a.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a `sockaddr_in`.
            let v4: libc::sockaddr_in =
                unsafe { std::ptr::read((a as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr)),
                u16::from_be(v4.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a `sockaddr_in6`.
            let v6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((a as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(v6.sin6_addr.s6_addr),
                u16::from_be(v6.sin6_port),
                v6.sin6_flowinfo,
                v6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
