//! Plugs the real SIP message types into the generic transaction machines.

use super::{MethodKind, TxRequest, TxResponse};
use crate::sip::message::{Method, Request, Response};

impl TxRequest for Request {
    type Response = Response;

    fn method_kind(&self) -> MethodKind {
        match self.method {
            Method::Invite => MethodKind::Invite,
            Method::Ack => MethodKind::Ack,
            _ => MethodKind::NonInvite,
        }
    }

    fn build_ack(&self, response: &Response) -> Request {
        self.ack_for_failure(response)
    }
}

impl TxResponse for Response {
    fn status_code(&self) -> u16 {
        self.status
    }
}
