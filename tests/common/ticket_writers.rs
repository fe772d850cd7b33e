//! Clients creating tickets over HTTP until the engine stops answering (a kill), keeping the
//! ids the API acknowledged (201): what a durable store must still have afterwards.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::http_request;

/// A citizen's web request, numbered `n`.
pub fn request(n: usize) -> String {
    serde_json::json!({"channel":"web","caller":{"name":"王五","phone":format!("139{n:08}")},
        "content":format!("第{n}号诉求：路灯不亮"),"urgency":"non_urgent","type":"help",
        "domain":"public_service"})
    .to_string()
}

/// `n` writer threads on one engine.
pub struct TicketWriters {
    acked: Arc<Mutex<Vec<String>>>,
    threads: Vec<JoinHandle<()>>,
}

impl TicketWriters {
    /// Starts `n` writers on `http`; each stops at its first failure or after 2,000 tickets.
    pub fn start(http: SocketAddr, n: usize) -> TicketWriters {
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let threads = (0..n)
            .map(|w| {
                let acked = acked.clone();
                std::thread::spawn(move || {
                    for i in 0..2000 {
                        let body = request(w * 10_000 + i);
                        let answer = std::panic::catch_unwind(|| {
                            http_request(
                                http,
                                "POST",
                                "/api/tickets",
                                Some("demo-agent-1001"),
                                Some(&body),
                            )
                        });
                        let Ok((201, body)) = answer else {
                            return;
                        };
                        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
                        let id = v["id"].as_str().expect("id").to_string();
                        acked.lock().expect("lock").push(id);
                    }
                })
            })
            .collect();
        TicketWriters { acked, threads }
    }

    /// How many tickets were acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        self.acked.lock().expect("lock").len()
    }

    /// Waits for every writer to stop (the engine is dead) and returns the acknowledged ids.
    pub fn join(self) -> Vec<String> {
        for t in self.threads {
            let _ = t.join();
        }
        self.acked.lock().expect("lock").clone()
    }
}
