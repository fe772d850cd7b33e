//! A small SIP-over-WebSocket phone for the tests (RFC 7118, as a browser's JsSIP would
//! speak it): a `.invalid` Contact host, Via `SIP/2.0/WS`, one message per text frame. It
//! registers with digest, answers an INVITE with a plain RTP SDP, ACKs nothing (it is the
//! UAS) and answers BYE. Every wait is bounded.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use hotline::sip::digest_client::{self, ClientCredentials, Secret};
use hotline::sip::message::Message as SipMessage;
use hotline::sip::parse::parse_datagram;

/// The opening handshake's request for `ws[s]://addr/ws` with these headers.
pub fn request(
    scheme: &str,
    addr: SocketAddr,
    origin: Option<&str>,
    protocol: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut req = format!("{scheme}://{addr}/ws")
        .into_client_request()
        .expect("request");
    if let Some(o) = origin {
        req.headers_mut()
            .insert("Origin", HeaderValue::from_str(o).expect("origin"));
    }
    if let Some(p) = protocol {
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(p).expect("protocol"),
        );
    }
    req
}

/// Opens `/ws` over plain TCP: the phone, or the handshake's HTTP status when refused.
pub async fn connect(
    http: SocketAddr,
    origin: Option<&str>,
    protocol: Option<&str>,
) -> Result<WsPhone<tokio::net::TcpStream>, u16> {
    let tcp = tokio::net::TcpStream::connect(http).await.expect("connect");
    over(tcp, request("ws", http, origin, protocol)).await
}

/// Runs the handshake over an open stream (TCP or TLS).
pub async fn over<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<WsPhone<S>, u16> {
    let handshake = tokio_tungstenite::client_async(req, stream);
    match tokio::time::timeout(Duration::from_secs(5), handshake).await {
        Ok(Ok((ws, resp))) => {
            let chosen = resp
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok());
            assert_eq!(chosen, Some("sip"), "the server answers with `sip`");
            Ok(WsPhone::new(ws))
        }
        Ok(Err(WsError::Http(resp))) => Err(resp.status().as_u16()),
        Ok(Err(e)) => panic!("handshake failed: {e}"),
        Err(_) => panic!("handshake timed out"),
    }
}

/// One SIP user agent over one WebSocket.
pub struct WsPhone<S> {
    ws: WebSocketStream<S>,
    /// The Contact's random user and `.invalid` host, as JsSIP makes them.
    pub contact_user: String,
    pub contact_host: String,
    seq: u32,
    call_id: String,
    tag: String,
}

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsPhone<S> {
    fn new(ws: WebSocketStream<S>) -> Self {
        Self {
            ws,
            contact_user: format!("u{}", &token()[..8]),
            contact_host: format!("{}.invalid", &token()[..10]),
            seq: 0,
            call_id: token(),
            tag: token(),
        }
    }

    /// Sends one SIP message as one text frame.
    pub async fn send(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.expect("send frame");
    }

    /// Sends raw bytes as one binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::binary(bytes))
            .await
            .expect("send frame");
    }

    /// The next SIP message (text or binary frame), `None` when the socket closed or
    /// nothing came within `limit`.
    pub async fn recv(&mut self, limit: Duration) -> Option<String> {
        self.recv_frame(limit).await.ok()
    }

    /// The next message, or why there was none: `Err(Some(code))` a close frame's code,
    /// `Err(None)` a timeout or an end without one.
    pub async fn recv_frame(&mut self, limit: Duration) -> Result<String, Option<u16>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            match next {
                Ok(Some(Ok(Message::Text(t)))) => return Ok(t.to_string()),
                Ok(Some(Ok(Message::Binary(b)))) => {
                    return Ok(String::from_utf8_lossy(&b).to_string())
                }
                Ok(Some(Ok(Message::Close(frame)))) => return Err(frame.map(|f| u16::from(f.code))),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) | Err(_) => return Err(None),
            }
        }
    }

    fn register_text(&mut self, user: &str, expires: u32, auth: Option<&str>, ua: &str) -> String {
        self.seq += 1;
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/WS {host};branch=z9hG4bK{branch}\r\n\
             Max-Forwards: 69\r\n\
             To: <sip:{user}@127.0.0.1>\r\n\
             From: <sip:{user}@127.0.0.1>;tag={tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {seq} REGISTER\r\n\
             Contact: <sip:{cu}@{host};transport=ws>;expires={expires}\r\n\
             Expires: {expires}\r\n\
             {auth}\
             User-Agent: {ua}\r\n\
             Content-Length: 0\r\n\r\n",
            host = self.contact_host,
            branch = token(),
            tag = self.tag,
            call_id = self.call_id,
            seq = self.seq,
            cu = self.contact_user,
        )
    }

    /// REGISTER as `user` with `password`, answering the 401 once; the final status.
    pub async fn register(&mut self, user: &str, password: &str) -> u16 {
        self.register_as(user, password, "hotline-ws-test/1").await
    }

    /// As [`WsPhone::register`] with a chosen User-Agent.
    pub async fn register_as(&mut self, user: &str, password: &str, ua: &str) -> u16 {
        let first = self.register_text(user, 600, None, ua);
        self.send(first).await;
        let Some(resp) = self.recv_response(Duration::from_secs(5)).await else {
            return 0; // dropped
        };
        let status = status_of(&resp);
        if status != 401 {
            return status;
        }
        let SipMessage::Response(parsed) = parse_datagram(resp.as_bytes()).expect("a 401") else {
            panic!("not a response: {resp}");
        };
        let creds = ClientCredentials::new(user, Secret::new(password), None);
        let challenge = digest_client::pick(&parsed, &creds).expect("a digest challenge");
        let auth = digest_client::authorization(
            &creds,
            &challenge,
            "REGISTER",
            "sip:127.0.0.1",
            &token(),
            1,
        );
        let second = self.register_text(user, 600, Some(&auth.raw), ua);
        self.send(second).await;
        self.recv_response(Duration::from_secs(5))
            .await
            .map_or(0, |r| status_of(&r))
    }

    async fn recv_response(&mut self, limit: Duration) -> Option<String> {
        loop {
            let m = self.recv(limit).await?;
            if m.starts_with("SIP/2.0 1") {
                continue;
            }
            return Some(m);
        }
    }

    /// Answers `req` with `status`; a 2xx to an INVITE carries a plain RTP SDP on `rtp`.
    pub async fn answer(&mut self, req: &str, status: u16, reason: &str, to_tag: &str, rtp: u16) {
        let mut head = format!("SIP/2.0 {status} {reason}\r\n");
        for line in req.split("\r\n").skip(1) {
            let name = line
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            match name.as_str() {
                "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" | "record-route" => {
                    head.push_str(line);
                    head.push_str("\r\n");
                }
                "to" | "t" => {
                    head.push_str(line);
                    if !line.contains(";tag=") {
                        head.push_str(&format!(";tag={to_tag}"));
                    }
                    head.push_str("\r\n");
                }
                _ => {}
            }
        }
        head.push_str(&format!(
            "Contact: <sip:{}@{};transport=ws>\r\n",
            self.contact_user, self.contact_host
        ));
        let body = if status == 200 && req.starts_with("INVITE") {
            head.push_str("Content-Type: application/sdp\r\n");
            format!(
                "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio {rtp} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
                 a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
            )
        } else {
            String::new()
        };
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.send(head).await;
    }

    /// Closes the WebSocket politely.
    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
    }
}

/// The status code of a response's text (0 for a request).
pub fn status_of(msg: &str) -> u16 {
    msg.strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A header's value (the first line of that name, case-insensitive).
pub fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}
