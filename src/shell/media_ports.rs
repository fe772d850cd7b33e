//! Callers' RTP ports bound before the call is answered: the engine answers only once the
//! port is held here, so a call whose media cannot be opened (EMFILE, the port taken) is
//! refused with 503 instead of being answered into silence. The media task takes the socket
//! when the call's media opens; an unanswered call's socket is dropped when it closes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

use crate::call::session::CallId;

/// Sockets bound for calls not yet opened by a media task.
#[derive(Debug, Clone)]
pub struct ReservedPorts {
    ip: IpAddr,
    held: Arc<Mutex<HashMap<CallId, UdpSocket>>>,
    /// Browser agents' leg sockets, bound when the offer goes out, by port (a call may
    /// ring several browsers in turn).
    legs: Arc<Mutex<HashMap<u16, (CallId, UdpSocket)>>>,
}

impl ReservedPorts {
    /// Ports bound on `ip`.
    pub fn new(ip: IpAddr) -> Self {
        Self {
            ip,
            held: Arc::default(),
            legs: Arc::default(),
        }
    }

    fn lock_legs(&self) -> std::sync::MutexGuard<'_, HashMap<u16, (CallId, UdpSocket)>> {
        match self.legs.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Binds a browser leg's `port` for `call` and holds it until the leg opens. A socket
    /// still held on that port is an abandoned offer's (the core hands a port out again only
    /// after releasing it): it is closed first.
    pub fn reserve_leg(&self, call: CallId, port: u16) -> std::io::Result<()> {
        self.lock_legs().remove(&port);
        let socket = bind(SocketAddr::new(self.ip, port))?;
        self.lock_legs().insert(port, (call, socket));
        Ok(())
    }

    /// The browser leg socket held on `port` for `call`, or else `port` bound now.
    pub fn take_leg_or_bind(&self, call: CallId, port: u16) -> std::io::Result<UdpSocket> {
        let held = {
            let mut legs = self.lock_legs();
            match legs.remove(&port) {
                Some((c, socket)) if c == call => Some(socket),
                _ => None,
            }
        };
        match held {
            Some(socket) => Ok(socket),
            None => bind(SocketAddr::new(self.ip, port)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallId, UdpSocket>> {
        match self.held.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Binds `port` for `call` and holds it.
    pub fn reserve(&self, call: CallId, port: u16) -> std::io::Result<()> {
        self.lock_legs().remove(&port);
        let socket = bind(SocketAddr::new(self.ip, port))?;
        self.lock().insert(call, socket);
        Ok(())
    }

    /// The socket held for `call`, handed over to the media task.
    pub fn take(&self, call: CallId) -> Option<UdpSocket> {
        self.lock().remove(&call)
    }

    /// The socket held for `call` when `held` (a caller's leg), or else `port` bound now.
    pub fn take_or_bind(&self, call: CallId, port: u16, held: bool) -> std::io::Result<UdpSocket> {
        match held.then(|| self.take(call)).flatten() {
            Some(socket) => Ok(socket),
            None => {
                // An abandoned browser offer's socket on the port is stale: the core handed
                // the port out again.
                self.lock_legs().remove(&port);
                bind(SocketAddr::new(self.ip, port))
            }
        }
    }

    /// Forgets (closes) what is held for `call`, its browser legs' sockets included.
    pub fn release(&self, call: CallId) {
        self.lock().remove(&call);
        self.lock_legs().retain(|_, (c, _)| *c != call);
    }

    /// Sockets held now.
    pub fn len(&self) -> usize {
        self.lock().len() + self.lock_legs().len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A non-blocking UDP socket on `addr`.
pub fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A browser leg's socket is bound with the offer: what the browser sends before the
    /// leg opens (its first ICE checks) waits in it, and a stale offer's socket gives way.
    #[test]
    fn a_browser_legs_socket_keeps_what_arrives_before_the_leg_opens() {
        let ports = ReservedPorts::new("127.0.0.1".parse().unwrap());
        let probe = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        ports.reserve_leg(CallId(1), port).unwrap();
        let browser = UdpSocket::bind("127.0.0.1:0").unwrap();
        browser
            .send_to(b"early ICE check", ("127.0.0.1", port))
            .unwrap();
        let socket = ports.take_leg_or_bind(CallId(1), port).unwrap();
        socket.set_nonblocking(false).unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = socket
            .recv_from(&mut buf)
            .expect("the early datagram waited");
        assert_eq!(&buf[..n], b"early ICE check");
        assert_eq!(from, browser.local_addr().unwrap());
        drop(socket);
        // An abandoned offer's socket does not block the port's next use, nor a caller's.
        ports.reserve_leg(CallId(2), port).unwrap();
        ports.reserve_leg(CallId(3), port).unwrap();
        assert_eq!(ports.len(), 1);
        ports.reserve(CallId(4), port).unwrap();
        assert_eq!(ports.len(), 1);
        ports.release(CallId(4));
        ports.reserve_leg(CallId(5), port).unwrap();
        ports.release(CallId(5));
        assert!(ports.is_empty());
    }

    #[test]
    fn a_held_port_is_taken_once_and_a_taken_port_cannot_be_reserved_twice() {
        let ports = ReservedPorts::new("127.0.0.1".parse().unwrap());
        let probe = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        ports.reserve(CallId(1), port).unwrap();
        assert!(ports.reserve(CallId(2), port).is_err(), "the port is held");
        let socket = ports.take(CallId(1)).expect("held");
        assert_eq!(socket.local_addr().unwrap().port(), port);
        assert!(ports.take(CallId(1)).is_none());
        drop(socket);
        ports.reserve(CallId(3), port).unwrap();
        ports.release(CallId(3));
        assert!(ports.is_empty());
    }
}
