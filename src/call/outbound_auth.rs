//! The trunk's digest challenge to a citizen's INVITE (issue 15, RFC 3261 §22.2): a 401 or
//! 407 is answered once by sending the INVITE again with `[trunk]` credentials — CSeq + 1,
//! the same Call-ID and From tag, a new branch — and the outbound call follows the new
//! client transaction (its leg, `outbound_invites`, the CANCEL on ring timeout). A second
//! challenge after our credentials (unless `stale=true`), a 403 to them, no credentials or
//! a challenge we cannot answer end the try as refused; those are counted for `/metrics`.
//! The transaction layer has already ACKed the challenge (non-2xx, §17.1.1.3). A trunk that
//! challenges our BYE too gets it once more with credentials.

use std::time::Instant;

use crate::call::agent_leg::AgentLeg;
use crate::call::engine::CallEngine;
use crate::call::session::CallId;
use crate::sip::dialog::ViaSpec;
use crate::sip::digest_client::{self, ChallengeKind};
use crate::sip::message::Response;

/// How far an outbound call's INVITE got with the trunk's authentication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TrunkAuth {
    /// The INVITE went without credentials (none asked for yet).
    #[default]
    NotAsked,
    /// We answered a challenge; `stale_retries` more came with `stale=true`.
    Sent {
        /// Challenges answered again because our nonce had gone stale.
        stale_retries: u8,
    },
}

/// A trunk that keeps calling our fresh nonces stale is refused after this many.
const MAX_STALE_RETRIES: u8 = 1;

/// Why a try ended at the trunk's authentication (the `reason` label in `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// The trunk refused our credentials (challenged again, or 403).
    Rejected,
    /// The trunk asked for credentials and none are configured.
    NoCredentials,
    /// No challenge we can answer (realm, algorithm, qop).
    Unusable,
}

impl CallEngine {
    /// A final answer ≥ 300 to an outbound INVITE whose leg is `leg`: sends the INVITE again
    /// with credentials when that is the answer to it (and answers `true`: the try goes on);
    /// otherwise notes an authentication failure if it is one and answers `false`.
    pub(crate) fn outbound_auth_retry(
        &mut self,
        id: CallId,
        leg: AgentLeg,
        resp: &Response,
        now: Instant,
    ) -> bool {
        let Some(state) = self.calls.get(&id).and_then(|c| c.outbound.as_ref()) else {
            return false;
        };
        let auth = state.auth;
        if !matches!(resp.status, 401 | 407) {
            if resp.status == 403 && auth != TrunkAuth::NotAsked {
                tracing::warn!(call = %id, "the trunk refused the hotline's credentials (403): check [trunk] username and password");
                self.auth_failed(AuthFailure::Rejected);
            }
            return false;
        }
        let Some(creds) = self.cfg.trunk_credentials.clone() else {
            tracing::warn!(call = %id, status = resp.status, "the trunk asks for credentials: set [trunk] username and password (or password_file)");
            self.auth_failed(AuthFailure::NoCredentials);
            return false;
        };
        let challenge = match digest_client::pick(resp, &creds) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(call = %id, status = resp.status, error = %e, "the trunk's challenge cannot be answered");
                self.auth_failed(AuthFailure::Unusable);
                return false;
            }
        };
        let next = match auth {
            TrunkAuth::NotAsked => TrunkAuth::Sent { stale_retries: 0 },
            TrunkAuth::Sent { stale_retries }
                if challenge.stale && stale_retries < MAX_STALE_RETRIES =>
            {
                TrunkAuth::Sent {
                    stale_retries: stale_retries + 1,
                }
            }
            TrunkAuth::Sent { .. } => {
                tracing::warn!(call = %id, realm = %challenge.realm, "the trunk refused the hotline's credentials: check [trunk] username and password");
                self.auth_failed(AuthFailure::Rejected);
                return false;
            }
        };
        self.resend_with_credentials(id, leg, &creds, &challenge, next, now)
    }

    /// Sends the INVITE again through a new client transaction with the answer to
    /// `challenge`; the call's state moves to it.
    fn resend_with_credentials(
        &mut self,
        id: CallId,
        mut leg: AgentLeg,
        creds: &digest_client::ClientCredentials,
        challenge: &digest_client::Challenge,
        next: TrunkAuth,
        now: Instant,
    ) -> bool {
        let mut invite = leg.invite.clone();
        invite.headers.cseq.seq = invite.headers.cseq.seq.wrapping_add(1);
        let host = self.local_host();
        let transport = Self::via_transport(leg.peer);
        let branch = self.token();
        invite.headers.via = vec![ViaSpec {
            transport: &transport,
            host: &host,
            port: self.cfg.sip_addr.port(),
            branch_suffix: &branch,
        }
        .build()];
        let cnonce = self.token();
        add_credentials(&mut invite, creds, challenge, &cnonce);
        let Some(key) = invite.client_transaction_key() else {
            return false;
        };
        let transport = crate::call::engine::transport(leg.peer.reliable());
        if let Err(e) = self
            .txns
            .start_client(key.clone(), invite.clone(), transport, now)
        {
            tracing::info!(call = %id, error = %e, "the INVITE with credentials could not be sent");
            return false;
        }
        self.txn_peers.insert(key.clone(), leg.peer);
        self.outbound_invites.insert(key.clone(), id);
        tracing::info!(call = %id, user = %creds.username, realm = %challenge.realm, algorithm = %challenge.algorithm, stale = challenge.stale, "the trunk asked for credentials: calling again with them");
        leg.invite = invite.clone();
        leg.key = key.clone();
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        call.invite = invite;
        call.invite_key = key;
        if let Some(state) = call.outbound.as_mut() {
            state.leg = Some(leg);
            state.auth = next;
            // Only a provisional answer to the new INVITE allows its CANCEL.
            state.heard = false;
        }
        true
    }

    /// A 401/407 to the BYE that ends an outbound call: a trunk that authenticates every
    /// request would otherwise keep the citizen's line open. The BYE goes once more (next
    /// CSeq, new branch) with credentials; answers whether it did (else the call is over).
    pub(crate) fn bye_auth_retry(&mut self, id: CallId, resp: &Response, now: Instant) -> bool {
        if !matches!(resp.status, 401 | 407) {
            return false;
        }
        let Some(creds) = self.cfg.trunk_credentials.clone() else {
            return false;
        };
        let challenge = match digest_client::pick(resp, &creds) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(call = %id, error = %e, "the trunk's challenge to our BYE cannot be answered");
                return false;
            }
        };
        let (host, port, branch, cnonce) = (
            self.local_host(),
            self.cfg.sip_addr.port(),
            self.token(),
            self.token(),
        );
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let peer = call.peer;
        let (Some(state), Some(dialog)) = (call.outbound.as_mut(), call.dialog.as_mut()) else {
            return false;
        };
        if state.bye_authenticated {
            tracing::warn!(call = %id, "the trunk refused the credentials on our BYE");
            return false;
        }
        state.bye_authenticated = true;
        let transport = Self::via_transport(peer);
        let mut bye = dialog.request(
            crate::sip::message::Method::Bye,
            ViaSpec {
                transport: &transport,
                host: &host,
                port,
                branch_suffix: &branch,
            },
        );
        bye.headers.push("Reason", "Q.850;cause=16");
        add_credentials(&mut bye, &creds, &challenge, &cnonce);
        let Some(key) = bye.client_transaction_key() else {
            return false;
        };
        let reliable = crate::call::engine::transport(peer.reliable());
        if self
            .txns
            .start_client(key.clone(), bye, reliable, now)
            .is_err()
        {
            return false;
        }
        tracing::info!(call = %id, realm = %challenge.realm, "the trunk asked for credentials on our BYE: sent again with them");
        self.txn_peers.insert(key.clone(), peer);
        self.by_bye.insert(key, id);
        true
    }

    fn auth_failed(&mut self, why: AuthFailure) {
        let c = &mut self.counters.outbound_auth_failures;
        match why {
            AuthFailure::Rejected => c.rejected += 1,
            AuthFailure::NoCredentials => c.no_credentials += 1,
            AuthFailure::Unusable => c.unusable += 1,
        }
    }
}

/// Puts the answer to `challenge` in `req` (`Authorization` for a 401, `Proxy-Authorization`
/// for a 407), computed over its method and Request-URI as sent.
fn add_credentials(
    req: &mut crate::sip::message::Request,
    creds: &digest_client::ClientCredentials,
    challenge: &digest_client::Challenge,
    cnonce: &str,
) {
    let uri = req.uri.to_string();
    let answer =
        digest_client::authorization(creds, challenge, req.method.as_str(), &uri, cnonce, 1);
    // Only the answer to this challenge: an older one would name a spent nonce.
    req.headers.authorization.clear();
    req.headers.proxy_authorization.clear();
    match challenge.kind {
        ChallengeKind::Www => req.headers.authorization.push(answer),
        ChallengeKind::Proxy => req.headers.proxy_authorization.push(answer),
    }
}
