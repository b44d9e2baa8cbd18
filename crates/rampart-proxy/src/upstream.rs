//! The pooled HTTP/1.1 client to the upstream server (hyper-util's legacy client).

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type UpBody = BoxBody<Bytes, BoxError>;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream URL {0:?}: only http://host[:port][/prefix] is supported")]
    BadUrl(String),
}

/// Where requests go, parsed once.
#[derive(Clone)]
pub struct Upstream {
    pub client: Client<HttpConnector, UpBody>,
    /// "http://host:port"
    pub origin: String,
    /// Path prefix without trailing slash ("" for none).
    pub prefix: String,
}

impl Upstream {
    pub fn new(url: &str) -> Result<Upstream, UpstreamError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| UpstreamError::BadUrl(url.into()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.parse::<http::uri::Authority>().is_err() {
            return Err(UpstreamError::BadUrl(url.into()));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        Ok(Upstream {
            client,
            origin: format!("http://{authority}"),
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    /// The absolute URI for a client's request target. Bytes that are not valid in a URI
    /// (the WAF has already seen them raw) are percent-encoded for the upstream.
    pub fn uri_for(&self, target: &[u8]) -> Result<http::Uri, http::Error> {
        let path: Vec<u8> = if target.first() == Some(&b'/') {
            target.to_vec()
        } else if let Some(i) = target.windows(3).position(|w| w == b"://") {
            // absolute-form: keep only path and query.
            let after = &target[i + 3..];
            match after.iter().position(|&b| b == b'/' || b == b'?') {
                Some(p) if after[p] == b'/' => after[p..].to_vec(),
                Some(p) => [&b"/"[..], &after[p..]].concat(),
                None => b"/".to_vec(),
            }
        } else {
            // asterisk-form and authority-form have no path to forward.
            b"/".to_vec()
        };
        let mut s = String::with_capacity(self.origin.len() + self.prefix.len() + path.len());
        s.push_str(&self.origin);
        s.push_str(&self.prefix);
        if path.first() != Some(&b'/') {
            s.push('/');
        }
        for &b in &path {
            if needs_escape(b) {
                s.push_str(&format!("%{b:02X}"));
            } else {
                s.push(b as char);
            }
        }
        Ok(s.parse::<http::Uri>()?)
    }
}

fn needs_escape(b: u8) -> bool {
    b <= 0x20 || b >= 0x7f || b"\"<>\\^`{|}#".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn builds_upstream_uris() {
        let u = Upstream::new("http://127.0.0.1:8080/app/").unwrap();
        assert_eq!(
            u.uri_for(b"/a?b=<c>").unwrap().to_string(),
            "http://127.0.0.1:8080/app/a?b=%3Cc%3E"
        );
        assert_eq!(u.uri_for(b"*").unwrap().to_string(), "http://127.0.0.1:8080/app/");
        assert_eq!(
            u.uri_for(b"http://x.org/p?q").unwrap().to_string(),
            "http://127.0.0.1:8080/app/p?q"
        );
        assert_eq!(
            u.uri_for("/①".as_bytes()).unwrap().to_string(),
            "http://127.0.0.1:8080/app/%E2%91%A0"
        );
        assert_eq!(
            u.uri_for(b"http://x.org?q").unwrap().to_string(),
            "http://127.0.0.1:8080/app/?q"
        );
        assert!(Upstream::new("https://x").is_err());
        assert!(Upstream::new("http://").is_err());
    }
}
