//! HTTPS for the HTTP listener (and so WSS for `/ws`): the certificate chain and key of
//! `[http] tls_cert` / `tls_key` (PEM) loaded into a rustls server configuration. rustls
//! through tokio-rustls because the listener keeps its own accept loop (caps, handshake and
//! idle timeouts in `shell::http_serve`), which a TLS stream wrapper fits and a server
//! framework (axum-server) would replace; rustls is maintained, memory-safe and needs no
//! system OpenSSL; its `ring` provider builds quickly without cmake (see `load`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why the certificate or key cannot be used; each names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: cannot read the TLS {what} ([http] tls_{what}): {source}")]
    Read {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{path}: no PEM {expected} in it ([http] tls_{what}): {detail}")]
    NoPem {
        path: PathBuf,
        what: &'static str,
        expected: &'static str,
        detail: String,
    },
    #[error("{cert} with {key}: the certificate and key cannot be used together: {source}")]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// The server configuration for `cert` (a PEM chain, leaf first) and `key` (PEM PKCS#8,
/// PKCS#1 or SEC1), speaking HTTP/1.1 only.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let read = |path: &Path, what| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            what,
            source,
        })
    };
    let cert_pem = read(cert, "cert")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
        .and_then(|c| {
            if c.is_empty() {
                Err("no CERTIFICATE section".to_string())
            } else {
                Ok(c)
            }
        })
        .map_err(|detail| TlsError::NoPem {
            path: cert.to_path_buf(),
            what: "cert",
            expected: "certificate",
            detail,
        })?;
    let key_pem = read(key, "key")?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::NoPem {
        path: key.to_path_buf(),
        what: "key",
        expected: "private key",
        detail: e.to_string(),
    })?;
    let unusable = |source| TlsError::Unusable {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    };
    // rustls 0.23.48 marks ring's provider deprecated because it lacks the post-quantum key
    // exchange (X25519MLKEM768) that only its aws-lc-rs provider has; aws-lc-rs needs a C
    // toolchain build several times ring's. Classic ECDHE is what browsers fall back to.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(unusable)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let e = load(&cert, &key).unwrap_err().to_string();
        assert!(e.contains("cert.pem") && e.contains("tls_cert"), "{e}");
        std::fs::write(&cert, "not pem").unwrap();
        let e = load(&cert, &key).unwrap_err().to_string();
        assert!(
            e.contains("cert.pem") && e.contains("no PEM certificate"),
            "{e}"
        );
    }
}
