//! What shale reads from an X.509 certificate itself (rustls/webpki keep these to themselves): the
//! names libpq matches the host against, the validity period, the key usages, and the hash of
//! its signature algorithm (for tls-server-end-point channel binding).

use std::net::IpAddr;
use std::time::Duration;

use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, SliceReader, TagNumber};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, SubjectAltName};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

/// A parsed server certificate, as far as shale needs it.
pub(crate) struct CertInfo {
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<Vec<u8>>,
    /// The first Common Name of the subject, when it is a string.
    pub common_name: Option<String>,
    pub not_before: Duration,
    pub not_after: Duration,
    /// Whether the key may sign a TLS handshake (keyUsage absent, or it has digitalSignature,
    /// keyEncipherment or keyAgreement) and the certificate is for TLS servers (extendedKeyUsage
    /// absent, or it has serverAuth or anyExtendedKeyUsage): OpenSSL's check of a server
    /// certificate's purpose.
    pub server_purpose: bool,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let cert = Certificate::from_der(der).ok()?;
        let tbs = &cert.tbs_certificate;
        let mut info = CertInfo {
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            common_name: None,
            not_before: tbs.validity.not_before.to_unix_duration(),
            not_after: tbs.validity.not_after.to_unix_duration(),
            server_purpose: true,
        };
        'rdns: for rdn in tbs.subject.0.iter() {
            for attribute in rdn.0.iter() {
                if attribute.oid == COMMON_NAME {
                    info.common_name = std::str::from_utf8(attribute.value.value()).ok().map(str::to_string);
                    break 'rdns;
                }
            }
        }
        for ext in tbs.extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == SUBJECT_ALT_NAME {
                for name in SubjectAltName::from_der(value).ok()?.0 {
                    match name {
                        GeneralName::DnsName(dns) => info.dns_names.push(dns.as_str().to_string()),
                        GeneralName::IpAddress(ip) => info.ip_addresses.push(ip.as_bytes().to_vec()),
                        _ => {}
                    }
                }
            } else if ext.extn_id == KEY_USAGE {
                let usage = KeyUsage::from_der(value).ok()?;
                if !(usage.digital_signature() || usage.key_encipherment() || usage.key_agreement()) {
                    info.server_purpose = false;
                }
            } else if ext.extn_id == EXT_KEY_USAGE {
                let usage = ExtendedKeyUsage::from_der(value).ok()?;
                if !usage.0.iter().any(|oid| *oid == SERVER_AUTH || *oid == ANY_EXTENDED_KEY_USAGE) {
                    info.server_purpose = false;
                }
            }
        }
        Some(info)
    }

    /// The names it presents, for messages.
    pub fn presented(&self) -> Vec<String> {
        let mut names: Vec<String> = self.dns_names.clone();
        names.extend(self.ip_addresses.iter().filter_map(|b| ip_from_bytes(b)).map(|ip| ip.to_string()));
        if names.is_empty() {
            names.extend(self.common_name.iter().map(|cn| format!("CN={cn}")));
        }
        names
    }
}

pub(crate) fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// The hash of tls-server-end-point channel binding (RFC 5929 section 4.1), as the PostgreSQL
/// server computes it: the hash function of the certificate's signature algorithm, SHA-256 in
/// place of MD5 and SHA-1. None for a signature algorithm without a hash function of its own
/// (Ed25519, Ed448), for which the server offers no channel binding either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndPointHash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl EndPointHash {
    pub fn of_certificate(der: &[u8]) -> Option<EndPointHash> {
        let cert = Certificate::from_der(der).ok()?;
        Self::of_algorithm(&cert.signature_algorithm)
    }

    fn of_algorithm(algorithm: &AlgorithmIdentifierOwned) -> Option<EndPointHash> {
        let oid = algorithm.oid.to_string();
        Some(match oid.as_str() {
            // md5WithRSAEncryption, sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1:
            // upgraded to SHA-256.
            "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" => {
                EndPointHash::Sha256
            }
            "1.2.840.113549.1.1.14" | "1.2.840.10045.4.3.1" | "2.16.840.1.101.3.4.3.1" => EndPointHash::Sha224,
            "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" | "2.16.840.1.101.3.4.3.2" => EndPointHash::Sha256,
            "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => EndPointHash::Sha384,
            "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => EndPointHash::Sha512,
            // RSASSA-PSS: the hash is in the parameters (SHA-1 when absent, then upgraded).
            "1.2.840.113549.1.1.10" => {
                let hash = match &algorithm.parameters {
                    Some(params) => pss_hash(params.value())?,
                    None => return Some(EndPointHash::Sha256),
                };
                match hash.to_string().as_str() {
                    "1.3.14.3.2.26" | "2.16.840.1.101.3.4.2.1" => EndPointHash::Sha256,
                    "2.16.840.1.101.3.4.2.4" => EndPointHash::Sha224,
                    "2.16.840.1.101.3.4.2.2" => EndPointHash::Sha384,
                    "2.16.840.1.101.3.4.2.3" => EndPointHash::Sha512,
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            EndPointHash::Sha224 => sha2::Sha224::digest(data).to_vec(),
            EndPointHash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            EndPointHash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            EndPointHash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// The hash algorithm of RSASSA-PSS-params (RFC 4055): `hashAlgorithm [0] EXPLICIT
/// AlgorithmIdentifier DEFAULT sha1`, given the content octets of the SEQUENCE.
fn pss_hash(sequence_content: &[u8]) -> Option<ObjectIdentifier> {
    const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    let mut reader = SliceReader::new(sequence_content).ok()?;
    let hash =
        x509_cert::der::asn1::ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(&mut reader, TagNumber::N0)
            .ok()?;
    Some(hash.map_or(SHA1, |h| h.value.oid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::der::asn1::Any;
    use x509_cert::der::Encode;

    fn algorithm(oid: &str, parameters: Option<Any>) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned { oid: ObjectIdentifier::new_unwrap(oid), parameters }
    }

    #[test]
    fn end_point_hash_follows_the_signature_algorithm() {
        let cases = [
            ("1.2.840.113549.1.1.5", Some(EndPointHash::Sha256)), // sha1WithRSA, upgraded
            ("1.2.840.113549.1.1.4", Some(EndPointHash::Sha256)), // md5WithRSA, upgraded
            ("1.2.840.113549.1.1.11", Some(EndPointHash::Sha256)),
            ("1.2.840.113549.1.1.12", Some(EndPointHash::Sha384)),
            ("1.2.840.113549.1.1.13", Some(EndPointHash::Sha512)),
            ("1.2.840.10045.4.3.2", Some(EndPointHash::Sha256)),
            ("1.2.840.10045.4.3.3", Some(EndPointHash::Sha384)),
            ("1.2.840.10045.4.3.4", Some(EndPointHash::Sha512)),
            ("1.3.101.112", None), // Ed25519
        ];
        for (oid, expected) in cases {
            assert_eq!(EndPointHash::of_algorithm(&algorithm(oid, None)), expected, "{oid}");
        }
    }

    #[test]
    fn pss_takes_the_hash_from_its_parameters() {
        let pss = "1.2.840.113549.1.1.10";
        // RSASSA-PSS-params with hashAlgorithm [0] { sha384 }.
        let sha384 = algorithm("2.16.840.1.101.3.4.2.2", None).to_der().unwrap();
        let mut tagged = vec![0xA0, sha384.len() as u8];
        tagged.extend(&sha384);
        let mut params = vec![0x30, tagged.len() as u8];
        params.extend(&tagged);
        let params = Any::from_der(&params).unwrap();
        assert_eq!(EndPointHash::of_algorithm(&algorithm(pss, Some(params))), Some(EndPointHash::Sha384));
        // Empty parameters: SHA-1, upgraded to SHA-256.
        let empty = Any::from_der(&[0x30, 0x00]).unwrap();
        assert_eq!(EndPointHash::of_algorithm(&algorithm(pss, Some(empty))), Some(EndPointHash::Sha256));
        assert_eq!(EndPointHash::Sha384.digest(b"abc").len(), 48);
    }
}
