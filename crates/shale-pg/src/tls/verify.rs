//! Checking the server's certificate the way libpq does.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, verify_tls13_signature_with_raw_key, CryptoProvider,
};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme};

use super::cert::{ip_from_bytes, CertInfo};

/// `sslmode=require`/`prefer`: the channel is encrypted and the handshake signed, but, as in libpq,
/// the certificate itself is not checked.
#[derive(Debug)]
pub(super) struct EncryptOnly(pub Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algorithms = &self.0.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms).or_else(|error| {
            // A certificate webpki does not read (X.509 version 1, as `openssl x509 -req` makes
            // without extensions) is not checked here: the handshake is still signed by its key,
            // read with another parser (operator trial: refused, where libpq connects).
            match public_key_of(cert) {
                Some(spki) => verify_tls13_signature_with_raw_key(message, &spki, dss, algorithms),
                None => Err(error),
            }
        })
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The certificate's public key (its SubjectPublicKeyInfo), read whatever its X.509 version.
fn public_key_of(cert: &CertificateDer<'_>) -> Option<SubjectPublicKeyInfoDer<'static>> {
    use x509_cert::der::{Decode, Encode};
    let parsed = x509_cert::Certificate::from_der(cert.as_ref()).ok()?;
    let spki = parsed.tbs_certificate.subject_public_key_info.to_der().ok()?;
    Some(SubjectPublicKeyInfoDer::from(spki))
}

/// `sslmode=verify-ca` and `verify-full`.
///
/// The certificate must chain to one of the roots (webpki's path building, unchanged), or be
/// byte-for-byte one of the certificates of the `sslrootcert` file: a self-signed certificate
/// that the server uses as its own, which OpenSSL accepts and webpki refuses as a CA used as an
/// end entity. Such a pinned certificate must still be within its validity period and fit for a
/// TLS server (its key usages), and the handshake must be signed by its key.
///
/// For verify-full, the host name is then matched the way libpq matches it: see [`host_matches`].
#[derive(Debug)]
pub(super) struct Verifier {
    chain: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    check_host: bool,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    pub fn new(
        roots: RootCertStore,
        pinned: Vec<CertificateDer<'static>>,
        check_host: bool,
        provider: Arc<CryptoProvider>,
    ) -> Result<Verifier, String> {
        let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Verifier { chain, pinned, check_host, provider })
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let info = CertInfo::parse(end_entity.as_ref());
        if self.pinned.iter().any(|root| root.as_ref() == end_entity.as_ref()) {
            let info = info.as_ref().ok_or(TlsError::InvalidCertificate(CertificateError::BadEncoding))?;
            let now = now.as_secs();
            if now < info.not_before.as_secs() {
                return Err(TlsError::InvalidCertificate(CertificateError::NotValidYet));
            }
            if now > info.not_after.as_secs() {
                return Err(TlsError::InvalidCertificate(CertificateError::Expired));
            }
            if !info.server_purpose {
                return Err(TlsError::InvalidCertificate(CertificateError::InvalidPurpose));
            }
        } else {
            // webpki checks the name after the chain: a name error means the chain is good. The
            // name is checked below, libpq's way.
            match self.chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Ok(_)
                | Err(TlsError::InvalidCertificate(
                    CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
                )) => {}
                Err(e) => return Err(e),
            }
        }
        if self.check_host {
            let info = info.as_ref().ok_or(TlsError::InvalidCertificate(CertificateError::BadEncoding))?;
            let host = match server_name {
                ServerName::DnsName(name) => name.as_ref().to_string(),
                ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
                _ => return Err(TlsError::InvalidCertificate(CertificateError::NotValidForName)),
            };
            if !host_matches(info, &host) {
                return Err(TlsError::InvalidCertificate(CertificateError::NotValidForNameContext {
                    expected: server_name.to_owned(),
                    presented: info.presented(),
                }));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Whether the certificate is for `host`, by libpq's rules (fe-secure-openssl.c): every
/// subjectAltName dNSName is compared with the host (case-insensitively, `*.` matching one
/// leftmost label), every iPAddress with the host's address; the Common Name counts only when
/// there is no subjectAltName of the host's kind (dNSName for a name, iPAddress for an address).
pub(crate) fn host_matches(cert: &CertInfo, host: &str) -> bool {
    let host_ip: Option<IpAddr> = host.parse().ok();
    if cert.dns_names.iter().any(|name| name_matches(name, host)) {
        return true;
    }
    if let Some(ip) = host_ip {
        if cert.ip_addresses.iter().any(|bytes| ip_from_bytes(bytes) == Some(ip)) {
            return true;
        }
    }
    let san_of_hosts_kind = match host_ip {
        Some(_) => !cert.ip_addresses.is_empty(),
        None => !cert.dns_names.is_empty(),
    };
    !san_of_hosts_kind && cert.common_name.as_deref().is_some_and(|cn| name_matches(cn, host))
}

/// libpq's comparison of one certificate name with the host name: equal ignoring ASCII case, or
/// a `*.rest` pattern where `*` stands for exactly one leftmost label.
fn name_matches(pattern: &str, host: &str) -> bool {
    if pattern.contains('\0') {
        return false;
    }
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    let Some(suffix) = pattern.strip_prefix('*') else { return false };
    if !suffix.starts_with('.') || suffix.len() < 2 || pattern.len() > host.len() {
        return false;
    }
    let split = host.len() - suffix.len();
    host.is_char_boundary(split)
        && host[split..].eq_ignore_ascii_case(suffix)
        && !host[..split].contains('.')
        && split > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1
    /// -subj /CN=localhost`: basicConstraints CA:TRUE, no subjectAltName.
    const SELF_SIGNED: &str = "-----BEGIN CERTIFICATE-----
MIIBfDCCASOgAwIBAgIUaOcP+b35+us3NFuqpQGZ8m2gVHUwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MB4XDTI2MTIwMzE4NTQwOVoXDTI2MTIwNDE4
NTQwOVowFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAE3EaU3uqvCxM6OEeS4cRt8Bloc/hw0DR6N9nZd0Mlc7iKZtrkpLNbZ13m
ab8PiySATzgVc9G67aeMu8nwAuV+J6NTMFEwHQYDVR0OBBYEFEp4s5IBm2lNsWr2
B6WJxn0gt7M/MB8GA1UdIwQYMBaAFEp4s5IBm2lNsWr2B6WJxn0gt7M/MA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgPuqm45LVSK1SVMOMJoa/f01b
wiZnoy8JUjI3RgCE8r8CIB3ohdy0gZjzJ+PoWsfBlxp7cB9Dcs7LOcwyvJWtrPST
-----END CERTIFICATE-----
";

    fn verifier(cert: &CertificateDer<'static>, pinned: bool) -> Verifier {
        let mut roots = RootCertStore::empty();
        roots.add(cert.clone()).unwrap();
        let pins = if pinned { vec![cert.clone()] } else { Vec::new() };
        Verifier::new(roots, pins, true, Arc::new(rustls::crypto::ring::default_provider())).unwrap()
    }

    #[test]
    fn a_certificate_given_as_its_own_root_is_checked_for_dates_and_name() {
        let cert = rustls_pemfile::certs(&mut SELF_SIGNED.as_bytes()).next().unwrap().unwrap();
        let info = CertInfo::parse(cert.as_ref()).unwrap();
        let at = |secs: u64| UnixTime::since_unix_epoch(Duration::from_secs(secs));
        let during = at(info.not_before.as_secs() + 60);
        let localhost = ServerName::try_from("localhost").unwrap();
        let check = |v: &Verifier, name: &ServerName<'_>, now| v.verify_server_cert(&cert, &[], name, &[], now);
        let pinned = verifier(&cert, true);
        assert!(check(&pinned, &localhost, during).is_ok());
        assert_eq!(
            check(&pinned, &localhost, at(info.not_after.as_secs() + 1)).unwrap_err(),
            TlsError::InvalidCertificate(CertificateError::Expired)
        );
        assert_eq!(
            check(&pinned, &localhost, at(info.not_before.as_secs() - 1)).unwrap_err(),
            TlsError::InvalidCertificate(CertificateError::NotValidYet)
        );
        let other = ServerName::try_from("otherhost").unwrap();
        assert!(matches!(
            check(&pinned, &other, during).unwrap_err(),
            TlsError::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
        ));
        // The same roots without the pin: webpki's own verdict, the reason the pin exists.
        let refused = check(&verifier(&cert, false), &localhost, during).unwrap_err();
        assert!(format!("{refused:?}").contains("CaUsedAsEndEntity"), "{refused:?}");
    }

    fn cert(dns: &[&str], ips: &[&str], cn: Option<&str>) -> CertInfo {
        CertInfo {
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ip_addresses: ips
                .iter()
                .map(|s| match s.parse::<IpAddr>().unwrap() {
                    IpAddr::V4(v4) => v4.octets().to_vec(),
                    IpAddr::V6(v6) => v6.octets().to_vec(),
                })
                .collect(),
            common_name: cn.map(str::to_string),
            not_before: Duration::ZERO,
            not_after: Duration::MAX,
            server_purpose: true,
        }
    }

    #[test]
    fn host_names_match_like_libpq() {
        let c = cert(&["db.example.com", "*.pool.example.com"], &[], Some("ignored.example.com"));
        assert!(host_matches(&c, "db.example.com"));
        assert!(host_matches(&c, "DB.Example.COM"), "case-insensitive");
        assert!(host_matches(&c, "a.pool.example.com"));
        assert!(!host_matches(&c, "a.b.pool.example.com"), "* is one label");
        assert!(!host_matches(&c, "pool.example.com"), "* is not empty");
        assert!(!host_matches(&c, "ignored.example.com"), "a dNSName present: the CN does not count");
        assert!(!host_matches(&c, "127.0.0.1"));
    }

    #[test]
    fn the_common_name_counts_without_a_name_of_the_hosts_kind() {
        let cn_only = cert(&[], &[], Some("localhost"));
        assert!(host_matches(&cn_only, "localhost"));
        assert!(host_matches(&cn_only, "LOCALHOST"));
        assert!(!host_matches(&cn_only, "otherhost"));
        let wildcard_cn = cert(&[], &[], Some("*.example.com"));
        assert!(host_matches(&wildcard_cn, "db.example.com"));
        // An address host: iPAddress names, or the CN when there is none (even beside dNSNames).
        let ip = cert(&["localhost"], &["127.0.0.1", "::1"], None);
        assert!(host_matches(&ip, "127.0.0.1"));
        assert!(host_matches(&ip, "::1"));
        assert!(!host_matches(&ip, "10.0.0.1"));
        let ip_in_cn = cert(&["localhost"], &[], Some("127.0.0.1"));
        assert!(host_matches(&ip_in_cn, "127.0.0.1"));
        let ip_san_and_cn = cert(&[], &["10.0.0.1"], Some("127.0.0.1"));
        assert!(!host_matches(&ip_san_and_cn, "127.0.0.1"), "an iPAddress present: the CN does not count");
        assert!(!host_matches(&cert(&[], &[], None), "localhost"));
    }
}
