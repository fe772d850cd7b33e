//! The load client's agents: each one a SIP-over-WebSocket phone (RFC 7118, as JsSIP speaks
//! it: a `.invalid` Contact host, one message per text frame) that registers with digest on
//! the engine's `/ws`, is set ready over the HTTP API, and answers every INVITE's WebRTC offer
//! with its own str0m peer (`media.rs`). The engine's BYE ends the call; its media's figures
//! go into the run's [`Summary`]. Every wait is bounded by the run's duration.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use hotline::sip::digest_client::{self, ClientCredentials, Secret};
use hotline::sip::message::Message as SipMessage;
use hotline::sip::parse::parse_datagram;

use crate::media::{self, AgentCodec, CallMedia};

/// What one run does.
#[derive(Debug, Clone)]
pub struct Options {
    /// The engine's HTTP listener (`/ws` and the API).
    pub http: SocketAddr,
    /// Agent ids with their passwords.
    pub agents: Vec<(String, String)>,
    /// The bearer token that may set agents ready (a supervisor's).
    pub token: String,
    pub codec: AgentCodec,
    /// The run ends once this many calls have ended (BYE), or at `duration`.
    pub calls: u64,
    /// The whole run's bound.
    pub duration: Duration,
    /// REGISTERs started per second.
    pub register_rate: u32,
}

/// Live counters, read while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    pub registered: AtomicU64,
    pub invites: AtomicU64,
    pub answered: AtomicU64,
    pub connected: AtomicU64,
    pub talking: AtomicU64,
    pub ended: AtomicU64,
    pub peak_talking: AtomicU64,
}

/// What the run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub agents: usize,
    pub registered: u64,
    pub ready: u64,
    pub invites: u64,
    pub answered: u64,
    pub refused: u64,
    pub ended: u64,
    pub peak_talking: u64,
    pub calls: Vec<CallMedia>,
    pub errors: Vec<String>,
}

impl Summary {
    /// One line of `key=value` figures (the load script and the test read it).
    pub fn line(&self) -> String {
        let mut hs: Vec<Duration> = self.calls.iter().filter_map(|c| c.handshake).collect();
        hs.sort();
        let pct = |p: f64| {
            if hs.is_empty() {
                return 0.0;
            }
            let i = ((hs.len() - 1) as f64 * p).round() as usize;
            hs[i].as_secs_f64() * 1e3
        };
        let sum = |f: fn(&CallMedia) -> u64| self.calls.iter().map(f).sum::<u64>();
        let tone = |v: Option<bool>| self.calls.iter().filter(|c| c.tone_ok == v).count();
        format!(
            "agents={} registered={} ready={} invites={} answered={} refused={} ended={} \
             peak_talking={} connected={} handshake_p50_ms={:.1} handshake_p99_ms={:.1} \
             handshake_max_ms={:.1} sent={} received={} lost={} time_jumps={} tone_ok={} \
             tone_bad={} tone_unchecked={} call_errors={}",
            self.agents,
            self.registered,
            self.ready,
            self.invites,
            self.answered,
            self.refused,
            self.ended,
            self.peak_talking,
            hs.len(),
            pct(0.5),
            pct(0.99),
            pct(1.0),
            sum(|c| c.sent),
            sum(|c| c.received),
            sum(|c| c.lost),
            sum(|c| c.time_jumps),
            tone(Some(true)),
            tone(Some(false)),
            tone(None),
            self.calls.iter().filter(|c| c.error.is_some()).count(),
        )
    }
}

type Ws = WebSocketStream<TcpStream>;

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Registers every agent, sets them ready, answers calls until `calls` have ended or
/// `duration` passed, then returns what happened. `progress` is called about every 5 s.
pub async fn run(opts: Options, progress: impl Fn(&Live)) -> Summary {
    let started = Instant::now();
    let end = started + opts.duration;
    let live = Arc::new(Live::default());
    let calls = Arc::new(Mutex::new(Vec::<CallMedia>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let frames = match media::tone_frames(opts.codec) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            return Summary {
                errors: vec![e],
                ..Summary::default()
            }
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let gap = Duration::from_secs(1) / opts.register_rate.max(1);
    for (i, (id, password)) in opts.agents.iter().enumerate() {
        let agent = Agent {
            http: opts.http,
            id: id.clone(),
            password: password.clone(),
            codec: opts.codec,
            frames: frames.clone(),
            live: live.clone(),
            calls: calls.clone(),
            errors: errors.clone(),
            end,
        };
        let start_at = started + gap * i as u32;
        let stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start_at.into()).await;
            agent.run(stop).await
        }));
    }
    // Every agent registered (or the bound): then each is set ready.
    let n = opts.agents.len() as u64;
    let reg_bound = Instant::now() + Duration::from_secs(30) + gap * n as u32;
    while live.registered.load(Ordering::Relaxed) < n && Instant::now() < reg_bound.min(end) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ready = 0;
    for (id, _) in &opts.agents {
        let path = format!("/api/agents/{id}/state");
        match http_post(opts.http, &path, &opts.token, r#"{"state":"ready"}"#).await {
            Ok(204) => ready += 1,
            Ok(s) => push(&errors, format!("{id}: ready answered {s}")),
            Err(e) => push(&errors, format!("{id}: ready: {e}")),
        }
    }
    progress(&live);
    let mut last = Instant::now();
    while Instant::now() < end
        && (opts.calls == 0 || live.ended.load(Ordering::Relaxed) < opts.calls)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if last.elapsed() >= Duration::from_secs(5) {
            last = Instant::now();
            progress(&live);
        }
    }
    // Let the last calls' media tasks report (their BYE came), then close the sockets.
    let settle = Instant::now() + Duration::from_secs(3);
    while live.talking.load(Ordering::Relaxed) > 0 && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(true);
    let mut refused = 0;
    for t in tasks {
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(5), t).await {
            refused += r;
        }
    }
    let calls = std::mem::take(&mut *calls.lock().unwrap_or_else(|e| e.into_inner()));
    let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner()));
    Summary {
        agents: opts.agents.len(),
        registered: live.registered.load(Ordering::Relaxed),
        ready,
        invites: live.invites.load(Ordering::Relaxed),
        answered: live.answered.load(Ordering::Relaxed),
        refused,
        ended: live.ended.load(Ordering::Relaxed),
        peak_talking: live.peak_talking.load(Ordering::Relaxed),
        calls,
        errors,
    }
}

fn push(errors: &Mutex<Vec<String>>, e: String) {
    errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
}

/// One agent's phone.
struct Agent {
    http: SocketAddr,
    id: String,
    password: String,
    codec: AgentCodec,
    frames: Arc<Vec<Vec<u8>>>,
    live: Arc<Live>,
    calls: Arc<Mutex<Vec<CallMedia>>>,
    errors: Arc<Mutex<Vec<String>>>,
    end: Instant,
}

/// The phone's SIP identity on its WebSocket.
struct Phone {
    ws: Ws,
    contact: String,
    call_id: String,
    tag: String,
    seq: u32,
}

impl Agent {
    /// Connects, registers and answers until `stop`; the number of INVITEs it refused.
    async fn run(self, mut stop: watch::Receiver<bool>) -> u64 {
        let mut phone = match self.connect().await {
            Ok(p) => p,
            Err(e) => {
                push(&self.errors, format!("{}: {e}", self.id));
                return 0;
            }
        };
        match phone.register(&self.id, &self.password).await {
            Ok(()) => {
                self.live.registered.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                push(&self.errors, format!("{}: register: {e}", self.id));
                return 0;
            }
        }
        let mut calls: HashMap<String, oneshot::Sender<()>> = HashMap::new();
        let mut refused = 0;
        loop {
            let msg = tokio::select! {
                m = phone.ws.next() => m,
                _ = stop.changed() => break,
                _ = tokio::time::sleep_until(self.end.into()) => break,
            };
            let text = match msg {
                Some(Ok(Message::Text(t))) => t.to_string(),
                Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).to_string(),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    push(&self.errors, format!("{}: the WebSocket closed", self.id));
                    break;
                }
            };
            if text.starts_with("SIP/2.0") || text.trim().is_empty() {
                continue;
            }
            let method = text.split(' ').next().unwrap_or("").to_string();
            let call_id = header(&text, "Call-ID").unwrap_or("").to_string();
            match method.as_str() {
                "INVITE" if !calls.contains_key(&call_id) => {
                    self.live.invites.fetch_add(1, Ordering::Relaxed);
                    let offer = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                    match media::answer(offer, self.codec).await {
                        Ok((peer, sdp)) => {
                            phone.respond(&text, 200, "OK", Some(&sdp)).await;
                            self.live.answered.fetch_add(1, Ordering::Relaxed);
                            let (tx, rx) = oneshot::channel();
                            calls.insert(call_id, tx);
                            self.spawn_media(peer, rx);
                        }
                        Err(e) => {
                            refused += 1;
                            push(&self.errors, format!("{}: offer refused: {e}", self.id));
                            phone.respond(&text, 488, "Not Acceptable Here", None).await;
                        }
                    }
                }
                "ACK" => {}
                "BYE" | "CANCEL" => {
                    phone.respond(&text, 200, "OK", None).await;
                    if let Some(tx) = calls.remove(&call_id) {
                        let _ = tx.send(());
                    }
                }
                _ => phone.respond(&text, 200, "OK", None).await,
            }
        }
        let _ = phone.ws.close(None).await;
        refused
    }

    fn spawn_media(&self, peer: media::Peer, stop: oneshot::Receiver<()>) {
        let live = self.live.clone();
        let calls = self.calls.clone();
        let frames = self.frames.clone();
        let codec = self.codec;
        let limit = self.end.saturating_duration_since(Instant::now());
        let talking = live.talking.fetch_add(1, Ordering::Relaxed) + 1;
        live.peak_talking.fetch_max(talking, Ordering::Relaxed);
        tokio::spawn(async move {
            let result = media::run(peer, codec, frames, stop, limit).await;
            if result.handshake.is_some() {
                live.connected.fetch_add(1, Ordering::Relaxed);
            }
            live.talking.fetch_sub(1, Ordering::Relaxed);
            live.ended.fetch_add(1, Ordering::Relaxed);
            calls.lock().unwrap_or_else(|p| p.into_inner()).push(result);
        });
    }

    async fn connect(&self) -> Result<Phone, String> {
        let tcp = TcpStream::connect(self.http)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut req = format!("ws://{}/ws", self.http)
            .into_client_request()
            .map_err(|e| format!("request: {e}"))?;
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
        let handshake = tokio_tungstenite::client_async(req, tcp);
        let (ws, _) = tokio::time::timeout(Duration::from_secs(10), handshake)
            .await
            .map_err(|_| "WebSocket handshake timed out".to_string())?
            .map_err(|e| format!("WebSocket handshake: {e}"))?;
        Ok(Phone {
            ws,
            contact: format!(
                "<sip:u{}@{}.invalid;transport=ws>",
                &token()[..8],
                &token()[..10]
            ),
            call_id: token(),
            tag: token(),
            seq: 0,
        })
    }
}

impl Phone {
    fn register_text(&mut self, user: &str, auth: Option<&str>) -> String {
        self.seq += 1;
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/WS load.invalid;branch=z9hG4bK{branch}\r\n\
             Max-Forwards: 69\r\n\
             To: <sip:{user}@127.0.0.1>\r\n\
             From: <sip:{user}@127.0.0.1>;tag={tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {seq} REGISTER\r\n\
             Contact: {contact};expires=3600\r\n\
             Expires: 3600\r\n\
             {auth}\
             User-Agent: hotline-webrtc-agents/1\r\n\
             Content-Length: 0\r\n\r\n",
            branch = token(),
            tag = self.tag,
            call_id = self.call_id,
            seq = self.seq,
            contact = self.contact,
        )
    }

    async fn send(&mut self, text: String) -> Result<(), String> {
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| format!("send: {e}"))
    }

    /// The next final response (provisional ones skipped), within 10 s.
    async fn final_response(&mut self) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| "no response within 10 s".to_string())?;
            match next {
                Some(Ok(Message::Text(t))) if t.starts_with("SIP/2.0 1") => continue,
                Some(Ok(Message::Text(t))) if t.starts_with("SIP/2.0") => return Ok(t.to_string()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("WebSocket: {e}")),
                None => return Err("the WebSocket closed".into()),
            }
        }
    }

    /// REGISTER, answering the digest challenge once.
    async fn register(&mut self, user: &str, password: &str) -> Result<(), String> {
        let first = self.register_text(user, None);
        self.send(first).await?;
        let resp = self.final_response().await?;
        let status = status_of(&resp);
        if status == 200 {
            return Ok(());
        }
        if status != 401 {
            return Err(format!("REGISTER answered {status}"));
        }
        let Ok(SipMessage::Response(parsed)) = parse_datagram(resp.as_bytes()) else {
            return Err("an unreadable 401".into());
        };
        let creds = ClientCredentials::new(user, Secret::new(password), None);
        let challenge = digest_client::pick(&parsed, &creds).map_err(|e| e.to_string())?;
        let auth = digest_client::authorization(
            &creds,
            &challenge,
            "REGISTER",
            "sip:127.0.0.1",
            &token(),
            1,
        );
        let second = self.register_text(user, Some(&auth.raw));
        self.send(second).await?;
        match status_of(&self.final_response().await?) {
            200 => Ok(()),
            s => Err(format!("REGISTER with credentials answered {s}")),
        }
    }

    /// Answers the request `req` with `status`, and an SDP body if given.
    async fn respond(&mut self, req: &str, status: u16, reason: &str, sdp: Option<&str>) {
        let mut head = format!("SIP/2.0 {status} {reason}\r\n");
        for line in req.split("\r\n").skip(1) {
            if line.is_empty() {
                break;
            }
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
                        head.push_str(&format!(";tag={}", &self.tag[..8]));
                    }
                    head.push_str("\r\n");
                }
                _ => {}
            }
        }
        head.push_str(&format!("Contact: {}\r\n", self.contact));
        let body = sdp.unwrap_or("");
        if sdp.is_some() {
            head.push_str("Content-Type: application/sdp\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        let _ = self.send(head).await;
    }
}

/// The status code of a response's text (0 for a request).
fn status_of(msg: &str) -> u16 {
    msg.strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A header's value (the first line of that name, case-insensitive; `i` for Call-ID).
fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.split("\r\n")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            let n = n.trim();
            (n.eq_ignore_ascii_case(name) || (name == "Call-ID" && n.eq_ignore_ascii_case("i")))
                .then_some(v.trim())
        })
}

/// POSTs `body` (JSON) with the bearer `token`; the status.
async fn http_post(http: SocketAddr, path: &str, token: &str, body: &str) -> Result<u16, String> {
    let work = async {
        let mut s = TcpStream::connect(http).await.map_err(|e| e.to_string())?;
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {http}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&resp);
        text.split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("no status in {text:.80}"))
    };
    tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .map_err(|_| "no answer within 10 s".to_string())?
}
