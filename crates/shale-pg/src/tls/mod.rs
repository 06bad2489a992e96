//! TLS with libpq's meanings on rustls.
//!
//! * `sslmode=require` (and `prefer`, `allow`) encrypts without checking the certificate, unless
//!   a root certificate file is given (`sslrootcert`) or is at libpq's default place
//!   (`~/.postgresql/root.crt`): then the chain is checked, as `verify-ca` does, as libpq does;
//!   `verify-ca` checks the chain but not the host name; `verify-full` checks both, the host name
//!   the way libpq does it (subjectAltName, else the Common Name): see [`verify`].
//! * A server certificate that is byte-for-byte one of the `sslrootcert` certificates (a
//!   self-signed certificate handed out as its own root) is trusted as such, as OpenSSL does.
//! * `sslcert`/`sslkey` present a client certificate (for `cert` authentication).
//! * The stream hands tokio-postgres the `tls-server-end-point` hash of the server certificate,
//!   so that SCRAM-SHA-256-PLUS (`channel_binding`) works: see [`stream`].

mod cert;
mod stream;
mod verify;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::settings::{ConnectionSettings, SslMode, TlsVersion};

pub use stream::{MakeTls, TlsStream};

/// The trusted roots: the `sslrootcert` file; for `sslrootcert=system`, the operating system's
/// store, as libpq 16 reads OpenSSL's (`SSL_CERT_FILE` and `SSL_CERT_DIR` too; operator trial: a
/// company CA installed there was refused), or the public web roots where the system has none;
/// the public web roots where none is given. Also returns the certificates of the file as given,
/// for a server that presents one of them as its own certificate.
fn roots(sslrootcert: Option<&str>) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), String> {
    let mut store = RootCertStore::empty();
    let mut given = Vec::new();
    match sslrootcert {
        Some(path) if path != "system" => {
            let pem = std::fs::read(path).map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| format!("sslrootcert {path} is not valid PEM: {e}"))?;
                store.add(cert.clone()).map_err(|e| format!("sslrootcert {path}: {e}"))?;
                given.push(cert);
            }
            if given.is_empty() {
                return Err(format!("sslrootcert {path} holds no certificate"));
            }
        }
        Some(_) => {
            let (added, _) = store.add_parsable_certificates(system_roots().iter().cloned());
            if added == 0 {
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok((store, given))
}

/// The operating system's trusted certificates, read once per process: a run opens two
/// connections and a fleet many, and the store is a directory of a hundred and more files.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration for a connection that uses TLS, per the settings' sslmode,
/// sslrootcert, sslcert/sslkey, sslsni and ssl_min/max_protocol_version.
pub fn client_config(settings: &ConnectionSettings) -> Result<ClientConfig, String> {
    let provider = provider();
    let versions = protocol_versions(settings)?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match settings.effective_sslmode() {
        mode @ (SslMode::VerifyCa | SslMode::VerifyFull) => {
            let (store, given) = roots(settings.sslrootcert.as_deref())?;
            Arc::new(verify::Verifier::new(store, given, mode == SslMode::VerifyFull, provider.clone())?)
        }
        // With a root certificate file, libpq checks the chain in every mode that uses TLS: a
        // provider's CA given beside `sslmode=require` is not there for nothing.
        _ if settings.sslrootcert.as_deref().is_some_and(|r| r != "system") => {
            let (store, given) = roots(settings.sslrootcert.as_deref())?;
            Arc::new(verify::Verifier::new(store, given, false, provider.clone())?)
        }
        _ => Arc::new(verify::EncryptOnly(provider.clone())),
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let mut config = match client_identity(settings)? {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            format!(
                "the client certificate {} and key {} cannot be used together: {e}",
                settings.sslcert.as_deref().unwrap_or_default(),
                settings.sslkey.as_deref().unwrap_or_default()
            )
        })?,
        None => builder.with_no_client_auth(),
    };
    // libpq sends the host name (never an address) as SNI unless sslsni=0; rustls never sends
    // an address either.
    config.enable_sni = settings.sslsni != Some(false);
    Ok(config)
}

/// The TLS versions `ssl_min_protocol_version`/`ssl_max_protocol_version` allow. rustls speaks
/// TLS 1.2 and 1.3 only: libpq's default minimum is TLS 1.2 too, so a lower minimum changes
/// nothing, but a maximum below 1.2 cannot be met.
fn protocol_versions(settings: &ConnectionSettings) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    let min = settings.ssl_min_protocol_version.unwrap_or(TlsVersion::V1_2);
    let max = settings.ssl_max_protocol_version.unwrap_or(TlsVersion::V1_3);
    let mut versions = Vec::new();
    if min <= TlsVersion::V1_2 && max >= TlsVersion::V1_2 {
        versions.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::V1_3 {
        versions.push(&rustls::version::TLS13);
    }
    if versions.is_empty() || min > max {
        return Err(format!(
            "no TLS version is allowed between ssl_min_protocol_version={} and ssl_max_protocol_version={} that shale speaks (TLSv1.2, TLSv1.3)",
            min.as_str(),
            max.as_str()
        ));
    }
    Ok(versions)
}

/// The client certificate chain and key from `sslcert`/`sslkey` (which
/// [`ConnectionSettings::fill_from_env`] points at `~/.postgresql/postgresql.crt`/`.key` when
/// that certificate exists), if any. Like libpq, a key file others can read is refused.
fn client_identity(
    settings: &ConnectionSettings,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, String> {
    let Some(cert_path) = settings.sslcert.as_deref() else { return Ok(None) };
    let pem = std::fs::read(cert_path).map_err(|e| format!("cannot read sslcert {cert_path}: {e}"))?;
    let chain = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("sslcert {cert_path} is not valid PEM: {e}"))?;
    if chain.is_empty() {
        return Err(format!("sslcert {cert_path} holds no certificate"));
    }
    let Some(key_path) = settings.sslkey.as_deref() else {
        return Err(format!("sslcert {cert_path} is given, but no sslkey for it"));
    };
    let meta = std::fs::metadata(key_path).map_err(|e| {
        format!("the certificate {cert_path} is given, but its private key cannot be read: sslkey {key_path}: {e}")
    })?;
    if !meta.is_file() {
        return Err(format!("sslkey {key_path} is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = meta.permissions().mode();
        let open = if meta.uid() == 0 { mode & 0o037 } else { mode & 0o077 };
        if open != 0 {
            return Err(format!(
                "sslkey {key_path} has group or world access; it must have permissions u=rw (0600) or less if owned by the current user, or u=rw,g=r (0640) or less if owned by root (chmod 600 {key_path})"
            ));
        }
    }
    let text = std::fs::read(key_path).map_err(|e| format!("cannot read sslkey {key_path}: {e}"))?;
    match rustls_pemfile::private_key(&mut text.as_slice()) {
        Ok(Some(key)) => Ok(Some((chain, key))),
        Ok(None) if String::from_utf8_lossy(&text).contains("ENCRYPTED") => Err(format!(
            "sslkey {key_path} is encrypted, and shale cannot ask for its password (sslpassword is not supported); decrypt a copy readable only by you with `openssl pkey -in {key_path} -out KEY` and give that as sslkey"
        )),
        Ok(None) => Err(format!("sslkey {key_path} holds no PEM private key")),
        Err(e) => Err(format!("sslkey {key_path} is not valid PEM: {e}")),
    }
}
