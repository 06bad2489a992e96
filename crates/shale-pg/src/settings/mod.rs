//! Connection settings the way libpq reads them: a URL or `key=value` string, then the service
//! it names (`pg_service.conf`), then the PG* environment variables, each filling only what the
//! ones before left out. Every libpq parameter is honoured or refused, never silently ignored.
//! Passwords never appear in anything this module formats.

mod npgsql;
mod service;

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use percent_encoding::percent_decode_str;

/// What a value in a URL's query must have encoded: what ends it or another (`&`, `#`, `=`), a
/// `%` or `+`, and white space.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'&').add(b'#').add(b'%').add(b'+').add(b'=').add(b'?');

pub use service::DEFAULT_SYSCONFDIR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    Allow,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            // node-postgres's name for TLS without a certificate check (Heroku's and Render's URLs).
            "require" | "no-verify" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// `channel_binding`: whether SCRAM authentication is bound to the TLS connection
/// (SCRAM-SHA-256-PLUS), so that a man in the middle holding another certificate cannot relay it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelBinding {
    Disable,
    /// Bind when the server offers it (over TLS with scram-sha-256).
    #[default]
    Prefer,
    /// Refuse a server that does not authenticate with channel binding (no TLS, md5, password,
    /// trust, ...).
    Require,
}

impl ChannelBinding {
    pub fn parse(s: &str) -> Option<ChannelBinding> {
        Some(match s {
            "disable" => ChannelBinding::Disable,
            "prefer" => ChannelBinding::Prefer,
            "require" => ChannelBinding::Require,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelBinding::Disable => "disable",
            ChannelBinding::Prefer => "prefer",
            ChannelBinding::Require => "require",
        }
    }
}

/// `target_session_attrs`: which of the listed servers is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetSessionAttrs {
    #[default]
    Any,
    /// Accepts writes: `transaction_read_only` is off.
    ReadWrite,
    /// `transaction_read_only` is on (a standby, or `default_transaction_read_only`).
    ReadOnly,
    /// Not in recovery.
    Primary,
    /// In recovery (a hot standby).
    Standby,
    /// A standby if one of the hosts is, else any.
    PreferStandby,
}

impl TargetSessionAttrs {
    pub fn parse(s: &str) -> Option<TargetSessionAttrs> {
        Some(match s {
            "any" => TargetSessionAttrs::Any,
            "read-write" => TargetSessionAttrs::ReadWrite,
            "read-only" => TargetSessionAttrs::ReadOnly,
            "primary" => TargetSessionAttrs::Primary,
            "standby" => TargetSessionAttrs::Standby,
            "prefer-standby" => TargetSessionAttrs::PreferStandby,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TargetSessionAttrs::Any => "any",
            TargetSessionAttrs::ReadWrite => "read-write",
            TargetSessionAttrs::ReadOnly => "read-only",
            TargetSessionAttrs::Primary => "primary",
            TargetSessionAttrs::Standby => "standby",
            TargetSessionAttrs::PreferStandby => "prefer-standby",
        }
    }

    /// Whether a server that is (or is not) in recovery and read-only is what is asked for;
    /// for prefer-standby, whether it is the preferred kind.
    pub fn accepts(self, in_recovery: bool, read_only: bool) -> bool {
        match self {
            TargetSessionAttrs::Any => true,
            TargetSessionAttrs::ReadWrite => !read_only,
            TargetSessionAttrs::ReadOnly => read_only,
            TargetSessionAttrs::Primary => !in_recovery,
            TargetSessionAttrs::Standby | TargetSessionAttrs::PreferStandby => in_recovery,
        }
    }
}

/// `load_balance_hosts`: try the hosts in the order given, or in a random order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadBalanceHosts {
    #[default]
    Disable,
    Random,
}

/// A TLS protocol version, for `ssl_min_protocol_version` / `ssl_max_protocol_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    V1,
    V1_1,
    V1_2,
    V1_3,
}

impl TlsVersion {
    pub fn parse(s: &str) -> Option<TlsVersion> {
        Some(match s.to_ascii_lowercase().as_str() {
            "tlsv1" => TlsVersion::V1,
            "tlsv1.1" => TlsVersion::V1_1,
            "tlsv1.2" => TlsVersion::V1_2,
            "tlsv1.3" => TlsVersion::V1_3,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::V1 => "TLSv1",
            TlsVersion::V1_1 => "TLSv1.1",
            TlsVersion::V1_2 => "TLSv1.2",
            TlsVersion::V1_3 => "TLSv1.3",
        }
    }
}

/// Where to connect and how. Built from a URL or key=value string, then completed from the
/// service file and the PG* variables ([`ConnectionSettings::fill_from_env`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectionSettings {
    pub hosts: Vec<String>,
    /// `hostaddr`: the address of each host, connected to without a name lookup; the host name
    /// (when given) still serves TLS verification and the password file, as in libpq.
    pub hostaddrs: Vec<IpAddr>,
    pub ports: Vec<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// With several hosts and no password given: the password file's password for each host
    /// (`host`, `port`), where they differ, as libpq looks each one up (operator trial: the first
    /// host's was used for all, and a failover to the second failed).
    pub host_passwords: Vec<(String, u16, String)>,
    /// `passfile`: the password file (default `~/.pgpass`).
    pub passfile: Option<String>,
    pub dbname: Option<String>,
    /// `service`: a section of the connection service file whose parameters fill what the
    /// connection string leaves out (before the PG* variables do).
    pub service: Option<String>,
    /// `servicefile`: the user's service file (default `~/.pg_service.conf`).
    pub servicefile: Option<String>,
    pub sslmode: Option<SslMode>,
    pub sslrootcert: Option<String>,
    /// `sslcert`/`sslkey`: the client certificate (chain) and its key, for `cert` authentication.
    /// [`ConnectionSettings::fill_from_env`] sets them to `~/.postgresql/postgresql.crt` and `.key`
    /// when that certificate exists, as libpq does.
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
    /// `sslsni`: send the host name in the TLS handshake (on unless `0`).
    pub sslsni: Option<bool>,
    pub ssl_min_protocol_version: Option<TlsVersion>,
    pub ssl_max_protocol_version: Option<TlsVersion>,
    pub channel_binding: Option<ChannelBinding>,
    pub target_session_attrs: Option<TargetSessionAttrs>,
    pub load_balance_hosts: Option<LoadBalanceHosts>,
    pub application_name: Option<String>,
    /// Used when no `application_name` is given (before the caller's own default).
    pub fallback_application_name: Option<String>,
    /// libpq's `connect_timeout`: None for the default (10 s, where libpq waits forever), zero
    /// for no limit. It applies to each host separately, as in libpq.
    pub connect_timeout: Option<Duration>,
    pub options: Option<String>,
    /// Prisma's `schema` (`?schema=app`, in nearly every Prisma DATABASE_URL): the schema its
    /// tables and `_prisma_migrations` are in, which its sessions make the search_path; shale's
    /// do too ([`ConnectionSettings::effective_options`]).
    pub schema: Option<String>,
    /// `search_path` as a parameter of the string (`?search_path=app,public`), which Go's drivers
    /// (lib/pq, pgx) send as a run-time parameter: the sessions' search_path, as given.
    pub search_path: Option<String>,
    /// TCP keepalives, so that a peer that went away (a dead host, a dropped network) is noticed
    /// while shale waits on a long statement: `keepalives` (on unless `0`), `keepalives_idle`,
    /// `keepalives_interval`, `keepalives_count`; see [`ConnectionSettings::keepalive`].
    pub keepalives: Option<bool>,
    pub keepalives_idle: Option<Duration>,
    pub keepalives_interval: Option<Duration>,
    pub keepalives_count: Option<u32>,
    /// `tcp_user_timeout`: how long sent data may stay unacknowledged before the connection is
    /// given up (Linux); None for the default (see [`ConnectionSettings::effective_tcp_user_timeout`]).
    pub tcp_user_timeout: Option<Duration>,
}

/// How TCP keepalives are set on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub idle: Duration,
    pub interval: Duration,
    pub count: u32,
}

/// When nothing says otherwise: a connection attempt gives up after 10 s (libpq waits forever),
/// and a silent peer is probed after 30 s idle, every 10 s, 3 times: a dead one is noticed in
/// about a minute (the system default would take over two hours).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_KEEPALIVE: Keepalive =
    Keepalive { idle: Duration::from_secs(30), interval: Duration::from_secs(10), count: 3 };

/// libpq's environment variables and the parameter each one stands for. [`fill_from_env`]
/// reads them (a variable for a parameter shale refuses is refused too), [`libpq_env`] writes
/// them for libpq tools, and whoever runs such a tool clears them all first.
///
/// [`fill_from_env`]: ConnectionSettings::fill_from_env
/// [`libpq_env`]: ConnectionSettings::libpq_env
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGSERVICE", "service"),
    ("PGSERVICEFILE", "servicefile"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLSNI", "sslsni"),
    ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
    ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGCLIENTENCODING", "client_encoding"),
    ("PGGSSENCMODE", "gssencmode"),
    ("PGSSLCOMPRESSION", "sslcompression"),
    ("PGKRBSRVNAME", "krbsrvname"),
    ("PGGSSLIB", "gsslib"),
    ("PGGSSDELEGATION", "gssdelegation"),
    ("PGSSLCERTMODE", "sslcertmode"),
    ("PGSSLCRL", "sslcrl"),
    ("PGSSLCRLDIR", "sslcrldir"),
    ("PGREQUIREAUTH", "require_auth"),
    ("PGREQUIREPEER", "requirepeer"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
];

/// The parameters shale understands, as listed in the "unknown parameter" message.
const UNDERSTOOD: &str = "host, hostaddr, port, user, password, passfile, dbname, service, servicefile, sslmode, sslrootcert, sslcert, sslkey, sslsni, ssl_min_protocol_version, ssl_max_protocol_version, channel_binding, target_session_attrs, load_balance_hosts, application_name, fallback_application_name, connect_timeout, options, keepalives, keepalives_idle, keepalives_interval, keepalives_count, tcp_user_timeout, search_path, Prisma's schema, sslaccept and pool settings, sqlx's ssl-mode, ssl-root-cert, ssl-ca, ssl-cert, ssl-key, application-name, options[NAME] and statement-cache-capacity (ignored), golang-migrate's x- settings (ignored), dbmate's socket, and the server settings lib/pq and pgx pass on (timezone, datestyle, intervalstyle, statement_timeout, lock_timeout, idle_in_transaction_session_timeout, extra_float_digits, default_transaction_isolation)";

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A connection string that could not be read. The message never quotes the string itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid connection string: {0}")]
pub struct SettingsError(pub String);

impl ConnectionSettings {
    /// The startup `options`, with Prisma's `schema` as the search_path after them.
    pub fn effective_options(&self) -> Option<String> {
        let path = match (&self.search_path, &self.schema) {
            (Some(list), _) => Some(crate::connect::search_path_list_option(list)),
            (None, schema) => schema.as_deref().map(crate::connect::search_path_option),
        };
        match (&self.options, path) {
            (Some(options), Some(path)) => Some(format!("{options} {path}")),
            (options, path) => path.or_else(|| options.clone()),
        }
    }

    /// The search_path these settings give the session as a list: `search_path` (`?search_path=`,
    /// shale.toml's), else one set in `options` (the URL's `options=-csearch_path=...`, PGOPTIONS),
    /// which every migration sets again (reviews: one in `options` was lost behind a pooler, and
    /// a fleet's target got shale.toml's instead).
    pub fn listed_search_path(&self) -> Option<String> {
        self.search_path.clone().or_else(|| self.options_search_path())
    }

    /// [`Self::listed_search_path`] as SQL for `SET search_path = ...`, each name quoted; None where
    /// there is none, or where the server would not read it as a list.
    pub fn search_path_sql(&self) -> Option<String> {
        self.listed_search_path().as_deref().and_then(shale_core::ident::search_path_sql)
    }

    /// The search_path `options` sets (`-c search_path=a,b`, `-csearch_path=...`,
    /// `--search-path=...`), read as the server reads the startup options: words split at
    /// whitespace, `\` escaping the next character. The last one wins, as on the server.
    pub fn options_search_path(&self) -> Option<String> {
        let options = self.options.as_deref()?;
        let mut words = Vec::new();
        let mut word = String::new();
        let mut chars = options.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => word.extend(chars.next()),
                c if c.is_whitespace() => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        let mut found = None;
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            let setting = match word.as_str() {
                "-c" => words.next(),
                w => w.strip_prefix("-c").or_else(|| w.strip_prefix("--")).map(str::to_string),
            };
            if let Some((name, value)) = setting.as_deref().and_then(|s| s.split_once('=')) {
                if name.replace('-', "_").eq_ignore_ascii_case("search_path") {
                    found = Some(value.to_string());
                }
            }
        }
        found
    }

    /// How long a connection attempt may take, the startup handshake included; None: no limit.
    pub fn effective_connect_timeout(&self) -> Option<Duration> {
        match self.connect_timeout {
            None => Some(DEFAULT_CONNECT_TIMEOUT),
            Some(t) if t.is_zero() => None,
            // As libpq: anything under 2 s is 2 s.
            Some(t) => Some(t.max(Duration::from_secs(2))),
        }
    }

    /// How long sent data may stay unacknowledged: `tcp_user_timeout` (0 for the system's), else,
    /// with keepalives on, as long as the keepalives take to give up on a silent peer. Keepalives
    /// only probe an idle connection: a query sent just as the network died stays unacknowledged,
    /// and without this the system retransmits it for a quarter of an hour.
    pub fn effective_tcp_user_timeout(&self) -> Option<Duration> {
        match self.tcp_user_timeout {
            Some(t) if t.is_zero() => None,
            Some(t) => Some(t),
            None => self.keepalive().map(|k| k.idle + k.interval * k.count),
        }
    }

    /// The keepalive settings to apply; None when `keepalives=0`.
    pub fn keepalive(&self) -> Option<Keepalive> {
        if self.keepalives == Some(false) {
            return None;
        }
        Some(Keepalive {
            idle: self.keepalives_idle.unwrap_or(DEFAULT_KEEPALIVE.idle),
            interval: self.keepalives_interval.unwrap_or(DEFAULT_KEEPALIVE.interval),
            count: self.keepalives_count.unwrap_or(DEFAULT_KEEPALIVE.count),
        })
    }

    /// Parse `postgres://` / `postgresql://` URLs (also SQLAlchemy's `postgresql+DRIVER://`, the
    /// driver dropped, and the JDBC driver's `jdbc:postgresql://`, as Spring and Flyway take it)
    /// and libpq `key=value` strings.
    pub fn parse(s: &str) -> Result<ConnectionSettings, SettingsError> {
        let s = s.trim();
        // The JDBC driver's short forms name no host: `jdbc:postgresql:app`, `jdbc:postgresql:/`.
        let short = s
            .strip_prefix("jdbc:postgresql:")
            .filter(|rest| !rest.starts_with("//"))
            .map(|rest| format!("postgresql://localhost{}{rest}", if rest.starts_with('/') { "" } else { "/" }));
        let s = short.as_deref().unwrap_or(s);
        let jdbc = s.strip_prefix("jdbc:").filter(|rest| rest.starts_with("postgresql://")).or(short.as_deref());
        let s = jdbc.unwrap_or(s);
        if let Some((scheme, rest)) = url_scheme(s) {
            if is_postgres_scheme(scheme) {
                let dialect = match (jdbc.is_some(), scheme) {
                    (true, _) => UrlDialect::Jdbc,
                    (false, "ecto") => UrlDialect::Ecto,
                    _ => UrlDialect::Libpq,
                };
                parse_url(rest, dialect)
            } else {
                // The scheme comes before any user info: echoing it shows no password.
                let shown = if scheme.len() <= 40 && !scheme.is_empty() {
                    format!("`{scheme}://`")
                } else {
                    "of the URL".into()
                };
                Err(SettingsError(format!(
                    "the scheme {shown} is not PostgreSQL's: expected postgresql:// or postgres:// (SQLAlchemy's postgresql+DRIVER:// works too, e.g. postgresql+psycopg2://)"
                )))
            }
        } else if let Some(read) = npgsql::parse(s) {
            read
        } else if s.contains('=') {
            parse_key_values(s)
        } else {
            Err(SettingsError(
                "expected a postgresql:// URL or key=value pairs such as `host=localhost dbname=app`".into(),
            ))
        }
    }

    /// Whether `s` is written as a URL (`scheme://...`, whatever the scheme) rather than as libpq
    /// `key=value` pairs: such a string is parsed as a URL or refused for its scheme.
    pub fn looks_like_url(s: &str) -> bool {
        url_scheme(s.trim()).is_some()
    }

    /// The URL in environment variable `var` (else only the PG* variables), completed from the
    /// service file and the PG* variables, as an application reads its database setting at start-up.
    pub fn from_env_url(var: &str) -> Result<ConnectionSettings, SettingsError> {
        let mut settings = match std::env::var(var) {
            Ok(url) if !url.is_empty() => {
                ConnectionSettings::parse(&url).map_err(|e| SettingsError(format!("{} (from {var})", e.0)))?
            }
            _ => ConnectionSettings::default(),
        };
        settings.fill_from_env(&|k| std::env::var(k).ok())?;
        Ok(settings)
    }

    /// Complete the settings as libpq does, each step filling only what is still missing:
    /// 1. the service named by `service` or PGSERVICE, from the service file;
    /// 2. libpq's environment variables ([`ENVIRONMENT`]: PGHOST, PGPORT, PGUSER, PGPASSWORD,
    ///    PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, PGCHANNELBINDING,
    ///    PGTARGETSESSIONATTRS, PGAPPNAME, PGCONNECT_TIMEOUT, PGOPTIONS, ...);
    /// 3. the client certificate `~/.postgresql/postgresql.crt` (and its `.key`) and the root
    ///    certificates `~/.postgresql/root.crt`, when they exist;
    /// 4. the password from the password file.
    pub fn fill_from_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        let from_env = ConnectionSettings::from_environment(env)?;
        if let Some(name) = self.service.clone().or_else(|| from_env.service.clone()) {
            let servicefile = self.servicefile.clone().or_else(|| from_env.servicefile.clone());
            let mut from_service = ConnectionSettings::default();
            for entry in service::lookup(&name, servicefile.as_deref(), env)? {
                set_param(&mut from_service, &entry.key, entry.value)
                    .map_err(|e| SettingsError(format!("{}: {}", entry.at, e.0)))?;
            }
            self.fill_missing(from_service);
        }
        self.fill_missing(from_env);
        self.client_certificate_defaults(env);
        self.password_from_pgpass(env);
        Ok(())
    }

    /// The settings the PG* variables make.
    fn from_environment(env: &dyn Fn(&str) -> Option<String>) -> Result<ConnectionSettings, SettingsError> {
        let mut settings = ConnectionSettings::default();
        for (var, key) in ENVIRONMENT {
            if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                set_param(&mut settings, key, value).map_err(|e| SettingsError(format!("{var}: {}", e.0)))?;
            }
        }
        Ok(settings)
    }

    /// Take from `other` what is not set here.
    fn fill_missing(&mut self, other: ConnectionSettings) {
        // Destructured, so that a new field cannot be forgotten here.
        let ConnectionSettings {
            hosts,
            hostaddrs,
            ports,
            user,
            password,
            host_passwords: _,
            passfile,
            dbname,
            service,
            servicefile,
            sslmode,
            sslrootcert,
            sslcert,
            sslkey,
            sslsni,
            ssl_min_protocol_version,
            ssl_max_protocol_version,
            channel_binding,
            target_session_attrs,
            load_balance_hosts,
            application_name,
            fallback_application_name,
            connect_timeout,
            options,
            schema,
            search_path,
            keepalives,
            keepalives_idle,
            keepalives_interval,
            keepalives_count,
            tcp_user_timeout,
        } = other;
        if self.hosts.is_empty() {
            self.hosts = hosts;
        }
        if self.hostaddrs.is_empty() {
            self.hostaddrs = hostaddrs;
        }
        if self.ports.is_empty() {
            self.ports = ports;
        }
        fn fill<T>(mine: &mut Option<T>, theirs: Option<T>) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        fill(&mut self.user, user);
        fill(&mut self.password, password);
        fill(&mut self.passfile, passfile);
        fill(&mut self.dbname, dbname);
        fill(&mut self.service, service);
        fill(&mut self.servicefile, servicefile);
        fill(&mut self.sslmode, sslmode);
        fill(&mut self.sslrootcert, sslrootcert);
        fill(&mut self.sslcert, sslcert);
        fill(&mut self.sslkey, sslkey);
        fill(&mut self.sslsni, sslsni);
        fill(&mut self.ssl_min_protocol_version, ssl_min_protocol_version);
        fill(&mut self.ssl_max_protocol_version, ssl_max_protocol_version);
        fill(&mut self.channel_binding, channel_binding);
        fill(&mut self.target_session_attrs, target_session_attrs);
        fill(&mut self.load_balance_hosts, load_balance_hosts);
        fill(&mut self.application_name, application_name);
        fill(&mut self.fallback_application_name, fallback_application_name);
        fill(&mut self.connect_timeout, connect_timeout);
        fill(&mut self.options, options);
        fill(&mut self.schema, schema);
        fill(&mut self.search_path, search_path);
        fill(&mut self.keepalives, keepalives);
        fill(&mut self.keepalives_idle, keepalives_idle);
        fill(&mut self.keepalives_interval, keepalives_interval);
        fill(&mut self.keepalives_count, keepalives_count);
        fill(&mut self.tcp_user_timeout, tcp_user_timeout);
    }

    /// libpq's default client certificate: `~/.postgresql/postgresql.crt` when it exists, with
    /// the key `~/.postgresql/postgresql.key` (also the key of an `sslcert` given without `sslkey`).
    fn client_certificate_defaults(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        let Some(home) = env("HOME").filter(|h| !h.is_empty()) else { return };
        let dir = Path::new(&home).join(".postgresql");
        // libpq's default root certificates, which it checks the server's against whenever the
        // file is there (sslmode=require included).
        if self.sslrootcert.is_none() {
            let root = dir.join("root.crt");
            if root.is_file() {
                self.sslrootcert = Some(root.to_string_lossy().into_owned());
            }
        }
        if self.sslcert.is_none() {
            let cert = dir.join("postgresql.crt");
            if cert.is_file() {
                self.sslcert = Some(cert.to_string_lossy().into_owned());
            }
        }
        if self.sslcert.is_some() && self.sslkey.is_none() {
            self.sslkey = Some(dir.join("postgresql.key").to_string_lossy().into_owned());
        }
    }

    /// With no password given, look it up in the password file (`passfile`/PGPASSFILE, else
    /// ~/.pgpass) as libpq does: `host:port:database:user:password` lines, `*` matching anything,
    /// `\:` and `\\` escaped, and the file ignored when others can read it. With several hosts,
    /// each one's line (see [`ConnectionSettings::host_passwords`]).
    fn password_from_pgpass(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        if self.password.is_some() {
            return;
        }
        let Some(path) = self.passfile.clone().or_else(|| env("HOME").map(|h| format!("{h}/.pgpass"))) else {
            return;
        };
        let Ok(meta) = std::fs::metadata(&path) else { return };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                return;
            }
        }
        let Ok(text) = std::fs::read_to_string(&path) else { return };
        let user = self.effective_user();
        let db = self.dbname.clone().unwrap_or_else(|| user.clone());
        let line_for = |host: &str, port: u16| {
            // A Unix socket directory matches the name `localhost`, as in libpq.
            let host = if host.starts_with('/') { "localhost" } else { host };
            let port = port.to_string();
            let matches = |field: &str, value: &str| field == "*" || field == value;
            text.lines()
                .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
                .map(pgpass_fields)
                .filter(|fields| fields.len() >= 5)
                .find(|f| matches(&f[0], host) && matches(&f[1], &port) && matches(&f[2], &db) && matches(&f[3], &user))
                .map(|f| f[4..].join(":"))
        };
        let hosts = self.effective_hosts();
        let each: Vec<(String, u16, Option<String>)> = hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let port = self.ports.get(i).or(self.ports.first()).copied().unwrap_or(5432);
                (host.clone(), port, line_for(host, port))
            })
            .collect();
        let first = each.first().and_then(|(_, _, password)| password.clone());
        match each.iter().all(|(_, _, password)| *password == first) {
            true => self.password = first,
            false => {
                self.host_passwords =
                    each.into_iter().filter_map(|(host, port, password)| Some((host, port, password?))).collect()
            }
        }
    }

    /// The user to log in as: the one given, else the operating system's (see [`os_user`]).
    pub fn effective_user(&self) -> String {
        self.user.clone().or_else(os_user).unwrap_or_else(|| "postgres".into())
    }

    /// The password for `target`: the one given, else its host's in the password file.
    pub fn password_for(&self, target: &Target) -> Option<&str> {
        let own = || self.host_passwords.iter().find(|(h, p, _)| *h == target.host && *p == target.port);
        self.password.as_deref().or_else(|| own().map(|(_, _, password)| password.as_str()))
    }

    /// The database as a file that is committed names it: by its name alone, with no host, port or
    /// user (Node trial: a migration written from production's schema named its host).
    pub fn named_in_files(&self) -> String {
        match &self.dbname {
            Some(name) => format!("database {name}"),
            None => "the database".into(),
        }
    }

    /// The settings as a URL with the password replaced by `***`: safe to print and log.
    pub fn redacted(&self) -> String {
        self.as_url(true)
    }

    /// The settings as a URL psql (or pg_restore) takes, without the password (psql asks for it,
    /// or reads PGPASSWORD or the password file), with the certificate files it needs: for a
    /// command shale tells the user to run, where the application's own URL may be one psql
    /// refuses (`postgresql+asyncpg://...?ssl=require`). (TLS trial: the restore command `up
    /// --backup` printed had `***` for a password, which libpq sent, and no `sslrootcert`.)
    pub fn for_psql(&self) -> String {
        let mut url = self.as_url(false);
        let files = [("sslrootcert", &self.sslrootcert), ("sslcert", &self.sslcert), ("sslkey", &self.sslkey)];
        for (key, value) in files.into_iter().filter_map(|(k, v)| Some((k, v.as_deref()?))) {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{key}={}", percent_encoding::utf8_percent_encode(value, QUERY_VALUE)));
        }
        url
    }

    fn as_url(&self, mark_password: bool) -> String {
        let mut out = String::from("postgresql://");
        if let Some(user) = &self.user {
            out.push_str(user);
            if self.password.is_some() && mark_password {
                out.push_str(":***");
            }
            out.push('@');
        }
        let mut params = Vec::new();
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let port = self.ports.get(i).or(self.ports.first());
                // An IPv6 address in brackets, as a URL writes it (TLS trial: `@::1:58500`).
                let h = if h.contains(':') { format!("[{h}]") } else { h.clone() };
                if h.starts_with('/') {
                    params.push(format!("host={h}"));
                    port.map(|p| format!(":{p}")).unwrap_or_default()
                } else {
                    match port {
                        Some(p) => format!("{h}:{p}"),
                        None => h,
                    }
                }
            })
            .collect();
        out.push_str(&hosts.join(","));
        out.push('/');
        out.push_str(self.dbname.as_deref().unwrap_or(""));
        if let Some(m) = self.sslmode {
            params.push(format!("sslmode={}", m.as_str()));
        }
        if let Some(attrs) = self.target_session_attrs {
            params.push(format!("target_session_attrs={}", attrs.as_str()));
        }
        if !params.is_empty() {
            out.push('?');
            out.push_str(&params.join("&"));
        }
        out
    }

    /// The application_name sessions connect with: the URL's, else its fallback, else `session`'s.
    pub fn application_name_with<'a>(&'a self, session: &'a crate::connect::SessionSettings) -> &'a str {
        self.application_name
            .as_deref()
            .or(self.fallback_application_name.as_deref())
            .unwrap_or(&session.application_name)
    }

    /// The settings as libpq environment variables, for running libpq tools (pg_dump) without
    /// putting a password on their command line. The caller first clears every variable of
    /// [`ENVIRONMENT`] from the tool's environment: the settings here are complete (a service
    /// already applied), and a PGSERVICE left behind would override them in the tool.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let var = |key: &str| ENVIRONMENT.iter().find(|(_, k)| *k == key).map(|(v, _)| *v).expect("a libpq variable");
        let mut env = vec![(var("host"), self.effective_hosts().join(","))];
        if !self.hostaddrs.is_empty() {
            env.push((var("hostaddr"), self.hostaddrs.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(",")));
        }
        if !self.ports.is_empty() {
            env.push((var("port"), self.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",")));
        }
        let text = [
            ("user", &self.user),
            ("password", &self.password),
            ("passfile", &self.passfile),
            ("dbname", &self.dbname),
            ("sslrootcert", &self.sslrootcert),
            ("sslcert", &self.sslcert),
            ("sslkey", &self.sslkey),
            ("options", &self.effective_options()),
        ];
        env.extend(text.into_iter().filter_map(|(k, v)| v.clone().map(|v| (var(k), v))));
        let words = [
            ("sslmode", self.sslmode.map(SslMode::as_str)),
            ("channel_binding", self.channel_binding.map(ChannelBinding::as_str)),
            ("target_session_attrs", self.target_session_attrs.map(TargetSessionAttrs::as_str)),
            ("ssl_min_protocol_version", self.ssl_min_protocol_version.map(TlsVersion::as_str)),
            ("ssl_max_protocol_version", self.ssl_max_protocol_version.map(TlsVersion::as_str)),
            ("sslsni", self.sslsni.map(|on| if on { "1" } else { "0" })),
            (
                "load_balance_hosts",
                self.load_balance_hosts.map(|l| if l == LoadBalanceHosts::Random { "random" } else { "disable" }),
            ),
        ];
        env.extend(words.into_iter().filter_map(|(k, v)| v.map(|v| (var(k), v.to_string()))));
        env
    }

    /// The sslmode given, else `verify-full` where `sslrootcert=system` asks for the system's CAs
    /// (as libpq 16 reads it: trusting any public CA is safe only with the host name checked),
    /// else `prefer`.
    pub fn effective_sslmode(&self) -> SslMode {
        match self.sslrootcert.as_deref() {
            Some("system") => self.sslmode.unwrap_or(SslMode::VerifyFull),
            _ => self.sslmode.unwrap_or_default(),
        }
    }

    pub fn effective_channel_binding(&self) -> ChannelBinding {
        self.channel_binding.unwrap_or_default()
    }

    pub fn effective_target_session_attrs(&self) -> TargetSessionAttrs {
        self.target_session_attrs.unwrap_or_default()
    }

    /// The host actually used: the given ones, else the given addresses, else the local socket
    /// directory when it exists, else localhost.
    pub fn effective_hosts(&self) -> Vec<String> {
        if !self.hosts.is_empty() {
            return self.hosts.clone();
        }
        if !self.hostaddrs.is_empty() {
            return self.hostaddrs.iter().map(IpAddr::to_string).collect();
        }
        for dir in ["/var/run/postgresql", "/tmp"] {
            if std::path::Path::new(dir).join(".s.PGSQL.5432").exists() {
                return vec![dir.to_string()];
            }
        }
        vec!["localhost".to_string()]
    }

    /// Each host with its port and address, in the order given: one port for all, or one per
    /// host; one address per host (libpq's rules).
    pub fn targets(&self) -> Result<Vec<Target>, SettingsError> {
        let hosts = self.effective_hosts();
        if self.ports.len() > 1 && self.ports.len() != hosts.len() {
            return Err(SettingsError(format!(
                "{} ports are given for {} host(s); give one port for all hosts, or one per host",
                self.ports.len(),
                hosts.len()
            )));
        }
        if !self.hostaddrs.is_empty() && self.hostaddrs.len() != hosts.len() {
            return Err(SettingsError(format!(
                "{} hostaddr values are given for {} hosts; give one per host",
                self.hostaddrs.len(),
                hosts.len()
            )));
        }
        Ok(hosts
            .into_iter()
            .enumerate()
            .map(|(i, host)| Target {
                port: self.ports.get(i).or(self.ports.first()).copied().unwrap_or(5432),
                hostaddr: self.hostaddrs.get(i).copied(),
                host,
            })
            .collect())
    }
}

impl ConnectionSettings {
    /// These settings narrowed to `target`, one of [`ConnectionSettings::targets`]: a run's other
    /// connections (the migration lock's) go to the server its first one reached, not to another
    /// host of the list (operator trial: with `load_balance_hosts=random` the lock was taken on
    /// another server, and the run stopped as if it had lost it).
    pub fn pinned_to(&self, target: &Target) -> ConnectionSettings {
        ConnectionSettings {
            hosts: vec![target.host.clone()],
            hostaddrs: target.hostaddr.into_iter().collect(),
            ports: vec![target.port],
            load_balance_hosts: None,
            password: self.password_for(target).map(str::to_string),
            host_passwords: Vec::new(),
            ..self.clone()
        }
    }
}

/// One server to try: the host (a name, an address, or a Unix socket directory), its port, and
/// the address to connect to instead of looking the name up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub hostaddr: Option<IpAddr>,
}

impl Target {
    /// Over a Unix socket (never TLS).
    pub fn is_socket(&self) -> bool {
        self.hostaddr.is_none() && self.host.starts_with('/')
    }

    /// `host:port`, with the address when one is given: for messages.
    pub fn label(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        match self.hostaddr {
            Some(addr) if addr.to_string() != self.host => format!("{host}:{} (address {addr})", self.port),
            _ => format!("{host}:{}", self.port),
        }
    }
}

/// Split a password-file line on unescaped `:`, undoing `\:` and `\\`.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field").extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

fn set_param(settings: &mut ConnectionSettings, key: &str, value: String) -> Result<(), SettingsError> {
    match key {
        "host" => {
            // A host holding `=` or `;` is a string split wrong (Npgsql's `host=a;password=...`
            // read as libpq's one pair): refused unshown, where it was echoed as a host with the
            // password in it (Ecto/Laravel/EF Core round 3).
            if value.contains(['=', ';']) {
                return Err(SettingsError(
                    "a host holds `=` or `;`, so the string was not split where it was meant to be: libpq's pairs \
                     are separated by spaces (`host=db port=5432`), Npgsql's by `;` with its keys (`Host=db;Port=5432`); \
                     the value is not shown, as it may hold a password"
                        .into(),
                ));
            }
            settings.hosts = value.split(',').map(str::to_string).collect()
        }
        "hostaddr" => {
            settings.hostaddrs = value
                .split(',')
                .map(|a| a.trim().parse::<IpAddr>())
                .collect::<Result<_, _>>()
                // Not echoed: a mis-split URL can put part of a password here.
                .map_err(|_| SettingsError("a hostaddr is not an IPv4 or IPv6 address".into()))?
        }
        "port" => settings.ports = parse_ports(&value)?,
        // A user or database name holding `;` or `=` is a string split wrong, as a host is (round
        // 4: `user=app;password=hunter2` read as one user name, shown in the error).
        "user" | "dbname" if value.contains([';', '=']) => {
            return Err(SettingsError(format!(
                "the {} holds `;` or `=`, so the string was not split where it was meant to be: libpq's pairs are \
                 separated by spaces (`user=app password=...`), Npgsql's by `;` with its keys; the value is not \
                 shown, as it may hold a password",
                if key == "user" { "user name" } else { "database name" }
            )))
        }
        "user" => settings.user = Some(value),
        "password" => settings.password = Some(value),
        "passfile" => settings.passfile = Some(value),
        "dbname" => settings.dbname = Some(value),
        "service" => settings.service = Some(value),
        "servicefile" => settings.servicefile = Some(value),
        "sslmode" => settings.sslmode = Some(parse_sslmode(&value)?),
        // An empty file name is none given, as libpq reads it (a templated URL whose variable was
        // left unset: `sslrootcert=${CA}`).
        "sslrootcert" => settings.sslrootcert = Some(value).filter(|v| !v.is_empty()),
        "sslcert" => settings.sslcert = Some(value).filter(|v| !v.is_empty()),
        "sslkey" => settings.sslkey = Some(value).filter(|v| !v.is_empty()),
        "sslsni" => settings.sslsni = Some(value.trim() != "0"),
        "ssl_min_protocol_version" => settings.ssl_min_protocol_version = parse_tls_version(key, &value)?,
        "ssl_max_protocol_version" => settings.ssl_max_protocol_version = parse_tls_version(key, &value)?,
        "channel_binding" => {
            settings.channel_binding = Some(ChannelBinding::parse(&value).ok_or_else(|| {
                SettingsError(format!("channel_binding {} is not one of disable, prefer, require", shown(&value)))
            })?)
        }
        "target_session_attrs" => {
            settings.target_session_attrs = Some(TargetSessionAttrs::parse(&value).ok_or_else(|| {
                SettingsError(format!(
                    "target_session_attrs {} is not one of any, read-write, read-only, primary, standby, prefer-standby", shown(&value)
                ))
            })?)
        }
        "load_balance_hosts" => {
            settings.load_balance_hosts = Some(match value.as_str() {
                "disable" => LoadBalanceHosts::Disable,
                "random" => LoadBalanceHosts::Random,
                _ => return Err(SettingsError(format!("load_balance_hosts {} is not one of disable, random", shown(&value)))),
            })
        }
        "application_name" => settings.application_name = Some(value),
        "fallback_application_name" => settings.fallback_application_name = Some(value),
        "connect_timeout" => settings.connect_timeout = Some(parse_timeout(&value)?),
        // (Beside sqlx's `options[NAME]` given before it, whatever the order.)
        "options" => {
            settings.options = Some(match settings.options.take() {
                Some(named) => format!("{value} {named}"),
                None => value,
            })
        }
        "keepalives" => settings.keepalives = Some(value.trim() != "0"),
        "keepalives_idle" => settings.keepalives_idle = Some(parse_seconds(&value, "keepalives_idle")?),
        "keepalives_interval" => settings.keepalives_interval = Some(parse_seconds(&value, "keepalives_interval")?),
        "keepalives_count" => {
            settings.keepalives_count = Some(
                value
                    .trim()
                    .parse()
                    .map_err(|_| SettingsError(format!("keepalives_count {} is not a whole number", shown(&value))))?,
            )
        }
        "tcp_user_timeout" => {
            let ms: u64 = value
                .trim()
                .parse()
                .map_err(|_| SettingsError(format!("tcp_user_timeout {} is not a number of milliseconds", shown(&value))))?;
            settings.tcp_user_timeout = Some(Duration::from_millis(ms));
        }
        // Prisma's: see [`ConnectionSettings::schema`].
        "schema" => settings.schema = Some(value).filter(|v| !v.is_empty()),
        // The JDBC driver's names (pgjdbc: `jdbc:postgresql://db/app?currentSchema=app&ssl=true`,
        // in Spring's and Flyway's URLs) for what libpq has too.
        "currentSchema" => settings.search_path = Some(value).filter(|v| !v.trim().is_empty()),
        "ApplicationName" => settings.application_name = Some(value),
        "connectTimeout" | "loginTimeout" => settings.connect_timeout = Some(parse_timeout(&value)?),
        // (Its `ssl=true` is read with asyncpg's `ssl=` in URLs.)
        "sslfactory" if value == "org.postgresql.ssl.NonValidatingFactory" => {
            settings.sslmode.get_or_insert(SslMode::Require);
        }
        "sslfactory" => {
            return Err(SettingsError(format!(
                "sslfactory {} checks certificates through Java's trust store: write sslmode=verify-full with \
                 sslrootcert=FILE (the CA certificate, PEM) instead", shown(&value)
            )))
        }
        "targetServerType" => {
            let attrs = match value.as_str() {
                "any" => "any",
                "primary" | "master" => "read-write",
                "secondary" | "slave" | "standby" => "standby",
                "preferSecondary" | "preferSlave" | "preferStandby" => "prefer-standby",
                _ => {
                    return Err(SettingsError(format!(
                        "targetServerType {} is not one of any, primary, secondary, preferSecondary", shown(&value)
                    )))
                }
            };
            settings.target_session_attrs = TargetSessionAttrs::parse(attrs);
        }
        // The JDBC driver's own tuning: its statement cache, fetch sizes, socket timeouts.
        "socketTimeout" | "tcpKeepAlive" | "prepareThreshold" | "reWriteBatchedInserts" | "stringtype"
        | "preparedStatementCacheQueries" | "preparedStatementCacheSizeMiB" | "defaultRowFetchSize"
        | "binaryTransfer" | "assumeMinServerVersion" | "logUnclosedConnections" | "cancelSignalTimeout"
        | "loggerLevel" | "autosave" | "cleanupSavepoints" | "readOnlyMode" => {}
        // (`schema_search_path` is Active Record's name for it.)
        "search_path" | "schema_search_path" => settings.search_path = Some(value).filter(|v| !v.trim().is_empty()),
        // golang-migrate's own settings in its `-database` URL (`x-migrations-table`,
        // `x-statement-timeout`, ...): they configure golang-migrate, which takes them out before
        // connecting. Its table is taken over with `shale adopt --table`.
        key if key.starts_with("x-") => {}
        // sqlx's names (`PgConnectOptions::from_str`) for what libpq has, and its `options[NAME]=
        // VALUE` for one `-c NAME=VALUE` each: a Rust service's URL switched to shale as it is.
        "ssl-mode" => settings.sslmode = Some(parse_sslmode(&value)?),
        "ssl-root-cert" | "ssl-ca" => settings.sslrootcert = Some(value),
        "ssl-cert" => settings.sslcert = Some(value),
        "ssl-key" => settings.sslkey = Some(value),
        "application-name" => settings.application_name = Some(value),
        key if key.starts_with("options[") && key.ends_with(']') => {
            server_setting(settings, &key["options[".len()..key.len() - 1], &value)
        }
        // dbmate's `socket=DIR`: the directory of the server's unix socket, as libpq's host.
        "socket" => settings.hosts = vec![value],
        // lib/pq's and pgx's own (dbmate's and Go services' URLs): how they encode parameters and
        // cache statements.
        "binary_parameters" | "disable_prepared_binary_result" | "default_query_exec_mode" | "statement_cache_capacity"
        | "description_cache_capacity" => {}
        // Server settings lib/pq and pgx send at connect (`?timezone=UTC&statement_timeout=5000`,
        // in a URL the application shares with dbmate): sent the same, as startup options, under
        // what shale.toml sets for each migration (dbmate trial: refused as unknown).
        "timezone" | "TimeZone" | "datestyle" | "DateStyle" | "intervalstyle" | "IntervalStyle" | "statement_timeout"
        | "lock_timeout" | "idle_in_transaction_session_timeout" | "extra_float_digits" | "default_transaction_isolation" => {
            server_setting(settings, key, &value)
        }
        // sqlx's statement cache (`statement-cache-capacity=0` behind PgBouncer): its own pool's.
        "statement-cache-capacity" => {}
        // asyncpg's and SQLAlchemy's own, in the URL the application gives create_async_engine
        // (`?prepared_statement_cache_size=0`, as SQLAlchemy's docs ask behind PgBouncer): they
        // size and time the application's connections (FastAPI trial: refused as unknown).
        "prepared_statement_cache_size" | "max_cached_statement_lifetime"
        | "max_cacheable_statement_size" | "command_timeout" | "async_fallback" | "server_settings" => {}
        // node-postgres's switch to libpq's meaning of sslmode, which is shale's: its own
        // warning asks for it (`?uselibpqcompat=true&sslmode=require`).
        "uselibpqcompat" => {}
        // Prisma's pool and query engine settings: they size and time Prisma's own pool; shale
        // opens connections of its own, one at a time.
        "connection_limit" | "pool_timeout" | "pgbouncer" | "statement_cache_size" | "socket_timeout"
        | "max_connection_lifetime" | "max_idle_connection_lifetime" => {}
        // Rails' (Active Record's) pool and adapter settings in its DATABASE_URL (`?pool=5`, as
        // the Rails guides and Heroku write it): they configure Active Record's own connections.
        "pool" | "checkout_timeout" | "reaping_frequency" | "idle_timeout" | "prepared_statements" | "advisory_locks"
        | "statement_limit" | "timeout" | "min_messages" | "reconnect" => {}
        "adapter" if ["postgresql", "postgres", "postgis"].contains(&value.as_str()) => {}
        // Ecto's pool settings in its URL (`ecto://...?pool_size=10`): DBConnection's own.
        "pool_size" | "pool_count" | "queue_target" | "queue_interval" | "prepare" => {}
        // Tortoise ORM's pool settings in its `db_url` (`?minsize=1&maxsize=10`): its own pool's.
        "minsize" | "maxsize" | "max_queries" | "max_inactive_connection_lifetime" => {}
        // Prisma's default: TLS without checking the certificate, as sslmode=require does.
        "sslaccept" if value == "accept_invalid_certs" => {}
        "sslaccept" => {
            return Err(SettingsError(format!(
                "sslaccept {}: for a checked certificate write sslmode=verify-full (with sslrootcert), which is what Prisma's `strict` asks for", shown(&value)
            )))
        }
        // Values that ask for nothing shale would not do anyway.
        // (`encoding` is Active Record's name for it.)
        "client_encoding" | "encoding" if ["utf8", "utf-8", "unicode"].contains(&value.to_ascii_lowercase().as_str()) => {}
        "sslcertmode" if value == "allow" => {}
        "sslnegotiation" if value == "postgres" => {}
        "gssencmode" if value == "disable" || value == "prefer" => {}
        // Only used by GSSAPI, which shale does not speak: a server asking for it is refused
        // ("unsupported authentication method"), so nothing happens silently.
        "krbsrvname" | "gsslib" | "gssdelegation" => {}
        // Ignored by libpq itself unless its OpenSSL was built with compression.
        "sslcompression" => {}
        "client_encoding" | "encoding" | "sslcertmode" | "sslnegotiation" | "gssencmode" => {
            return Err(SettingsError(match key {
                "client_encoding" | "encoding" => format!("{key}: shale always talks UTF8 to the server"),
                "gssencmode" => "gssencmode: shale does not support GSSAPI encryption; use disable or prefer".into(),
                _ => format!("{key}: shale supports only the value `{}`", if key == "sslcertmode" { "allow" } else { "postgres" }),
            }))
        }
        // Said as what they are for, not "remove it" (operator trial: removing sslpassword led to
        // a second error; removing a revocation list weakens the check asked for).
        "sslpassword" => {
            return Err(SettingsError(
                "`sslpassword` (the password of an encrypted sslkey) is not supported: shale cannot decrypt the key; \
                 decrypt a copy readable only by you (`openssl pkey -in KEY -out KEY.plain && chmod 600 KEY.plain`) \
                 and give that as sslkey, without sslpassword"
                    .into(),
            ))
        }
        "sslcrl" | "sslcrldir" => {
            return Err(SettingsError(format!(
                "`{key}`: shale does not check certificate revocation lists; connect with a client that does \
                 (psql, libpq), or leave the list out knowing that a revoked server certificate is then accepted"
            )))
        }
        "require_auth" | "requirepeer" | "replication" | "min_protocol_version" | "max_protocol_version" => {
            return Err(SettingsError(format!(
                "`{key}` is a libpq parameter shale does not support; remove it (shale refuses what it would otherwise ignore)"
            )));
        }
        other => {
            // Only a plain word is echoed back: anything else may be a mis-split password.
            let shown = if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                format!("`{other}`")
            } else {
                "in the connection string".to_string()
            };
            return Err(SettingsError(format!("unknown parameter {shown}; shale understands {UNDERSTOOD}")));
        }
    }
    Ok(())
}

/// `-c NAME=VALUE` added to the startup options (spaces and backslashes escaped as libpq's
/// `options` reads them).
fn server_setting(settings: &mut ConnectionSettings, name: &str, value: &str) {
    let setting = format!("-c {name}={}", value.replace('\\', "\\\\").replace(' ', "\\ "));
    settings.options = Some(match settings.options.take() {
        Some(before) => format!("{before} {setting}"),
        None => setting,
    });
}

fn parse_tls_version(key: &str, v: &str) -> Result<Option<TlsVersion>, SettingsError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    TlsVersion::parse(v.trim())
        .map(Some)
        .ok_or_else(|| SettingsError(format!("{key} {} is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3", shown(v))))
}

fn parse_sslmode(v: &str) -> Result<SslMode, SettingsError> {
    SslMode::parse(v).ok_or_else(|| {
        SettingsError(format!(
            "sslmode {} is not one of disable, allow, prefer, require, verify-ca, verify-full",
            shown(v)
        ))
    })
}

fn parse_ports(v: &str) -> Result<Vec<u16>, SettingsError> {
    v.split(',')
        .map(|p| {
            // The value is not echoed: a mis-split URL can put part of a password here.
            p.trim().parse::<u16>().map_err(|_| {
                SettingsError(
                    "a port is not a number from 1 to 65535 (in a URL, percent-encode `:` and `/` in the password)"
                        .into(),
                )
            })
        })
        .collect()
}

fn parse_seconds(v: &str, key: &str) -> Result<Duration, SettingsError> {
    v.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| SettingsError(format!("{key} {} is not a number of seconds", shown(v))))
}

fn parse_timeout(v: &str) -> Result<Duration, SettingsError> {
    v.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| SettingsError(format!("connect_timeout {} is not a number of seconds", shown(v))))
}

fn decode(s: &str, what: &str) -> Result<String, SettingsError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| SettingsError(format!("the {what} is not valid percent-encoded UTF-8")))
}

/// The scheme and the rest of a string written as a URL: text before the first `://` holding no
/// `=` and no white space (a `key=value` string has a `=` before any `://` a value may hold).
fn url_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    (!scheme.contains('=') && !scheme.contains(char::is_whitespace)).then_some((scheme, rest))
}

/// `postgresql`, `postgres`, and SQLAlchemy's `postgresql+DRIVER` / `postgres+DRIVER`
/// (`+psycopg2`, `+psycopg`, `+asyncpg`, `+pg8000`, ...): the driver names the Python library the
/// application connects with and means nothing to shale.
fn is_postgres_scheme(scheme: &str) -> bool {
    let (base, driver) = match scheme.split_once('+') {
        Some((base, driver)) => (base, Some(driver)),
        None => (scheme, None),
    };
    // pgx's own schemes, as golang-migrate's pgx drivers take them (`pgx5://`); the ones
    // dj-database-url and django-environ read as PostgreSQL (`pgsql://`, `psql://`, and GeoDjango's
    // `postgis://`, a PostgreSQL server with PostGIS).
    // Ecto's `ecto://`, which Phoenix's generated `runtime.exs` documents for DATABASE_URL.
    // Tortoise ORM's `asyncpg://` and `psycopg://`, naming its driver (aerich trial: refused).
    if driver.is_none()
        && matches!(base, "pgx" | "pgx4" | "pgx5" | "pgsql" | "psql" | "postgis" | "ecto" | "asyncpg" | "psycopg")
    {
        return true;
    }
    (base == "postgresql" || base == "postgres")
        && driver.is_none_or(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// `jdbc`: written for the JDBC driver (`jdbc:postgresql://`), whose `ssl=true` means TLS with the
/// certificate checked (sslmode=verify-full, unless sslmode says otherwise).
/// Whose URL it is, where that changes how a parameter reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UrlDialect {
    Libpq,
    /// The JDBC driver's (`jdbc:postgresql://`): `ssl=true` checks the certificate.
    Jdbc,
    /// Ecto's (`ecto://`, as Phoenix's `runtime.exs` reads DATABASE_URL): `ssl=true` is Postgrex's
    /// `ssl: true`, encryption without a certificate check, as `sslmode=require`.
    Ecto,
}

fn parse_url(rest: &str, dialect: UrlDialect) -> Result<ConnectionSettings, SettingsError> {
    let mut settings = ConnectionSettings::default();
    // As libpq reads it, user info is what comes before an `@` ahead of the first `/`: a password
    // may hold `?`, `#` and `:` unencoded (TLS trial: a generated `Ab?Cd#Ef!x` psql takes was
    // refused); of several `@`, the last ends it.
    let ahead_of_path = rest.find('/').unwrap_or(rest.len());
    let (userinfo, rest) = match rest[..ahead_of_path].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = main.split_once('/').unwrap_or((main, ""));
    // A password holding `/` unencoded would be read as host, port or database and then shown in
    // messages: refuse it instead. A
    // database name holding `@host.../` is one too: `app:p@ss/x@host/db` read as host `ss`,
    // database `x@host/db`, would show the password's tail (TypeORM trial); a database name
    // holding `@` alone (`my@db`) is libpq's as much as shale's (review).
    let host_in_path = path.rsplit_once('@').is_some_and(|(_, after)| after.contains('/'));
    // With a password in the URL, any `@` in the path may be the password's (`app:p@ss/x@host:5432`,
    // with no database after it: review).
    let password_given = userinfo.is_some_and(|userinfo| userinfo.contains(':'));
    let password_in_path = path.contains('@') && password_given;
    // With no `@` before the path, one in it or in the query ends a password holding `/`
    // (`app:1234/s3cr3t@host`: re-check, shown whole).
    let userinfo_cut = userinfo.is_none() && (path.contains('@') || query.contains('@'));
    if host_in_path || password_in_path || userinfo_cut {
        return Err(SettingsError(
            "the URL's user name or password seems to contain an unencoded `/`, `?` or `#`; percent-encode them (/ as %2F, ? as %3F, # as %23, @ as %40)".into(),
        ));
    }
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            settings.user = Some(decode(user, "user name")?);
        }
        if let Some(p) = password {
            settings.password = Some(decode(p, "password")?);
        }
    }
    let hostspec = authority;
    for entry in hostspec.split(',').filter(|e| !e.is_empty()) {
        let (host, port) = if let Some(stripped) = entry.strip_prefix('[') {
            // [IPv6]:port
            let (h, after) = stripped.split_once(']').ok_or_else(|| SettingsError("unclosed [ in the host".into()))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match entry.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (entry.to_string(), None),
            }
        };
        let host = decode(&host, "host")?;
        if !host.is_empty() {
            settings.hosts.push(host);
        }
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            settings.ports.extend(parse_ports(p)?);
        }
    }
    if !path.is_empty() {
        settings.dbname = Some(decode(path, "database name")?);
    }
    let mut asyncpg_ssl = None;
    let mut driver_ssl = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(v, "query parameter")?;
        let key = decode(k, "query parameter")?;
        if key == "host" && value.starts_with('/') && !settings.hosts.is_empty() {
            // `postgresql://localhost:5432/db?host=/socket/dir`: the parameter wins, as in libpq.
            settings.hosts.clear();
        }
        // The JDBC driver's, Postgrex's and node-postgres's `ssl=true` (node-postgres's `1` too).
        if key == "ssl" && matches!(value.as_str(), "true" | "false" | "1" | "0") {
            driver_ssl = Some(matches!(value.as_str(), "true" | "1"));
            continue;
        }
        if key == "ssl" {
            // asyncpg's spelling of sslmode (`postgresql+asyncpg://...?ssl=require`).
            asyncpg_ssl = Some(SslMode::parse(&value).ok_or_else(|| {
                SettingsError(format!(
                    "ssl {} is not one of libpq's sslmode values (disable, allow, prefer, require, verify-ca, verify-full); shale reads asyncpg's `ssl=` as `sslmode`: write sslmode=require, or the mode you mean", shown(&value)
                ))
            })?);
            continue;
        }
        set_param(&mut settings, &key, value)?;
    }
    if let Some(mode) = asyncpg_ssl {
        match settings.sslmode {
            Some(given) if given != mode => {
                return Err(SettingsError(format!(
                    "the URL gives both ssl={} and sslmode={}; keep one (sslmode)",
                    mode.as_str(),
                    given.as_str()
                )))
            }
            _ => settings.sslmode = Some(mode),
        }
    }
    // node-postgres's `ssl=true` checks the certificate against Node's CAs, as pgjdbc's does;
    // `false` asks for nothing: the default stays, as it did for pgjdbc's and Postgrex's.
    if driver_ssl == Some(true) {
        settings.sslmode.get_or_insert(match dialect {
            UrlDialect::Ecto => SslMode::Require,
            _ => SslMode::VerifyFull,
        });
    }
    Ok(settings)
}

fn parse_key_values(s: &str) -> Result<ConnectionSettings, SettingsError> {
    let mut settings = ConnectionSettings::default();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(SettingsError(format!("expected `=` after `{key}`")));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(SettingsError(format!("unterminated quoted value for `{key}`"))),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        set_param(&mut settings, &key, value)?;
    }
    Ok(settings)
}

/// A setting's value as a message may show it: a plain word (`requre`), else not shown at all, since
/// a value that is not a word may hold a password run into it by a typo (operator re-check:
/// `sslmode=require?password=...` printed the password back).
fn shown(value: &str) -> String {
    let word = value.len() <= 40 && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    match word {
        true => format!("`{value}`"),
        false => "(its value, not shown: it is not one word)".to_string(),
    }
}

/// The user a connection that names none logs in as: the operating system's user this process
/// runs as, as libpq takes it (not `$USER`, which containers and services often leave unset:
/// operator trial, shale logged in as `postgres` where psql was refused as `root`).
pub fn os_user() -> Option<String> {
    whoami::username().ok().filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_path_in_options_is_read_as_the_server_reads_it() {
        let path = |options: &str| {
            ConnectionSettings { options: Some(options.into()), ..Default::default() }.options_search_path()
        };
        assert_eq!(path("-c search_path=app,public").as_deref(), Some("app,public"));
        assert_eq!(path("-csearch_path=app -c statement_timeout=5s").as_deref(), Some("app"));
        assert_eq!(path("--search-path=app,\\ public").as_deref(), Some("app, public"));
        assert_eq!(path("-c search_path=a -c search_path=b").as_deref(), Some("b"));
        // A setting whose value holds the words is not one.
        assert_eq!(path("-c application_name=search_path_tool"), None);
    }

    use super::*;

    #[test]
    fn urls() {
        let s = ConnectionSettings::parse(
            "postgresql://app:s3cr%40t@db.example.com:6543/dht_db?sslmode=require&application_name=x",
        )
        .unwrap();
        assert_eq!(s.hosts, ["db.example.com"]);
        assert_eq!(s.ports, [6543]);
        assert_eq!(s.user.as_deref(), Some("app"));
        assert_eq!(s.password.as_deref(), Some("s3cr@t"));
        assert_eq!(s.dbname.as_deref(), Some("dht_db"));
        assert_eq!(s.sslmode, Some(SslMode::Require));
        assert_eq!(s.redacted(), "postgresql://app:***@db.example.com:6543/dht_db?sslmode=require");
        let socket =
            ConnectionSettings::parse("postgres://postgres@localhost:5433/app?host=%2Frun%2Fpg%20dir").unwrap();
        assert_eq!(socket.hosts, ["/run/pg dir"]);
        assert_eq!(socket.ports, [5433]);
        let multi = ConnectionSettings::parse("postgresql://h1:1,h2:2,[::1]:3/db").unwrap();
        assert_eq!(multi.hosts, ["h1", "h2", "::1"]);
        assert_eq!(multi.ports, [1, 2, 3]);
    }

    /// A Prisma project's DATABASE_URL, read as Prisma reads it: its schema is the search_path,
    /// its pool settings are Prisma's own.
    #[test]
    fn prisma_s_parameters() {
        let s = ConnectionSettings::parse(
            "postgresql://app:pw@db/app?schema=My%20App&connection_limit=5&pool_timeout=10&pgbouncer=true&sslaccept=accept_invalid_certs&options=-c%20work_mem%3D8MB",
        )
        .unwrap();
        assert_eq!(s.effective_options().as_deref(), Some(r#"-c work_mem=8MB -c search_path="My\ App""#));
        let strict = ConnectionSettings::parse("postgresql://db/app?sslaccept=strict").unwrap_err();
        assert!(strict.0.contains("sslmode=verify-full"), "{strict}");
    }

    /// Ecto's URL, as Phoenix's `runtime.exs` reads DATABASE_URL (Ecto trial: "the scheme ecto:// is
    /// not PostgreSQL's"): its `ssl=true` is Postgrex's, encrypted and unchecked; its pool settings
    /// are DBConnection's.
    #[test]
    fn ecto_urls() {
        let s = ConnectionSettings::parse("ecto://app:s3cret@db.internal/app_prod?ssl=true&pool_size=10").unwrap();
        assert_eq!((s.user.as_deref(), s.password.as_deref()), (Some("app"), Some("s3cret")));
        assert_eq!(
            (s.hosts.as_slice(), s.dbname.as_deref()),
            (["db.internal".to_string()].as_slice(), Some("app_prod"))
        );
        assert_eq!(s.sslmode, Some(SslMode::Require));
        let plain = ConnectionSettings::parse("ecto://app@localhost/app_dev?ssl=false").unwrap();
        assert_eq!(plain.sslmode, None);
    }

    /// Tortoise ORM's `db_url`: its driver as the scheme, its pool's settings passed over (aerich
    /// trial: refused).
    #[test]
    fn tortoise_urls() {
        for scheme in ["asyncpg", "psycopg", "postgres"] {
            let url = format!("{scheme}://app:s3cret@db/app?minsize=1&maxsize=10&max_queries=500&max_inactive_connection_lifetime=300");
            let s = ConnectionSettings::parse(&url).unwrap();
            assert_eq!((s.hosts.as_slice(), s.dbname.as_deref()), (["db".to_string()].as_slice(), Some("app")));
        }
    }

    /// A JDBC URL as Spring (`spring.datasource.url`) and Flyway (`flyway.url`) take it (Flyway
    /// trial: "the scheme jdbc:postgresql:// is not PostgreSQL's").
    #[test]
    fn jdbc_urls() {
        let s = ConnectionSettings::parse(
            "jdbc:postgresql://db1:5432,db2:5433/app?user=app&password=s3cret&currentSchema=ef&ssl=true&ApplicationName=ef-sak&targetServerType=primary&prepareThreshold=0&reWriteBatchedInserts=true",
        )
        .unwrap();
        assert_eq!(
            (s.user.as_deref(), s.password.as_deref(), s.dbname.as_deref()),
            (Some("app"), Some("s3cret"), Some("app"))
        );
        assert_eq!(s.hosts, ["db1", "db2"]);
        assert_eq!(s.search_path.as_deref(), Some("ef"));
        // pgjdbc's ssl=true checks the certificate.
        assert_eq!(s.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(s.application_name.as_deref(), Some("ef-sak"));
        assert_eq!(s.target_session_attrs, Some(TargetSessionAttrs::ReadWrite));
        // sslmode says more than ssl=true, in either order.
        let checked = ConnectionSettings::parse("jdbc:postgresql://db/app?sslmode=require&ssl=true").unwrap();
        assert_eq!(checked.sslmode, Some(SslMode::Require));
        let lax = ConnectionSettings::parse(
            "jdbc:postgresql://db/app?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory",
        );
        assert_eq!(lax.unwrap().sslmode, Some(SslMode::Require));
        // The driver's short forms: localhost.
        let short = ConnectionSettings::parse("jdbc:postgresql:app?currentSchema=ef").unwrap();
        assert_eq!((short.hosts.as_slice(), short.dbname.as_deref()), (&["localhost".to_string()][..], Some("app")));
        assert_eq!(short.search_path.as_deref(), Some("ef"));
        assert_eq!(ConnectionSettings::parse("jdbc:postgresql:/").unwrap().dbname, None);
        let other = ConnectionSettings::parse("jdbc:mysql://db/app").unwrap_err();
        assert!(other.0.contains("not PostgreSQL's"), "{other}");
    }

    /// A sqlx service's URL (`PgConnectOptions::from_str`'s names), as it is (sqlx re-check: each
    /// was refused as unknown, and the service could not start).
    #[test]
    fn sqlx_s_parameters() {
        let s = ConnectionSettings::parse(
            "postgres://app:pw@db/app?ssl-mode=verify-full&ssl-root-cert=/ca.pem&ssl-cert=/c.pem&ssl-key=/k.pem&statement-cache-capacity=0&options[search_path]=app,%20public&options[statement_timeout]=5s",
        )
        .unwrap();
        assert_eq!(s.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(
            (s.sslrootcert.as_deref(), s.sslcert.as_deref(), s.sslkey.as_deref()),
            (Some("/ca.pem"), Some("/c.pem"), Some("/k.pem"))
        );
        assert_eq!(s.options.as_deref(), Some("-c search_path=app,\\ public -c statement_timeout=5s"));
        assert_eq!(
            ConnectionSettings::parse("postgres://db/app?ssl-ca=/ca.pem").unwrap().sslrootcert.as_deref(),
            Some("/ca.pem")
        );
        // Beside `options`, in either order (review).
        let both = ConnectionSettings::parse("postgres://db/app?options[a]=1&options=-c%20b%3D2").unwrap();
        assert_eq!(both.options.as_deref(), Some("-c b=2 -c a=1"));
    }

    /// node-postgres's URLs (Node trial: each refused): `ssl=true` or `1` checks the certificate,
    /// as node-postgres does against Node's CAs; `sslmode=no-verify` is TLS unchecked; the
    /// `uselibpqcompat` its warning asks for is libpq's meaning, shale's.
    #[test]
    fn node_postgres_s_parameters() {
        let mode = |url: &str| ConnectionSettings::parse(url).unwrap().sslmode;
        assert_eq!(mode("postgres://app:pw@db/app?ssl=true"), Some(SslMode::VerifyFull));
        assert_eq!(mode("postgres://app:pw@db/app?ssl=1"), Some(SslMode::VerifyFull));
        assert_eq!(mode("postgres://app:pw@db/app?ssl=0"), None);
        assert_eq!(mode("postgres://app:pw@db/app?sslmode=no-verify"), Some(SslMode::Require));
        assert_eq!(mode("postgres://app:pw@db/app?uselibpqcompat=true&sslmode=require"), Some(SslMode::Require));
        // asyncpg's `ssl=` still reads as sslmode.
        assert_eq!(mode("postgres://app:pw@db/app?ssl=require"), Some(SslMode::Require));
        // asyncpg's and SQLAlchemy's own settings are theirs (FastAPI trial).
        ConnectionSettings::parse(
            "postgresql+asyncpg://app:pw@db/app?prepared_statement_cache_size=0&command_timeout=60&async_fallback=true",
        )
        .unwrap();
    }

    /// A Rails DATABASE_URL as the Rails guides and Heroku write it (Rails trial).
    #[test]
    fn rails_s_parameters() {
        let s = ConnectionSettings::parse(
            "postgres://app:pw@db:5432/app?pool=5&sslmode=disable&encoding=unicode&prepared_statements=false&checkout_timeout=5&timeout=5000&adapter=postgresql&min_messages=warning&reconnect=true",
        )
        .unwrap();
        assert_eq!(s.effective_options(), None);
        let path = ConnectionSettings::parse("postgres://db/app?schema_search_path=app,public").unwrap();
        assert_eq!(path.search_path.as_deref(), Some("app,public"));
        let latin = ConnectionSettings::parse("postgres://db/app?encoding=latin1").unwrap_err();
        assert!(latin.0.contains("encoding: shale always talks UTF8"), "{latin}");
    }

    #[test]
    fn golang_migrate_s_database_urls() {
        for scheme in ["postgres", "pgx", "pgx5"] {
            let url = format!(
                "{scheme}://app:pw@db:5433/app?sslmode=disable&x-migrations-table=schema_migrations&x-statement-timeout=5000&search_path=app,%20public"
            );
            let s = ConnectionSettings::parse(&url).unwrap();
            assert_eq!(s.dbname.as_deref(), Some("app"), "{scheme}");
            assert_eq!(s.effective_options().as_deref(), Some(r"-c search_path=app,\ public"), "{scheme}");
        }
        let e = ConnectionSettings::parse("postgres://db/app?statement-timeout=5").unwrap_err().to_string();
        assert!(e.contains("unknown parameter `statement-timeout`"), "{e}");
    }

    #[test]
    fn key_values() {
        let s =
            ConnectionSettings::parse("host=localhost port=5432 dbname='my db' password='it\\'s' sslmode=verify-full")
                .unwrap();
        assert_eq!(s.dbname.as_deref(), Some("my db"));
        assert_eq!(s.password.as_deref(), Some("it's"));
        assert_eq!(s.sslmode, Some(SslMode::VerifyFull));
        assert!(!s.redacted().contains("it's"));
    }

    #[test]
    fn timeouts_and_keepalives_default_on() {
        let plain = ConnectionSettings::parse("host=db").unwrap();
        assert_eq!(plain.effective_connect_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(plain.keepalive(), Some(DEFAULT_KEEPALIVE));
        assert_eq!(plain.effective_tcp_user_timeout(), Some(Duration::from_secs(60)));
        let set = ConnectionSettings::parse(
            "postgresql://db/app?connect_timeout=0&keepalives_idle=5&keepalives_interval=2&keepalives_count=4&tcp_user_timeout=1500",
        )
        .unwrap();
        assert_eq!(set.effective_connect_timeout(), None, "0 waits forever, as in libpq");
        assert_eq!(
            set.keepalive(),
            Some(Keepalive { idle: Duration::from_secs(5), interval: Duration::from_secs(2), count: 4 })
        );
        assert_eq!(set.effective_tcp_user_timeout(), Some(Duration::from_millis(1500)));
        let off = ConnectionSettings::parse("host=db keepalives=0 connect_timeout=1").unwrap();
        assert_eq!(off.keepalive(), None);
        assert_eq!(off.effective_tcp_user_timeout(), None);
        assert_eq!(off.effective_connect_timeout(), Some(Duration::from_secs(2)), "at least 2 s, as in libpq");
        assert!(ConnectionSettings::parse("host=db keepalives_count=many").is_err());
    }

    #[test]
    fn password_file_like_libpq() {
        let dir = std::env::temp_dir().join(format!("shale-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:app:nope\ndb.example.com:*:app_db:app:s3cr\\:et\n*:*:*:*:fallback\n",
        )
        .unwrap();
        let path = file.to_string_lossy().into_owned();
        let env = |k: &str| (k == "PGPASSFILE").then(|| path.clone());
        let set_mode = |mode: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        set_mode(0o600);
        let mut s = ConnectionSettings::parse("postgresql://app@db.example.com/app_db").unwrap();
        s.fill_from_env(&env).unwrap();
        assert_eq!(s.password.as_deref(), Some("s3cr:et"));
        let mut other = ConnectionSettings::parse("postgresql://bob@elsewhere/x").unwrap();
        other.fill_from_env(&env).unwrap();
        assert_eq!(other.password.as_deref(), Some("fallback"));
        // A given password wins; a file others can read is ignored.
        let mut given = ConnectionSettings::parse("postgresql://app:mine@db.example.com/app_db").unwrap();
        given.fill_from_env(&env).unwrap();
        assert_eq!(given.password.as_deref(), Some("mine"));
        // Several hosts: each one's line, as libpq looks each up (operator trial: the first's
        // was used for all, and the failover to the second had none).
        std::fs::write(&file, "standby:5433:*:app:second\n").unwrap();
        let mut several = ConnectionSettings::parse("host=primary,standby port=5432,5433 user=app dbname=d").unwrap();
        several.fill_from_env(&env).unwrap();
        assert_eq!(several.password, None);
        let targets = several.targets().unwrap();
        assert_eq!(several.password_for(&targets[0]), None);
        assert_eq!(several.password_for(&targets[1]), Some("second"));
        assert_eq!(several.pinned_to(&targets[1]).password.as_deref(), Some("second"));
        assert!(!format!("{several:?}").contains("second"));
        set_mode(0o644);
        let mut open = ConnectionSettings::parse("postgresql://app@db.example.com/app_db").unwrap();
        open.fill_from_env(&env).unwrap();
        assert_eq!(open.password, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_colon_in_the_password_is_fine() {
        let s = ConnectionSettings::parse("postgresql://u:hunter2:x@h/db").unwrap();
        assert_eq!(s.password.as_deref(), Some("hunter2:x"));
        assert_eq!(s.redacted(), "postgresql://u:***@h/db");
    }

    #[test]
    fn sqlalchemy_urls_drop_the_driver() {
        for (url, mode) in [
            ("postgresql+psycopg2://u:p@db.example.com/app", None),
            ("postgresql+psycopg://u:p@db.example.com:6543/app?sslmode=require", Some(SslMode::Require)),
            ("postgres+asyncpg://u:p@db.example.com/app?ssl=require", Some(SslMode::Require)),
            (
                "postgresql+asyncpg://u:p@db.example.com/app?ssl=verify-full&sslmode=verify-full",
                Some(SslMode::VerifyFull),
            ),
            ("postgresql+pg8000://u:p@db.example.com/app?ssl=disable", Some(SslMode::Disable)),
            ("postgresql+some_driver2://u:p@db.example.com/app", None),
        ] {
            let s = ConnectionSettings::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((s.user.as_deref(), s.password.as_deref()), (Some("u"), Some("p")), "{url}");
            assert_eq!(s.effective_hosts(), ["db.example.com"], "{url}");
            assert_eq!(s.dbname.as_deref(), Some("app"), "{url}");
            assert_eq!(s.sslmode, mode, "{url}");
            assert!(s.redacted().starts_with("postgresql://u:***@db.example.com"), "{}", s.redacted());
            assert!(ConnectionSettings::looks_like_url(url));
        }
        let socket = ConnectionSettings::parse("postgresql+psycopg://u@/app?host=/tmp").unwrap();
        assert_eq!(socket.effective_hosts(), ["/tmp"]);
        // asyncpg's ssl= also in a plain postgresql:// URL
        let plain = ConnectionSettings::parse("postgresql://u@h/app?ssl=require").unwrap();
        assert_eq!(plain.sslmode, Some(SslMode::Require));
    }

    #[test]
    fn asyncpg_ssl_must_be_an_sslmode() {
        let e = ConnectionSettings::parse("postgresql+asyncpg://u:hunter2@h/app?ssl=yes").unwrap_err().to_string();
        assert!(e.contains("ssl `yes`") && e.contains("sslmode=require") && !e.contains("hunter2"), "{e}");
        let e = ConnectionSettings::parse("postgresql+asyncpg://u@h/app?ssl=require&sslmode=disable")
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(": the URL gives both ssl=require and sslmode=disable; keep one (sslmode)"), "{e}");
    }

    #[test]
    fn a_url_never_reads_as_key_values() {
        for bad in [
            "mysql://u:hunter2@h/app?sslmode=require",
            "mysql+pymysql://u:hunter2@h/app",
            "postgresql+://u:hunter2@h/app",
            "postgresql+as/yncpg://u:hunter2@h/app?x=1",
            "postgresqlx://u:hunter2@h/app?ssl=require",
        ] {
            let e = ConnectionSettings::parse(bad).unwrap_err().to_string();
            assert!(e.contains("is not PostgreSQL's: expected postgresql:// or postgres://"), "{bad}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
            assert!(ConnectionSettings::looks_like_url(bad));
        }
        // The schemes Django's URL readers take for PostgreSQL.
        for django in ["postgis://u@h:5433/app", "pgsql://u@h:5433/app", "psql://u@h:5433/app"] {
            let s = ConnectionSettings::parse(django).unwrap();
            assert_eq!((s.ports.as_slice(), s.dbname.as_deref()), (&[5433u16][..], Some("app")), "{django}");
        }
        let e = ConnectionSettings::parse("mysql://h/app?x=1").unwrap_err().to_string();
        assert!(e.contains(": the scheme `mysql://` is not PostgreSQL's"), "{e}");
        // A value of a key=value string may hold `://`: it stays key=value.
        let kv = ConnectionSettings::parse("host=h application_name=http://x").unwrap();
        assert_eq!(kv.application_name.as_deref(), Some("http://x"));
        assert!(!ConnectionSettings::looks_like_url("host=h application_name=http://x"));
    }

    #[test]
    fn errors_never_quote_the_password() {
        for bad in [
            "postgresql://u:hunter2@h:notaport/db",
            "postgresql://u:abc/hunter2@h/db",
            "postgresql://u:123/hunter2@h/db",
            "postgresql://u:hunter2@h/db?sslmode=sometimes",
            "postgresql://u:hunter2@h/db?bogus=1",
            "mysql://u:hunter2@h/db",
            "host=h password=hunter2 sslmode",
        ] {
            let e = ConnectionSettings::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
        }
        // A password holding `@` and `/` unencoded read as host `dor` and database `99@...`:
        // parsed, it showed `app:***@dor/99@...` (TypeORM trial). Refused, with none of it.
        let e = ConnectionSettings::parse("postgresql://app:Tr0ub@dor/99@127.0.0.1:56201/db").unwrap_err().to_string();
        assert!(e.contains("percent-encode") && !e.contains("dor") && !e.contains("99"), "{e}");
        // With no database after it (review: `app:***@dor/99@127.0.0.1:5432` was shown).
        let e = ConnectionSettings::parse("postgresql://app:Tr0ub@dor/99@127.0.0.1:56801").unwrap_err().to_string();
        assert!(e.contains("percent-encode") && !e.contains("dor") && !e.contains("99"), "{e}");
        let e = ConnectionSettings::parse("postgresql://app:1234/s3cr3t@127.0.0.1").unwrap_err().to_string();
        assert!(e.contains("percent-encode") && !e.contains("s3cr3t"), "{e}");
        let v6 = ConnectionSettings::parse("postgresql://app:pw@[::1]:58500/appdb").unwrap();
        assert_eq!(v6.redacted(), "postgresql://app:***@[::1]:58500/appdb");
        // `?` and `#` in a password, unencoded, are the password's, as libpq reads them (TLS trial).
        let generated =
            ConnectionSettings::parse("postgresql://gen:Ab?Cd#Ef!x@localhost:58500/appdb?sslmode=require").unwrap();
        assert_eq!(generated.password.as_deref(), Some("Ab?Cd#Ef!x"));
        assert_eq!((generated.user.as_deref(), generated.dbname.as_deref()), (Some("gen"), Some("appdb")));
        assert_eq!(generated.redacted(), "postgresql://gen:***@localhost:58500/appdb?sslmode=require");
        let checked = ConnectionSettings::parse(
            "postgresql://gen:Ab?Cd@localhost/appdb?sslmode=verify-full&sslrootcert=/certs/my%20ca.pem&sslcert=/c.crt",
        )
        .unwrap();
        assert_eq!(
            checked.for_psql(),
            "postgresql://gen@localhost/appdb?sslmode=verify-full&sslrootcert=/certs/my%20ca.pem&sslcert=/c.crt"
        );
        let bare = ConnectionSettings::parse("postgresql://u:pa?hunter2@h").unwrap();
        assert_eq!((bare.password.as_deref(), bare.dbname.as_deref()), (Some("pa?hunter2"), None));
        // A database name holding `@` alone is one, as libpq reads it (review).
        let named = ConnectionSettings::parse("postgresql://app@127.0.0.1:5432/my@db").unwrap();
        assert_eq!(named.dbname.as_deref(), Some("my@db"));
    }

    #[test]
    fn libpq_parameters_are_honoured_or_refused() {
        let s = ConnectionSettings::parse(
            "postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write&channel_binding=require&sslcert=/c.crt&sslkey=/c.key&sslsni=0&service=svc&fallback_application_name=fb&ssl_min_protocol_version=TLSv1.3&load_balance_hosts=random&gssencmode=prefer&sslcompression=1",
        )
        .unwrap();
        assert_eq!(s.target_session_attrs, Some(TargetSessionAttrs::ReadWrite));
        assert_eq!(s.channel_binding, Some(ChannelBinding::Require));
        assert_eq!((s.sslcert.as_deref(), s.sslkey.as_deref()), (Some("/c.crt"), Some("/c.key")));
        assert_eq!(s.sslsni, Some(false));
        assert_eq!(s.service.as_deref(), Some("svc"));
        assert_eq!(s.fallback_application_name.as_deref(), Some("fb"));
        assert_eq!(s.ssl_min_protocol_version, Some(TlsVersion::V1_3));
        assert_eq!(s.load_balance_hosts, Some(LoadBalanceHosts::Random));
        let pairs: Vec<(String, u16)> = s.targets().unwrap().into_iter().map(|t| (t.host, t.port)).collect();
        assert_eq!(pairs, [("h1".to_string(), 5432), ("h2".to_string(), 5433)]);
        assert_eq!(s.redacted(), "postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write");
        let kv = ConnectionSettings::parse("host=h1,h2 port=5432,5433 target_session_attrs=prefer-standby").unwrap();
        assert_eq!(kv.targets().unwrap(), s.targets().unwrap());
        assert_eq!(kv.target_session_attrs, Some(TargetSessionAttrs::PreferStandby));
        let mismatch = ConnectionSettings::parse("host=a,b,c port=1,2").unwrap();
        assert!(mismatch.targets().unwrap_err().0.contains("2 ports are given for 3 host(s)"));
        let addressed = ConnectionSettings::parse("host=db.example.com,other hostaddr=10.0.0.5,::1 port=6432").unwrap();
        let targets = addressed.targets().unwrap();
        assert_eq!(targets[0].label(), "db.example.com:6432 (address 10.0.0.5)");
        assert_eq!(targets[1].hostaddr, Some("::1".parse().unwrap()));
        assert_eq!(
            ConnectionSettings::parse("hostaddr=127.0.0.1").unwrap().targets().unwrap()[0].label(),
            "127.0.0.1:5432"
        );
        assert!(ConnectionSettings::parse("host=a,b hostaddr=10.0.0.1").unwrap().targets().is_err());
        assert!(ConnectionSettings::parse("host=a hostaddr=hunter2").unwrap_err().to_string().contains("hostaddr"));

        for bad in [
            "host=h target_session_attrs=master",
            "host=h channel_binding=always",
            "host=h gssencmode=require",
            "host=h sslpassword=hunter2",
            "host=h sslcrl=/crl.pem",
            "host=h require_auth=scram-sha-256",
            "host=h sslcertmode=require",
            "host=h client_encoding=LATIN1",
            "host=h ssl_max_protocol_version=SSLv3",
        ] {
            let e = ConnectionSettings::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
            let key = bad.split_whitespace().nth(1).unwrap().split('=').next().unwrap();
            assert!(e.contains(key), "{bad}: the message should name {key}: {e}");
        }
        // A value that is not a word is not shown: a typo may run the password into it (operator
        // re-check: `sslmode=require?password=...` printed it back).
        for typo in [
            "postgresql://u@h/db?sslmode=require?password=hunter2",
            "postgresql://u@h/db?connect_timeout=5;password=hunter2",
            "host=h target_session_attrs='any password=hunter2'",
            "host=h channel_binding=require,password=hunter2",
        ] {
            let e = ConnectionSettings::parse(typo).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && e.contains("not shown"), "{typo}: {e}");
        }
        assert!(ConnectionSettings::parse("host=h sslmode=requre").unwrap_err().to_string().contains("`requre`"));
        let unknown = ConnectionSettings::parse("host=h sslbogus=1").unwrap_err().to_string();
        for listed in ["channel_binding", "target_session_attrs", "sslcert", "sslkey", "service"] {
            assert!(unknown.contains(listed), "{unknown}");
        }
        // Accepted values that ask for nothing shale would not do.
        ConnectionSettings::parse("host=h client_encoding=UTF8 sslcertmode=allow gssencmode=disable krbsrvname=x")
            .unwrap();
    }

    #[test]
    fn service_then_environment_then_defaults() {
        let dir = std::env::temp_dir().join(format!("shale-service-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let user_file = dir.join("user.conf");
        std::fs::write(
            &user_file,
            "[app]\nhost=svc-host\nport=6000\ndbname=svc_db\nuser=svc_user\ntarget_session_attrs=read-write\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("sys")).unwrap();
        std::fs::write(dir.join("sys/pg_service.conf"), "[sys]\nhost=sys-host\n[app]\nhost=not-used\n").unwrap();
        let file = user_file.to_string_lossy().into_owned();
        let sysconf = dir.join("sys").to_string_lossy().into_owned();
        let env = |service: Option<&'static str>| {
            let (file, sysconf) = (file.clone(), sysconf.clone());
            move |k: &str| match k {
                "PGSERVICEFILE" => Some(file.clone()),
                "PGSYSCONFDIR" => Some(sysconf.clone()),
                "PGSERVICE" => service.map(str::to_string),
                "PGDATABASE" => Some("env_db".to_string()),
                "PGSSLMODE" => Some("disable".to_string()),
                _ => None,
            }
        };
        // The connection string wins, then the service, then the environment.
        let mut s = ConnectionSettings::parse("service=app user=explicit").unwrap();
        s.fill_from_env(&env(None)).unwrap();
        assert_eq!(s.hosts, ["svc-host"]);
        assert_eq!(s.ports, [6000]);
        assert_eq!(s.user.as_deref(), Some("explicit"));
        assert_eq!(s.dbname.as_deref(), Some("svc_db"), "the service's dbname beats PGDATABASE, as in libpq");
        assert_eq!(s.target_session_attrs, Some(TargetSessionAttrs::ReadWrite));
        assert_eq!(s.sslmode, Some(SslMode::Disable));
        // PGSERVICE names it too; the system file is read when the user's file lacks the service.
        let mut s = ConnectionSettings::default();
        s.fill_from_env(&env(Some("sys"))).unwrap();
        assert_eq!(s.hosts, ["sys-host"]);
        assert_eq!(s.dbname.as_deref(), Some("env_db"));
        let e = ConnectionSettings::parse("service=nope").unwrap().fill_from_env(&env(None)).unwrap_err().to_string();
        assert!(e.contains("service `nope` is not defined") && e.contains("user.conf"), "{e}");
        // A bad line of the service is reported with its file and line, without its text.
        std::fs::write(&user_file, "[app]\npassword=hunter2\nsslmode=hunter2\n").unwrap();
        let e = ConnectionSettings::parse("service=app").unwrap().fill_from_env(&env(None)).unwrap_err().to_string();
        assert!(e.contains("user.conf, line 3"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An empty file name is none given, as libpq reads it (a templated URL whose variable was
    /// left unset; the re-check of real servers: a file named "" could not be read).
    #[test]
    fn empty_certificate_names_are_none() {
        let s = ConnectionSettings::parse("postgresql://h/db?sslmode=require&sslrootcert=&sslcert=&sslkey=").unwrap();
        assert_eq!((s.sslrootcert, s.sslcert, s.sslkey), (None, None, None));
    }

    #[test]
    fn client_certificate_defaults_like_libpq() {
        let home = std::env::temp_dir().join(format!("shale-home-{}", std::process::id()));
        std::fs::create_dir_all(home.join(".postgresql")).unwrap();
        let home_text = home.to_string_lossy().into_owned();
        let env = |k: &str| (k == "HOME").then(|| home_text.clone());
        let mut none = ConnectionSettings::parse("host=h").unwrap();
        none.fill_from_env(&env).unwrap();
        assert_eq!((none.sslcert, none.sslkey), (None, None), "no certificate file: no client certificate");
        std::fs::write(home.join(".postgresql/postgresql.crt"), "x").unwrap();
        let mut found = ConnectionSettings::parse("host=h").unwrap();
        found.fill_from_env(&env).unwrap();
        assert_eq!(found.sslcert, Some(format!("{home_text}/.postgresql/postgresql.crt")));
        assert_eq!(found.sslkey, Some(format!("{home_text}/.postgresql/postgresql.key")));
        let mut given = ConnectionSettings::parse("host=h sslcert=/mine.crt").unwrap();
        given.fill_from_env(&env).unwrap();
        assert_eq!(given.sslcert.as_deref(), Some("/mine.crt"));
        assert_eq!(given.sslkey, Some(format!("{home_text}/.postgresql/postgresql.key")));
        // The default root certificates, where the file is (checked then in every TLS mode).
        assert_eq!(none.sslrootcert, None);
        std::fs::write(home.join(".postgresql/root.crt"), "x").unwrap();
        let mut rooted = ConnectionSettings::parse("host=h sslmode=require").unwrap();
        rooted.fill_from_env(&env).unwrap();
        assert_eq!(rooted.sslrootcert, Some(format!("{home_text}/.postgresql/root.crt")));
        let mut own = ConnectionSettings::parse("host=h sslrootcert=/provider-ca.pem").unwrap();
        own.fill_from_env(&env).unwrap();
        assert_eq!(own.sslrootcert.as_deref(), Some("/provider-ca.pem"));
        std::fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn pg_variables_for_the_new_parameters() {
        let env = |k: &str| match k {
            "PGCHANNELBINDING" => Some("require".to_string()),
            "PGTARGETSESSIONATTRS" => Some("standby".to_string()),
            "PGSSLCERT" => Some("/c.crt".to_string()),
            "PGSSLKEY" => Some("/c.key".to_string()),
            _ => None,
        };
        let mut s = ConnectionSettings::parse("host=h").unwrap();
        s.fill_from_env(&env).unwrap();
        assert_eq!(s.channel_binding, Some(ChannelBinding::Require));
        assert_eq!(s.target_session_attrs, Some(TargetSessionAttrs::Standby));
        assert_eq!((s.sslcert.as_deref(), s.sslkey.as_deref()), (Some("/c.crt"), Some("/c.key")));
        let exported = s.libpq_env();
        for (var, value) in
            [("PGCHANNELBINDING", "require"), ("PGTARGETSESSIONATTRS", "standby"), ("PGSSLCERT", "/c.crt")]
        {
            assert!(exported.contains(&(var, value.to_string())), "{var} missing from {exported:?}");
        }
        // A variable for a parameter shale refuses is refused, named.
        let bad = |k: &str| (k == "PGSSLCRL").then(|| "/crl.pem".to_string());
        let e = ConnectionSettings::default().fill_from_env(&bad).unwrap_err().to_string();
        assert!(e.contains("PGSSLCRL") && e.contains("sslcrl"), "{e}");
    }

    #[test]
    fn environment_fills_the_gaps_only() {
        let env = |k: &str| match k {
            "PGHOST" => Some("envhost".to_string()),
            "PGPORT" => Some("7000".to_string()),
            "PGUSER" => Some("envuser".to_string()),
            "PGPASSWORD" => Some("envpw".to_string()),
            "PGSSLMODE" => Some("require".to_string()),
            _ => None,
        };
        let mut s = ConnectionSettings::parse("postgresql://urluser@urlhost/db").unwrap();
        s.fill_from_env(&env).unwrap();
        assert_eq!(s.hosts, ["urlhost"]);
        assert_eq!(s.ports, [7000]);
        assert_eq!(s.user.as_deref(), Some("urluser"));
        assert_eq!(s.password.as_deref(), Some("envpw"));
        assert_eq!(s.sslmode, Some(SslMode::Require));
        let mut only_env = ConnectionSettings::default();
        only_env.fill_from_env(&env).unwrap();
        assert_eq!(only_env.redacted(), "postgresql://envuser:***@envhost:7000/?sslmode=require");
    }
}
