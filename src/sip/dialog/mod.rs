//! Dialogs (RFC 3261 §12) on the answering side: identity (Call-ID and both tags), CSeq
//! checking, the route set and remote target, and building in-dialog requests (BYE).
//! The INVITE session's 2xx-until-ACK duty lives in [`answer`], RFC 4028 session timers in
//! [`session_timer`]. It knows no queues, menus
//! or RTP.

pub mod answer;
pub mod session_timer;

use crate::sip::message::{
    CSeq, Contact, Host, Method, NameAddr, Request, SipUri, Transport, Uri, Via, BRANCH_COOKIE,
};

/// Why an in-dialog request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// §12.2.2: a CSeq lower than (or equal to, for a new request) the last one is out of order.
    #[error("CSeq {got} is not above the last one ({last})")]
    CSeqOutOfOrder { got: u32, last: u32 },
}

/// A dialog created by answering an INVITE (we are the UAS).
#[derive(Debug, Clone)]
pub struct Dialog {
    pub call_id: String,
    /// Our tag (the To tag we put in our responses).
    pub local_tag: String,
    /// The caller's From tag; `None` for RFC 2543 callers that sent none.
    pub remote_tag: Option<String>,
    /// Our address of record (the INVITE's To, with our tag).
    pub local: NameAddr,
    /// The caller's From.
    pub remote: NameAddr,
    /// Where in-dialog requests go: the caller's Contact.
    pub remote_target: Uri,
    /// Record-Route of the INVITE, kept in order (UAS keeps it as received, §12.1.1).
    pub route_set: Vec<NameAddr>,
    /// Our CSeq for requests we send in this dialog.
    local_seq: u32,
    /// The caller's last CSeq; `None` until one is seen.
    remote_seq: Option<u32>,
}

impl Dialog {
    /// The dialog an answered INVITE creates. `local_tag` is the tag of our 2xx.
    pub fn from_invite(invite: &Request, local_tag: &str) -> Dialog {
        let h = &invite.headers;
        let mut local = h.to.clone();
        local.set_tag(local_tag);
        let remote_target = match &h.contact {
            Some(Contact::List(list)) if !list.is_empty() => list[0].uri.clone(),
            _ => h.from.uri.clone(),
        };
        Dialog {
            call_id: h.call_id.clone(),
            local_tag: local_tag.to_string(),
            remote_tag: h.from.tag().map(str::to_string),
            local,
            remote: h.from.clone(),
            remote_target,
            route_set: h.record_route.clone(),
            local_seq: 1,
            remote_seq: Some(h.cseq.seq),
        }
    }

    /// The dialog a 2xx to our INVITE creates (we are the UAC, §12.1.2): our From tag is the
    /// local tag, their To tag the remote one, their Contact the target, and their
    /// Record-Route reversed the route set.
    pub fn from_uac_2xx(invite: &Request, ok: &crate::sip::message::Response) -> Dialog {
        let remote_target = match &ok.headers.contact {
            Some(Contact::List(list)) if !list.is_empty() => list[0].uri.clone(),
            _ => invite.uri.clone(),
        };
        let mut route_set = ok.headers.record_route.clone();
        route_set.reverse();
        Dialog {
            call_id: invite.headers.call_id.clone(),
            local_tag: invite.headers.from.tag().unwrap_or_default().to_string(),
            remote_tag: ok.headers.to.tag().map(str::to_string),
            local: invite.headers.from.clone(),
            remote: ok.headers.to.clone(),
            remote_target,
            route_set,
            local_seq: invite.headers.cseq.seq,
            remote_seq: None,
        }
    }

    /// Whether a request belongs to this dialog (Call-ID, To tag = ours, From tag = theirs).
    pub fn matches(&self, req: &Request) -> bool {
        let h = &req.headers;
        h.call_id == self.call_id
            && h.to.tag() == Some(self.local_tag.as_str())
            && h.from.tag() == self.remote_tag.as_deref()
    }

    /// §12.2.2: checks and records the CSeq of an in-dialog request from the caller.
    /// ACK and CANCEL carry the INVITE's number and are not checked here.
    pub fn check_remote_cseq(&mut self, cseq: &CSeq) -> Result<(), DialogError> {
        if matches!(cseq.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        match self.remote_seq {
            Some(last) if cseq.seq <= last => Err(DialogError::CSeqOutOfOrder {
                got: cseq.seq,
                last,
            }),
            _ => {
                self.remote_seq = Some(cseq.seq);
                Ok(())
            }
        }
    }

    /// A new in-dialog request from us (BYE, re-INVITE, INFO): next CSeq, our tag in From,
    /// theirs in To, the route set as Route, a fresh Via branch for `via_host`/`transport`.
    pub fn request(&mut self, method: Method, via: ViaSpec<'_>) -> Request {
        self.local_seq += 1;
        let mut req = Request::new(
            method,
            self.remote_target.clone(),
            self.local.clone(),
            self.remote.clone(),
            &self.call_id,
            self.local_seq,
        );
        req.headers.via = vec![via.build()];
        req.headers.route = self.route_set.clone();
        req
    }
}

/// What to put in the Via of a request we originate.
#[derive(Debug, Clone, Copy)]
pub struct ViaSpec<'a> {
    pub transport: &'a Transport,
    pub host: &'a Host,
    pub port: u16,
    /// Unique per transaction; `BRANCH_COOKIE` is prepended.
    pub branch_suffix: &'a str,
}

impl ViaSpec<'_> {
    /// The Via of a request we originate, with `rport` asked for (RFC 3581).
    pub fn build(&self) -> Via {
        let mut via = Via::new(
            self.transport.clone(),
            self.host.clone(),
            Some(self.port),
            &format!("{BRANCH_COOKIE}{}", self.branch_suffix),
        );
        via.params.set("rport", None);
        via
    }
}

/// Our Contact: where the caller's phone sends in-dialog requests.
pub fn local_contact(host: &Host, port: u16, user: &str, transport: &Transport) -> NameAddr {
    let mut uri = SipUri::new(host.clone()).with_user(user).with_port(port);
    if *transport != Transport::Udp {
        uri.params
            .set("transport", Some(&transport.as_str().to_ascii_lowercase()));
    }
    NameAddr::new(Uri::Sip(uri))
}
