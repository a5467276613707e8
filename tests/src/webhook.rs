//! A local webhook receiver for the alert tests: real HTTP, records every delivery (its
//! `Idempotency-Key` and JSON body) and can answer the first N deliveries with `500`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub idempotency_key: Option<String>,
    pub body: Value,
    /// Whether the receiver accepted it (`2xx`).
    pub accepted: bool,
}

#[derive(Default)]
struct State {
    fail_next: usize,
    deliveries: Vec<Delivery>,
}

/// A running receiver.
pub struct Webhook {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Webhook {
    /// Starts on a free port; the first `fail_first` deliveries get `500`.
    pub fn start(fail_first: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State {
            fail_next: fail_first,
            deliveries: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ignored = handle(stream, &s);
                });
            }
        });
        Ok(Self { url, state })
    }

    /// Every delivery so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state
            .lock()
            .map(|s| s.deliveries.clone())
            .unwrap_or_default()
    }

    /// The accepted deliveries' bodies.
    pub fn accepted(&self) -> Vec<Value> {
        self.deliveries()
            .into_iter()
            .filter(|d| d.accepted)
            .map(|d| d.body)
            .collect()
    }
}

fn handle(mut stream: std::net::TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut length = 0usize;
    let mut key = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "idempotency-key" => key = Some(v.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let accepted = {
        let mut s = state
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        let accepted = if s.fail_next > 0 {
            s.fail_next -= 1;
            false
        } else {
            true
        };
        s.deliveries.push(Delivery {
            idempotency_key: key,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            accepted,
        });
        accepted
    };
    let status = if accepted {
        "200 OK"
    } else {
        "500 Internal Server Error"
    };
    let resp = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(resp.as_bytes())?;
    stream.flush()
}
