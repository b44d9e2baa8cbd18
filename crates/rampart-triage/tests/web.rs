//! Web roots from nginx and Apache configs on synthetic hosts, and the admin-path probe
//! against a real HTTP listener on loopback.

mod common;

use common::{expect_id, expect_no_id, FakeHost};
use rampart_core::{HostRoot, Report, Severity};
use rampart_triage::checks::web::{ProbeMode, Web};
use rampart_triage::{Check, Context, Options};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn run(h: &FakeHost, mode: ProbeMode) -> Report {
    let ctx = Context::new(HostRoot::at(h.dir.path()).unwrap(), Options::default());
    rampart_triage::run(&ctx, &[Box::new(Web::probing(mode)) as Box<dyn Check>])
}

fn chmod(h: &FakeHost, p: &str, mode: u32) {
    std::fs::set_permissions(h.path(p), std::fs::Permissions::from_mode(mode)).unwrap();
}

/// nginx serving /var/www/site as www-data on `port`, with a clean root.
fn nginx_host(port: u16) -> FakeHost {
    let h = FakeHost::new();
    h.write(
        "/etc/nginx/nginx.conf",
        "user www-data;\nworker_processes auto;\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  include sites-enabled/*;\n}\n",
    );
    h.write(
        "/etc/nginx/sites-enabled/site",
        format!(
            "server {{\n  listen 127.0.0.1:{port};\n  server_name example.test www.example.test;\n  root /var/www/site;\n\
             location /static/ {{ root /var/www/static; }}\n}}\n"
        ),
    );
    h.write("/var/www/site/index.php", "<?php echo 1;\n");
    h.write("/var/www/site/wp-content/uploads/2024/photo.jpg", "jpeg");
    h.write("/var/www/static/app.css", "body{}");
    for d in [
        "/var/www/site",
        "/var/www/site/wp-content",
        "/var/www/site/wp-content/uploads",
        "/var/www/site/wp-content/uploads/2024",
        "/var/www/static",
    ] {
        chmod(&h, d, 0o755);
    }
    for f in [
        "/var/www/site/index.php",
        "/var/www/site/wp-content/uploads/2024/photo.jpg",
        "/var/www/static/app.css",
    ] {
        chmod(&h, f, 0o644);
    }
    h
}

#[test]
fn clean_web_root_has_no_finding() {
    let h = nginx_host(8080);
    let r = run(&h, ProbeMode::Never);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let sites = expect_id(&r, "web.sites");
    assert!(
        sites.evidence[0]
            .detail
            .contains("root /var/www/site, /var/www/static"),
        "{sites:#?}"
    );
    assert!(
        sites.evidence[0]
            .location
            .starts_with("/etc/nginx/sites-enabled/site:1"),
        "{sites:#?}"
    );
    expect_no_id(&r, "web.root-writable");
    expect_no_id(&r, "web.script-in-uploads");
}

#[test]
fn writable_file_in_nginx_root_and_php_in_uploads() {
    let h = nginx_host(8080);
    h.write("/var/www/site/wp-config.php", "<?php // config\n");
    chmod(&h, "/var/www/site/wp-config.php", 0o666);
    chmod(&h, "/var/www/site/wp-content/uploads", 0o777);
    h.write(
        "/var/www/site/wp-content/uploads/2024/cat.php",
        "<?php system($_GET[1]);",
    );
    if is_root() {
        h.write("/var/www/static/owned.css", "x");
        std::os::unix::fs::chown(h.path("/var/www/static/owned.css"), Some(33), Some(33)).unwrap();
        chmod(&h, "/var/www/static/owned.css", 0o444);
    }
    let r = run(&h, ProbeMode::Never);
    let writable: Vec<_> = common::with_id(&r, "web.root-writable");
    let site = writable
        .iter()
        .find(|f| {
            f.action
                .as_deref()
                .is_some_and(|a| a.contains("root=/var/www/site "))
        })
        .unwrap_or_else(|| panic!("{:#?}", r.findings));
    assert_eq!(site.severity, Severity::High);
    assert_eq!(
        site.action.as_deref(),
        Some("webroot-readonly root=/var/www/site user=www-data writable=/var/www/site/wp-content/uploads")
    );
    let paths: Vec<&str> = site.evidence.iter().filter_map(|e| e.path.as_deref()).collect();
    assert_eq!(paths, vec!["/var/www/site/wp-config.php"], "{site:#?}");
    assert!(site.evidence[0].detail.contains("world-writable (mode 0666)"));

    let scripts = expect_id(&r, "web.script-in-uploads");
    assert_eq!(scripts.evidence.len(), 1);
    assert_eq!(
        scripts.evidence[0].location,
        "/var/www/site/wp-content/uploads/2024/cat.php"
    );

    if is_root() {
        let stat = writable
            .iter()
            .find(|f| {
                f.action
                    .as_deref()
                    .is_some_and(|a| a.contains("root=/var/www/static "))
            })
            .unwrap_or_else(|| panic!("{:#?}", r.findings));
        assert_eq!(stat.evidence[0].location, "/var/www/static/owned.css");
        assert!(
            stat.evidence[0].detail.starts_with("owned by www-data"),
            "{stat:#?}"
        );
    }
}

#[test]
fn apache_sites_and_user_from_envvars() {
    let h = FakeHost::new();
    h.write(
        "/etc/passwd",
        format!(
            "{}webapp:x:990:990::/srv:/usr/sbin/nologin\n",
            common::CLEAN_PASSWD
        ),
    );
    h.write(
        "/etc/apache2/apache2.conf",
        "ServerRoot \"/etc/apache2\"\nUser ${APACHE_RUN_USER}\nGroup ${APACHE_RUN_GROUP}\n\
         Include ports.conf\nIncludeOptional conf-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n",
    );
    h.write(
        "/etc/apache2/envvars",
        "export APACHE_RUN_USER=webapp\nexport APACHE_RUN_GROUP=webapp\n",
    );
    h.write(
        "/etc/apache2/ports.conf",
        "Listen 8081\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n",
    );
    h.write(
        "/etc/apache2/sites-enabled/shop.conf",
        "<VirtualHost *:8081>\n\tServerName shop.test\n\tDocumentRoot \"/srv/shop/\"\n</VirtualHost>\n",
    );
    h.write("/srv/shop/index.php", "<?php\n");
    chmod(&h, "/srv/shop", 0o755);
    chmod(&h, "/srv/shop/index.php", 0o646);
    let r = run(&h, ProbeMode::Never);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let f = expect_id(&r, "web.root-writable");
    assert_eq!(
        f.action.as_deref(),
        Some("webroot-readonly root=/srv/shop user=webapp")
    );
    assert_eq!(f.evidence[0].location, "/srv/shop/index.php");
    let sites = expect_id(&r, "web.sites");
    assert!(
        sites.evidence[0]
            .detail
            .contains("apache site shop.test root /srv/shop listen *:8081 user webapp"),
        "{sites:#?}"
    );
}

#[test]
fn broken_config_is_an_error_naming_file_and_line() {
    let h = nginx_host(8080);
    h.write(
        "/etc/nginx/sites-enabled/broken",
        "server {\n  root /var/www/x;\n  location / {\n",
    );
    let r = run(&h, ProbeMode::Never);
    assert!(
        r.errors
            .iter()
            .any(|e| e.subject.starts_with("/etc/nginx/sites-enabled/broken:")
                && e.message.contains("expecting \"}\"")),
        "{:#?}",
        r.errors
    );
    // The good site is still checked.
    expect_id(&r, "web.sites");
}

#[test]
fn symlinks_in_the_web_root_are_not_followed() {
    let h = nginx_host(8080);
    h.write("/outside/secret.php", "x");
    chmod(&h, "/outside/secret.php", 0o666);
    h.symlink("/outside", "/var/www/site/link");
    h.symlink("/var/www/site/loop", "/var/www/site/loop");
    let r = run(&h, ProbeMode::Never);
    expect_no_id(&r, "web.root-writable");
}

/// Answers 200 for /wp-login.php with the right Host, 404 for everything else.
fn tiny_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut buf = [0u8; 2048];
            let n = c.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let ok = req.starts_with("GET /wp-login.php ") && req.contains("\r\nHost: example.test\r\n");
            let status = if ok { "200 OK" } else { "404 Not Found" };
            let _ = c.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes());
        }
    });
    port
}

#[test]
fn admin_path_answering_on_loopback_is_reported() {
    let port = tiny_server();
    let h = nginx_host(port);
    let r = run(&h, ProbeMode::Always);
    let f = expect_id(&r, "web.admin-path");
    assert_eq!(f.evidence.len(), 1, "{f:#?}");
    assert_eq!(
        f.evidence[0].location,
        format!("http://127.0.0.1:{port}/wp-login.php (Host: example.test)")
    );
    assert!(f.evidence[0].detail.starts_with("HTTP 200"), "{f:#?}");
}

#[test]
fn no_probe_without_a_live_host() {
    let port = tiny_server();
    let h = nginx_host(port);
    let r = run(&h, ProbeMode::Live);
    expect_no_id(&r, "web.admin-path");
    assert!(
        r.skipped.iter().any(|s| s.reason.contains("running system")),
        "{:?}",
        r.skipped
    );
}

#[test]
fn missing_and_templated_roots_are_skipped_not_errors() {
    let h = nginx_host(8080);
    h.write(
        "/etc/nginx/conf.d/more.conf",
        "server {\n listen 8081;\n root /var/www/$host;\n}\nserver {\n listen 8082;\n root /srv/gone;\n}\n",
    );
    let r = run(&h, ProbeMode::Never);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let reasons: Vec<&str> = r.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|s| s.starts_with("web root /var/www/$host (/etc/nginx/conf.d/more.conf:3)")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|s| s.starts_with("web root /srv/gone (") && s.ends_with("does not exist")),
        "{reasons:?}"
    );
}
