//! Password policy: is a quality module (pam_pwquality / pam_cracklib) in the PAM
//! password stack and does it ask for the playbook's 8+ characters with upper, lower,
//! digit and special; which hash method new passwords get (pam_unix options, login.defs
//! ENCRYPT_METHOD); password aging (login.defs); and the hash schemes in use in shadow.

use crate::context::{Context, Out};
use crate::etc::HashKind;
use crate::pam::{self, PamLine};
use crate::runner::Check;
use rampart_core::{Evidence, Finding, HostRoot, Severity, Step};
use std::collections::BTreeMap;

pub struct Passwords;

pub const LOGIN_DEFS: &str = "/etc/login.defs";
pub const PWQUALITY_CONF: &str = "/etc/security/pwquality.conf";
pub const PWQUALITY_DIR: &str = "/etc/security/pwquality.conf.d";
/// Debian's and Red Hat's files that hold the PAM password stack.
pub const PAM_PASSWORD_FILES: &[&str] = &[
    "/etc/pam.d/common-password",
    "/etc/pam.d/system-auth",
    "/etc/pam.d/password-auth",
];
/// Where pam_unix's `nullok` lets an empty password log in.
pub const PAM_AUTH_FILES: &[&str] = &[
    "/etc/pam.d/common-auth",
    "/etc/pam.d/system-auth",
    "/etc/pam.d/password-auth",
];
const CONF_LIMIT: u64 = 1024 * 1024;

/// `/etc/login.defs`: `KEY value` lines.
#[derive(Debug, Clone, Default)]
pub struct LoginDefs {
    entries: Vec<(String, String, u64)>,
}

impl LoginDefs {
    /// Empty when the file does not exist; other read problems are returned.
    pub fn load(host: &HostRoot) -> Result<LoginDefs, rampart_core::HostError> {
        match host.read_limited(LOGIN_DEFS, CONF_LIMIT) {
            Ok(b) => Ok(LoginDefs::parse(&String::from_utf8_lossy(&b))),
            Err(e) if e.is_not_found() => Ok(LoginDefs::default()),
            Err(e) => Err(e),
        }
    }

    pub fn parse(text: &str) -> LoginDefs {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let mut it = l.split_whitespace();
            if let (Some(k), Some(v)) = (it.next(), it.next()) {
                entries.push((k.to_string(), v.trim_matches('"').to_string(), i as u64 + 1));
            }
        }
        LoginDefs { entries }
    }

    /// The value and line of a key; the last occurrence wins, as in shadow-utils.
    pub fn get(&self, key: &str) -> Option<(&str, u64)> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, l)| (v.as_str(), *l))
    }

    pub fn get_num(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(|(v, _)| v.parse().ok())
    }

    /// The first uid of ordinary users (UID_MIN, 1000 when unset).
    pub fn uid_min(&self) -> u32 {
        self.get_num("UID_MIN").map(|v| v as u32).unwrap_or(1000)
    }
}

/// `key = value` settings of pwquality.conf (and its .d directory), with file:line.
fn pwquality_settings(host: &HostRoot, out: &mut Out) -> BTreeMap<String, (String, Evidence)> {
    let mut files = vec![PWQUALITY_CONF.to_string()];
    match host.read_dir_opt(PWQUALITY_DIR) {
        Ok(entries) => files.extend(
            entries
                .into_iter()
                .filter(|e| e.name.to_string_lossy().ends_with(".conf"))
                .map(|e| e.host_path),
        ),
        Err(e) => out.host_error(&e),
    }
    let mut map = BTreeMap::new();
    for f in files {
        let text = match host.read_limited(&f, CONF_LIMIT) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                out.host_error(&e);
                continue;
            }
        };
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = l.split_once('=') {
                let (k, v) = (k.trim().to_string(), v.trim().to_string());
                let ev = Evidence::file(f.clone(), Some(i as u64 + 1), format!("{k} = {v}"));
                map.insert(k, (v, ev));
            }
        }
    }
    map
}

impl Check for Passwords {
    fn name(&self) -> &'static str {
        "passwords"
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        let defs = match LoginDefs::load(&ctx.host) {
            Ok(d) => d,
            Err(e) => {
                out.host_error(&e);
                LoginDefs::default()
            }
        };
        let mut password_stack = Vec::new();
        let mut auth_stack = Vec::new();
        let mut pam_files = Vec::new();
        for f in PAM_PASSWORD_FILES.iter().chain(PAM_AUTH_FILES) {
            if pam_files.contains(f) {
                continue;
            }
            pam_files.push(*f);
            match ctx.host.read_limited(f, CONF_LIMIT) {
                Ok(b) => {
                    let (lines, _) = pam::parse(f, &String::from_utf8_lossy(&b));
                    if PAM_PASSWORD_FILES.contains(f) {
                        password_stack.extend(lines.iter().filter(|l| l.kind == "password").cloned());
                    }
                    if PAM_AUTH_FILES.contains(f) {
                        auth_stack.extend(lines.into_iter().filter(|l| l.kind == "auth"));
                    }
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => out.host_error(&e),
            }
        }
        if password_stack.is_empty() {
            out.skip(format!(
                "no PAM password stack found ({}): password quality and hash method not checked",
                PAM_PASSWORD_FILES.join(", ")
            ));
        } else {
            quality(ctx, &password_stack, out);
            hash_method(&password_stack, &defs, out);
        }
        nullok(&auth_stack, out);
        aging(&defs, out);
        hashes_in_use(ctx, out);
    }
}

fn quality(ctx: &Context, stack: &[PamLine], out: &mut Out) {
    let module = stack
        .iter()
        .find(|l| l.name() == "pam_pwquality.so" || l.name() == "pam_cracklib.so");
    let Some(m) = module else {
        let where_ = stack.first().map(|l| l.file.clone()).unwrap_or_default();
        out.finding(
            Finding::new(
                "passwords.no-quality-check",
                Severity::Medium,
                Step::Passwords,
                "No password quality check: users can set any password",
            )
            .evidence(Evidence::file(
                where_,
                None,
                "neither pam_pwquality nor pam_cracklib is in the password stack",
            ))
            .remedy(
                "Install libpam-pwquality (it adds pam_pwquality to common-password) and set in \
                 /etc/security/pwquality.conf: minlen = 8, ucredit = -1, lcredit = -1, dcredit = -1, \
                 ocredit = -1 (or minclass = 4), enforce_for_root.",
            ),
        );
        return;
    };
    let conf = if m.name() == "pam_pwquality.so" {
        pwquality_settings(&ctx.host, out)
    } else {
        BTreeMap::new()
    };
    // Module arguments override pwquality.conf.
    let setting = |key: &str| -> Option<(i64, Evidence)> {
        if let Some(v) = m.arg(key) {
            return v
                .parse()
                .ok()
                .map(|n| (n, m.evidence(format!("{} {key}={v}", m.name()))));
        }
        conf.get(key)
            .and_then(|(v, ev)| v.parse().ok().map(|n| (n, ev.clone())))
    };
    let (minlen, minlen_ev) = setting("minlen").unwrap_or((
        if m.name() == "pam_pwquality.so" { 8 } else { 9 },
        m.evidence(format!("{} without minlen: the default applies", m.name())),
    ));
    // With positive credits, pam_cracklib/pwquality count each class towards minlen, so
    // the real minimum can be lower than minlen.
    let credits: Vec<(&str, Option<(i64, Evidence)>)> = ["ucredit", "lcredit", "dcredit", "ocredit"]
        .into_iter()
        .map(|k| (k, setting(k)))
        .collect();
    // Unset credits are 0 for pwquality, 1 for the older cracklib.
    let default_credit = if m.name() == "pam_pwquality.so" { 0 } else { 1 };
    let max_credit: i64 = credits
        .iter()
        .map(|(_, v)| v.as_ref().map(|(n, _)| *n).unwrap_or(default_credit).max(0))
        .sum();
    let effective_min = (minlen - max_credit).max(if m.name() == "pam_pwquality.so" { 6 } else { 1 });
    if minlen < 8 || effective_min < 8 {
        out.finding(
            Finding::new(
                "passwords.min-length",
                Severity::Medium,
                Step::Passwords,
                format!(
                    "Passwords may be as short as {} characters",
                    effective_min.min(minlen)
                ),
            )
            .evidence(minlen_ev)
            .remedy(format!(
                "Set minlen = {} and the credits to -1 (ucredit = -1, lcredit = -1, dcredit = -1, \
                 ocredit = -1) in {PWQUALITY_CONF}.",
                8.max(minlen)
            )),
        );
    }
    let minclass = setting("minclass").map(|(n, _)| n).unwrap_or(0);
    let missing: Vec<&str> = credits
        .iter()
        .filter(|(_, v)| v.as_ref().map(|(n, _)| *n >= 0).unwrap_or(true))
        .map(|(k, _)| match *k {
            "ucredit" => "upper case",
            "lcredit" => "lower case",
            "dcredit" => "digits",
            _ => "special characters",
        })
        .collect();
    if minclass < 4 && !missing.is_empty() {
        let mut f = Finding::new(
            "passwords.char-classes",
            Severity::Low,
            Step::Passwords,
            format!("The password policy does not require {}", missing.join(", ")),
        )
        .evidence(m.evidence(format!("{} {}", m.name(), m.args.join(" "))))
        .remedy(format!(
            "Set ucredit = -1, lcredit = -1, dcredit = -1 and ocredit = -1 (or minclass = 4) in {PWQUALITY_CONF}."
        ));
        for (_, v) in credits.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k, v))) {
            f = f.evidence(v.1.clone());
        }
        out.finding(f);
    }
}

fn hash_method(stack: &[PamLine], defs: &LoginDefs, out: &mut Out) {
    const METHODS: &[&str] = &[
        "yescrypt",
        "gost_yescrypt",
        "sha512",
        "sha256",
        "blowfish",
        "bigcrypt",
        "md5",
        "des",
    ];
    let Some(unix) = stack.iter().find(|l| l.name() == "pam_unix.so") else {
        return;
    };
    let from_pam = METHODS.iter().find(|m| unix.flag(m)).copied();
    let (method, evidence) = match from_pam {
        Some(m) => (m.to_string(), unix.evidence(format!("pam_unix.so {m}"))),
        None => match defs.get("ENCRYPT_METHOD") {
            Some((v, line)) => (
                v.to_ascii_lowercase(),
                Evidence::file(LOGIN_DEFS, Some(line), format!("ENCRYPT_METHOD {v}")),
            ),
            None => (
                "des".to_string(),
                unix.evidence("pam_unix.so names no hash method and login.defs has no ENCRYPT_METHOD"),
            ),
        },
    };
    let severity = match method.as_str() {
        "des" | "md5" | "bigcrypt" => Severity::High,
        "sha256" => Severity::Low,
        _ => return,
    };
    out.finding(
        Finding::new(
            "passwords.weak-hash-method",
            severity,
            Step::Passwords,
            format!("New passwords are hashed with {method}"),
        )
        .evidence(evidence)
        .remedy(
            "Use yescrypt (or sha512): add `yescrypt` to the pam_unix.so password line and set \
             ENCRYPT_METHOD YESCRYPT in /etc/login.defs, then change the passwords (existing hashes \
             keep their old method until changed).",
        ),
    );
}

fn nullok(auth: &[PamLine], out: &mut Out) {
    for l in auth
        .iter()
        .filter(|l| l.name() == "pam_unix.so" && l.flag("nullok"))
    {
        out.finding(
            Finding::new(
                "passwords.nullok",
                Severity::Low,
                Step::Passwords,
                "PAM lets accounts with an empty password log in (nullok)",
            )
            .evidence(l.evidence(format!("pam_unix.so {}", l.args.join(" "))))
            .remedy("Remove nullok from the pam_unix.so auth line; accounts with empty passwords are listed under accounts."),
        );
    }
}

fn aging(defs: &LoginDefs, out: &mut Out) {
    match defs.get("PASS_MAX_DAYS") {
        Some((v, line)) if v.parse::<u64>().map(|n| n > 365).unwrap_or(false) => out.finding(
            Finding::new(
                "passwords.no-aging",
                Severity::Low,
                Step::Passwords,
                "Passwords never expire",
            )
            .evidence(Evidence::file(
                LOGIN_DEFS,
                Some(line),
                format!("PASS_MAX_DAYS {v}"),
            ))
            .remedy(
                "Set PASS_MAX_DAYS (for example 365) in /etc/login.defs for new accounts and \
                 `chage -M 365 USER` for existing ones, or rely on keys and strong passwords.",
            ),
        ),
        _ => {}
    }
    if let Some((v, line)) = defs.get("PASS_MIN_LEN") {
        if v.parse::<u64>().map(|n| n < 8).unwrap_or(false) {
            out.finding(
                Finding::new(
                    "passwords.login-defs-min-len",
                    Severity::Low,
                    Step::Passwords,
                    format!("login.defs allows {v}-character passwords"),
                )
                .evidence(Evidence::file(
                    LOGIN_DEFS,
                    Some(line),
                    format!("PASS_MIN_LEN {v}"),
                ))
                .remedy("Set PASS_MIN_LEN 8 (PAM's pwquality minlen is what counts on PAM systems)."),
            );
        }
    }
    if let Some((v, line)) = defs.get("ENCRYPT_METHOD") {
        if matches!(v.to_ascii_uppercase().as_str(), "DES" | "MD5") {
            out.finding(
                Finding::new(
                    "passwords.login-defs-hash",
                    Severity::High,
                    Step::Passwords,
                    format!("login.defs hashes passwords with {v}"),
                )
                .evidence(Evidence::file(
                    LOGIN_DEFS,
                    Some(line),
                    format!("ENCRYPT_METHOD {v}"),
                ))
                .remedy("Set ENCRYPT_METHOD YESCRYPT (or SHA512) in /etc/login.defs."),
            );
        }
    }
}

/// One summary of the schemes in shadow (counts only, never a hash).
fn hashes_in_use(ctx: &Context, out: &mut Out) {
    let acc = ctx.accounts();
    let Some(shadow) = &acc.shadow else {
        out.skip("shadow not readable (needs root): hash schemes in use not counted");
        return;
    };
    let mut counts: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for s in shadow {
        if matches!(s.hash, HashKind::Locked | HashKind::Shadowed | HashKind::Empty) {
            continue;
        }
        counts.entry(s.hash.name()).or_default().push(s.name.clone());
    }
    if counts.is_empty() {
        return;
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(k, users)| format!("{k}: {} ({})", users.len(), users.join(", ")))
        .collect();
    out.finding(
        Finding::new(
            "passwords.hash-schemes",
            Severity::Info,
            Step::Passwords,
            "Password hash schemes in use",
        )
        .evidence(Evidence::file(crate::etc::SHADOW, None, summary.join("; ")))
        .remedy("Nothing to do unless a weak scheme is listed (accounts.legacy-hash names those accounts)."),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pam_lines() {
        let (v, _) = pam::parse(
            "/etc/pam.d/common-password",
            "# c\npassword\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n\
             password requisite /lib/security/pam_pwquality.so retry=3 minlen=12\n-password optional pam_gnome_keyring.so\n",
        );
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].name(), "pam_unix.so");
        assert!(v[0].flag("yescrypt"));
        assert_eq!(v[0].line, 2);
        assert_eq!(v[1].name(), "pam_pwquality.so");
        assert_eq!(v[1].arg("minlen"), Some("12"));
        assert_eq!(v[2].name(), "pam_gnome_keyring.so");
    }

    #[test]
    fn login_defs_last_wins() {
        let d = LoginDefs::parse("# x\nUID_MIN 500\nPASS_MAX_DAYS\t99999\nUID_MIN   1000\n");
        assert_eq!(d.uid_min(), 1000);
        assert_eq!(d.get("PASS_MAX_DAYS"), Some(("99999", 3)));
        assert_eq!(LoginDefs::default().uid_min(), 1000);
    }
}
