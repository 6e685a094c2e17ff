//! `backtester serve` and `backtester migrate`: the HTTP service and its
//! database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio::sync::Notify;

use crate::api::{self, ServerLimits};
use crate::service::{require_shared_queue, Service, ServiceConfig, SERVE_WITHOUT_RUNS};
use crate::store::{Dialect, Store, DEFAULT_URL};

/// Where the database is.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (created if missing) or postgres://...; default: backtester.db here.
    #[arg(long, env = "BACKTESTER_DATABASE_URL", default_value = DEFAULT_URL)]
    pub database_url: String,
}

/// Checks that `text` is HOST:PORT (a name, an IPv4 address or a
/// bracketed IPv6 one); the name is looked up when binding.
fn host_and_port(text: &str) -> Result<String, String> {
    if text.parse::<SocketAddr>().is_ok() {
        return Ok(text.to_string());
    }
    let form = || format!("'{text}' is not HOST:PORT (e.g. 127.0.0.1:8080, localhost:8080 or [::1]:8080)");
    let (host, port) = text.rsplit_once(':').ok_or_else(form)?;
    if host.is_empty() || host.contains(':') || port.parse::<u16>().is_err() {
        return Err(form());
    }
    Ok(text.to_string())
}

/// The most runs a server executes at once (a semaphore's permits; far
/// more threads than any machine this serves has cores).
const MAX_CONCURRENT_RUNS: u64 = 1024;

/// The largest request body, in MiB: 4 GiB. Shifted into bytes, a larger
/// number overflowed (17592186044416 MiB became a limit of 0).
const MAX_BODY_LIMIT_MIB: u64 = 4096;

/// `serve`'s flags.
#[derive(Debug, Args)]
pub struct ServeCommand {
    /// Address to listen on, as HOST:PORT with an IP address or a host name
    /// (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = host_and_port)]
    pub bind: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Runs executing at once, 1 to 1024 (default: the number of cores); more wait in a queue.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_CONCURRENT_RUNS))]
    pub max_concurrent_runs: Option<u64>,
    /// Runs this server executes itself at once (as --max-concurrent-runs); 0 executes none and leaves them to
    /// `backtester worker` processes on the same PostgreSQL database (runs and the variants of sweeps).
    #[arg(long, value_name = "N", conflicts_with = "max_concurrent_runs",
          value_parser = clap::value_parser!(u64).range(0..=MAX_CONCURRENT_RUNS))]
    pub workers: Option<u64>,
    /// Wall-clock seconds a run may take (a run may ask for less); past it the run fails.
    #[arg(long, value_name = "SECS", default_value = "3600",
          value_parser = clap::value_parser!(u64).range(1..=crate::service::MAX_RUN_TIME_LIMIT_SECS))]
    pub run_time_limit: u64,
    /// Runs that may wait in the queue; beyond it a submit is refused with 429 and Retry-After.
    #[arg(long, value_name = "N", default_value = "1000", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_queued_runs: u64,
    /// Runs one client (an IP address) may have waiting in the queue; beyond it, 429.
    #[arg(long, value_name = "N", default_value = "100", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_queued_per_client: u64,
    /// Memory for parsed datasets kept between runs, in MiB (least recently used dropped first).
    #[arg(long, value_name = "MIB", default_value = "512", value_parser = clap::value_parser!(u64).range(0..=1 << 20))]
    pub dataset_cache_mib: u64,
    /// Connections kept open at once; more wait until one ends.
    #[arg(long, value_name = "N", default_value = "512", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_connections: u64,
    /// Connections one client address may hold open; more are closed at once.
    #[arg(long, value_name = "N", default_value = "64", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_connections_per_client: u64,
    /// Seconds a request body may pause, and a client go without reading its response, before the connection is cut.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub stall_timeout_secs: u64,
    /// Seconds a client has to send a request's headers, and an idle connection its next request.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Largest request body in MiB (JSON requests, strategy scripts and plugins), 1 to 4096.
    #[arg(long, default_value = "16", value_parser = clap::value_parser!(u64).range(1..=MAX_BODY_LIMIT_MIB))]
    pub body_limit_mib: u64,
    /// Largest dataset upload in MiB, 1 to 65536 (read and validated as it streams in, never held whole).
    #[arg(long, default_value = "1024", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub upload_limit_mib: u64,
    /// Make every .rhai and .wasm file in DIR a strategy of the first user, `admin` (named after the file), and
    /// add a version whenever one changes.
    #[arg(long, value_name = "DIR")]
    pub watch: Option<std::path::PathBuf>,
    /// With --watch: re-run the strategy's latest run on each new version.
    #[arg(long, requires = "watch")]
    pub rerun_on_change: bool,
    /// A host name clients reach the server by (repeatable); requests whose
    /// Host header is neither an IP address, localhost nor such a name are refused.
    #[arg(long, value_name = "NAME", value_parser = host_name)]
    pub allowed_host: Vec<String>,
    /// An origin whose web pages may call the API (repeatable), e.g.
    /// https://dash.example.com; without it, browsers refuse cross-origin calls.
    #[arg(long, value_name = "ORIGIN", value_parser = origin)]
    pub cors_origin: Vec<String>,
    /// Mark the page's session cookies Secure (sent over HTTPS only): for a
    /// server reached through a TLS proxy.
    #[arg(long)]
    pub secure_cookies: bool,
}

/// Checks a host name for `--allowed-host` (no scheme, port or path).
fn host_name(text: &str) -> Result<String, String> {
    let ok = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!("'{text}' is not a host name (e.g. bt.example.com, without scheme or port)"))
    }
}

/// Checks an origin for `--cors-origin`: `http(s)://HOST[:PORT]`, no path.
fn origin(text: &str) -> Result<String, String> {
    let text = text.trim_end_matches('/');
    let authority = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match authority {
        // Visible ASCII only: what a header value (Access-Control-Allow-Origin) can carry.
        Some(a) if !a.is_empty() && a.chars().all(|c| c.is_ascii_graphic() && c != '/' && c != '*') => {
            Ok(text.to_string())
        }
        _ => Err(format!("'{text}' is not an origin (e.g. https://dash.example.com or http://localhost:3000)")),
    }
}

/// Decides whether requests need tokens: yes when the database has one that
/// works; without, only a loopback server may start, serving one local user.
fn access_for(cmd: &ServeCommand, tokens: bool, addr: SocketAddr) -> anyhow::Result<api::Access> {
    if !tokens && !addr.ip().is_loopback() {
        anyhow::bail!(
            "serving on {addr}, which other machines reach, needs accounts and no database of this server has a \
             token: create one with `backtester user add NAME --admin` and `backtester token create --user NAME` \
             (same --database-url), or bind to 127.0.0.1"
        );
    }
    let mut hosts = cmd.allowed_host.clone();
    if let Some((name, _)) = cmd.bind.rsplit_once(':') {
        if host_name(name).is_ok() && name.parse::<std::net::IpAddr>().is_err() {
            hosts.push(name.to_ascii_lowercase());
        }
    }
    Ok(api::Access { tokens, hosts, cors_origins: cmd.cors_origin.clone(), secure_cookies: cmd.secure_cookies })
}

/// How long open connections (event streams included) may go on after a
/// shutdown signal before the server exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// Runs the service until Ctrl-C or SIGTERM.
///
/// On the signal it stops accepting connections, gives open ones
/// [`SHUTDOWN_GRACE`] to finish and exits; runs still executing are not
/// waited for, so an open event stream or a long run cannot hold the
/// process: they are failed as `interrupted` (on PostgreSQL as it exits,
/// on SQLite at the next start), and queued runs start at the next start.
///
/// # Errors
/// A database that cannot be opened or migrated, or an address in use.
pub fn serve(cmd: &ServeCommand) -> anyhow::Result<()> {
    let runtime = runtime()?;
    let served = runtime.block_on(async {
        if cmd.workers == Some(0) {
            // Before opening: a SQLite URL would create a file for nothing.
            require_shared_queue(Dialect::of(&cmd.db.database_url)?, SERVE_WITHOUT_RUNS)?;
        }
        let store =
            Store::open(&cmd.db.database_url).await.with_context(|| format!("opening {}", cmd.db.database_url))?;
        let mut config = ServiceConfig::default();
        match cmd.max_concurrent_runs.or(cmd.workers) {
            Some(0) => config.executes_runs = false,
            Some(n) => config.max_concurrent_runs = usize::try_from(n).context("--max-concurrent-runs")?,
            None => {}
        }
        config.run_time_limit = Duration::from_secs(cmd.run_time_limit);
        config.dataset_cache_bytes = (cmd.dataset_cache_mib as usize) << 20;
        config.max_queued_runs = cmd.max_queued_runs as usize;
        config.max_queued_per_client = cmd.max_queued_per_client as usize;
        let service = Service::start(store, config).await?;
        let _watch = match &cmd.watch {
            Some(dir) => Some(service.watch_dir(dir, cmd.rerun_on_change).await?),
            None => None,
        };
        let body_limit = usize::try_from(cmd.body_limit_mib << 20).context("--body-limit-mib")?;
        let upload_limit = usize::try_from(cmd.upload_limit_mib << 20).context("--upload-limit-mib")?;
        let listener =
            tokio::net::TcpListener::bind(cmd.bind.as_str()).await.with_context(|| format!("binding {}", cmd.bind))?;
        let addr = listener.local_addr()?;
        let access = access_for(cmd, service.has_live_tokens().await?, addr)?;
        if access.tokens {
            tracing::info!("requests need a token (Authorization: Bearer btk_...)");
        } else {
            eprintln!(
                "no tokens in the database: serving one local user without tokens, on {addr} only; \
                 `backtester user add` and `backtester token create` add accounts (then restart)"
            );
        }
        let app = api::router(service.clone(), access, body_limit, upload_limit);
        println!("listening on http://{addr}");
        use std::io::Write;
        std::io::stdout().flush()?;
        let stop = Arc::new(Notify::new());
        let stopping = Arc::clone(&stop);
        let limits = ServerLimits {
            max_connections: cmd.max_connections as usize,
            max_connections_per_client: cmd.max_connections_per_client as usize,
            header_timeout: Duration::from_secs(cmd.header_timeout_secs),
            stall_timeout: Duration::from_secs(cmd.stall_timeout_secs),
        };
        let server = api::serve(listener, app, limits, async move { stopping.notified().await });
        tokio::select! {
            () = server => {}
            () = async {
                shutdown_signal().await;
                tracing::info!("shutting down: open connections have {SHUTDOWN_GRACE:?} to finish");
                service.stop_starting_runs();
                stop.notify_one();
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {}
        }
        // The runs under way end with this process: failed as interrupted
        // now, rather than when their leases run out (PostgreSQL).
        service.interrupt_own_work().await;
        Ok(())
    });
    // Runs on blocking threads do not hold the exit (see above).
    runtime.shutdown_timeout(Duration::from_millis(100));
    served
}

/// Ctrl-C, or SIGTERM where there is one (service managers and containers send it).
pub(super) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Brings the database's schema up to date and exits.
///
/// # Errors
/// A database that cannot be opened or migrated.
pub fn migrate(db: &DatabaseArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = Store::open(&db.database_url).await.with_context(|| format!("migrating {}", db.database_url))?;
        store.close().await;
        println!("{} is up to date", db.database_url);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::host_and_port;

    #[test]
    fn bind_addresses_take_host_names() {
        for ok in ["127.0.0.1:8080", "localhost:8080", "[::1]:0", "my-host.example:80"] {
            assert_eq!(host_and_port(ok).as_deref(), Ok(ok));
        }
        for bad in ["localhost", ":8080", "localhost:http", "localhost:70000", "::1:80"] {
            assert!(host_and_port(bad).unwrap_err().contains("is not HOST:PORT"), "{bad}");
        }
    }

    #[test]
    fn cors_origins_are_a_scheme_and_a_visible_ascii_authority() {
        assert_eq!(super::origin("https://dash.example.com/").as_deref(), Ok("https://dash.example.com"));
        assert_eq!(super::origin("http://localhost:3000").as_deref(), Ok("http://localhost:3000"));
        for bad in
            ["dash.example.com", "https://", "https://a.com/path", "https://*.a.com", "https://a b", "https://é.com"]
        {
            assert!(super::origin(bad).unwrap_err().contains("is not an origin"), "{bad}");
        }
    }
}
