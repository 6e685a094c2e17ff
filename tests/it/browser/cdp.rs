//! A headless Chromium driven over the Chrome DevTools Protocol, as plain
//! JSON on a WebSocket: launch it on a fresh profile, open one page, run
//! script in it, navigate, take screenshots, and keep what the page logged
//! as errors and every request it made.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// A Chromium process and one page of it.
pub struct Chromium {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Console errors, uncaught exceptions and other errors the page logged.
    pub errors: Vec<String>,
    /// The URL of every request the page made.
    pub requests: Vec<String>,
    /// Loads that failed, as the browser logged them (a 4xx or 5xx answer).
    pub failed_loads: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts `executable` headless and opens a blank page.
    pub fn launch(executable: &Path) -> Chromium {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(executable)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1300,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Chromium starts");
        // It prints where its DevTools endpoint listens.
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("Chromium printed its DevTools address").unwrap();
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                break url.trim().to_string();
            }
        };
        // Keep draining its log, or it blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let (socket, _) = tungstenite::connect(url.as_str()).expect("the DevTools socket opens");
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        }
        let mut chromium = Chromium {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            errors: Vec::new(),
            requests: Vec::new(),
            failed_loads: Vec::new(),
            _profile: profile,
        };
        let target = chromium.call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = chromium.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }));
        chromium.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Runtime.enable", "Network.enable", "Page.enable", "Log.enable"] {
            chromium.call(domain, json!({}));
        }
        chromium
    }

    /// Sends `method` (to the page once one is attached) and returns its
    /// result; events that arrive meanwhile are recorded.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket.send(Message::Text(message.to_string().into())).unwrap();
        loop {
            let text = match self.socket.read().unwrap_or_else(|e| panic!("{method}: the DevTools socket failed: {e}"))
            {
                Message::Text(text) => text,
                _ => continue,
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == json!(id) {
                if let Some(error) = reply.get("error") {
                    panic!("{method}: {error}");
                }
                return reply["result"].clone();
            }
            self.record(&reply);
        }
    }

    fn record(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.consoleAPICalled") if params["type"] == "error" => {
                self.errors.push(format!("console.error: {}", params["args"]));
            }
            Some("Runtime.exceptionThrown") => self.errors.push(format!("exception: {}", params["exceptionDetails"])),
            Some("Log.entryAdded") if params["entry"]["source"] == "network" => {
                let entry = &params["entry"];
                self.failed_loads.push(format!("{} {}", entry["url"].as_str().unwrap_or_default(), entry["text"]));
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                self.errors.push(format!("log: {}", params["entry"]["text"]));
            }
            Some("Network.requestWillBeSent") => {
                self.requests.push(params["request"]["url"].as_str().unwrap_or_default().to_string());
            }
            _ => {}
        }
    }

    /// The value of `expression` in the page (awaited when a promise).
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }));
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression}: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Opens `url` in the page.
    pub fn navigate(&mut self, url: &str) {
        let result = self.call("Page.navigate", json!({ "url": url }));
        assert!(result.get("errorText").is_none(), "{url}: {result}");
    }

    /// Waits until `expression` is true in the page (one that throws is not yet true).
    pub fn wait_for(&mut self, expression: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        // A page still loading may have no body yet: that is "not yet", not an error.
        let probe = format!("(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()");
        while self.eval(&probe) != json!(true) {
            assert!(Instant::now() < deadline, "never {what}; page errors: {:?}", self.errors);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A screenshot of the whole page to `path`.
    pub fn screenshot(&mut self, path: &PathBuf) {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
