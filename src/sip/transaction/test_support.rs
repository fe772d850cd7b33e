//! Stand-in messages for the machines' tests: just enough to tell INVITE from ACK and one
//! status code from another, so the tests exercise the machines and not a parser.

use std::time::Instant;

use super::{MethodKind, Output, TuEvent, TxRequest, TxResponse};

/// A request that only knows its method and which INVITE it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FakeReq {
    pub(crate) method: MethodKind,
    pub(crate) id: u32,
}

/// A response that only knows its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FakeResp(pub(crate) u16);

impl TxResponse for FakeResp {
    fn status_code(&self) -> u16 {
        self.0
    }
}

impl TxRequest for FakeReq {
    type Response = FakeResp;

    fn method_kind(&self) -> MethodKind {
        self.method
    }

    fn build_ack(&self, _response: &FakeResp) -> Self {
        FakeReq {
            method: MethodKind::Ack,
            id: self.id,
        }
    }
}

pub(crate) type Out = Output<FakeReq>;

/// The one real clock reading of a test; every other instant is `t0 + Duration`.
pub(crate) fn t0() -> Instant {
    crate::shell::clock::now()
}

pub(crate) fn invite() -> FakeReq {
    FakeReq {
        method: MethodKind::Invite,
        id: 1,
    }
}

pub(crate) fn ack() -> FakeReq {
    FakeReq {
        method: MethodKind::Ack,
        id: 1,
    }
}

pub(crate) fn bye() -> FakeReq {
    FakeReq {
        method: MethodKind::NonInvite,
        id: 2,
    }
}

/// Drains one machine's outbox.
pub(crate) fn drain(mut poll: impl FnMut() -> Option<Out>) -> Vec<Out> {
    std::iter::from_fn(&mut poll).collect()
}

pub(crate) fn send_resp(code: u16) -> Out {
    Output::SendResponse(FakeResp(code))
}

pub(crate) fn to_tu_resp(code: u16) -> Out {
    Output::ToTu(TuEvent::Response(FakeResp(code)))
}

pub(crate) fn terminated() -> Out {
    Output::ToTu(TuEvent::Terminated)
}
