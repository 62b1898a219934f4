//! TLS for the `diameter` command: TLS at connect (RFC 6733 §2.1) with
//! rustls (ring) through diameter-tokio's `tls` feature.
//!
//! - `serve --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]`: listen
//!   with TLS ([`server_config`]), optionally requiring client
//!   certificates.
//! - `call`, `send`, `bench` share [`ClientTlsArgs`]: `--peer HOST:PORT
//!   --tls-ca FILE [--tls-name NAME]` connects with TLS trusting the CAs in
//!   the file and checking the peer's certificate for NAME, or else the
//!   host part of `--peer` (an IP address there must be in the
//!   certificate's subjectAltName as an IP address). `--tls` without
//!   `--peer` gives the built-in server a throw-away self-signed
//!   certificate made at start ([`throwaway`]) and the client trusts
//!   exactly that one.
//!
//! Certificates and keys are read from PEM files (a chain of `CERTIFICATE`
//! sections; a `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`); every
//! problem with them is one line naming the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use diameter_tokio::rustls::crypto::CryptoProvider;
use diameter_tokio::rustls::pki_types::pem::{self, PemObject};
use diameter_tokio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use diameter_tokio::rustls::server::WebPkiClientVerifier;
use diameter_tokio::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use diameter_tokio::{Builder, Target};

use crate::commands::Failure;

/// The TLS flags of the client subcommands (`call`, `send`, `bench`).
#[derive(Debug, Clone, Default, Args)]
pub struct ClientTlsArgs {
    /// Connect with TLS (RFC 6733 §2.1). Without --peer the built-in
    /// server gets a throw-away self-signed certificate made at start,
    /// and only that one is trusted; with --peer, give --tls-ca.
    #[arg(long)]
    pub tls: bool,
    /// Connect to --peer with TLS, trusting the CA certificates in this
    /// PEM file (implies --tls). The system's CAs are such a file:
    /// /etc/ssl/certs/ca-certificates.crt on Debian.
    #[arg(long, value_name = "FILE.pem", requires = "peer")]
    pub tls_ca: Option<PathBuf>,
    /// The name the peer's certificate must be valid for (default: the
    /// host part of --peer; for an IP address the certificate needs that
    /// IP in its subjectAltName).
    #[arg(long, value_name = "NAME", requires = "tls_ca")]
    pub tls_name: Option<String>,
    /// Our client certificate chain (PEM), for a peer that asks for one.
    #[arg(long, value_name = "FILE.pem", requires_all = ["tls_ca", "tls_key"])]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE.pem", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// The client side of TLS, settled: what to trust and the name to check.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// The client's settings ([`Builder::tls_client`]).
    pub config: Arc<ClientConfig>,
    /// The name the server's certificate is checked for.
    pub name: String,
}

impl ClientTls {
    /// The target `addr` with TLS for [`ClientTls::name`].
    pub fn target(&self, addr: SocketAddr) -> Target {
        Target::new(addr).tls(&self.name)
    }
}

/// The target `addr`, with TLS when `tls` is given.
pub fn target(addr: SocketAddr, tls: Option<&ClientTls>) -> Target {
    match tls {
        Some(t) => t.target(addr),
        None => Target::new(addr),
    }
}

/// `builder` with the client TLS settings of `tls`, if any.
pub fn client_builder(builder: Builder, tls: Option<&ClientTls>) -> Builder {
    match tls {
        Some(t) => builder.tls_client(t.config.clone()),
        None => builder,
    }
}

impl ClientTlsArgs {
    /// Whether the flags ask for TLS.
    pub fn enabled(&self) -> bool {
        self.tls || self.tls_ca.is_some()
    }

    /// The client settings towards `--peer` peers: `None` for plain TCP;
    /// an error for `--tls` without `--tls-ca` or a bad file.
    pub fn peer_config(&self) -> Result<Option<Arc<ClientConfig>>, Failure> {
        let Some(ca) = &self.tls_ca else {
            if self.tls {
                return Err(Failure(
                    "--tls with --peer needs --tls-ca FILE.pem (the CA that signed the peer's certificate)"
                        .into(),
                ));
            }
            return Ok(None);
        };
        let roots = roots(ca)?;
        match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => client_config(roots, Some((certs(c)?, key(k)?)))
                .map_err(|e| pair_failure(c, k, e))
                .map(Some),
            _ => client_config(roots, None)
                .map_err(|e| Failure(format!("TLS: {e}")))
                .map(Some),
        }
    }

    /// The TLS settings towards the peer `HOST:PORT` (see
    /// [`ClientTlsArgs::peer_config`]): its name is `--tls-name`, or else
    /// `HOST`.
    pub fn for_peer(&self, config: Option<&Arc<ClientConfig>>, peer: &str) -> Option<ClientTls> {
        config.map(|c| ClientTls {
            config: c.clone(),
            name: self.tls_name.clone().unwrap_or_else(|| host_of(peer)),
        })
    }
}

/// The host part of `HOST:PORT` (`[v6]:PORT` too).
pub fn host_of(peer: &str) -> String {
    let host = match peer.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => peer,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// The crypto of every TLS setting here: rustls' ring provider.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What was wrong with a PEM file, in words.
fn pem_error(path: &Path, what: &str, e: pem::Error) -> Failure {
    match e {
        pem::Error::Io(e) => Failure(format!("cannot read {}: {e}", path.display())),
        pem::Error::NoItemsFound => Failure(format!(
            "{}: no {what} in it (PEM expected)",
            path.display()
        )),
        e => Failure(format!("{}: bad PEM: {e}", path.display())),
    }
}

/// The certificates (`CERTIFICATE` sections) of a PEM file, in order; at
/// least one.
pub fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Failure> {
    let what = "certificate";
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, what, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, what, e))?;
    if certs.is_empty() {
        return Err(pem_error(path, what, pem::Error::NoItemsFound));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn key(path: &Path) -> Result<PrivateKeyDer<'static>, Failure> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error(path, "private key", e))
}

/// The CA certificates of a PEM file as trust anchors.
pub fn roots(path: &Path) -> Result<RootCertStore, Failure> {
    let mut roots = RootCertStore::empty();
    for c in certs(path)? {
        roots.add(c).map_err(|e| {
            Failure(format!(
                "{}: not a usable CA certificate: {e}",
                path.display()
            ))
        })?;
    }
    Ok(roots)
}

/// A client's settings: trust `roots`; present `identity` (chain, key)
/// when the server asks for a certificate.
fn client_config(
    roots: RootCertStore,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    Ok(Arc::new(match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    }))
}

/// A certificate and key that rustls refused together, in words.
fn pair_failure(cert: &Path, key: &Path, e: rustls::Error) -> Failure {
    match e {
        rustls::Error::InconsistentKeys(_) => Failure(format!(
            "{}: the key does not match the certificate in {}",
            key.display(),
            cert.display()
        )),
        e => Failure(format!("{}: not a usable private key: {e}", key.display())),
    }
}

/// A server's settings: the certificate chain in `cert` (the server's own
/// first) with the private key in `key`; with `client_ca`, clients must
/// present a certificate signed by one of the CAs in that file.
pub fn server_config(
    cert: &Path,
    key_file: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, Failure> {
    let chain = certs(cert)?;
    let key = key(key_file)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure(format!("TLS: {e}")))?;
    let builder = match client_ca {
        Some(ca) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
                    .build()
                    .map_err(|e| Failure(format!("{}: {e}", ca.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| pair_failure(cert, key_file, e))?;
    Ok(Arc::new(config))
}

/// A throw-away certificate for the built-in server: self-signed, made
/// now, for `name`, `localhost` and 127.0.0.1; the client trusts exactly
/// it and checks it for `name`.
pub fn throwaway(name: &str) -> Result<(Arc<ServerConfig>, ClientTls), Failure> {
    let fail = |e: rcgen::Error| Failure(format!("cannot make a TLS certificate: {e}"));
    let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec![
        name.to_string(),
        "localhost".into(),
        "127.0.0.1".into(),
    ])
    .map_err(fail)?;
    let der = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    let server = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .map_err(|e| Failure(format!("TLS: {e}")))?;
    let mut roots = RootCertStore::empty();
    roots.add(der).map_err(|e| Failure(format!("TLS: {e}")))?;
    let client = ClientTls {
        config: client_config(roots, None).map_err(|e| Failure(format!("TLS: {e}")))?,
        name: name.to_string(),
    };
    Ok((Arc::new(server), client))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_checked_by_default_is_the_host_of_peer() {
        assert_eq!(host_of("ocs.example.net:3868"), "ocs.example.net");
        assert_eq!(host_of("10.0.0.5:3868"), "10.0.0.5");
        assert_eq!(host_of("[::1]:3868"), "::1");
        assert_eq!(host_of("ocs.example.net"), "ocs.example.net");
    }

    #[test]
    fn a_throwaway_certificate_makes_both_sides() {
        let (_, client) = throwaway("server.diameter.test").unwrap();
        assert_eq!(client.name, "server.diameter.test");
    }
}
