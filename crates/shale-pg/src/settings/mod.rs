//! Connection settings the way libpq reads them: a URL or `key=value` string, with the PG*
//! environment variables as defaults for whatever the string leaves out. Passwords never appear in
//! anything this module formats.

use std::fmt;
use std::time::Duration;

use percent_encoding::percent_decode_str;

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
            "require" => SslMode::Require,
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

/// Where to connect and how. Built from a URL or key=value string, then completed from PG* variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectionSettings {
    pub hosts: Vec<String>,
    pub ports: Vec<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub dbname: Option<String>,
    pub sslmode: Option<SslMode>,
    pub sslrootcert: Option<String>,
    pub application_name: Option<String>,
    /// libpq's `connect_timeout`: None for the default (10 s, where libpq waits forever), zero
    /// for no limit.
    pub connect_timeout: Option<Duration>,
    pub options: Option<String>,
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

    /// Parse `postgres://` / `postgresql://` URLs and libpq `key=value` strings.
    pub fn parse(s: &str) -> Result<ConnectionSettings, SettingsError> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("postgresql://").or_else(|| s.strip_prefix("postgres://")) {
            parse_url(rest)
        } else if s.contains('=') {
            parse_key_values(s)
        } else if s.contains("://") {
            Err(SettingsError("the URL scheme must be postgres:// or postgresql://".into()))
        } else {
            Err(SettingsError(
                "expected a postgresql:// URL or key=value pairs such as `host=localhost dbname=app`".into(),
            ))
        }
    }

    /// The URL in environment variable `var` (else only the PG* variables), completed from the
    /// PG* variables, as an application reads its database setting at start-up.
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

    /// Fill what is missing from libpq's environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
    /// PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGAPPNAME, PGCONNECT_TIMEOUT, PGOPTIONS).
    pub fn fill_from_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        if self.hosts.is_empty() {
            if let Some(h) = get("PGHOST") {
                self.hosts = h.split(',').map(str::to_string).collect();
            }
        }
        if self.ports.is_empty() {
            if let Some(p) = get("PGPORT") {
                self.ports = parse_ports(&p)?;
            }
        }
        self.user = self.user.take().or_else(|| get("PGUSER"));
        self.password = self.password.take().or_else(|| get("PGPASSWORD"));
        self.dbname = self.dbname.take().or_else(|| get("PGDATABASE"));
        if self.sslmode.is_none() {
            if let Some(m) = get("PGSSLMODE") {
                self.sslmode = Some(parse_sslmode(&m)?);
            }
        }
        self.sslrootcert = self.sslrootcert.take().or_else(|| get("PGSSLROOTCERT"));
        self.application_name = self.application_name.take().or_else(|| get("PGAPPNAME"));
        self.options = self.options.take().or_else(|| get("PGOPTIONS"));
        if self.connect_timeout.is_none() {
            if let Some(t) = get("PGCONNECT_TIMEOUT") {
                self.connect_timeout = Some(parse_timeout(&t)?);
            }
        }
        self.password_from_pgpass(env);
        Ok(())
    }

    /// With no password given, look it up in the password file (PGPASSFILE, else ~/.pgpass) as libpq
    /// does: `host:port:database:user:password` lines, `*` matching anything, `\:` and `\\` escaped,
    /// and the file ignored when others can read it.
    fn password_from_pgpass(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        if self.password.is_some() {
            return;
        }
        let Some(path) = env("PGPASSFILE").or_else(|| env("HOME").map(|h| format!("{h}/.pgpass"))) else { return };
        let Ok(meta) = std::fs::metadata(&path) else { return };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                return;
            }
        }
        let Ok(text) = std::fs::read_to_string(&path) else { return };
        let hosts = self.effective_hosts();
        let host = hosts.first().map(String::as_str).unwrap_or("localhost");
        // A Unix socket directory matches the name `localhost`, as in libpq.
        let host = if host.starts_with('/') { "localhost" } else { host };
        let port = self.ports.first().copied().unwrap_or(5432).to_string();
        let user = self.user.clone().or_else(|| env("USER")).unwrap_or_default();
        let db = self.dbname.clone().unwrap_or_else(|| user.clone());
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()) {
            let fields = pgpass_fields(line);
            if fields.len() < 5 {
                continue;
            }
            let matches = |field: &str, value: &str| field == "*" || field == value;
            if matches(&fields[0], host)
                && matches(&fields[1], &port)
                && matches(&fields[2], &db)
                && matches(&fields[3], &user)
            {
                self.password = Some(fields[4..].join(":"));
                return;
            }
        }
    }

    /// The settings as a URL with the password replaced by `***`: safe to print and log.
    pub fn redacted(&self) -> String {
        let mut out = String::from("postgresql://");
        if let Some(user) = &self.user {
            out.push_str(user);
            if self.password.is_some() {
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
                if h.starts_with('/') {
                    params.push(format!("host={h}"));
                    port.map(|p| format!(":{p}")).unwrap_or_default()
                } else {
                    match port {
                        Some(p) => format!("{h}:{p}"),
                        None => h.clone(),
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
        if !params.is_empty() {
            out.push('?');
            out.push_str(&params.join("&"));
        }
        out
    }

    /// The settings as libpq environment variables, for running libpq tools (pg_dump) without
    /// putting a password on their command line.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("PGHOST", self.effective_hosts().join(","))];
        if !self.ports.is_empty() {
            env.push(("PGPORT", self.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",")));
        }
        let fields = [
            ("PGUSER", &self.user),
            ("PGPASSWORD", &self.password),
            ("PGDATABASE", &self.dbname),
            ("PGSSLROOTCERT", &self.sslrootcert),
            ("PGOPTIONS", &self.options),
        ];
        env.extend(fields.into_iter().filter_map(|(k, v)| v.clone().map(|v| (k, v))));
        if let Some(mode) = self.sslmode {
            env.push(("PGSSLMODE", mode.as_str().to_string()));
        }
        env
    }

    pub fn effective_sslmode(&self) -> SslMode {
        self.sslmode.unwrap_or_default()
    }

    /// The host actually used: the given ones, else the local socket directory when it exists, else localhost.
    pub fn effective_hosts(&self) -> Vec<String> {
        if !self.hosts.is_empty() {
            return self.hosts.clone();
        }
        for dir in ["/var/run/postgresql", "/tmp"] {
            if std::path::Path::new(dir).join(".s.PGSQL.5432").exists() {
                return vec![dir.to_string()];
            }
        }
        vec!["localhost".to_string()]
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
        "host" | "hostaddr" => settings.hosts = value.split(',').map(str::to_string).collect(),
        "port" => settings.ports = parse_ports(&value)?,
        "user" => settings.user = Some(value),
        "password" => settings.password = Some(value),
        "dbname" => settings.dbname = Some(value),
        "sslmode" => settings.sslmode = Some(parse_sslmode(&value)?),
        "sslrootcert" => settings.sslrootcert = Some(value),
        "application_name" => settings.application_name = Some(value),
        "connect_timeout" => settings.connect_timeout = Some(parse_timeout(&value)?),
        "options" => settings.options = Some(value),
        "keepalives" => settings.keepalives = Some(value.trim() != "0"),
        "keepalives_idle" => settings.keepalives_idle = Some(parse_seconds(&value, "keepalives_idle")?),
        "keepalives_interval" => settings.keepalives_interval = Some(parse_seconds(&value, "keepalives_interval")?),
        "keepalives_count" => {
            settings.keepalives_count = Some(
                value
                    .trim()
                    .parse()
                    .map_err(|_| SettingsError(format!("keepalives_count `{value}` is not a whole number")))?,
            )
        }
        "tcp_user_timeout" => {
            let ms: u64 = value
                .trim()
                .parse()
                .map_err(|_| SettingsError(format!("tcp_user_timeout `{value}` is not a number of milliseconds")))?;
            settings.tcp_user_timeout = Some(Duration::from_millis(ms));
        }
        // Accepted by libpq and harmless to ignore here.
        "fallback_application_name"
        | "target_session_attrs"
        | "channel_binding"
        | "gssencmode"
        | "sslcompression"
        | "sslsni" => {}
        other => {
            // Only a plain word is echoed back: anything else may be a mis-split password.
            let shown = if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                format!("`{other}`")
            } else {
                "in the connection string".to_string()
            };
            return Err(SettingsError(format!(
                "unknown parameter {shown}; shale understands host, port, user, password, dbname, sslmode, sslrootcert, application_name, connect_timeout, options, keepalives, keepalives_idle, keepalives_interval, keepalives_count, tcp_user_timeout"
            )));
        }
    }
    Ok(())
}

fn parse_sslmode(v: &str) -> Result<SslMode, SettingsError> {
    SslMode::parse(v).ok_or_else(|| {
        SettingsError(format!("sslmode `{v}` is not one of disable, allow, prefer, require, verify-ca, verify-full"))
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
        .map_err(|_| SettingsError(format!("{key} `{v}` is not a number of seconds")))
}

fn parse_timeout(v: &str) -> Result<Duration, SettingsError> {
    v.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| SettingsError(format!("connect_timeout `{v}` is not a number of seconds")))
}

fn decode(s: &str, what: &str) -> Result<String, SettingsError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| SettingsError(format!("the {what} is not valid percent-encoded UTF-8")))
}

fn parse_url(rest: &str) -> Result<ConnectionSettings, SettingsError> {
    let mut settings = ConnectionSettings::default();
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = main.split_once('/').unwrap_or((main, ""));
    // As in libpq, user info ends at the first `/` or `?`. A password holding one of them unencoded
    // would be read as host, port or database and then shown in messages: refuse it instead.
    if !authority.contains('@') && (path.contains('@') || query.contains('@')) {
        return Err(SettingsError(
            "the URL's user name or password seems to contain an unencoded `/`, `?` or `#`; percent-encode them (/ as %2F, ? as %3F, # as %23, @ as %40)".into(),
        ));
    }
    let hostspec = match authority.rsplit_once('@') {
        Some((userinfo, hostspec)) => {
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
            hostspec
        }
        None => authority,
    };
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
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(v, "query parameter")?;
        let key = decode(k, "query parameter")?;
        if key == "host" && value.starts_with('/') && !settings.hosts.is_empty() {
            // `postgresql://localhost:5432/db?host=/socket/dir`: the parameter wins, as in libpq.
            settings.hosts.clear();
        }
        set_param(&mut settings, &key, value)?;
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

#[cfg(test)]
mod tests {
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
    fn errors_never_quote_the_password() {
        for bad in [
            "postgresql://u:hunter2@h:notaport/db",
            "postgresql://u:abc/hunter2@h/db",
            "postgresql://u:123/hunter2@h/db",
            "postgresql://u:pa?hunter2@h/db",
            "postgresql://u:hunter2@h/db?sslmode=sometimes",
            "postgresql://u:hunter2@h/db?bogus=1",
            "mysql://u:hunter2@h/db",
            "host=h password=hunter2 sslmode",
        ] {
            let e = ConnectionSettings::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
        }
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
