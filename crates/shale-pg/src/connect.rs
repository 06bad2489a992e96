//! Opening connections: TLS per sslmode, channel binding, the host that target_session_attrs
//! asks for among several, session settings, waiting for a server that is starting.

use std::time::{Duration, Instant};

use tokio_postgres::config::{ChannelBinding as DriverChannelBinding, SslMode as DriverSslMode};
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

use crate::settings::{ChannelBinding, ConnectionSettings, LoadBalanceHosts, SslMode, Target, TargetSessionAttrs};
use crate::tls::MakeTls;

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
pub struct ConnectError {
    /// The redacted URL.
    pub target: String,
    pub reason: String,
    /// Worth retrying while the server starts (refused, starting up), or while a failover
    /// promotes a standby.
    pub transient: bool,
    /// The settings themselves cannot be used (two ports for one host, an unreadable
    /// certificate, a weak sslmode beside `sslrootcert=system`): no host was tried, and trying
    /// again changes nothing until they are mended.
    pub settings_problem: bool,
    /// Each host tried and why it was not used, in the order tried (empty when the attempt
    /// stopped before any host, e.g. on an unreadable certificate file).
    pub hosts: Vec<HostFailure>,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.settings_problem {
            true => write!(f, "cannot connect to {} as given: {}", self.target, self.reason),
            false => write!(f, "could not connect to {}: {}", self.target, self.reason),
        }
    }
}

impl ConnectError {
    /// Every host tried refused the connection as given: the settings are wrong (a password, a
    /// user, a certificate, an sslmode the server cannot meet), and trying again changes nothing
    /// until they are mended (FastAPI trial: a wrong password exited 3, "worth retrying").
    pub fn refused_as_given(&self) -> bool {
        !self.hosts.is_empty() && self.hosts.iter().all(|h| h.refused_as_given)
    }
}

/// One host that was tried and not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFailure {
    /// `host:port` (a socket directory for a Unix socket), with the address when one was given.
    pub host: String,
    pub reason: String,
    pub transient: bool,
    /// What the server is, when it answered but is not what `target_session_attrs` asks for.
    pub role: Option<ServerRole>,
    /// The server (or a pooler) refused the connection as the settings ask for it: the login (a
    /// wrong password, none given, a certificate or pg_hba.conf entry that does not let this user
    /// in), or TLS it does not offer where sslmode requires it.
    pub refused_as_given: bool,
}

/// What a server answered when asked whether it is a standby and whether it accepts writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerRole {
    /// `pg_is_in_recovery()`: a standby.
    pub in_recovery: bool,
    /// `transaction_read_only` of a new session.
    pub read_only: bool,
}

impl ServerRole {
    fn describe(self) -> &'static str {
        match (self.in_recovery, self.read_only) {
            (true, _) => "a standby (in recovery, read-only)",
            (false, true) => "a primary whose sessions are read-only (default_transaction_read_only)",
            (false, false) => "a primary (read-write)",
        }
    }
}

/// The driver's configuration for one host; `startup_options`: the session settings ride on the
/// startup packet (else, for a pooler that refuses them, they are set later).
fn driver_config(
    settings: &ConnectionSettings,
    session: &SessionSettings,
    target: &Target,
    startup_options: bool,
) -> Config {
    let mut config = Config::new();
    // The host name serves TLS verification; the address, when given, is where to connect.
    config.host(&target.host);
    if let Some(addr) = target.hostaddr {
        config.hostaddr(addr);
    }
    config.port(target.port);
    let user = settings.effective_user();
    config.user(&user);
    if let Some(p) = settings.password_for(target) {
        config.password(p);
    }
    config.dbname(settings.dbname.as_deref().unwrap_or(&user));
    config.application_name(settings.application_name_with(session));
    // Bounded by connect() as a whole (per host); this bounds the TCP connect inside it.
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
    // `shale.pinned` tells that the startup packet reached the server session (not a pooler's
    // shared one: see `exec::session_is_pinned`).
    let mut options = format!(
        "-c lock_timeout={} -c statement_timeout={} -c {}=on",
        session.lock_timeout,
        session.statement_timeout,
        crate::exec::PINNED_SETTING
    );
    if let Some(schema) = &session.search_path {
        options.push(' ');
        options.push_str(&search_path_option(schema));
    }
    if let Some(extra) = &settings.effective_options() {
        options = format!("{extra} {options}");
    }
    if startup_options {
        config.options(&options);
    }
    // libpq never uses TLS on Unix sockets, whatever sslmode says.
    config.ssl_mode(match settings.effective_sslmode() {
        _ if target.is_socket() => DriverSslMode::Disable,
        SslMode::Disable => DriverSslMode::Disable,
        SslMode::Allow | SslMode::Prefer => DriverSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
    });
    config.channel_binding(match settings.effective_channel_binding() {
        ChannelBinding::Disable => DriverChannelBinding::Disable,
        ChannelBinding::Prefer => DriverChannelBinding::Prefer,
        ChannelBinding::Require => DriverChannelBinding::Require,
    });
    config
}

/// `-c search_path=SCHEMA` as a startup option: the one schema unqualified names go to.
pub(crate) fn search_path_option(schema: &str) -> String {
    format!("-c search_path={}", startup_option_value(&shale_core::ident::ident_always_quoted(schema)))
}

/// A search_path given as a list (`app, public`), as it is written: the server reads it as a
/// `SET search_path` would.
pub(crate) fn search_path_list_option(list: &str) -> String {
    format!("-c search_path={}", startup_option_value(list))
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

/// Connect once: to the first of the hosts (in the order given, or shuffled with
/// `load_balance_hosts=random`) that answers and is what `target_session_attrs` asks for. The
/// connection's I/O runs on a spawned task for as long as the client lives.
///
/// `connect_timeout` bounds each host's attempt, the startup handshake and the role check
/// included (as in libpq: the driver alone bounds only the TCP connect, and a server that
/// accepts but never answers would hang the caller). The error names every host tried and why
/// it was not used.
pub async fn connect(settings: &ConnectionSettings, session: &SessionSettings) -> Result<Client, ConnectError> {
    connect_reaching(settings, session).await.map(|(client, _)| client)
}

/// [`connect`], with the host the client reached.
pub async fn connect_reaching(
    settings: &ConnectionSettings,
    session: &SessionSettings,
) -> Result<(Client, Target), ConnectError> {
    let fail = |reason: String| ConnectError {
        target: settings.redacted(),
        reason,
        transient: false,
        settings_problem: true,
        hosts: Vec::new(),
    };
    let mut targets = settings.targets().map_err(|e| fail(e.0))?;
    if settings.load_balance_hosts == Some(LoadBalanceHosts::Random) {
        fastrand::shuffle(&mut targets);
    }
    let sslmode = settings.effective_sslmode();
    // libpq 16 refuses it too: the system's CAs vouch for any public host, so only the host name
    // checked against the certificate makes the server the one meant.
    if settings.sslrootcert.as_deref() == Some("system") && sslmode != SslMode::VerifyFull {
        return Err(fail(format!(
            "sslmode={} may not be used with sslrootcert=system: any public CA vouches for some host, so the \
             host name must be checked too; use sslmode=verify-full (the default with sslrootcert=system), or \
             give the provider's CA file as sslrootcert",
            sslmode.as_str()
        )));
    }
    if settings.effective_channel_binding() == ChannelBinding::Require && sslmode == SslMode::Disable {
        return Err(fail(
            "channel_binding=require needs TLS (SCRAM-SHA-256-PLUS binds the login to the TLS connection), but sslmode=disable".into(),
        ));
    }
    let tls = if sslmode != SslMode::Disable && targets.iter().any(|t| !t.is_socket()) {
        Some(MakeTls::new(crate::tls::client_config(settings).map_err(fail)?))
    } else {
        None
    };
    let attrs = settings.effective_target_session_attrs();
    let mut failures = Vec::new();
    // prefer-standby: the first server that is not a standby, kept open in case no host is one.
    let mut fallback = None;
    for target in &targets {
        let attempt = connect_host(settings, session, target, tls.as_ref(), attrs);
        let outcome = match settings.effective_connect_timeout() {
            Some(limit) => tokio::time::timeout(limit, attempt).await.unwrap_or_else(|_| {
                Err(HostFailure {
                    host: target.label(),
                    reason: format!("no answer within connect_timeout ({}s)", limit.as_secs()),
                    transient: true,
                    role: None,
                    refused_as_given: false,
                })
            }),
            None => attempt.await,
        };
        match outcome {
            Ok(Ok(client)) => return Ok((client, target.clone())),
            Ok(Err((client, failure))) => {
                if attrs == TargetSessionAttrs::PreferStandby && fallback.is_none() {
                    fallback = Some((client, target.clone()));
                }
                failures.push(failure);
            }
            Err(failure) => failures.push(failure),
        }
    }
    if let Some(reached) = fallback {
        return Ok(reached);
    }
    Err(summarize(settings, attrs, failures))
}

/// One host: a connected client of the kind asked for; a connected client of another kind (with
/// why it is not used); or why no client.
async fn connect_host(
    settings: &ConnectionSettings,
    session: &SessionSettings,
    target: &Target,
    tls: Option<&MakeTls>,
    attrs: TargetSessionAttrs,
) -> Result<Result<Client, (Client, HostFailure)>, HostFailure> {
    let failure = |error: tokio_postgres::Error| {
        let (reason, transient) = classify(&error, settings);
        HostFailure { host: target.label(), reason, transient, role: None, refused_as_given: refuses_as_given(&error) }
    };
    let client = match open(driver_config(settings, session, target, true), tls).await {
        // PgBouncer, unless told to ignore it (`ignore_startup_parameters = options`), refuses the
        // startup `options` the session settings ride on. Every migration sets them again inside
        // its own transaction, so the connection is made again without them.
        Err(e) if refuses_startup_options(&e) => {
            open(driver_config(settings, session, target, false), tls).await.map_err(failure)?
        }
        other => other.map_err(failure)?,
    };
    if attrs == TargetSessionAttrs::Any {
        return Ok(Ok(client));
    }
    let Some(role) = server_role(&client).await.map_err(failure)? else {
        // Never guess: an unknown server is not used.
        let reason = "did not say whether it is a standby (pg_is_in_recovery, transaction_read_only)".into();
        return Err(HostFailure {
            host: target.label(),
            reason,
            transient: false,
            role: None,
            refused_as_given: false,
        });
    };
    if attrs.accepts(role.in_recovery, role.read_only) {
        return Ok(Ok(client));
    }
    let reason = format!("{}, not {}", role.describe(), attrs.as_str());
    // A failover can promote a standby (or demote a primary): worth waiting for.
    Ok(Err((
        client,
        HostFailure { host: target.label(), reason, transient: true, role: Some(role), refused_as_given: false },
    )))
}

/// Whether a pooler refused the login itself: PgBouncer answers with 08P01, its protocol-violation
/// code (production trial: a wrong password through it exited 3, "a retry may succeed").
fn pooler_refused_login(db: &tokio_postgres::error::DbError) -> bool {
    let message = db.message().to_lowercase();
    db.code().code() == "08P01"
        && ["password authentication failed", "sasl authentication failed", "no such user"]
            .iter()
            .any(|m| message.contains(m))
}

/// Whether the server (or a pooler answering the login itself) refused the connection as given:
/// `28P01` (a wrong password), `28000` (no pg_hba.conf entry lets it in, a certificate's CN), a
/// password asked for and none given, no TLS where sslmode requires it, or a certificate that
/// fails the check sslmode asks for.
fn refuses_as_given(error: &tokio_postgres::Error) -> bool {
    if let Some(db) = error.as_db_error() {
        return matches!(db.code().code(), "28P01" | "28000") || pooler_refused_login(db);
    }
    let mut text = error.to_string().to_lowercase();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(&s.to_string().to_lowercase());
        source = s.source();
    }
    text.contains("password missing")
        || text.contains("sasl authentication failed")
        || text.contains("server does not support tls")
        // The server's certificate failed the check sslmode asks for: the CA or the host name
        // given, not the moment (FastAPI round 3: exit 3, "worth retrying").
        || text.contains("invalid peer certificate")
        || text.contains("certificate verify failed")
        // channel_binding=require where the server logs in without SCRAM (a `cert` or `trust`
        // line): the setting, not the moment (operator trial: exit 3).
        || text.contains("did not use channel binding")
}

/// Connect with `config`, over TLS where it asks for it, and run the connection in the background.
async fn open(config: Config, tls: Option<&MakeTls>) -> Result<Client, tokio_postgres::Error> {
    match tls {
        Some(tls) if config.get_ssl_mode() != DriverSslMode::Disable => {
            let (client, connection) = config.connect(tls.clone()).await?;
            crate::notices::drive(connection);
            Ok(client)
        }
        _ => {
            let (client, connection) = config.connect(NoTls).await?;
            crate::notices::drive(connection);
            Ok(client)
        }
    }
}

/// PgBouncer's refusal of the startup `options` parameter.
fn refuses_startup_options(error: &tokio_postgres::Error) -> bool {
    error.as_db_error().is_some_and(|e| e.message().contains("unsupported startup parameter: options"))
}

/// Whether the server is a standby, and whether its sessions are read-only (libpq asks the same
/// for target_session_attrs).
pub async fn server_role(client: &Client) -> Result<Option<ServerRole>, tokio_postgres::Error> {
    let messages = client
        .simple_query("SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('transaction_read_only')")
        .await?;
    let flag = |value: Option<&str>, yes: &str, no: &str| match value {
        Some(v) if v == yes => Some(true),
        Some(v) if v == no => Some(false),
        _ => None,
    };
    Ok(messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => {
            Some(ServerRole { in_recovery: flag(row.get(0), "t", "f")?, read_only: flag(row.get(1), "on", "off")? })
        }
        _ => None,
    }))
}

/// The error for a connect where no host was used: one host's reason as it is; several, each named.
fn summarize(settings: &ConnectionSettings, attrs: TargetSessionAttrs, failures: Vec<HostFailure>) -> ConnectError {
    let transient = failures.iter().any(|f| f.transient);
    let reason = match (failures.as_slice(), attrs) {
        ([only], TargetSessionAttrs::Any) => only.reason.clone(),
        (all, TargetSessionAttrs::Any) => format!(
            "none of the {} hosts could be used: {}",
            all.len(),
            all.iter().map(|f| format!("{}: {}", f.host, f.reason)).collect::<Vec<_>>().join("; ")
        ),
        (all, attrs) => format!(
            "no server is {} (target_session_attrs={}): {}",
            match attrs {
                TargetSessionAttrs::ReadWrite => "read-write",
                TargetSessionAttrs::ReadOnly => "read-only",
                TargetSessionAttrs::Primary => "a primary",
                _ => "a standby",
            },
            attrs.as_str(),
            all.iter().map(|f| format!("{}: {}", f.host, f.reason)).collect::<Vec<_>>().join("; ")
        ),
    };
    ConnectError { target: settings.redacted(), reason, transient, settings_problem: false, hosts: failures }
}

/// Asks the server to cancel what `client` is running (the protocol's cancel request, which
/// poolers pass on), over the same kind of connection as `connect` made.
pub async fn cancel(settings: &ConnectionSettings, client: &Client) -> Result<(), tokio_postgres::Error> {
    let token = client.cancel_token();
    // The token knows the host it was made for, and whether that connection used TLS.
    let tls = match settings.effective_sslmode() {
        SslMode::Disable => None,
        _ => crate::tls::client_config(settings).ok(),
    };
    match tls {
        Some(tls) => token.cancel_query(MakeTls::new(tls)).await,
        None => token.cancel_query(NoTls).await,
    }
}

/// Connect, retrying transient failures (server not up yet) until `wait` has passed.
pub async fn connect_waiting(
    settings: &ConnectionSettings,
    session: &SessionSettings,
    wait: Option<Duration>,
) -> Result<Client, ConnectError> {
    connect_waiting_reaching(settings, session, wait, None).await.map(|(client, _)| client)
}

/// Told while a connection is retried (`--wait`): the attempt that failed and how long the wait
/// has lasted, once it has lasted a second (a blip is not worth a line) and every
/// [`TELL_CONNECT_WAIT_EVERY`] after (a deploy waiting for its database said nothing until the
/// wait ran out).
#[derive(Clone)]
pub struct ConnectWaitNotice(pub std::sync::Arc<TellConnectWait>);

/// What a [`ConnectWaitNotice`] calls: the attempt that failed, and the time waited so far.
pub type TellConnectWait = dyn Fn(&ConnectError, Duration) + Send + Sync;

impl std::fmt::Debug for ConnectWaitNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectWaitNotice")
    }
}

/// How often a wait for the server is told while it lasts.
pub const TELL_CONNECT_WAIT_EVERY: Duration = Duration::from_secs(5);

/// [`connect_waiting`], with the host the client reached, telling `notice` of the wait.
pub async fn connect_waiting_reaching(
    settings: &ConnectionSettings,
    session: &SessionSettings,
    wait: Option<Duration>,
    notice: Option<&ConnectWaitNotice>,
) -> Result<(Client, Target), ConnectError> {
    let started = Instant::now();
    let deadline = wait.map(|w| started + w);
    let mut pause = Duration::from_millis(50);
    let mut told: Option<Instant> = None;
    loop {
        match connect_reaching(settings, session).await {
            Err(e) if e.transient => {
                // Keep trying until the wait is over: the last pause is cut short so that one
                // more attempt happens right at the deadline instead of giving up early.
                let remaining = deadline.map_or(Duration::ZERO, |d| d.saturating_duration_since(Instant::now()));
                if remaining.is_zero() {
                    return Err(e);
                }
                let due = match told {
                    None => started.elapsed() >= Duration::from_secs(1),
                    Some(at) => at.elapsed() >= TELL_CONNECT_WAIT_EVERY,
                };
                if let Some(notice) = notice.filter(|_| due) {
                    told = Some(Instant::now());
                    (notice.0)(&e, started.elapsed());
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
            // (With a service named, its entry may hold the password: operator trial, the hint
            // named ~/.pgpass alone.)
            "28P01" => format!(
                "password authentication failed for user {}; check the password in the URL, PGPASSWORD, .env{} or \
                 the password file ({})",
                settings.user.as_deref().unwrap_or("(default)"),
                settings.service.as_deref().map_or(String::new(), |service| format!(
                    ", the service file's entry [{service}] ({})",
                    settings.servicefile.as_deref().unwrap_or("PGSERVICEFILE or ~/.pg_service.conf")
                )),
                settings.passfile.as_deref().unwrap_or("~/.pgpass")
            ),
            "28000" if db.message().contains("certificate") => format!(
                "the server refused the login: {}; check the client certificate (sslcert, sslkey, or ~/.postgresql/postgresql.crt and .key): its CN must be the user name",
                db.message()
            ),
            "28000" => format!("the server refused the login: {}", db.message()),
            "3D000" => format!("{}; create it first (`createdb`), or fix the database name", db.message()),
            // (TLS trial: through PgBouncer, the wrong password had no word of where to look.)
            "08P01" if pooler_refused_login(db) => format!(
                "the pooler refused the login: {}; check the password in the URL, PGPASSWORD, .env or the password \
                 file ({}), and the pooler's own users and passwords (PgBouncer's auth_file or auth_query)",
                db.message(),
                settings.passfile.as_deref().unwrap_or("~/.pgpass")
            ),
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
    let passwords = settings.password.iter().chain(settings.host_passwords.iter().map(|(_, _, p)| p));
    for pw in passwords.filter(|p| !p.is_empty()) {
        text = text.replace(pw.as_str(), "***");
    }
    let lower = text.to_lowercase();
    let transient = lower.contains("connection refused")
        // A server that is starting or restarting may also reset the connection.
        || lower.contains("connection reset")
        || lower.contains("no such file or directory")
        || lower.contains("starting up");
    let reason = if lower.contains("failed to lookup address") || lower.contains("name or service not known") {
        "unknown host; check the host name in the URL".to_string()
    } else if lower.contains("password missing") {
        // The server asked for one and none was found anywhere libpq looks.
        format!(
            "the server asks for a password for user {} and none was given; put it in the URL, PGPASSWORD, .env or \
             the password file (~/.pgpass, which is ignored when others can read it: chmod 600)",
            settings.user.as_deref().unwrap_or("(default)")
        )
    } else if lower.contains("sasl authentication failed") {
        // A pooler (PgBouncer) answering the login itself says no more than this.
        format!(
            "{text}: the password was refused (by the pooler, where there is one); check the password in the URL, \
             PGPASSWORD, .env or the password file (~/.pgpass)"
        )
    } else if lower.contains("server does not support tls") {
        // Checked before the generic TLS case below, which would otherwise swallow it.
        format!("the server does not support TLS, but sslmode={} requires it", settings.effective_sslmode().as_str())
    } else if lower.contains("did not use channel binding") {
        // tokio-postgres refuses before answering a server that does not offer SCRAM-SHA-256-PLUS.
        "channel_binding=require, but the server did not authenticate with channel binding (SCRAM-SHA-256-PLUS); it needs a TLS connection and scram-sha-256 authentication in pg_hba.conf".to_string()
    } else if lower.contains("received fatal alert") {
        // The server ended the handshake: most often over a client certificate it does not trust.
        format!(
            "the server refused the TLS handshake ({text}); check the client certificate (sslcert, sslkey: the server must trust its CA) and ssl_min_protocol_version/ssl_max_protocol_version"
        )
    } else if lower.contains("expired") && lower.contains("certificate") {
        // webpki says it in seconds since 1970 (operator trial): said in words first.
        // Of the server's own, or of an intermediate CA it sends with it: webpki does not say which
        // (review: an intermediate's was said to be the server's).
        format!(
            "a certificate the server sent has expired, its own or an intermediate CA's in its chain ({text}): renew \
             it on the server, or check this machine's clock"
        )
    } else if lower.contains("unsupportedcertversion") {
        // webpki reads version 3 certificates only; OpenSSL (libpq) takes version 1 too
        // (operator trial: the message blamed the CAs). `require` without a root file encrypts to
        // one over TLS 1.3, not over TLS 1.2 (review: it advised `require` to those using it).
        let capped = settings.ssl_max_protocol_version == Some(crate::settings::TlsVersion::V1_2);
        let instead = match (settings.effective_sslmode(), settings.sslrootcert.is_some()) {
            // The client's own cap (review: it was told to allow TLS 1.3 on the server).
            (SslMode::Require | SslMode::Prefer | SslMode::Allow, false) if capped => {
                "; over TLS 1.2, which ssl_max_protocol_version=TLSv1.2 asks for, shale cannot encrypt to one either: \
                 leave that setting out"
            }
            (SslMode::Require | SslMode::Prefer | SslMode::Allow, false) => {
                "; over TLS 1.2 shale cannot encrypt to one either: allow TLS 1.3 on the server"
            }
            _ => ", or connect with sslmode=require and no sslrootcert, which encrypts (over TLS 1.3) without checking it",
        };
        format!(
            "the server's certificate is X.509 version 1 (as `openssl x509 -req` makes it without `-extfile`), which \
             shale cannot read to check it ({text}): issue it as version 3, with a subjectAltName naming the host \
             (`-extfile` with `subjectAltName=DNS:HOST`){instead}"
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        // Which CAs the server's certificate was checked against: libpq would have refused to
        // start with no CA file at all, where shale checks against the public ones.
        let against = match settings.sslrootcert.as_deref() {
            _ if !lower.contains("certificate") => String::new(),
            Some("system") => format!(
                "; checked against the operating system's CAs (sslrootcert=system: SSL_CERT_FILE or SSL_CERT_DIR \
                 where set, else /etc/ssl/certs), or the public CAs built into shale where it has none{}",
                match lower.contains("unknownissuer") || lower.contains("unknown issuer") {
                    true => "; where the server's CA is not among them, give its file as sslrootcert=FILE",
                    false => "",
                }
            ),
            Some(path) => format!("; checked against the CA file sslrootcert={path}"),
            None => "; no sslrootcert was given (nor is there a ~/.postgresql/root.crt), so it was checked against \
                     the public CAs built into shale: give the provider's CA file as sslrootcert"
                .to_string(),
        };
        format!("TLS handshake failed ({text}){against}; check sslmode and sslrootcert")
    } else {
        text
    };
    (reason, transient)
}
