//! Opening connections: TLS per sslmode, session settings, waiting for a server that is starting.

use std::time::{Duration, Instant};

use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres::{Client, Config, NoTls};

use crate::settings::{ConnectionSettings, SslMode};

/// PostgreSQL settings every shale session runs with.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `lock_timeout`, e.g. "5s"; "0" for off.
    pub lock_timeout: String,
    /// `statement_timeout`, e.g. "0" (off) or "10min".
    pub statement_timeout: String,
    pub application_name: String,
    /// `search_path`: the one schema unqualified names resolve to (a fleet's schema-per-tenant
    /// targets); None keeps the server's setting.
    pub search_path: Option<String>,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            lock_timeout: "5s".into(),
            statement_timeout: "0".into(),
            application_name: "shale".into(),
            search_path: None,
        }
    }
}

/// Why a connection could not be made. Displays one line, with the password redacted.
#[derive(Debug, thiserror::Error)]
#[error("could not connect to {target}: {reason}")]
pub struct ConnectError {
    /// The redacted URL.
    pub target: String,
    pub reason: String,
    /// Worth retrying while the server starts (refused, starting up).
    pub transient: bool,
}

fn driver_config(settings: &ConnectionSettings, session: &SessionSettings) -> Config {
    let mut config = Config::new();
    let hosts = settings.effective_hosts();
    for host in &hosts {
        config.host(host);
    }
    for port in &settings.ports {
        config.port(*port);
    }
    if settings.ports.is_empty() {
        config.port(5432);
    }
    let user = settings.user.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "postgres".into());
    config.user(&user);
    if let Some(p) = &settings.password {
        config.password(p);
    }
    config.dbname(settings.dbname.as_deref().unwrap_or(&user));
    config.application_name(settings.application_name.as_deref().unwrap_or(&session.application_name));
    if let Some(t) = settings.effective_connect_timeout() {
        config.connect_timeout(t);
    }
    match settings.keepalive() {
        Some(k) => {
            config.keepalives(true).keepalives_idle(k.idle).keepalives_interval(k.interval).keepalives_retries(k.count);
        }
        None => {
            config.keepalives(false);
        }
    }
    if let Some(t) = settings.effective_tcp_user_timeout() {
        config.tcp_user_timeout(t);
    }
    // Session settings ride on the startup packet: no extra round trip.
    let mut options =
        format!("-c lock_timeout={} -c statement_timeout={}", session.lock_timeout, session.statement_timeout);
    if let Some(schema) = &session.search_path {
        options.push_str(&format!(" -c search_path={}", startup_option_value(&crate::sql::quote_ident(schema))));
    }
    if let Some(extra) = &settings.options {
        options = format!("{extra} {options}");
    }
    config.options(&options);
    // libpq never uses TLS on Unix sockets, whatever sslmode says.
    let on_socket = hosts.iter().all(|h| h.starts_with('/'));
    config.ssl_mode(match settings.effective_sslmode() {
        _ if on_socket => DriverSslMode::Disable,
        SslMode::Disable => DriverSslMode::Disable,
        SslMode::Allow | SslMode::Prefer => DriverSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
    });
    config
}

/// The server splits startup options on whitespace, with backslash as the escape.
fn startup_option_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '\\' || c.is_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Connect once. The connection's I/O runs on a spawned task for as long as the client lives.
/// `connect_timeout` bounds the whole attempt, the startup handshake included (as in libpq: the
/// driver alone bounds only the TCP connect, and a server that accepts but never answers would
/// hang the caller).
pub async fn connect(settings: &ConnectionSettings, session: &SessionSettings) -> Result<Client, ConnectError> {
    match settings.effective_connect_timeout() {
        Some(limit) => tokio::time::timeout(limit, connect_unbounded(settings, session)).await.unwrap_or_else(|_| {
            Err(ConnectError {
                target: settings.redacted(),
                reason: format!("no answer within connect_timeout ({}s)", limit.as_secs()),
                transient: true,
            })
        }),
        None => connect_unbounded(settings, session).await,
    }
}

async fn connect_unbounded(settings: &ConnectionSettings, session: &SessionSettings) -> Result<Client, ConnectError> {
    let config = driver_config(settings, session);
    let fail = |reason: String, transient: bool| ConnectError { target: settings.redacted(), reason, transient };
    let client = if config.get_ssl_mode() == DriverSslMode::Disable {
        let (client, connection) =
            config.connect(NoTls).await.map_err(|e| classify(&e, settings)).map_err(|(r, t)| fail(r, t))?;
        tokio::spawn(connection);
        client
    } else {
        let tls = crate::tls::client_config(settings.effective_sslmode(), settings.sslrootcert.as_deref())
            .map_err(|e| fail(e, false))?;
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
        let (client, connection) =
            config.connect(tls).await.map_err(|e| classify(&e, settings)).map_err(|(r, t)| fail(r, t))?;
        tokio::spawn(connection);
        client
    };
    Ok(client)
}

/// Asks the server to cancel what `client` is running (the protocol's cancel request, which
/// poolers pass on), over the same kind of connection as `connect` made.
pub async fn cancel(settings: &ConnectionSettings, client: &Client) -> Result<(), tokio_postgres::Error> {
    let token = client.cancel_token();
    let on_socket = settings.effective_hosts().iter().all(|h| h.starts_with('/'));
    let tls = match settings.effective_sslmode() {
        _ if on_socket => None,
        SslMode::Disable => None,
        mode => crate::tls::client_config(mode, settings.sslrootcert.as_deref()).ok(),
    };
    match tls {
        Some(tls) => token.cancel_query(tokio_postgres_rustls::MakeRustlsConnect::new(tls)).await,
        None => token.cancel_query(NoTls).await,
    }
}

/// Connect, retrying transient failures (server not up yet) until `wait` has passed.
pub async fn connect_waiting(
    settings: &ConnectionSettings,
    session: &SessionSettings,
    wait: Option<Duration>,
) -> Result<Client, ConnectError> {
    let deadline = wait.map(|w| Instant::now() + w);
    let mut pause = Duration::from_millis(50);
    loop {
        match connect(settings, session).await {
            Err(e) if e.transient => {
                // Keep trying until the wait is over: the last pause is cut short so that one
                // more attempt happens right at the deadline instead of giving up early.
                let remaining = deadline.map_or(Duration::ZERO, |d| d.saturating_duration_since(Instant::now()));
                if remaining.is_zero() {
                    return Err(e);
                }
                tokio::time::sleep(pause.min(remaining)).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// One clear line for the usual failures; whether retrying could help.
fn classify(error: &tokio_postgres::Error, settings: &ConnectionSettings) -> (String, bool) {
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        let reason = match code {
            "28P01" => format!(
                "password authentication failed for user {}; check the password in the URL, PGPASSWORD, .env or the password file (~/.pgpass)",
                settings.user.as_deref().unwrap_or("(default)")
            ),
            "28000" => format!("the server refused the login: {}", db.message()),
            "3D000" => format!("{}; create it first (`createdb`), or fix the database name", db.message()),
            _ => format!("{} (SQLSTATE {code})", db.message()),
        };
        // 57P03: the database system is starting up.
        return (reason, code == "57P03");
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    if let Some(pw) = settings.password.as_deref().filter(|p| !p.is_empty()) {
        text = text.replace(pw, "***");
    }
    let lower = text.to_lowercase();
    let transient = lower.contains("connection refused")
        // A server that is starting or restarting may also reset the connection.
        || lower.contains("connection reset")
        || lower.contains("no such file or directory")
        || lower.contains("starting up");
    let reason = if lower.contains("failed to lookup address") || lower.contains("name or service not known") {
        "unknown host; check the host name in the URL".to_string()
    } else if lower.contains("server does not support tls") {
        // Checked before the generic TLS case below, which would otherwise swallow it.
        format!("the server does not support TLS, but sslmode={} requires it", settings.effective_sslmode().as_str())
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        format!("TLS handshake failed ({text}); check sslmode and sslrootcert")
    } else {
        text
    };
    (reason, transient)
}
