//! Every other credential the playbook says to change that Rampart can find on the host,
//! with how to rotate each: FTP accounts (vsftpd, ProFTPD, Pure-FTPd virtual users),
//! WordPress sites (their database user and their administrators, read through the
//! database credentials in wp-config.php) and database accounts. Read-only.

use crate::dbclient::{self, Engine};
use crate::env::Env;
use rampart_core::cmd::{self, Options};
use std::path::{Path, PathBuf};
use std::time::Duration;

const WEB_DIRS: &[&str] = &["/var/www", "/srv", "/usr/share/nginx/html", "/home"];
const MAX_DEPTH: usize = 5;
const MAX_SITES: usize = 200;

/// One credential to change and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub what: String,
    pub how: String,
}

pub fn other_credentials(env: &Env) -> Vec<Credential> {
    let mut out = Vec::new();
    ftp(env, &mut out);
    for site in wordpress_sites(env) {
        wordpress(&site, &mut out);
    }
    out
}

fn kv_conf(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn first_fields(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .filter_map(|l| l.split(':').next().map(str::to_string))
                .take(1000)
                .collect()
        })
        .unwrap_or_default()
}

fn ftp(env: &Env, out: &mut Vec<Credential>) {
    for conf in ["/etc/vsftpd.conf", "/etc/vsftpd/vsftpd.conf"] {
        let Ok(text) = std::fs::read_to_string(env.path(conf)) else {
            continue;
        };
        let kv = kv_conf(&text);
        let get = |k: &str| {
            kv.iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.to_ascii_uppercase())
        };
        if get("local_enable").as_deref() == Some("YES") {
            let list = kv
                .iter()
                .find(|(k, _)| k == "userlist_file")
                .map(|(_, v)| v.clone());
            let allow_list = get("userlist_enable").as_deref() == Some("YES")
                && get("userlist_deny").as_deref() == Some("NO");
            let users = if allow_list {
                first_fields(&env.path(list.as_deref().unwrap_or("/etc/vsftpd.user_list")))
            } else {
                Vec::new()
            };
            if users.is_empty() {
                out.push(Credential {
                    what: format!("vsftpd ({conf}): every local account with a password can log in over FTP"),
                    how: "rampart passwd rotate USER (or rampart respond apply passwd-rotate user=USER)"
                        .into(),
                });
            }
            for u in users {
                out.push(Credential {
                    what: format!("FTP user {u} (vsftpd, {conf})"),
                    how: format!("rampart passwd rotate {u}"),
                });
            }
        }
        if get("guest_enable").as_deref() == Some("YES") {
            let pam = kv
                .iter()
                .find(|(k, _)| k == "pam_service_name")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| "vsftpd".into());
            out.push(Credential {
                what: format!("vsftpd virtual users ({conf}, guest_enable=YES, PAM service {pam})"),
                how: format!("change them in the user database that /etc/pam.d/{pam} names (pam_userdb: rebuild it with db_load)"),
            });
        }
    }
    if let Ok(text) = std::fs::read_to_string(env.path("/etc/proftpd/proftpd.conf")) {
        for line in text.lines().map(str::trim) {
            let mut w = line.split_whitespace();
            if w.next().is_some_and(|k| k.eq_ignore_ascii_case("AuthUserFile")) {
                if let Some(file) = w.next() {
                    for u in first_fields(&env.path(file)) {
                        out.push(Credential {
                            what: format!("FTP virtual user {u} (ProFTPD, {file})"),
                            how: format!("ftpasswd --passwd --file {file} --name {u} --change-password"),
                        });
                    }
                }
            }
        }
    }
    for u in first_fields(&env.path("/etc/pure-ftpd/pureftpd.passwd")) {
        out.push(Credential {
            what: format!("FTP virtual user {u} (Pure-FTPd)"),
            how: format!("pure-pw passwd {u} -m"),
        });
    }
}

/// A WordPress site: its directory and the database settings of its wp-config.php.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WpSite {
    pub dir: PathBuf,
    pub db_name: String,
    pub db_user: String,
    pub db_password: String,
    pub db_host: String,
    pub prefix: String,
}

/// The quoted strings on a line, in order.
fn quoted(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            let mut s = String::new();
            while let Some(d) = chars.next() {
                if d == '\\' {
                    if let Some(e) = chars.next() {
                        s.push(e);
                    }
                } else if d == c {
                    break;
                } else {
                    s.push(d);
                }
            }
            out.push(s);
        }
    }
    out
}

pub fn parse_wp_config(dir: &Path, text: &str) -> WpSite {
    let mut site = WpSite {
        dir: dir.to_path_buf(),
        prefix: "wp_".into(),
        db_host: "localhost".into(),
        ..Default::default()
    };
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with('#'))
    {
        if line.starts_with("define") {
            let q = quoted(line);
            if let [k, v, ..] = q.as_slice() {
                match k.as_str() {
                    "DB_NAME" => site.db_name = v.clone(),
                    "DB_USER" => site.db_user = v.clone(),
                    "DB_PASSWORD" => site.db_password = v.clone(),
                    "DB_HOST" => site.db_host = v.clone(),
                    _ => {}
                }
            }
        } else if line.starts_with("$table_prefix") {
            if let Some(p) = quoted(line).first() {
                site.prefix = p.clone();
            }
        }
    }
    site
}

pub fn wordpress_sites(env: &Env) -> Vec<WpSite> {
    let mut sites = Vec::new();
    let mut stack: Vec<(PathBuf, usize)> = WEB_DIRS.iter().map(|d| (env.path(d), 0)).collect();
    while let Some((dir, depth)) = stack.pop() {
        if sites.len() >= MAX_SITES {
            break;
        }
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() && depth < MAX_DEPTH {
                stack.push((e.path(), depth + 1));
            } else if ft.is_file() && e.file_name() == "wp-config.php" {
                if let Ok(text) = std::fs::read(e.path()) {
                    if text.len() < 1 << 20 {
                        sites.push(parse_wp_config(&dir, &String::from_utf8_lossy(&text)));
                    }
                }
            }
        }
    }
    sites.sort_by(|a, b| a.dir.cmp(&b.dir));
    sites
}

/// WordPress administrators, read with the site's own database credentials.
pub fn wordpress_admins(site: &WpSite) -> Result<Vec<String>, String> {
    if !site.prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("table prefix {:?} is not a plain name", site.prefix));
    }
    let client = ["mariadb", "mysql"]
        .into_iter()
        .find(|c| cmd::which(c).is_some())
        .ok_or("the mariadb client is not installed")?;
    let p = &site.prefix;
    let sql = format!(
        "SELECT u.user_login FROM `{p}users` u JOIN `{p}usermeta` m ON m.user_id = u.ID \
         WHERE m.meta_key = '{p}capabilities' AND m.meta_value LIKE '%\"administrator\"%' ORDER BY u.user_login;"
    );
    let mut args = vec![
        "-N".to_string(),
        "-B".into(),
        "-u".into(),
        site.db_user.clone(),
        "-D".into(),
        site.db_name.clone(),
    ];
    let host = site.db_host.as_str();
    match host.split_once(':') {
        Some((h, rest)) if rest.starts_with('/') => {
            args.extend(["-h".into(), h.into(), "--socket".into(), rest.into()])
        }
        Some((h, port)) => args.extend([
            "-h".into(),
            h.into(),
            "--port".into(),
            port.into(),
            "--protocol=tcp".into(),
        ]),
        None => args.extend(["-h".into(), host.into()]),
    }
    let out = cmd::run_with(
        client,
        &args,
        &Options {
            timeout: Duration::from_secs(10),
            stdin: Some(sql.into_bytes()),
            // The client reads it from its environment: never in argv, never logged.
            env: vec![("MYSQL_PWD".into(), site.db_password.clone())],
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(out.stderr_line());
    }
    Ok(out
        .stdout_text()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect())
}

fn wordpress(site: &WpSite, out: &mut Vec<Credential>) {
    let dir = site.dir.display();
    out.push(Credential {
        what: format!("WordPress database user {} (site {dir}, wp-config.php)", site.db_user),
        how: format!(
            "rampart respond apply db-rotate engine=mariadb user={}@{}, then put the new password in {dir}/wp-config.php",
            site.db_user,
            if site.db_host == "localhost" { "localhost" } else { "HOST" }
        ),
    });
    out.push(Credential {
        what: format!("WordPress secret keys and salts (site {dir})"),
        how: "replace the AUTH_KEY…NONCE_SALT lines of wp-config.php (this also logs every session out)"
            .into(),
    });
    match wordpress_admins(site) {
        Ok(admins) => {
            for a in admins {
                out.push(Credential {
                    what: format!("WordPress administrator {a} (site {dir})"),
                    how: format!("wp user update {a} --user_pass=NEW --path={dir} (or the dashboard)"),
                });
            }
        }
        Err(e) => out.push(Credential {
            what: format!("WordPress administrators of {dir}: could not be listed ({e})"),
            how: "Users → Administrator in the dashboard; change every administrator's password".into(),
        }),
    }
}

/// Accounts of `engine` that `db-rotate … user=all` would rotate, when the server answers.
pub fn database_accounts(engine: Engine) -> Result<Vec<dbclient::Account>, String> {
    dbclient::accounts(engine)
        .map(|v| {
            v.into_iter()
                .filter(|a| !dbclient::is_system(engine, a))
                .collect()
        })
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wp_config_is_parsed() {
        let text = "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine('DB_USER', \"wpuser\");\n\
                    define( 'DB_PASSWORD', 'p\\'w' );\n// define('DB_HOST', 'evil');\ndefine( 'DB_HOST', 'localhost' );\n\
                    $table_prefix = 'wpx_';\n";
        let s = parse_wp_config(Path::new("/var/www/site"), text);
        assert_eq!(
            (s.db_name.as_str(), s.db_user.as_str(), s.db_password.as_str()),
            ("wordpress", "wpuser", "p'w")
        );
        assert_eq!((s.db_host.as_str(), s.prefix.as_str()), ("localhost", "wpx_"));
    }

    #[test]
    fn ftp_accounts_are_found() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc/proftpd")).unwrap();
        std::fs::write(
            d.path().join("etc/vsftpd.conf"),
            "local_enable=YES\nuserlist_enable=YES\nuserlist_deny=NO\nuserlist_file=/etc/ftpusers.allow\nguest_enable=YES\n",
        )
        .unwrap();
        std::fs::write(d.path().join("etc/ftpusers.allow"), "alice\nbob\n").unwrap();
        std::fs::write(
            d.path().join("etc/proftpd/proftpd.conf"),
            "AuthUserFile /etc/proftpd/ftpd.passwd\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/proftpd/ftpd.passwd"),
            "carol:$1$x:2001:2001::/srv/ftp:/bin/false\n",
        )
        .unwrap();
        let env = Env {
            root: d.path().to_path_buf(),
            ..Env::live()
        };
        let c = other_credentials(&env);
        let whats: Vec<&str> = c.iter().map(|c| c.what.as_str()).collect();
        assert!(whats.iter().any(|w| w.starts_with("FTP user alice")), "{whats:?}");
        assert!(whats.iter().any(|w| w.starts_with("FTP user bob")));
        assert!(whats.iter().any(|w| w.starts_with("vsftpd virtual users")));
        assert!(c
            .iter()
            .any(|c| c.how
                == "ftpasswd --passwd --file /etc/proftpd/ftpd.passwd --name carol --change-password"));
    }
}
