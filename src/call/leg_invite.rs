//! The requests that start and stop a leg we call out on (an agent's phone, a party behind
//! the gateway, a citizen through the trunk): a fresh INVITE offering our SDP, and its
//! CANCEL. Shared by `agent_leg`, `parties` and `outbound` so every leg is placed alike.

use std::time::Instant;

use crate::call::agent_leg::LegTarget;
use crate::call::engine::{CallEngine, Peer};
use crate::call::media_session;
use crate::sip::dialog::ViaSpec;
use crate::sip::message::{
    Contact, MediaType, Method, NameAddr, Request, SipUri, TransactionKey, Uri,
};

impl CallEngine {
    /// A new INVITE (new Call-ID, From tag and branch) to `target`, offering our SDP on
    /// `port` (or `offer`, a browser leg's WebRTC offer); answers it with its Call-ID and
    /// From tag (the dialog's key once answered).
    pub(crate) fn new_invite(
        &mut self,
        target: &LegTarget,
        port: u16,
        call_name: &str,
        offer: Option<Vec<u8>>,
    ) -> (Request, String, String) {
        let host = self.local_host();
        let sip_port = self.cfg.sip_addr.port();
        let from_tag = self.token();
        let branch = self.token();
        let call_id = format!("{}@{}", self.token(), self.cfg.sip_addr.ip());
        let mut from = NameAddr::new(Uri::Sip(
            SipUri::new(host.clone())
                .with_user(&target.from_user)
                .with_port(sip_port),
        ));
        from.display = target.from_display.clone();
        from.set_tag(&from_tag);
        let to = NameAddr::new(Uri::Sip(
            SipUri::new(host.clone()).with_user(&target.to_user),
        ));
        let mut invite = Request::new(Method::Invite, target.uri.clone(), from, to, &call_id, 1);
        // RFC 3327 §5.1: the Path a phone registered through is the preloaded Route set.
        invite.headers.route = target.route.clone();
        let transport = Self::via_transport(target.peer);
        invite.headers.via = vec![ViaSpec {
            transport: &transport,
            host: &host,
            port: sip_port,
            branch_suffix: &branch,
        }
        .build()];
        invite.headers.contact = Some(Contact::List(vec![crate::sip::dialog::local_contact(
            &host, sip_port, "hotline", &transport,
        )]));
        invite.headers.push("X-Hotline-Call", call_name);
        invite.headers.push("User-Agent", &self.cfg.user_agent);
        let session = self.token_u32();
        let sdp =
            offer.unwrap_or_else(|| media_session::offer(self.cfg.rtp_address, port, session));
        let invite = invite.with_body(MediaType::new("application", "sdp"), sdp);
        (invite, call_id, from_tag)
    }

    /// Builds the INVITE for `target` and sends it through a new client transaction; the
    /// dialog it will create is known as call `id`'s. Answers the INVITE, its transaction key
    /// and our From tag; `None` (the port released) when it could not be sent. A browser's
    /// INVITE (`offer`) carries its WebRTC leg's offer instead of our plain RTP one.
    pub(crate) fn place_invite(
        &mut self,
        id: crate::call::session::CallId,
        target: &LegTarget,
        port: u16,
        call_name: &str,
        offer: Option<Vec<u8>>,
        now: Instant,
    ) -> Option<(Request, TransactionKey, String)> {
        let peer = target.peer;
        let (invite, call_id, from_tag) = self.new_invite(target, port, call_name, offer);
        let key = invite.client_transaction_key();
        let started = key.as_ref().is_some_and(|key| {
            self.txns
                .start_client(
                    key.clone(),
                    invite.clone(),
                    crate::call::engine::transport(peer.reliable()),
                    now,
                )
                .is_ok()
        });
        let Some(key) = key.filter(|_| started) else {
            self.ports.release(port);
            return None;
        };
        self.txn_peers.insert(key.clone(), peer);
        self.by_dialog.insert((call_id, from_tag.clone()), id);
        Some((invite, key, from_tag))
    }

    /// CANCELs our INVITE `invite` (client transaction `key`) at `peer`.
    pub(crate) fn send_cancel(
        &mut self,
        invite: &Request,
        key: &TransactionKey,
        peer: Peer,
        now: Instant,
    ) {
        let cancel = invite.cancel();
        if let Some(ckey) = cancel.client_transaction_key() {
            self.txn_peers.insert(ckey.clone(), peer);
            if let Err(e) = self.txns.start_client(
                ckey,
                cancel,
                crate::call::engine::transport(peer.reliable()),
                now,
            ) {
                tracing::debug!(error = %e, "CANCEL not sent");
            }
        }
        if let Err(e) = self.txns.cancel_sent(key, now) {
            tracing::debug!(error = %e, "INVITE transaction already over");
        }
    }
}
