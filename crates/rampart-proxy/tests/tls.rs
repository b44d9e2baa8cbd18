//! HTTPS on the listening socket with a certificate made by the test.

mod common;

use common::{start_echo, start_proxy};
use rampart_proxy::{Limits, TlsFiles};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

#[tokio::test]
async fn tls_round_trip_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let rules = dir.path().join("r.conf");
    std::fs::write(
        &rules,
        "SecRuleEngine On\nSecRule ARGS:x \"@streq bad\" \"id:7,phase:1,deny,status:403,log\"\n",
    )
    .unwrap();
    let tls = TlsFiles {
        cert: cert_path,
        key: key_path,
    };
    let (proxy, _) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        Some(tls),
    )
    .await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    for (path, want) in [("/?x=good", "200"), ("/?x=bad", "403")] {
        let tcp = tokio::net::TcpStream::connect(proxy.local_addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
        tls.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), tls.read_to_end(&mut out))
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with(&format!("HTTP/1.1 {want}")), "{path}: {text}");
        if want == "200" {
            assert!(
                text.to_ascii_lowercase().contains("x-echo-xff: 127.0.0.1"),
                "{text}"
            );
        }
    }
}
