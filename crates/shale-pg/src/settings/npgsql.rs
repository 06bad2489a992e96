//! Npgsql's connection strings (`Host=db;Port=5432;Database=app;Username=app;Password=...;SSL
//! Mode=Require`), as an ASP.NET application keeps them (`ConnectionStrings__Default` in its
//! environment, `appsettings.json`): read as the libpq parameters they name, so that a .NET team's
//! setting works as it is (EF Core trial: "unknown parameter Host").

use super::{set_param, ConnectionSettings, SettingsError};

/// What one of Npgsql's keys is to shale.
enum Meaning {
    /// The libpq parameter of the same meaning, its value as Npgsql writes it.
    Libpq(&'static str),
    /// `SSL Mode`, `Channel Binding`, `Target Session Attributes`: libpq's parameter, the value
    /// spelled Npgsql's way (`VerifyFull`, `PreferStandby`).
    Spelled(&'static str),
    /// A setting of Npgsql's own pool or client (`Maximum Pool Size`, `Command Timeout`): shale
    /// opens connections of its own, one at a time.
    Npgsql,
    /// A server setting Npgsql sets on each connection (`Timezone`): sent as libpq's `options`
    /// (`-c TimeZone=UTC`).
    ServerSetting(&'static str),
}

/// Npgsql's keys (lower case, spaces taken out, as Npgsql compares them).
fn meaning(key: &str) -> Option<Meaning> {
    use Meaning::*;
    Some(match key {
        "host" | "server" => Libpq("host"),
        "port" => Libpq("port"),
        "database" | "db" => Libpq("dbname"),
        "username" | "userid" | "user" | "uid" => Libpq("user"),
        "password" | "psw" | "pwd" => Libpq("password"),
        "passfile" => Libpq("passfile"),
        "sslmode" => Spelled("sslmode"),
        "rootcertificate" => Libpq("sslrootcert"),
        "sslcertificate" => Libpq("sslcert"),
        "sslkey" => Libpq("sslkey"),
        "sslpassword" => Libpq("sslpassword"),
        "channelbinding" => Spelled("channel_binding"),
        "targetsessionattributes" => Spelled("target_session_attrs"),
        "loadbalancehosts" => Libpq("load_balance_hosts"),
        "searchpath" => Libpq("search_path"),
        "applicationname" => Libpq("application_name"),
        "options" => Libpq("options"),
        // Seconds, as libpq's connect_timeout and keepalives_idle.
        "timeout" => Libpq("connect_timeout"),
        "keepalive" => Libpq("keepalives_idle"),
        "timezone" => ServerSetting("TimeZone"),
        "gssencryptionmode" => Spelled("gssencmode"),
        "sslnegotiation" => Spelled("sslnegotiation"),
        "requireauth" => Libpq("require_auth"),
        // Certificates are checked as sslmode says (Npgsql 6 and later read it so too).
        "trustservercertificate" | "checkcertificaterevocation" => Npgsql,
        "pooling"
        | "minimumpoolsize"
        | "minpoolsize"
        | "maximumpoolsize"
        | "maxpoolsize"
        | "connectionidlelifetime"
        | "connectionpruninginterval"
        | "connectionlifetime"
        | "commandtimeout"
        | "internalcommandtimeout"
        | "cancellationtimeout"
        | "includeerrordetail"
        | "includeerrordetails"
        | "logparameters"
        | "multiplexing"
        | "maxautoprepare"
        | "autoprepareminusages"
        | "noresetonclose"
        | "enlist"
        | "servercompatibilitymode"
        | "readbuffersize"
        | "writebuffersize"
        | "socketreceivebuffersize"
        | "socketsendbuffersize"
        | "tcpkeepalive"
        | "loadtablecomposites"
        | "useperfcounters"
        | "tcpkeepalivetime"
        | "tcpkeepaliveinterval"
        | "hostrecheckseconds"
        | "arraynullabilitymode"
        | "loadtabletypes"
        | "persistsecurityinfo"
        | "encoding"
        | "clientencoding"
        | "kerberosservicename"
        | "includerealm"
        | "integratedsecurity" => Npgsql,
        _ => return None,
    })
}

/// Why `s` could not be read as `;`-separated `Key=Value` pairs.
enum PairsError {
    /// A pair with no `=` (`Host=db;oops`).
    NoEquals,
    /// A quoted value with no closing quote.
    Unclosed,
    /// Something after a quoted value before the `;`.
    AfterQuote,
}

/// `s` as `;`-separated `Key=Value` pairs, keys in lower case with their spaces taken out (as
/// Npgsql compares them); quoted values may hold `;` and `=`, their quote doubled being the
/// quote itself; `==` in a key is an `=` (ADO.NET's rules).
fn split_pairs(s: &str) -> Result<Vec<(String, String)>, PairsError> {
    let mut found = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ';') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        loop {
            match chars.next() {
                Some('=') if chars.peek() == Some(&'=') => {
                    chars.next();
                    key.push('=');
                }
                Some('=') => break,
                Some(';') | None => return Err(PairsError::NoEquals),
                Some(c) => key.push(c),
            }
        }
        let key: String = key.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        match chars.peek().copied() {
            Some(quote @ ('"' | '\'')) => {
                chars.next();
                loop {
                    match chars.next() {
                        Some(c) if c == quote && chars.peek() == Some(&quote) => {
                            chars.next();
                            value.push(quote);
                        }
                        Some(c) if c == quote => break,
                        Some(c) => value.push(c),
                        None => return Err(PairsError::Unclosed),
                    }
                }
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if chars.peek().is_some_and(|c| *c != ';') {
                    return Err(PairsError::AfterQuote);
                }
            }
            _ => {
                while let Some(&c) = chars.peek() {
                    if c == ';' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                value = value.trim_end().to_string();
            }
        }
        found.push((key, value));
    }
    Ok(found)
}

/// The pairs of `s` where it is an Npgsql connection string whose keys shale all knows: two or
/// more, `;`-separated. Else `None`.
fn pairs(s: &str) -> Option<Vec<(String, String)>> {
    let pairs = split_pairs(s).ok()?;
    (pairs.len() >= 2 && pairs.iter().all(|(k, _)| meaning(k).is_some())).then_some(pairs)
}

/// `s` read as an Npgsql connection string, where it is one: `;`-separated pairs whose keys are
/// all Npgsql's, or whose first key is one of Npgsql's (in any case, as Npgsql compares them) and
/// whose first pair is one pair (libpq's separates its pairs with spaces), where a key shale does
/// not know or a pair it cannot read is an error naming it (Ecto/Laravel/EF Core re-check: `Timezone=UTC` made the whole
/// string read as libpq's, "unknown parameter Host"). Else `None`: a libpq `key=value` string
/// (which separates pairs with spaces: a `;` there is part of a value).
pub(super) fn parse(s: &str) -> Option<Result<ConnectionSettings, SettingsError>> {
    if !s.contains(';') {
        return None;
    }
    // Its first pair is one pair: libpq's separates pairs with spaces, so `host=db password=a;b`
    // is libpq's (a `;` in its password), whatever follows the `;` (review: `password=S3cr;user=x`
    // was read as Npgsql's).
    let first_pair = s.split(';').next().unwrap_or("");
    let pairs_in_first = first_pair.split_whitespace().filter(|t| t.contains('=') && !t.starts_with('=')).count();
    if pairs_in_first > 1 {
        return None;
    }
    if let Some(pairs) = pairs(s) {
        return Some(settings_of(&pairs));
    }
    // Else its first key is one of Npgsql's, in any case.
    let first = first_pair.split('=').next().unwrap_or("").trim();
    meaning(&first.replace(' ', "").to_ascii_lowercase())?;
    Some(match split_pairs(s) {
        Ok(pairs) if pairs.iter().all(|(k, _)| meaning(k).is_some()) => settings_of(&pairs),
        Ok(pairs) => {
            let unknown: Vec<String> = pairs
                .iter()
                .filter(|(k, _)| meaning(k).is_none())
                .map(|(k, _)| match k.chars().all(|c| c.is_ascii_alphanumeric()) {
                    true => format!("`{k}`"),
                    false => "one not shown".into(),
                })
                .collect();
            Err(SettingsError(format!(
                "the Npgsql connection string has a key shale does not know ({}; keys are compared in lower case \
                 without spaces): remove it, or give the libpq parameter it stands for",
                unknown.join(", ")
            )))
        }
        Err(e) => Err(SettingsError(format!(
            "the Npgsql connection string cannot be read: {} (values are not shown: they may hold a password)",
            match e {
                PairsError::NoEquals => "a part between `;` has no `=`",
                PairsError::Unclosed => "a quoted value has no closing quote",
                PairsError::AfterQuote => "something follows a quoted value before its `;`",
            }
        ))),
    })
}

fn settings_of(pairs: &[(String, String)]) -> Result<ConnectionSettings, SettingsError> {
    let mut settings = ConnectionSettings::default();
    // Npgsql's `Host` may give each host its port (`db1:5432,db2:5433`); `Port` is the one of
    // those that give none.
    let mut hosts: Vec<(String, Option<String>)> = Vec::new();
    let mut port = None;
    let mut server_settings: Vec<String> = Vec::new();
    for (key, value) in pairs {
        match meaning(key) {
            Some(Meaning::Libpq("host")) => {
                hosts = value.split(',').map(str::trim).filter(|h| !h.is_empty()).map(host_and_port).collect()
            }
            Some(Meaning::Libpq("port")) => port = Some(value.clone()),
            // A yes or no in Npgsql, a way of choosing in libpq.
            Some(Meaning::Libpq("load_balance_hosts")) => {
                let choice = if value.trim().eq_ignore_ascii_case("true") { "random" } else { "disable" };
                set_param(&mut settings, "load_balance_hosts", choice.into()).map_err(in_npgsql)?
            }
            Some(Meaning::Libpq(name)) => set_param(&mut settings, name, value.clone()).map_err(in_npgsql)?,
            Some(Meaning::Spelled(name)) => set_param(&mut settings, name, libpq_spelling(value)).map_err(in_npgsql)?,
            Some(Meaning::ServerSetting(name)) => {
                let setting = format!("-c {name}={}", value.trim().replace('\\', "\\\\").replace(' ', "\\ "));
                server_settings.push(setting);
            }
            Some(Meaning::Npgsql) | None => {}
        }
    }
    if !server_settings.is_empty() {
        let before = settings.options.take().into_iter();
        settings.options = Some(before.chain(server_settings).collect::<Vec<_>>().join(" "));
    }
    if !hosts.is_empty() {
        let names: Vec<&str> = hosts.iter().map(|(h, _)| h.as_str()).collect();
        set_param(&mut settings, "host", names.join(",")).map_err(in_npgsql)?;
    }
    if hosts.iter().any(|(_, p)| p.is_some()) {
        let default = port.clone().unwrap_or_else(|| "5432".into());
        let ports: Vec<String> = hosts.iter().map(|(_, p)| p.clone().unwrap_or_else(|| default.clone())).collect();
        set_param(&mut settings, "port", ports.join(",")).map_err(in_npgsql)?;
    } else if let Some(port) = port {
        set_param(&mut settings, "port", port).map_err(in_npgsql)?;
    }
    Ok(settings)
}

/// `db1:5432` as its host and port; `db1`, a socket directory or a bare IPv6 address as a host.
fn host_and_port(entry: &str) -> (String, Option<String>) {
    if let Some(inside) = entry.strip_prefix('[') {
        if let Some((host, after)) = inside.split_once(']') {
            return (host.to_string(), after.strip_prefix(':').map(str::to_string));
        }
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => {
            (host.to_string(), Some(port.to_string()))
        }
        _ => (entry.to_string(), None),
    }
}

/// Npgsql's spelling of a value libpq writes in lower case with dashes: `VerifyFull` is
/// `verify-full`, `PreferStandby` is `prefer-standby`, `ReadWrite` is `read-write`.
fn libpq_spelling(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.trim().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('-') {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    // `VerifyCA` is libpq's `verify-ca`, not `verify-c-a`.
    out.replace("c-a", "ca")
}

fn in_npgsql(e: SettingsError) -> SettingsError {
    SettingsError(format!("{} (in the Npgsql connection string, read as libpq's parameters)", e.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{SslMode, TargetSessionAttrs};

    #[test]
    fn an_asp_net_connection_string_is_read_as_libpq_parameters() {
        let s = ConnectionSettings::parse(
            "Host=db.example.com;Port=5433;Database=app;Username=app;Password=\"p;a=ss\"\"w\";SSL Mode=VerifyFull;\
             Root Certificate=/etc/ca.pem;Search Path=ef;Maximum Pool Size=20;Command Timeout=60;Include Error Detail=true",
        )
        .unwrap();
        assert_eq!(s.hosts, ["db.example.com"]);
        assert_eq!(s.ports, [5433]);
        assert_eq!((s.dbname.as_deref(), s.user.as_deref()), (Some("app"), Some("app")));
        assert_eq!(s.password.as_deref(), Some("p;a=ss\"w"));
        assert_eq!(s.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(s.search_path.as_deref(), Some("ef"));
        assert!(!format!("{s:?}").contains("ss\"w"), "the password is never shown");
    }

    #[test]
    fn npgsql_spellings_and_hosts_with_ports() {
        let s = ConnectionSettings::parse(
            "Server=db1:5432,db2;Port=6432;User ID=app;Database=app;SslMode=VerifyCA;Target Session Attributes=PreferStandby;Timeout=7",
        )
        .unwrap();
        assert_eq!(s.hosts, ["db1", "db2"]);
        assert_eq!(s.ports, [5432, 6432]);
        assert_eq!(s.sslmode, Some(SslMode::VerifyCa));
        assert_eq!(s.target_session_attrs, TargetSessionAttrs::parse("prefer-standby"));
        assert_eq!(s.connect_timeout, Some(std::time::Duration::from_secs(7)));
        // A value Npgsql's way that libpq has no word for is refused, naming where it was read.
        let e = ConnectionSettings::parse("Host=db;Username=app;SSL Mode=Sometimes").unwrap_err();
        assert!(e.0.contains("Npgsql connection string"), "{e}");
    }

    /// Npgsql's session and security keys are read; one shale does not know, or a pair it cannot
    /// read, in a string written as Npgsql writes its keys, is said so (Ecto/Laravel/EF Core
    /// re-check: `Timezone=UTC` made the string read as libpq's, "unknown parameter Host").
    #[test]
    fn every_key_of_an_npgsql_string_is_read_or_named() {
        let s = ConnectionSettings::parse(
            "Host=db;Username=app;Password=\"a;b\";Timezone=UTC;Tcp Keepalive Time=30000;SSL Negotiation=Postgres;GSS Encryption Mode=Disable",
        )
        .unwrap();
        assert_eq!(s.options.as_deref(), Some("-c TimeZone=UTC"));
        assert_eq!(s.password.as_deref(), Some("a;b"));
        let e = ConnectionSettings::parse("Host=db;Username=app;Password=secret1;Frobnicate=yes").unwrap_err();
        assert!(e.0.contains("a key shale does not know (`frobnicate`"), "{e}");
        assert!(!e.0.contains("secret1"), "{e}");
        let e = ConnectionSettings::parse("Host=db;Username=app;Password=\"secret2").unwrap_err();
        assert!(e.0.contains("a quoted value has no closing quote") && !e.0.contains("secret2"), "{e}");
        let e = ConnectionSettings::parse("Host=db;Username=app;Require Auth=scram-sha-256").unwrap_err();
        assert!(e.0.contains("require_auth"), "{e}");
        // In lower case too, as Npgsql compares keys (round 3: read as libpq's one pair, its
        // host holding the password, which the error showed).
        let e = ConnectionSettings::parse("host=127.0.0.1;port=5432;password=hunter2;frobnicate=1").unwrap_err();
        assert!(e.0.contains("(`frobnicate`") && !e.0.contains("hunter2"), "{e}");
        let e = ConnectionSettings::parse("host=db;pasword=hunter3").unwrap_err();
        assert!(e.0.contains("(`pasword`") && !e.0.contains("hunter3"), "{e}");
        let s = ConnectionSettings::parse("port=5433;Host=db;Load Table Composites=true").unwrap();
        assert_eq!((s.hosts.as_slice(), s.ports.as_slice()), (["db".to_string()].as_slice(), [5433].as_slice()));
    }

    /// A libpq string with a `;` in a value stays libpq's; so does one whose keys are not all
    /// Npgsql's.
    #[test]
    fn libpq_strings_with_semicolons_stay_libpq_strings() {
        let s = ConnectionSettings::parse("host=db password=a;b dbname=app").unwrap();
        assert_eq!(s.password.as_deref(), Some("a;b"));
        // A libpq string split wrong puts `=` in a host: refused, the value unshown.
        let e = ConnectionSettings::parse("hostaddr=10.0.0.1 host=db;password=secret4").unwrap_err();
        assert!(!e.0.contains("secret4"), "{e}");
        // A `;` in a libpq password before a word Npgsql has as a key (review).
        // A user or database name holding `;` or `=` is refused unshown (round 4).
        for split_wrong in [
            "host=h user=app;password=hunter5",
            "dbname=d;user=app;password=hunter5 host=h",
            "Host=h;Username=app=hunter5",
        ] {
            let e = ConnectionSettings::parse(split_wrong).unwrap_err();
            assert!(!e.0.contains("hunter5"), "{split_wrong}: {e}");
        }
        let s = ConnectionSettings::parse("host=db port=5432 password=S3cr;user=postgres").unwrap();
        assert_eq!(
            (s.password.as_deref(), s.hosts.as_slice()),
            (Some("S3cr;user=postgres"), ["db".to_string()].as_slice())
        );
        assert!(pairs("host=db;sslrootcert=/ca.pem").is_none(), "sslrootcert is libpq's, not Npgsql's");
        assert!(pairs("Host=db").is_none(), "one pair says too little");
    }
}
