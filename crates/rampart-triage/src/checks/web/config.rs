//! The sites a host serves, from nginx and Apache configuration: web roots, server
//! names, listen addresses and the user the web server runs as. Includes are followed
//! (globs in the last path component), bounded in depth and count.

use crate::checks::firewall::expand_glob;
use rampart_core::HostRoot;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub const NGINX_CONF: &str = "/etc/nginx/nginx.conf";
pub const APACHE_CONF: &str = "/etc/apache2/apache2.conf";
pub const APACHE_ENVVARS: &str = "/etc/apache2/envvars";
pub const HTTPD_CONF: &str = "/etc/httpd/conf/httpd.conf";
/// Debian's web server user when the config names none.
pub const DEFAULT_USER: &str = "www-data";

const MAX_INCLUDE_DEPTH: usize = 16;
const MAX_FILES: usize = 512;
const CONF_LIMIT: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Nginx,
    Apache,
}

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Nginx => "nginx",
            Server::Apache => "apache",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// None: every address.
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub tls: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub dir: String,
    /// `file:line` of the `root` / `DocumentRoot` directive.
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub server: Server,
    pub names: Vec<String>,
    pub roots: Vec<Root>,
    pub listens: Vec<Listen>,
    /// `file:line` where the site is defined.
    pub at: String,
}

impl Site {
    /// The name to send as `Host:`: the first real server name.
    pub fn host_name(&self) -> String {
        self.names
            .iter()
            .find(|n| !n.is_empty() && *n != "_" && !n.contains('*') && !n.starts_with('~'))
            .cloned()
            .unwrap_or_else(|| "localhost".into())
    }

    /// Where to probe this site over loopback: plain-HTTP listeners only.
    pub fn probe_targets(&self) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = self
            .listens
            .iter()
            .filter(|l| !l.tls)
            .map(|l| {
                let ip = match l.addr {
                    None => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    Some(a) if a.is_unspecified() && a.is_ipv6() => "::1".parse().unwrap(),
                    Some(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    Some(a) => a,
                };
                SocketAddr::new(ip, l.port)
            })
            .collect();
        v.sort();
        v.dedup();
        // One listener per port is enough (IPv4 and IPv6 serve the same site).
        v.dedup_by_key(|a| a.port());
        v
    }
}

/// A web server's user and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUser {
    pub server: Server,
    pub name: String,
    pub at: String,
}

#[derive(Debug, Default)]
pub struct WebConfig {
    pub sites: Vec<Site>,
    pub users: Vec<WebUser>,
    /// (subject, message) of unreadable or malformed files.
    pub errors: Vec<(String, String)>,
}

impl WebConfig {
    pub fn load(host: &HostRoot) -> WebConfig {
        let mut cfg = WebConfig::default();
        nginx(host, &mut cfg);
        apache(host, &mut cfg);
        cfg
    }

    /// The user of `server`; Debian's `www-data` when its config names none.
    pub fn user_of(&self, server: Server) -> WebUser {
        self.users
            .iter()
            .find(|u| u.server == server)
            .cloned()
            .unwrap_or(WebUser {
                server,
                name: DEFAULT_USER.into(),
                at: format!("{} default", server.name()),
            })
    }
}

// ---------- nginx ----------

#[derive(Debug, Clone)]
struct Directive {
    name: String,
    args: Vec<String>,
    at: String,
    block: Option<Vec<Directive>>,
}

struct Loader<'a> {
    host: &'a HostRoot,
    files: usize,
    errors: &'a mut Vec<(String, String)>,
}

impl Loader<'_> {
    fn read(&mut self, path: &str) -> Option<String> {
        self.files += 1;
        if self.files > MAX_FILES {
            self.errors.push((
                path.into(),
                format!("{path}: more than {MAX_FILES} included files; rest not read"),
            ));
            return None;
        }
        match self.host.read_limited(path, CONF_LIMIT) {
            Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            Err(e) => {
                self.errors.push((path.into(), e.to_string()));
                None
            }
        }
    }
}

fn nginx(host: &HostRoot, cfg: &mut WebConfig) {
    match host.resolve(NGINX_CONF) {
        Ok(p) if p.exists() => {}
        _ => return,
    }
    let mut loader = Loader {
        host,
        files: 0,
        errors: &mut cfg.errors,
    };
    let tree = nginx_file(&mut loader, NGINX_CONF, 0);
    for d in &tree {
        if d.name == "user" {
            if let Some(u) = d.args.first() {
                cfg.users.push(WebUser {
                    server: Server::Nginx,
                    name: u.clone(),
                    at: d.at.clone(),
                });
            }
        }
    }
    let mut servers = Vec::new();
    collect_servers(&tree, &mut servers);
    for s in servers {
        let mut site = Site {
            server: Server::Nginx,
            names: Vec::new(),
            roots: Vec::new(),
            listens: Vec::new(),
            at: s.at.clone(),
        };
        let body = s.block.as_deref().unwrap_or(&[]);
        nginx_server_body(body, &mut site);
        if site.listens.is_empty() {
            site.listens.push(Listen {
                addr: None,
                port: 80,
                tls: false,
            });
        }
        cfg.sites.push(site);
    }
}

fn collect_servers<'a>(ds: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for d in ds {
        match (d.name.as_str(), &d.block) {
            ("server", Some(_)) => out.push(d),
            ("http", Some(b)) => collect_servers(b, out),
            _ => {}
        }
    }
}

fn nginx_server_body(body: &[Directive], site: &mut Site) {
    for d in body {
        match d.name.as_str() {
            "server_name" => site.names.extend(d.args.iter().cloned()),
            "root" | "alias" => {
                if let Some(r) = d.args.first() {
                    let dir = r.trim_end_matches('/');
                    if dir.starts_with('/') && !site.roots.iter().any(|x| x.dir == dir) {
                        site.roots.push(Root {
                            dir: dir.to_string(),
                            at: d.at.clone(),
                        });
                    }
                }
            }
            "listen" => {
                if let Some(l) = d
                    .args
                    .first()
                    .and_then(|a| parse_listen(a, d.args.iter().any(|x| x == "ssl")))
                {
                    site.listens.push(l);
                }
            }
            "location" => {
                if let Some(b) = &d.block {
                    // Roots of locations are web roots too; names and listens are not here.
                    nginx_server_body(b, site);
                }
            }
            _ => {}
        }
    }
}

/// `80`, `127.0.0.1:8080`, `[::]:80`, `*:80`, `localhost:80`; `unix:` sockets are not probed.
fn parse_listen(a: &str, tls: bool) -> Option<Listen> {
    if a.starts_with("unix:") {
        return None;
    }
    if let Ok(port) = a.parse::<u16>() {
        return Some(Listen {
            addr: None,
            port,
            tls,
        });
    }
    let (host, port) = a.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr = match host {
        "*" | "" => None,
        "localhost" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        h => Some(h.parse().ok()?),
    };
    Some(Listen { addr, port, tls })
}

fn nginx_file(loader: &mut Loader, path: &str, depth: usize) -> Vec<Directive> {
    let Some(text) = loader.read(path) else {
        return Vec::new();
    };
    let tokens = tokenize_nginx(&text);
    let mut pos = 0;
    let (ds, err) = nginx_block(loader, path, &tokens, &mut pos, depth, false);
    if let Some((line, msg)) = err {
        loader
            .errors
            .push((format!("{path}:{line}"), format!("{path}:{line}: {msg}")));
    }
    ds
}

type ParseErr = Option<(u64, String)>;

fn nginx_block(
    loader: &mut Loader,
    path: &str,
    tokens: &[(String, u64, bool)],
    pos: &mut usize,
    depth: usize,
    nested: bool,
) -> (Vec<Directive>, ParseErr) {
    let mut out = Vec::new();
    let mut words: Vec<(String, u64)> = Vec::new();
    while *pos < tokens.len() {
        let (tok, line, quoted) = &tokens[*pos];
        *pos += 1;
        if !quoted && tok == ";" {
            if let Some(((name, l), args)) = words.split_first() {
                let d = Directive {
                    name: name.clone(),
                    args: args.iter().map(|(a, _)| a.clone()).collect(),
                    at: format!("{path}:{l}"),
                    block: None,
                };
                if d.name == "include" && depth < MAX_INCLUDE_DEPTH {
                    for arg in &d.args {
                        let full = if arg.starts_with('/') {
                            arg.clone()
                        } else {
                            format!("/etc/nginx/{arg}")
                        };
                        for inc in expand_glob(loader.host, &full) {
                            out.extend(nginx_file(loader, &inc, depth + 1));
                        }
                    }
                } else {
                    out.push(d);
                }
            }
            words.clear();
        } else if !quoted && tok == "{" {
            let Some(((name, l), args)) = words.split_first() else {
                return (out, Some((*line, "block without a name".into())));
            };
            let (inner, err) = nginx_block(loader, path, tokens, pos, depth, true);
            out.push(Directive {
                name: name.clone(),
                args: args.iter().map(|(a, _)| a.clone()).collect(),
                at: format!("{path}:{l}"),
                block: Some(inner),
            });
            if err.is_some() {
                return (out, err);
            }
            words.clear();
        } else if !quoted && tok == "}" {
            if !nested {
                return (out, Some((*line, "unexpected \"}\"".into())));
            }
            return (out, None);
        } else {
            words.push((tok.clone(), *line));
        }
    }
    if nested {
        return (
            out,
            Some((
                tokens.last().map(|t| t.1).unwrap_or(0),
                "unexpected end of file, expecting \"}\"".into(),
            )),
        );
    }
    (out, None)
}

/// Words, `;`, `{`, `}` with their line; quoted strings keep their spaces.
fn tokenize_nginx(text: &str) -> Vec<(String, u64, bool)> {
    let mut out = Vec::new();
    let mut line = 1u64;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            ';' | '{' | '}' => out.push((c.to_string(), line, false)),
            '"' | '\'' => {
                let mut s = String::new();
                let start = line;
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            s.push(e);
                        }
                        continue;
                    }
                    if d == c {
                        break;
                    }
                    if d == '\n' {
                        line += 1;
                    }
                    s.push(d);
                }
                out.push((s, start, true));
            }
            _ => {
                let mut s = String::from(c);
                while let Some(&d) = chars.peek() {
                    if d.is_whitespace() || d == ';' || d == '{' || d == '}' {
                        break;
                    }
                    s.push(d);
                    chars.next();
                }
                out.push((s, line, false));
            }
        }
    }
    out
}

// ---------- Apache ----------

fn apache(host: &HostRoot, cfg: &mut WebConfig) {
    let (main, server_root) = [(APACHE_CONF, "/etc/apache2"), (HTTPD_CONF, "/etc/httpd")]
        .into_iter()
        .find(|(p, _)| host.resolve(p).is_ok_and(|l| l.exists()))
        .unwrap_or(("", ""));
    if main.is_empty() {
        return;
    }
    let env = apache_envvars(host);
    let mut lines = Vec::new();
    let mut loader = Loader {
        host,
        files: 0,
        errors: &mut cfg.errors,
    };
    apache_file(&mut loader, main, server_root, 0, &mut lines);
    let expand = |v: &str| -> String {
        let mut s = v.to_string();
        for (k, val) in &env {
            s = s.replace(&format!("${{{k}}}"), val);
        }
        s
    };
    let mut listens: Vec<Listen> = Vec::new();
    let mut main_site = Site {
        server: Server::Apache,
        names: Vec::new(),
        roots: Vec::new(),
        listens: Vec::new(),
        at: main.to_string(),
    };
    let mut vhost: Option<Site> = None;
    let mut vhosts = Vec::new();
    for (at, words) in &lines {
        let Some(first) = words.first() else { continue };
        let key = first.to_ascii_lowercase();
        let arg = words.get(1).map(|a| expand(a.trim_matches('"')));
        match key.as_str() {
            "<virtualhost" => {
                let mut site = Site {
                    server: Server::Apache,
                    names: Vec::new(),
                    roots: Vec::new(),
                    listens: Vec::new(),
                    at: at.clone(),
                };
                for a in &words[1..] {
                    let a = a.trim_end_matches('>');
                    if let Some(l) = parse_listen(a, a.ends_with(":443")) {
                        site.listens.push(l);
                    }
                }
                vhost = Some(site);
            }
            "</virtualhost>" => {
                if let Some(v) = vhost.take() {
                    vhosts.push(v);
                }
            }
            "user" => {
                if let Some(u) = arg {
                    cfg.users.push(WebUser {
                        server: Server::Apache,
                        name: u,
                        at: at.clone(),
                    });
                }
            }
            "listen" => {
                if let Some(a) = arg {
                    let tls = words.get(2).is_some_and(|p| p.eq_ignore_ascii_case("https"));
                    if let Some(l) = parse_listen(&a, tls || a.ends_with("443")) {
                        listens.push(l);
                    }
                }
            }
            "servername" | "serveralias" => {
                let target = vhost.as_mut().unwrap_or(&mut main_site);
                target.names.extend(words[1..].iter().map(|w| expand(w)));
            }
            "documentroot" => {
                if let Some(dir) = arg {
                    let target = vhost.as_mut().unwrap_or(&mut main_site);
                    let dir = dir.trim_end_matches('/').to_string();
                    if dir.starts_with('/') && !target.roots.iter().any(|r| r.dir == dir) {
                        target.roots.push(Root { dir, at: at.clone() });
                    }
                }
            }
            _ => {}
        }
    }
    for mut v in vhosts {
        // `<VirtualHost *:80>`: port from the block; `<VirtualHost *>`: every Listen.
        if v.listens.is_empty() {
            v.listens = listens.clone();
        }
        cfg.sites.push(v);
    }
    if !main_site.roots.is_empty() {
        main_site.listens = listens;
        cfg.sites.push(main_site);
    }
}

/// `export APACHE_RUN_USER=www-data` lines of Debian's envvars file.
fn apache_envvars(host: &HostRoot) -> Vec<(String, String)> {
    let Ok(Some(text)) = host.read_text_opt(APACHE_ENVVARS) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("export ")?.trim();
            let (k, v) = l.split_once('=')?;
            let v = v.trim().trim_matches('"').trim_matches('\'');
            // `${SUFFIX}` expansions of the default file are left alone.
            (!v.contains('$')).then(|| (k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// Logical lines (continuations joined, comments dropped) split into words, with
/// `file:line`; Include/IncludeOptional are followed in place.
fn apache_file(
    loader: &mut Loader,
    path: &str,
    root: &str,
    depth: usize,
    out: &mut Vec<(String, Vec<String>)>,
) {
    let Some(text) = loader.read(path) else { return };
    let mut pending = String::new();
    let mut start = 0u64;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        if pending.is_empty() {
            start = n;
        }
        if let Some(cont) = raw.strip_suffix('\\') {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        pending.push_str(raw);
        let line = std::mem::take(&mut pending);
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let words = split_words(t);
        let at = format!("{path}:{start}");
        let key = words[0].to_ascii_lowercase();
        if (key == "include" || key == "includeoptional") && depth < MAX_INCLUDE_DEPTH {
            for arg in &words[1..] {
                let full = if arg.starts_with('/') {
                    arg.clone()
                } else {
                    format!("{root}/{arg}")
                };
                let mut matched = expand_glob(loader.host, &full);
                if full.ends_with('/') || loader.host.resolve(&full).is_ok_and(|p| p.is_dir()) {
                    matched = expand_glob(loader.host, &format!("{}/*", full.trim_end_matches('/')));
                }
                matched.sort();
                for inc in matched {
                    let exists = loader.host.resolve(&inc).is_ok_and(|p| p.is_file());
                    if exists || key == "include" {
                        apache_file(loader, &inc, root, depth + 1, out);
                    }
                }
            }
            continue;
        }
        out.push((at, words));
    }
}

fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listens() {
        assert_eq!(parse_listen("80", false).unwrap().port, 80);
        let l = parse_listen("[::]:8080", false).unwrap();
        assert_eq!((l.addr.unwrap().to_string(), l.port), ("::".into(), 8080));
        assert!(parse_listen("unix:/run/x.sock", false).is_none());
        assert_eq!(parse_listen("*:80", false).unwrap().addr, None);
    }

    #[test]
    fn nginx_tokens() {
        let t = tokenize_nginx("server { # c\n root \"/var/www/a b\";\n}\n");
        let words: Vec<&str> = t.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(words, vec!["server", "{", "root", "/var/www/a b", ";", "}"]);
        assert_eq!(t[2].1, 2);
    }
}
