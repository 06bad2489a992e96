//! Connecting to real PostgreSQL servers (started by shale-testkit): TLS per sslmode, password
//! authentication and redaction, unreachable servers, waiting for a starting server, session
//! settings, key=value strings and the PG* environment; a self-signed certificate given as its
//! own root, channel binding, target_session_attrs with a streaming standby, client
//! certificates and the service file.
//!
//! The TLS tests need the `openssl` command-line tool; without it they fail (they do not skip).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use shale_pg::{
    connect, connect_waiting, Client, ConnectError, ConnectionSettings, ServerRole, SessionSettings, SslMode,
};
use shale_testkit::{free_port, shared_cluster, Cluster, ClusterOptions, TlsFiles};
use tokio_postgres::SimpleQueryMessage;

// ---------------------------------------------------------------------------------------------
// Helpers

fn settings(s: &str) -> ConnectionSettings {
    ConnectionSettings::parse(s).unwrap_or_else(|e| panic!("parsing {s:?}: {e}"))
}

async fn must_connect(s: &ConnectionSettings, what: &str) -> Client {
    connect(s, &SessionSettings::default()).await.unwrap_or_else(|e| panic!("{what}: expected to connect, got: {e}"))
}

async fn must_fail(s: &ConnectionSettings, what: &str) -> ConnectError {
    match connect(s, &SessionSettings::default()).await {
        Ok(_) => panic!("{what}: expected the connection to fail, but it succeeded"),
        Err(e) => e,
    }
}

/// The first column of the first row of a simple query, as text.
async fn scalar(client: &Client, sql: &str) -> String {
    let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("").to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

async fn ssl_of(client: &Client) -> String {
    scalar(client, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").await
}

fn assert_one_line(e: &ConnectError) {
    let text = e.to_string();
    assert!(!text.contains('\n'), "not one line: {text:?}");
    let form = match e.settings_problem {
        true => "cannot connect to ",
        false => "could not connect to ",
    };
    assert!(text.starts_with(form), "unexpected form: {text}");
}

/// A directory of throwaway certificates made with the openssl CLI; removed on drop.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new(tag: &str) -> Pki {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "shale-pg-tls-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        fs::write(
            dir.join("req.cnf"),
            "[req]\n\
             distinguished_name = dn\n\
             prompt = no\n\
             [dn]\n\
             CN = placeholder\n\
             [ca_ext]\n\
             basicConstraints = critical, CA:TRUE\n\
             keyUsage = critical, keyCertSign, cRLSign\n\
             subjectKeyIdentifier = hash\n",
        )
        .unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl").args(args).current_dir(&self.dir).output().unwrap_or_else(|e| {
            panic!("the `openssl` command-line tool is required by these tests and could not be run: {e}")
        });
        assert!(
            out.status.success(),
            "openssl {} failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A self-signed CA with an EC P-256 key: `<name>.pem` and `<name>.key`. Returns the certificate path.
    fn ca(&self, name: &str) -> PathBuf {
        self.ca_with(name, &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
    }

    /// A self-signed CA with the key `key_args` make (`-newkey ...`).
    fn ca_with(&self, name: &str, key_args: &[&str]) -> PathBuf {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let subj = format!("/CN=shale test CA {name}");
        let mut args = vec!["req", "-x509", "-new"];
        args.extend(key_args);
        args.extend([
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &subj,
            "-config",
            "req.cnf",
            "-extensions",
            "ca_ext",
        ]);
        self.openssl(&args);
        self.path(&pem)
    }

    /// A self-signed certificate used as the server's own, made the way many guides and managed
    /// setups make one (`openssl req -x509 -newkey ... -subj /CN=<cn>`, the system's openssl.cnf):
    /// it comes out as a CA (basicConstraints CA:TRUE) without subjectAltName.
    fn self_signed(&self, name: &str, cn: &str) -> TlsFiles {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let subj = format!("/CN={cn}");
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &subj,
        ]);
        TlsFiles { cert: self.path(&pem), key: self.path(&key) }
    }

    /// The signature algorithm of a certificate, as openssl names it.
    fn signature_algorithm(&self, cert: &Path) -> String {
        let out = Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(cert).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().find_map(|l| l.trim().strip_prefix("Signature Algorithm: ")).unwrap_or("?").to_string()
    }

    /// The text of `openssl x509 -noout -ext <ext>` for a certificate.
    fn extension(&self, cert: &Path, ext: &str) -> String {
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-ext", ext, "-in"])
            .arg(cert)
            .output()
            .unwrap_or_else(|e| panic!("running openssl: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A server certificate for `cn` with the given subjectAltName, signed by CA `ca`.
    fn server(&self, ca: &str, name: &str, cn: &str, san: &str) -> TlsFiles {
        self.issue(ca, name, cn, &format!("extendedKeyUsage = serverAuth\nsubjectAltName = {san}\n"), &[])
    }

    /// A client certificate for user `cn`, signed by CA `ca`.
    fn client(&self, ca: &str, name: &str, cn: &str) -> TlsFiles {
        self.issue(ca, name, cn, "extendedKeyUsage = clientAuth\n", &[])
    }

    /// A new EC P-256 key `key` and a signing request `csr` for `cn`.
    fn request(&self, key: &str, csr: &str, cn: &str) {
        let subj = format!("/CN={cn}");
        self.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            key,
            "-out",
            csr,
            "-subj",
            &subj,
            "-config",
            "req.cnf",
        ]);
    }

    /// A server certificate for `cn` of X.509 version 1, signed by CA `ca`: what `openssl x509 -req`
    /// makes without `-extfile` (no extensions at all).
    fn version_1(&self, ca: &str, name: &str, cn: &str) -> TlsFiles {
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        self.request(&key, &csr, cn);
        self.sign(ca, &csr, &pem, &[]);
        set_mode(&self.path(&key), 0o600);
        TlsFiles { cert: self.path(&pem), key: self.path(&key) }
    }

    /// The request `csr` signed by CA `ca` into `pem`, valid two days, with the extra `openssl
    /// x509` arguments `extra` (an `-extfile`: without one, a version 1 certificate).
    fn sign(&self, ca: &str, csr: &str, pem: &str, extra: &[&str]) {
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            pem,
            "-days",
            "2",
        ];
        args.extend(extra);
        self.openssl(&args);
    }

    /// A certificate for `cn` with the extension lines `ext_lines` (besides the usual ones), signed by CA
    /// `ca` with the extra `openssl x509` arguments `sign_args` (e.g. `-sha384`).
    fn issue(&self, ca: &str, name: &str, cn: &str, ext_lines: &str, sign_args: &[&str]) -> TlsFiles {
        let (key, csr, pem, ext) =
            (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        fs::write(
            self.path(&ext),
            format!(
                "basicConstraints = critical, CA:FALSE\n\
                 keyUsage = critical, digitalSignature, keyEncipherment\n\
                 subjectKeyIdentifier = hash\n\
                 authorityKeyIdentifier = keyid\n\
                 {ext_lines}"
            ),
        )
        .unwrap();
        self.request(&key, &csr, cn);
        let mut extra = vec!["-extfile", ext.as_str()];
        extra.extend(sign_args);
        self.sign(ca, &csr, &pem, &extra);
        set_mode(&self.path(&key), 0o600);
        TlsFiles { cert: self.path(&pem), key: self.path(&key) }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn start_tls_cluster(tls: TlsFiles) -> Cluster {
    Cluster::start_temporary(ClusterOptions { tls: Some(tls), ..Default::default() })
        .unwrap_or_else(|e| panic!("starting a TLS cluster: {e}"))
}

fn with_mode(cluster: &Cluster, host: &str, mode: &str, root: Option<&Path>) -> ConnectionSettings {
    let mut s = settings(&format!("postgresql://postgres@{host}:{}/postgres?sslmode={mode}", cluster.port()));
    s.sslrootcert = root.map(|p| p.to_string_lossy().into_owned());
    s
}

fn assert_tls_failure(e: &ConnectError, what: &str) {
    assert_one_line(e);
    let text = e.to_string();
    let lower = text.to_lowercase();
    assert!(
        lower.contains("tls") && lower.contains("certificate"),
        "{what}: the message should say TLS/certificate: {text}"
    );
    assert!(
        text.contains("sslmode") && text.contains("sslrootcert"),
        "{what}: the message should point at sslmode/sslrootcert: {text}"
    );
    assert!(!e.transient, "{what}: a certificate failure is not transient");
    assert!(e.refused_as_given(), "{what}: the settings' problem (exit 2, not 3): {text}");
}

// ---------------------------------------------------------------------------------------------
// 1. TLS

/// A server whose certificate names localhost and 127.0.0.1, signed by our CA.
#[tokio::test]
async fn tls_modes_against_a_correctly_named_certificate() {
    let pki = Pki::new("right");
    let ca = pki.ca("ca");
    let other_ca = pki.ca("other_ca");
    let tls = pki.server("ca", "server", "localhost", "DNS:localhost, IP:127.0.0.1");
    let cluster = start_tls_cluster(tls);

    let client = must_connect(&with_mode(&cluster, "127.0.0.1", "require", None), "require").await;
    assert_eq!(ssl_of(&client).await, "t", "sslmode=require must use TLS");

    let client = must_connect(&with_mode(&cluster, "127.0.0.1", "disable", None), "disable").await;
    assert_eq!(ssl_of(&client).await, "f", "sslmode=disable must not use TLS");

    let client = must_connect(&with_mode(&cluster, "127.0.0.1", "prefer", None), "prefer").await;
    assert_eq!(ssl_of(&client).await, "t", "sslmode=prefer must use TLS when offered");

    // No sslmode at all means prefer.
    let client = must_connect(&settings(&cluster.tcp_url("postgres")), "default sslmode").await;
    assert_eq!(ssl_of(&client).await, "t", "the default sslmode (prefer) must use TLS when offered");

    let client =
        must_connect(&with_mode(&cluster, "localhost", "verify-full", Some(&ca)), "verify-full, host localhost").await;
    assert_eq!(ssl_of(&client).await, "t");

    let client = must_connect(
        &with_mode(&cluster, "127.0.0.1", "verify-full", Some(&ca)),
        "verify-full, host 127.0.0.1 (IP SAN)",
    )
    .await;
    assert_eq!(ssl_of(&client).await, "t");

    let client =
        must_connect(&with_mode(&cluster, "127.0.0.1", "verify-ca", Some(&ca)), "verify-ca with the right CA").await;
    assert_eq!(ssl_of(&client).await, "t");

    // The root file may also be given in the URL.
    let mut url = with_mode(&cluster, "localhost", "verify-full", None);
    url = settings(&format!("{}&sslrootcert={}", url.redacted(), ca.to_string_lossy()));
    must_connect(&url, "verify-full, sslrootcert in the URL").await;

    let e =
        must_fail(&with_mode(&cluster, "127.0.0.1", "verify-ca", Some(&other_ca)), "verify-ca with an unrelated CA")
            .await;
    assert_tls_failure(&e, "verify-ca with an unrelated CA");

    let e = must_fail(
        &with_mode(&cluster, "localhost", "verify-full", Some(&other_ca)),
        "verify-full with an unrelated CA",
    )
    .await;
    assert_tls_failure(&e, "verify-full with an unrelated CA");

    // With a root certificate file, require (and prefer) check the chain too, as libpq does: the
    // provider's CA beside sslmode=require is not there for nothing.
    for mode in ["require", "prefer"] {
        let e = must_fail(&with_mode(&cluster, "127.0.0.1", mode, Some(&other_ca)), "with an unrelated CA").await;
        assert_tls_failure(&e, &format!("{mode} with an unrelated CA"));
        let client = must_connect(&with_mode(&cluster, "127.0.0.1", mode, Some(&ca)), "with the right CA").await;
        assert_eq!(ssl_of(&client).await, "t");
    }

    // Without sslrootcert the public web roots are used, which do not know our CA; the message
    // says what it was checked against.
    let e =
        must_fail(&with_mode(&cluster, "localhost", "verify-full", None), "verify-full with the default roots").await;
    assert_tls_failure(&e, "verify-full with the default roots");
    assert!(e.reason.contains("no sslrootcert was given"), "{e}");

    // sslrootcert=system: verify-full by default, and a weaker sslmode refused beside it, as libpq
    // 16 does (the re-trial of real servers: require and prefer connected, checking nothing).
    let system = |mode: Option<&str>| {
        let mut s = with_mode(&cluster, "localhost", mode.unwrap_or("prefer"), None);
        s.sslmode = mode.map(|m| SslMode::parse(m).unwrap());
        s.sslrootcert = Some("system".into());
        s
    };
    let e = must_fail(&system(None), "sslrootcert=system, no sslmode").await;
    assert_tls_failure(&e, "sslrootcert=system, no sslmode");
    assert!(e.reason.contains("operating system's CAs (sslrootcert=system"), "{e}");
    for mode in ["require", "prefer", "verify-ca"] {
        let e = must_fail(&system(Some(mode)), "sslrootcert=system with a weak sslmode").await;
        assert!(e.settings_problem && e.hosts.is_empty(), "{mode}: {e}");
        assert!(e.to_string().contains(&format!("sslmode={mode} may not be used with sslrootcert=system")), "{e}");
    }

    // A missing root file is reported as such.
    let missing = pki.path("no-such-ca.pem");
    let e = must_fail(
        &with_mode(&cluster, "localhost", "verify-full", Some(&missing)),
        "verify-full with a missing sslrootcert",
    )
    .await;
    assert_one_line(&e);
    assert!(e.reason.contains("sslrootcert") && e.reason.contains("no-such-ca.pem"), "{e}");
    assert!(!e.transient);
}

/// A server whose certificate is issued by our CA but for `wrong.example` (no localhost, no IP).
#[tokio::test]
async fn tls_verify_full_checks_the_name_and_verify_ca_does_not() {
    let pki = Pki::new("wrong");
    let ca = pki.ca("ca");
    let tls = pki.server("ca", "wrong", "wrong.example", "DNS:wrong.example");
    let cluster = start_tls_cluster(tls);

    let e = must_fail(
        &with_mode(&cluster, "localhost", "verify-full", Some(&ca)),
        "verify-full, host localhost, cert for wrong.example",
    )
    .await;
    assert_tls_failure(&e, "verify-full against a wrong-name certificate");
    assert!(e.target.contains("localhost") && e.target.contains("sslmode=verify-full"), "{}", e.target);

    let e = must_fail(
        &with_mode(&cluster, "127.0.0.1", "verify-full", Some(&ca)),
        "verify-full, host 127.0.0.1, cert without an IP SAN",
    )
    .await;
    assert_tls_failure(&e, "verify-full by IP against a certificate without that IP");

    let client =
        must_connect(&with_mode(&cluster, "localhost", "verify-ca", Some(&ca)), "verify-ca, cert for wrong.example")
            .await;
    assert_eq!(ssl_of(&client).await, "t");
    let client = must_connect(
        &with_mode(&cluster, "127.0.0.1", "verify-ca", Some(&ca)),
        "verify-ca by IP, cert for wrong.example",
    )
    .await;
    assert_eq!(ssl_of(&client).await, "t");

    // require does not look at the certificate at all; with a root file, at its chain, not its name.
    let client = must_connect(&with_mode(&cluster, "localhost", "require", None), "require").await;
    assert_eq!(ssl_of(&client).await, "t");
    let client = must_connect(&with_mode(&cluster, "localhost", "require", Some(&ca)), "require with the CA").await;
    assert_eq!(ssl_of(&client).await, "t");
}

/// A server certificate of X.509 version 1 (operator trial): `require` encrypts to it, as libpq
/// does, the handshake signed by its key; where it is checked, the error names its version and
/// how to issue one shale checks, where it blamed the CAs.
#[tokio::test]
async fn a_version_1_certificate_is_encrypted_to_and_named_where_it_is_checked() {
    let pki = Pki::new("v1");
    let ca = pki.ca("ca");
    let tls = pki.version_1("ca", "v1", "localhost");
    let cluster = start_tls_cluster(tls);
    let client = must_connect(&with_mode(&cluster, "localhost", "require", None), "require, version 1").await;
    assert_eq!(ssl_of(&client).await, "t");
    let e = must_fail(&with_mode(&cluster, "localhost", "verify-full", Some(&ca)), "verify-full, version 1").await;
    assert_one_line(&e);
    assert!(e.to_string().contains("the server's certificate is X.509 version 1"), "{e}");
    assert!(e.to_string().contains("sslmode=require"), "{e}");
}

/// An expired server certificate is said in words (operator trial: seconds since 1970 alone).
#[tokio::test]
async fn an_expired_certificate_is_said_in_words() {
    let pki = Pki::new("expired");
    let ca = pki.ca("ca");
    let ext = "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost\n";
    let tls = pki.issue("ca", "expired", "localhost", ext, &["-days", "-1"]);
    let cluster = start_tls_cluster(tls);
    let e = must_fail(&with_mode(&cluster, "localhost", "verify-full", Some(&ca)), "verify-full, expired").await;
    assert_one_line(&e);
    assert!(e.to_string().contains("a certificate the server sent has expired"), "{e}");
}

#[tokio::test]
async fn tls_required_but_the_server_has_none() {
    let cluster = shared_cluster();
    for mode in ["require", "verify-ca", "verify-full"] {
        let e = must_fail(
            &with_mode(cluster, "127.0.0.1", mode, None),
            &format!("sslmode={mode} against a server without TLS"),
        )
        .await;
        assert_one_line(&e);
        // Said plainly, not as a failed handshake with advice about certificates.
        assert!(
            e.reason.contains("does not support TLS")
                && e.reason.contains(&format!("sslmode={mode}"))
                && !e.reason.contains("handshake")
                && !e.reason.contains("sslrootcert"),
            "sslmode={mode}: unclear message: {e}"
        );
        assert!(!e.transient, "{e}");
        assert!(e.refused_as_given(), "settings the server cannot meet (exit 2): {e}");
    }
    // prefer falls back to a plain connection.
    let client = must_connect(&with_mode(cluster, "127.0.0.1", "prefer", None), "prefer").await;
    assert_eq!(ssl_of(&client).await, "f");
}

// ---------------------------------------------------------------------------------------------
// 2. Password authentication and redaction

/// Require scram-sha-256 on every TCP line of pg_hba.conf (the unix socket stays `trust`, so the
/// harness's psql keeps working) and reload; wait until a password-less TCP login is refused.
async fn require_passwords_over_tcp(cluster: &Cluster) {
    let hba = cluster.data_dir().join("pg_hba.conf");
    let text = fs::read_to_string(&hba).unwrap_or_else(|e| panic!("reading {}: {e}", hba.display()));
    let mut changed = 0;
    let rewritten: String = text
        .lines()
        .map(|line| {
            let first = line.split_whitespace().next().unwrap_or("");
            if (first == "host" || first == "hostssl") && line.trim_end().ends_with("trust") {
                changed += 1;
                format!("{}scram-sha-256\n", line.trim_end().strip_suffix("trust").unwrap())
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(changed > 0, "no TCP trust line in {}:\n{text}", hba.display());
    fs::write(&hba, rewritten).unwrap_or_else(|e| panic!("writing {}: {e}", hba.display()));
    assert_eq!(cluster.psql("postgres", "SELECT pg_reload_conf()").unwrap(), "t");

    let probe = settings(&format!("{}?sslmode=disable", cluster.tcp_url("postgres")));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if connect(&probe, &SessionSettings::default()).await.is_err() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server still lets a password-less TCP login in after the pg_hba.conf reload:\n{}",
            cluster.log_tail(20)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn password_auth_and_redaction() {
    let cluster = Cluster::start_temporary(ClusterOptions {
        extra_conf: vec![("password_encryption".into(), "scram-sha-256".into())],
        ..Default::default()
    })
    .expect("starting a cluster");
    require_passwords_over_tcp(&cluster).await;
    cluster
        .psql(
            "postgres",
            "CREATE ROLE app LOGIN PASSWORD 'correct-horse';
             CREATE ROLE odd LOGIN PASSWORD 'p@ss:w/rd %';",
        )
        .expect("creating roles");
    let port = cluster.port();

    let good = settings(&format!("postgresql://app:correct-horse@127.0.0.1:{port}/postgres?sslmode=disable"));
    let client = must_connect(&good, "the right password").await;
    assert_eq!(scalar(&client, "SELECT current_user").await, "app");

    // Percent-encoded special characters in the password.
    let odd = settings(&format!("postgresql://odd:p%40ss%3Aw%2Frd%20%25@127.0.0.1:{port}/postgres"));
    let client = must_connect(&odd, "a percent-encoded password").await;
    assert_eq!(scalar(&client, "SELECT current_user").await, "odd");

    // The same through key=value, quoted.
    let kv = settings(&format!("host=127.0.0.1 port={port} user=odd password='p@ss:w/rd %' dbname=postgres"));
    must_connect(&kv, "a quoted key=value password").await;

    let bad_url = format!("postgresql://app:hunter2-wrong@127.0.0.1:{port}/postgres?sslmode=disable");
    let bad = settings(&bad_url);
    let e = must_fail(&bad, "a wrong password").await;
    let display = e.to_string();
    let debug = format!("{e:?}");
    assert_one_line(&e);
    assert!(display.contains("password authentication"), "should say password authentication failed: {display}");
    assert!(display.contains("app"), "should name the user: {display}");
    for text in [&display, &debug] {
        assert!(!text.contains("hunter2"), "the password leaked: {text}");
    }
    // A wrong password from a service's entry: the hint names that entry (operator trial: it named
    // ~/.pgpass alone).
    let services = tempfile::tempdir().unwrap();
    let file = services.path().join("pg_service.conf");
    fs::write(&file, format!("[wrong]\nhost=127.0.0.1\nport={port}\nuser=app\npassword=hunter3\nsslmode=disable\n"))
        .unwrap();
    let mut from_service = settings("service=wrong dbname=postgres");
    let file_text = file.to_string_lossy().into_owned();
    from_service.fill_from_env(&|k: &str| (k == "PGSERVICEFILE").then(|| file_text.clone())).unwrap();
    let e = must_fail(&from_service, "a wrong password from a service").await;
    assert!(e.to_string().contains("the service file's entry [wrong]"), "{e}");
    assert!(!e.to_string().contains("hunter3") && !format!("{e:?}").contains("hunter3"), "{e:?}");
    assert!(e.target.contains(":***@"), "target not redacted: {}", e.target);
    assert_eq!(e.target, bad.redacted());
    assert!(!e.transient, "a wrong password is not worth retrying");
    assert!(e.refused_as_given(), "a wrong password is the settings' problem (exit 2, not 3)");

    // Same wrong password over TLS-less key=value: still never printed.
    let kv_bad = settings(&format!("host=127.0.0.1 port={port} user=app password=hunter2-wrong dbname=postgres"));
    let e = must_fail(&kv_bad, "a wrong key=value password").await;
    assert!(e.to_string().contains("password authentication"), "{e}");
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");

    // No password at all where the server asks for one: where to put it is said.
    let none = settings(&format!("postgresql://app@127.0.0.1:{port}/postgres?sslmode=disable&passfile=/nonexistent"));
    let e = must_fail(&none, "no password").await;
    assert!(e.to_string().contains("asks for a password for user app and none was given"), "{e}");
    assert!(e.to_string().contains("~/.pgpass"), "{e}");
    assert!(e.refused_as_given(), "{e}");

    // connect_waiting does not retry a wrong password until the wait runs out.
    let started = Instant::now();
    let e = match connect_waiting(&bad, &SessionSettings::default(), Some(Duration::from_secs(20))).await {
        Ok(_) => panic!("a wrong password connected"),
        Err(e) => e,
    };
    assert!(started.elapsed() < Duration::from_secs(5), "a wrong password was retried for {:?}", started.elapsed());
    assert!(!format!("{e} {e:?}").contains("hunter2"));
}

// ---------------------------------------------------------------------------------------------
// 3. Unreachable servers

#[tokio::test]
async fn unknown_host_fails_fast_without_the_password() {
    let s = settings("postgresql://u:secretpw@no-such-host.invalid/db");
    let started = Instant::now();
    let e = must_fail(&s, "an unknown host").await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_one_line(&e);
    let display = e.to_string();
    assert!(display.contains("unknown host"), "{display}");
    assert!(display.contains("no-such-host.invalid"), "{display}");
    assert!(!format!("{display} {e:?}").contains("secretpw"), "{e:?}");
    assert!(!e.transient, "an unknown host is not transient: {e}");
    assert!(!e.refused_as_given(), "no server refused a login: {e}");
}

#[tokio::test]
async fn refused_connections_are_transient_and_waited_for() {
    let port = free_port().expect("a free port");
    let s = settings(&format!("postgresql://postgres:pw-xyz@127.0.0.1:{port}/postgres?sslmode=disable"));
    let e = must_fail(&s, "a closed port").await;
    assert!(e.transient, "connection refused should be transient: {e}");
    assert_one_line(&e);
    assert!(e.to_string().to_lowercase().contains("refused"), "{e}");
    assert!(!format!("{e} {e:?}").contains("pw-xyz"));

    let started = Instant::now();
    let result = connect_waiting(&s, &SessionSettings::default(), Some(Duration::from_millis(300))).await;
    let waited = started.elapsed();
    let e = match result {
        Ok(_) => panic!("connected to a closed port"),
        Err(e) => e,
    };
    assert!(e.transient, "{e}");
    assert!(
        waited >= Duration::from_millis(300),
        "connect_waiting gave up after {waited:?}, before its 300 ms wait was over"
    );
    assert!(waited < Duration::from_secs(5), "connect_waiting took {waited:?}");

    // Without a wait there is exactly one attempt.
    let started = Instant::now();
    assert!(connect_waiting(&s, &SessionSettings::default(), None).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// 4. Waiting for a server that starts after the call

#[tokio::test]
async fn connect_waiting_rides_out_a_server_start() {
    let port = free_port().expect("a free port");
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        Cluster::start_temporary(ClusterOptions { port: Some(port), ..Default::default() })
    });
    let s = settings(&format!("postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"));
    let started = Instant::now();
    let result = connect_waiting(&s, &SessionSettings::default(), Some(Duration::from_secs(15))).await;
    let waited = started.elapsed();
    // Keep the cluster alive until the end of the test.
    let cluster = starter
        .join()
        .expect("the starter thread panicked")
        .unwrap_or_else(|e| panic!("starting the cluster on port {port}: {e}"));
    let client =
        result.unwrap_or_else(|e| panic!("connect_waiting failed after {waited:?}: {e}\n{}", cluster.log_tail(20)));
    assert!(waited >= Duration::from_millis(700), "connected after {waited:?}, before the server was even started");
    assert_eq!(scalar(&client, "SELECT 1").await, "1");
    assert_eq!(cluster.port(), port);
    drop(client);
    drop(cluster);
}

// ---------------------------------------------------------------------------------------------
// 5-7. Session settings, key=value strings, PG* environment

#[tokio::test]
async fn session_settings_apply_to_the_connection() {
    let cluster = shared_cluster();
    let s = settings(&cluster.tcp_url("postgres"));

    let client = must_connect(&s, "default session").await;
    assert_eq!(scalar(&client, "SHOW application_name").await, "shale");
    assert_eq!(scalar(&client, "SHOW lock_timeout").await, "5s");
    assert_eq!(scalar(&client, "SHOW statement_timeout").await, "0");

    let session = SessionSettings {
        lock_timeout: "1234ms".into(),
        statement_timeout: "5min".into(),
        ..SessionSettings::default()
    };
    let client = connect(&s, &session).await.unwrap_or_else(|e| panic!("custom session: {e}"));
    assert_eq!(scalar(&client, "SHOW lock_timeout").await, "1234ms");
    assert_eq!(scalar(&client, "SHOW statement_timeout").await, "5min");
    assert_eq!(scalar(&client, "SHOW application_name").await, "shale");

    // An application_name in the connection string wins; options are kept alongside.
    let s = settings(&format!(
        "{}?application_name=deployer&options=-c%20search_path%3Dpg_catalog",
        cluster.tcp_url("postgres")
    ));
    let client = connect(&s, &session).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scalar(&client, "SHOW application_name").await, "deployer");
    assert_eq!(scalar(&client, "SHOW search_path").await, "pg_catalog");
    assert_eq!(scalar(&client, "SHOW lock_timeout").await, "1234ms");
}

#[tokio::test]
async fn key_value_strings_connect() {
    let cluster = shared_cluster();
    let s = settings(&format!("host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable", cluster.port()));
    let client = must_connect(&s, "key=value over TCP").await;
    assert_eq!(scalar(&client, "SELECT current_database()").await, "postgres");
    assert_eq!(ssl_of(&client).await, "f");

    // The unix socket, by directory, as libpq writes it.
    let s = settings(&cluster.conninfo("postgres"));
    let client = must_connect(&s, "key=value over the unix socket").await;
    assert_eq!(scalar(&client, "SELECT coalesce(inet_client_addr()::text, 'socket')").await, "socket");
}

#[tokio::test]
async fn pg_environment_fills_empty_settings() {
    let cluster = shared_cluster();
    let port = cluster.port().to_string();
    let env = |key: &str| match key {
        "PGHOST" => Some("127.0.0.1".to_string()),
        "PGPORT" => Some(port.clone()),
        "PGUSER" => Some("postgres".to_string()),
        "PGDATABASE" => Some("template1".to_string()),
        "PGAPPNAME" => Some("from-env".to_string()),
        _ => None,
    };
    let mut s = ConnectionSettings::default();
    s.fill_from_env(&env).expect("filling from the environment");
    let client = must_connect(&s, "settings from PG* variables").await;
    assert_eq!(scalar(&client, "SELECT current_database()").await, "template1");
    assert_eq!(scalar(&client, "SELECT current_user").await, "postgres");
    assert_eq!(scalar(&client, "SHOW application_name").await, "from-env");
    assert_eq!(scalar(&client, "SELECT inet_client_addr()::text").await, "127.0.0.1/32");
}

#[tokio::test]
async fn a_server_that_never_answers_fails_after_connect_timeout() {
    // connect_timeout bounds the whole attempt, the startup handshake included.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold the sockets, never writing a byte.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let settings =
        ConnectionSettings::parse(&format!("postgres://u@127.0.0.1:{port}/db?connect_timeout=1&sslmode=disable"))
            .unwrap();
    // The outer bound only turns a hang into a failure; the attempt itself ends after about 1 s.
    let session = SessionSettings::default();
    let attempt = tokio::time::timeout(std::time::Duration::from_secs(60), connect(&settings, &session));
    let error = attempt.await.expect("the attempt ends by itself").expect_err("it fails");
    assert!(error.to_string().contains("connect_timeout"), "{error}");
}

/// A cancel request (shale_pg::connect::cancel) made with `s` stops a running statement.
async fn assert_cancels(s: &ConnectionSettings, what: &str) {
    let client = std::sync::Arc::new(must_connect(s, what).await);
    let running = {
        let client = client.clone();
        tokio::spawn(async move { client.simple_query("SELECT pg_sleep(30)").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    shale_pg::connect::cancel(s, &client).await.unwrap_or_else(|e| panic!("{what}: the cancel request failed: {e}"));
    let result = tokio::time::timeout(Duration::from_secs(10), running).await;
    let error = match result {
        Ok(Ok(Err(e))) => e,
        other => panic!("{what}: the statement was not cancelled: {other:?}"),
    };
    assert_eq!(error.code().map(|c| c.code()), Some("57014"), "{what}: {error}");
    assert!(started.elapsed() < Duration::from_secs(5), "{what}: took {:?}", started.elapsed());
}

#[tokio::test]
async fn cancel_requests_reach_the_server() {
    let cluster = shared_cluster();
    // The default sslmode (prefer) over the Unix socket, where TLS is never used.
    assert_cancels(&settings(&cluster.url("postgres")), "over the Unix socket").await;
    assert_cancels(&settings(&cluster.tcp_url("postgres")), "over TCP without TLS").await;
}

// ---------------------------------------------------------------------------------------------
// 8. A self-signed server certificate given as its own root

#[tokio::test]
async fn tls_a_self_signed_certificate_given_as_sslrootcert() {
    let pki = Pki::new("selfsigned");
    let tls = pki.self_signed("server", "localhost");
    let cert = tls.cert.clone();
    // The premise: what `openssl req -x509` makes is a CA, which webpki alone refuses as a
    // server's own certificate (CaUsedAsEndEntity), and psql accepts.
    let constraints = pki.extension(&cert, "basicConstraints");
    assert!(constraints.contains("CA:TRUE"), "expected a CA certificate: {constraints}");
    let unrelated = pki.self_signed("unrelated", "localhost");
    let cluster = start_tls_cluster(tls);

    let client =
        must_connect(&with_mode(&cluster, "localhost", "verify-full", Some(&cert)), "verify-full, the cert as root")
            .await;
    assert_eq!(ssl_of(&client).await, "t");
    for host in ["localhost", "127.0.0.1"] {
        let client =
            must_connect(&with_mode(&cluster, host, "verify-ca", Some(&cert)), &format!("verify-ca via {host}")).await;
        assert_eq!(ssl_of(&client).await, "t");
    }
    // Among other roots in the same file.
    let bundle = pki.path("bundle.pem");
    let ca = pki.ca("some_ca");
    fs::write(&bundle, [fs::read(&ca).unwrap(), fs::read(&cert).unwrap()].concat()).unwrap();
    must_connect(&with_mode(&cluster, "localhost", "verify-full", Some(&bundle)), "verify-full, a bundle").await;

    // verify-full still checks the name: the certificate is for localhost (its CN), not for
    // the address (libpq compares the CN with the host as given).
    let e = must_fail(&with_mode(&cluster, "127.0.0.1", "verify-full", Some(&cert)), "verify-full via 127.0.0.1").await;
    assert_tls_failure(&e, "verify-full, a self-signed certificate for another name");
    assert!(e.reason.contains("127.0.0.1") && e.reason.contains("localhost"), "{e}");
    assert_cancels(&with_mode(&cluster, "localhost", "verify-full", Some(&cert)), "a cancel request over TLS").await;
    // ssl_min_protocol_version / ssl_max_protocol_version.
    for (bound, expected) in
        [("ssl_max_protocol_version=TLSv1.2", "TLSv1.2"), ("ssl_min_protocol_version=TLSv1.3", "TLSv1.3")]
    {
        let s =
            settings(&format!("postgresql://postgres@localhost:{}/postgres?sslmode=require&{bound}", cluster.port()));
        let client = must_connect(&s, bound).await;
        let version = scalar(&client, "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").await;
        assert_eq!(version, expected, "{bound}");
    }
    // hostaddr: connect to the address, verify the name.
    let addressed = |host: &str, mode: &str| {
        settings(&format!(
            "host={host} hostaddr=127.0.0.1 port={} user=postgres dbname=postgres sslmode={mode} sslrootcert='{}'",
            cluster.port(),
            cert.display()
        ))
    };
    must_connect(&addressed("localhost", "verify-full"), "verify-full, host localhost, hostaddr 127.0.0.1").await;
    must_connect(&addressed("no-such-host.invalid", "verify-ca"), "hostaddr spares the name lookup").await;
    let e =
        must_fail(&addressed("no-such-host.invalid", "verify-full"), "verify-full checks the host, not hostaddr").await;
    assert_tls_failure(&e, "verify-full with hostaddr and another name");
    // Another self-signed certificate with the same name is not trusted: only these bytes are.
    for mode in ["verify-ca", "verify-full"] {
        let e = must_fail(&with_mode(&cluster, "localhost", mode, Some(&unrelated.cert)), mode).await;
        assert_tls_failure(&e, &format!("{mode} with an unrelated self-signed root"));
    }
}

// ---------------------------------------------------------------------------------------------
// 9. channel_binding

/// A TLS cluster whose TCP logins need scram-sha-256, with role `app` (password `bound-pw`).
async fn scram_tls_cluster(tls: TlsFiles) -> Cluster {
    let cluster = Cluster::start_temporary(ClusterOptions {
        tls: Some(tls),
        extra_conf: vec![("password_encryption".into(), "scram-sha-256".into())],
        ..Default::default()
    })
    .expect("starting a TLS cluster");
    require_passwords_over_tcp(&cluster).await;
    cluster.psql("postgres", "CREATE ROLE app LOGIN PASSWORD 'bound-pw'").expect("creating a role");
    cluster
}

/// Put `line` first in pg_hba.conf and reload.
fn hba_prepend(cluster: &Cluster, line: &str) {
    let hba = cluster.data_dir().join("pg_hba.conf");
    let text = fs::read_to_string(&hba).unwrap();
    fs::write(&hba, format!("{line}\n{text}")).unwrap();
    assert_eq!(cluster.psql("postgres", "SELECT pg_reload_conf()").unwrap(), "t");
}

async fn connect_eventually(s: &ConnectionSettings, what: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match connect(s, &SessionSettings::default()).await {
            Ok(client) => return client,
            Err(e) if Instant::now() > deadline => panic!("{what}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test]
async fn channel_binding_require_over_tls_with_scram() {
    let pki = Pki::new("cb");
    let ca = pki.ca("ca");
    let cluster = scram_tls_cluster(pki.server("ca", "server", "localhost", "DNS:localhost, IP:127.0.0.1")).await;
    let port = cluster.port();
    let url = |query: &str| settings(&format!("postgresql://app:bound-pw@localhost:{port}/postgres?{query}"));

    let client = must_connect(&url("sslmode=require&channel_binding=require"), "require over TLS + SCRAM").await;
    assert_eq!(ssl_of(&client).await, "t");
    assert_eq!(scalar(&client, "SELECT current_user").await, "app");
    let mut verified = url("sslmode=verify-full&channel_binding=require");
    verified.sslrootcert = Some(ca.to_string_lossy().into_owned());
    must_connect(&verified, "require with verify-full").await;
    must_connect(&url("channel_binding=require"), "require with the default sslmode (prefer)").await;
    must_connect(&url("sslmode=require&channel_binding=disable"), "disable over TLS").await;
    must_connect(&url("sslmode=require"), "the default (prefer)").await;

    // Without TLS: refused before anything is sent.
    let e = must_fail(&url("sslmode=disable&channel_binding=require"), "require with sslmode=disable").await;
    assert_one_line(&e);
    assert!(e.reason.contains("channel_binding=require") && e.reason.contains("sslmode=disable"), "{e}");
    assert!(!format!("{e} {e:?}").contains("bound-pw"), "{e:?}");
    assert!(!e.transient);
    // A Unix socket never has TLS, and `trust` asks for no password at all.
    let socket = settings(&format!(
        "host={} port={port} user=app dbname=postgres password=bound-pw channel_binding=require",
        cluster.socket_dir().display()
    ));
    let e = must_fail(&socket, "require over the Unix socket (trust)").await;
    assert!(e.reason.contains("did not authenticate with channel binding"), "{e}");
    assert!(!format!("{e} {e:?}").contains("bound-pw"), "{e:?}");

    // md5 over TLS binds nothing: refused with require, allowed with prefer.
    cluster
        .psql("postgres", "SET password_encryption = 'md5'; CREATE ROLE old LOGIN PASSWORD 'md5-pw'")
        .expect("creating an md5 role");
    hba_prepend(&cluster, "hostssl all old 127.0.0.1/32 md5");
    let old = |binding: &str| {
        settings(&format!(
            "postgresql://old:md5-pw@127.0.0.1:{port}/postgres?sslmode=require&channel_binding={binding}"
        ))
    };
    let client = connect_eventually(&old("prefer"), "md5 over TLS with prefer").await;
    assert_eq!(scalar(&client, "SELECT current_user").await, "old");
    let e = must_fail(&old("require"), "md5 over TLS with require").await;
    assert!(e.reason.contains("did not authenticate with channel binding"), "{e}");
    assert!(!format!("{e} {e:?}").contains("md5-pw"), "{e:?}");

    // PGCHANNELBINDING, against a server without TLS.
    let shared = shared_cluster();
    let mut from_env = settings(&shared.tcp_url("postgres"));
    from_env.fill_from_env(&|k: &str| (k == "PGCHANNELBINDING").then(|| "require".to_string())).unwrap();
    let e = must_fail(&from_env, "PGCHANNELBINDING=require without TLS").await;
    assert!(e.reason.contains("channel_binding=require"), "{e}");
}

/// The tls-server-end-point hash follows the certificate's signature algorithm; the server
/// computes it the same way, or the login fails.
#[tokio::test]
async fn channel_binding_with_other_signature_algorithms() {
    let pki = Pki::new("cb-alg");
    pki.ca("ec_ca");
    pki.ca_with("rsa_ca", &["-newkey", "rsa:2048"]);
    let server_ext = "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost\n";
    let cases = [
        ("ECDSA with SHA-512", pki.issue("ec_ca", "ec512", "localhost", server_ext, &["-sha512"])),
        (
            "RSASSA-PSS with SHA-384",
            pki.issue("rsa_ca", "pss384", "localhost", server_ext, &["-sha384", "-sigopt", "rsa_padding_mode:pss"]),
        ),
    ];
    for (what, tls) in cases {
        let algorithm = pki.signature_algorithm(&tls.cert);
        let cluster = scram_tls_cluster(tls).await;
        let s = settings(&format!(
            "postgresql://app:bound-pw@localhost:{}/postgres?sslmode=require&channel_binding=require",
            cluster.port()
        ));
        let client = must_connect(&s, &format!("{what} ({algorithm})")).await;
        assert_eq!(ssl_of(&client).await, "t");
    }
}

// ---------------------------------------------------------------------------------------------
// 10. target_session_attrs over several hosts, with a real streaming standby

async fn server_port(client: &Client) -> u16 {
    scalar(client, "SELECT inet_server_port()").await.parse().unwrap()
}

#[tokio::test]
async fn target_session_attrs_picks_the_primary_or_the_standby() {
    let primary = Cluster::start_temporary(ClusterOptions::default()).expect("starting the primary");
    let standby = Cluster::start_standby(&primary, ClusterOptions::default()).expect("starting the standby");
    let (p, s) = (primary.port(), standby.port());
    let closed = free_port().unwrap();
    let url = |attrs: &str, ports: &[u16]| {
        let hosts: Vec<String> = ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        settings(&format!(
            "postgresql://postgres:hunter2@{}/postgres?sslmode=disable&target_session_attrs={attrs}",
            hosts.join(",")
        ))
    };
    let picks = [
        ("read-write", vec![s, p], p),
        ("read-write", vec![p, s], p),
        ("primary", vec![s, p], p),
        ("read-only", vec![p, s], s),
        ("standby", vec![p, s], s),
        ("prefer-standby", vec![p, s], s),
        ("prefer-standby", vec![closed, p], p),
        ("any", vec![s, p], s),
        ("any", vec![closed, p], p),
    ];
    for (attrs, ports, expected) in picks {
        let what = format!("target_session_attrs={attrs} over {ports:?}");
        let client = must_connect(&url(attrs, &ports), &what).await;
        assert_eq!(server_port(&client).await, expected, "{what}");
        let in_recovery = scalar(&client, "SELECT pg_is_in_recovery()").await;
        assert_eq!(in_recovery, if expected == s { "t" } else { "f" }, "{what}");
    }

    // load_balance_hosts=random: both servers get picked.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let mut random = url("any", &[p, s]);
        random.load_balance_hosts = Some(shale_pg::settings::LoadBalanceHosts::Random);
        seen.insert(server_port(&must_connect(&random, "load_balance_hosts=random").await).await);
    }
    assert_eq!(seen.len(), 2, "load_balance_hosts=random always picked {seen:?}");

    // key=value, and PGTARGETSESSIONATTRS.
    let kv = settings(&format!(
        "host=127.0.0.1,127.0.0.1 port={s},{p} user=postgres dbname=postgres sslmode=disable target_session_attrs=read-write"
    ));
    assert_eq!(server_port(&must_connect(&kv, "key=value, read-write").await).await, p);
    let mut from_env = settings(&format!("postgresql://postgres@127.0.0.1:{p},127.0.0.1:{s}/postgres?sslmode=disable"));
    from_env.fill_from_env(&|k: &str| (k == "PGTARGETSESSIONATTRS").then(|| "standby".to_string())).unwrap();
    assert_eq!(server_port(&must_connect(&from_env, "PGTARGETSESSIONATTRS=standby").await).await, s);

    // No host fits: every host is named with why it was skipped, never the password.
    let e = must_fail(&url("read-write", &[s, closed]), "read-write with only a standby up").await;
    assert_one_line(&e);
    let text = format!("{e} {e:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(e.reason.contains("target_session_attrs=read-write"), "{e}");
    assert!(e.reason.contains(&format!("127.0.0.1:{s}: a standby")), "{e}");
    assert!(e.reason.contains(&format!("127.0.0.1:{closed}:")) && e.reason.to_lowercase().contains("refused"), "{e}");
    assert_eq!(e.hosts.len(), 2, "{:?}", e.hosts);
    assert_eq!(e.hosts[0].role, Some(ServerRole { in_recovery: true, read_only: true }));
    assert_eq!(e.hosts[1].role, None);
    assert!(e.transient, "a failover may yet bring a primary: {e}");

    let e = must_fail(&url("standby", &[p]), "standby with only the primary").await;
    assert!(e.reason.contains(&format!("127.0.0.1:{p}: a primary (read-write), not standby")), "{e}");

    // A primary whose sessions are read-only is not read-write, but is a primary.
    let mut read_only = url("read-write", &[p]);
    read_only.options = Some("-c default_transaction_read_only=on".into());
    let e = must_fail(&read_only, "read-write against read-only sessions").await;
    assert!(e.reason.contains("read-only"), "{e}");
    read_only.target_session_attrs = Some(shale_pg::TargetSessionAttrs::Primary);
    must_connect(&read_only, "primary, read-only sessions").await;
    drop(standby);
}

// ---------------------------------------------------------------------------------------------
// 11. Client certificates (cert authentication)

#[tokio::test]
async fn client_certificate_authentication() {
    let pki = Pki::new("clientcert");
    let ca = pki.ca("ca");
    pki.ca("other_ca");
    let tls = pki.server("ca", "server", "localhost", "DNS:localhost, IP:127.0.0.1");
    let mine = pki.client("ca", "client", "certuser");
    let stranger = pki.client("other_ca", "stranger", "certuser");
    let cluster =
        Cluster::start_temporary(ClusterOptions { tls: Some(tls), client_ca: Some(ca.clone()), ..Default::default() })
            .expect("starting a TLS cluster with a client CA");
    cluster.psql("postgres", "CREATE ROLE certuser LOGIN").unwrap();
    // TCP logins need a certificate from our CA whose CN is the user.
    let hba = cluster.data_dir().join("pg_hba.conf");
    let local: String = fs::read_to_string(&hba)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("local"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&hba, format!("{local}hostssl all all 127.0.0.1/32 cert\n")).unwrap();
    assert_eq!(cluster.psql("postgres", "SELECT pg_reload_conf()").unwrap(), "t");

    let port = cluster.port();
    let ca_text = ca.to_string_lossy().into_owned();
    let base = format!("postgresql://certuser@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca_text}");
    let with = |files: &TlsFiles| {
        let mut s = settings(&base);
        s.sslcert = Some(files.cert.to_string_lossy().into_owned());
        s.sslkey = Some(files.key.to_string_lossy().into_owned());
        s
    };
    let client = connect_eventually(&with(&mine), "a client certificate from the trusted CA").await;
    assert_eq!(scalar(&client, "SELECT current_user").await, "certuser");
    assert_eq!(scalar(&client, "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()").await, "/CN=certuser");

    // Without a certificate (the wait above made sure the reload happened).
    let e = must_fail(&settings(&base), "no client certificate").await;
    assert_one_line(&e);
    assert!(e.reason.contains("certificate") && e.reason.contains("sslcert"), "{e}");
    // A certificate from a CA the server does not trust.
    let e = must_fail(&with(&stranger), "a client certificate from an unknown CA").await;
    assert!(e.reason.contains("refused the TLS handshake") && e.reason.contains("sslcert"), "{e}");
    // The certificate's CN must be the user.
    let mut as_postgres = with(&mine);
    as_postgres.user = Some("postgres".into());
    let e = must_fail(&as_postgres, "a certificate for another user").await;
    assert!(e.reason.contains("certificate authentication failed"), "{e}");

    // PGSSLCERT / PGSSLKEY.
    let (cert_text, key_text) = (mine.cert.to_string_lossy().into_owned(), mine.key.to_string_lossy().into_owned());
    let mut from_env = settings(&base);
    from_env
        .fill_from_env(&|k: &str| match k {
            "PGSSLCERT" => Some(cert_text.clone()),
            "PGSSLKEY" => Some(key_text.clone()),
            _ => None,
        })
        .unwrap();
    let client = must_connect(&from_env, "PGSSLCERT and PGSSLKEY").await;
    assert_eq!(scalar(&client, "SELECT current_user").await, "certuser");

    // libpq's default files: ~/.postgresql/postgresql.crt and .key.
    let home = pki.path("home");
    fs::create_dir_all(home.join(".postgresql")).unwrap();
    fs::copy(&mine.cert, home.join(".postgresql/postgresql.crt")).unwrap();
    fs::copy(&mine.key, home.join(".postgresql/postgresql.key")).unwrap();
    set_mode(&home.join(".postgresql/postgresql.key"), 0o600);
    let home_text = home.to_string_lossy().into_owned();
    let mut defaults = settings(&base);
    defaults.fill_from_env(&|k: &str| (k == "HOME").then(|| home_text.clone())).unwrap();
    let client = must_connect(&defaults, "~/.postgresql/postgresql.crt").await;
    assert_eq!(scalar(&client, "SELECT current_user").await, "certuser");

    // A key others can read is refused, as libpq does.
    set_mode(&mine.key, 0o644);
    let e = must_fail(&with(&mine), "a world-readable key").await;
    assert!(e.reason.contains("group or world access") && e.reason.contains("sslkey"), "{e}");
    assert!(!e.transient);
    set_mode(&mine.key, 0o600);
    // A missing key is named.
    let mut no_key = with(&mine);
    no_key.sslkey = Some(pki.path("missing.key").to_string_lossy().into_owned());
    let e = must_fail(&no_key, "a missing key").await;
    assert!(e.reason.contains("missing.key"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 12. The connection service file

#[tokio::test]
async fn a_service_file_fills_what_the_connection_string_leaves_out() {
    let cluster = shared_cluster();
    let dir = tempfile::tempdir().unwrap();
    let service = format!(
        "# shale test services\n[shale_test]\nhost=127.0.0.1\nport={}\nuser=postgres\ndbname=template1\napplication_name=from-service\nsslmode=disable\n",
        cluster.port()
    );
    let user_file = dir.path().join("services.conf");
    fs::write(&user_file, &service).unwrap();
    let user_file = user_file.to_string_lossy().into_owned();
    let env =
        |pairs: Vec<(&'static str, String)>| move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());

    let mut s = settings("service=shale_test");
    s.fill_from_env(&env(vec![("PGSERVICEFILE", user_file.clone())])).unwrap();
    let client = must_connect(&s, "service=shale_test").await;
    assert_eq!(scalar(&client, "SELECT current_database()").await, "template1");
    assert_eq!(scalar(&client, "SHOW application_name").await, "from-service");
    assert_eq!(scalar(&client, "SELECT inet_client_addr()::text").await, "127.0.0.1/32");

    // What the connection string gives wins over the service; the service over PG* variables.
    let mut s = settings("postgresql:///postgres?service=shale_test");
    s.fill_from_env(&env(vec![("PGSERVICEFILE", user_file.clone()), ("PGAPPNAME", "from-env".into())])).unwrap();
    let client = must_connect(&s, "a URL naming a service").await;
    assert_eq!(scalar(&client, "SELECT current_database()").await, "postgres");
    assert_eq!(scalar(&client, "SHOW application_name").await, "from-service");

    // PGSERVICE, and ~/.pg_service.conf.
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    fs::write(home.join(".pg_service.conf"), &service).unwrap();
    let mut s = ConnectionSettings::default();
    s.fill_from_env(&env(vec![
        ("PGSERVICE", "shale_test".into()),
        ("HOME", home.to_string_lossy().into_owned()),
        ("PGDATABASE", "postgres".into()),
    ]))
    .unwrap();
    let client = must_connect(&s, "PGSERVICE with ~/.pg_service.conf").await;
    assert_eq!(scalar(&client, "SELECT current_database()").await, "template1");

    // The system-wide file, PGSYSCONFDIR/pg_service.conf.
    let sysconf = dir.path().join("etc");
    fs::create_dir_all(&sysconf).unwrap();
    fs::write(sysconf.join("pg_service.conf"), service.replace("[shale_test]", "[shale_system]")).unwrap();
    let mut s = settings("service=shale_system");
    s.fill_from_env(&env(vec![
        ("PGSERVICEFILE", user_file.clone()),
        ("PGSYSCONFDIR", sysconf.to_string_lossy().into_owned()),
    ]))
    .unwrap();
    must_connect(&s, "a service from PGSYSCONFDIR").await;

    // An unknown service is a settings error naming where it was looked for.
    let e = settings("service=no_such_service")
        .fill_from_env(&env(vec![("PGSERVICEFILE", user_file.clone())]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no_such_service") && e.contains("services.conf"), "{e}");
}

/// A wrong password that PgBouncer refuses itself (its SQLSTATE is 08P01, not the server's
/// 28P01) is the settings' problem: exit 2, not 3 "a retry may succeed" (production trial); the
/// password never shown.
#[tokio::test]
async fn a_wrong_password_a_pooler_refuses_is_refused_as_given() {
    let cluster = shared_cluster();
    let bouncer = shale_testkit::Pgbouncer::start_with_password(cluster, "transaction", "right-one").unwrap();
    let url = |password: &str| {
        format!("postgresql://{}:{password}@127.0.0.1:{}/postgres?sslmode=disable", cluster.superuser(), bouncer.port())
    };
    must_connect(&settings(&url("right-one")), "the pooler's password").await;
    let e = must_fail(&settings(&url("hunter2-wrong")), "a wrong password at the pooler").await;
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
    assert!(!e.transient, "{e}");
    assert!(e.refused_as_given(), "refused by the pooler as given (exit 2): {e}");
    assert!(e.to_string().contains("the pooler refused the login") && e.to_string().contains("auth_file"), "{e}");
}
