//! The TLS connector tokio-postgres uses: rustls, plus the tls-server-end-point channel binding
//! data that SCRAM-SHA-256-PLUS needs.
//!
//! tokio-postgres-rustls 0.13 was used before: its `channel_binding()` parsed the whole
//! certificate as a TBSCertificate, which always fails, so it never offered channel binding
//! (`channel_binding=require` could not work; `prefer` silently never bound). 0.14 fixes the
//! parse but leaves out RSASSA-PSS, SHA-224 and ECDSA with SHA-512, for which the server does bind.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio_rustls::TlsConnector;

use super::cert::EndPointHash;

/// Makes a TLS connection per host, with the name to verify.
#[derive(Clone)]
pub struct MakeTls {
    config: Arc<ClientConfig>,
}

impl MakeTls {
    pub fn new(config: ClientConfig) -> MakeTls {
        MakeTls { config: Arc::new(config) }
    }
}

impl<S> MakeTlsConnect<S> for MakeTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = TlsStream<S>;
    type TlsConnect = Connect;
    type Error = io::Error;

    /// tokio-postgres asks for a connector even where it will not use TLS (a Unix socket, whose
    /// "host name" is empty): the name is only checked when a handshake is made.
    fn make_tls_connect(&mut self, host: &str) -> Result<Connect, io::Error> {
        Ok(Connect { host: host.to_string(), connector: TlsConnector::from(self.config.clone()) })
    }
}

/// One TLS handshake to be made.
pub struct Connect {
    host: String,
    connector: TlsConnector,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = TlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let host = self.host;
            let name = ServerName::try_from(host.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("host name {host:?}: {e}")))?;
            let inner = self.connector.connect(name, stream).await?;
            let end_point =
                inner.get_ref().1.peer_certificates().and_then(|certs| certs.first()).and_then(|cert| {
                    EndPointHash::of_certificate(cert.as_ref()).map(|hash| hash.digest(cert.as_ref()))
                });
            Ok(TlsStream { inner, end_point })
        })
    }
}

/// An established TLS connection.
pub struct TlsStream<S> {
    inner: tokio_rustls::client::TlsStream<S>,
    /// The tls-server-end-point hash of the server's certificate, if its signature algorithm has one.
    end_point: Option<Vec<u8>>,
}

impl<S> tokio_postgres::tls::TlsStream for TlsStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> ChannelBinding {
        match &self.end_point {
            Some(hash) => ChannelBinding::tls_server_end_point(hash.clone()),
            None => ChannelBinding::none(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
