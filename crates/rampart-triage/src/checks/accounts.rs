//! Hidden, unknown and privileged accounts: UID 0 besides root, duplicate UIDs,
//! passwd/shadow mismatches, empty and legacy hashes, system accounts that can log in,
//! odd names, new accounts, sudo rights and every authorized_keys file.

mod keys;
mod sudoers;

use super::passwords::LoginDefs;
use crate::context::{Context, Out};
use crate::etc::{Accounts as Db, HashKind, PasswdEntry, GROUP, PASSWD, SHADOW};
use crate::runner::Check;
use crate::sshd_config;
use rampart_core::{Evidence, Finding, Severity, Step};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;

pub struct Accounts;

const KEYS_LIMIT: u64 = 1024 * 1024;
pub const DEFAULT_RECENT_DAYS: u64 = 7;
/// Shells that do not give an interactive login.
const NO_LOGIN_SHELLS: &[&str] = &["nologin", "false", "true", "sync", "shutdown", "halt"];
/// Names intruders imitate.
const WELL_KNOWN: &[&str] = &[
    "root", "admin", "daemon", "bin", "sys", "www-data", "sshd", "mysql", "postgres", "nobody", "ubuntu",
    "debian",
];

impl Check for Accounts {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        out.errors.extend(ctx.account_errors().iter().cloned());
        let db = ctx.accounts();
        let defs = match LoginDefs::load(&ctx.host) {
            Ok(d) => d,
            Err(e) => {
                out.host_error(&e);
                LoginDefs::default()
            }
        };
        let uid_min = defs.uid_min();
        uid0(db, out);
        duplicate_uids(db, out);
        match &db.shadow {
            Some(_) => shadow_consistency(db, out),
            None if !ctx.is_root => out.skip(format!(
                "{SHADOW} needs root: passwd/shadow consistency, shadow hashes and account ages not checked"
            )),
            None => out.skip(format!(
                "{SHADOW} could not be read: passwd/shadow consistency, shadow hashes and account ages not checked"
            )),
        }
        password_fields(db, uid_min, out);
        system_logins(ctx, db, uid_min, out);
        odd_names(db, out);
        recent(ctx, db, uid_min, out);
        sudo_groups(db, out);
        root_equivalent_groups(db, out);
        sudo_rules(ctx, out);
        authorized_keys(ctx, db, uid_min, out);
        drop_unsafe_actions(out);
    }
}

/// An action is `NAME user=VALUE`; a user name with white space or control characters
/// cannot travel in it unambiguously, so such findings keep only the manual remedy.
fn drop_unsafe_actions(out: &mut Out) {
    for f in &mut out.findings {
        let Some(a) = &f.action else { continue };
        let words: Vec<&str> = a.split(' ').collect();
        let safe = words.len() == 2
            && words
                .iter()
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_graphic()));
        if !safe {
            f.action = None;
            f.remedy.push_str(
                " The account name has characters `rampart respond` will not pass on: lock it by hand \
                 (`usermod -L -e 1 -s /usr/sbin/nologin` with the exact name, e.g. from `getent passwd`).",
            );
        }
    }
}

fn passwd_ev(p: &PasswdEntry, detail: impl Into<String>) -> Evidence {
    Evidence::file(PASSWD, Some(p.line), detail)
}

/// A name as it can be shown: control and odd characters escaped.
fn shown(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_graphic()) {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

fn uid0(db: &Db, out: &mut Out) {
    for p in db.passwd.iter().filter(|p| p.uid == 0 && p.name != "root") {
        out.finding(
            Finding::new(
                "accounts.uid0",
                Severity::Critical,
                Step::Accounts,
                format!(
                    "Account {} has UID 0: it is root under another name",
                    shown(&p.name)
                ),
            )
            .evidence(passwd_ev(
                p,
                format!("{} uid 0, shell {}", shown(&p.name), p.shell),
            ))
            .remedy(format!(
                "Lock the account now (`rampart respond apply account-lock user={}`), then find out \
                 who added it and when; treat the host as compromised.",
                p.name
            ))
            .action(format!("account-lock user={}", p.name)),
        );
    }
}

fn duplicate_uids(db: &Db, out: &mut Out) {
    let mut by_uid: BTreeMap<u32, Vec<&PasswdEntry>> = BTreeMap::new();
    for p in &db.passwd {
        by_uid.entry(p.uid).or_default().push(p);
    }
    for (uid, users) in by_uid {
        // Extra UID 0 accounts are accounts.uid0 already.
        if users.len() < 2 || uid == 0 {
            continue;
        }
        let names: Vec<String> = users.iter().map(|p| shown(&p.name)).collect();
        let mut f = Finding::new(
            "accounts.duplicate-uid",
            Severity::High,
            Step::Accounts,
            format!("UID {uid} is shared by {}", names.join(", ")),
        )
        .remedy(
            "Accounts sharing a UID are one identity: give each its own UID or lock the one that should \
             not exist.",
        );
        for p in &users {
            f = f.evidence(passwd_ev(p, format!("{} uid {uid}", shown(&p.name))));
        }
        if let Some(last) = users.last() {
            f = f.action(format!("account-lock user={}", last.name));
        }
        out.finding(f);
    }
}

fn shadow_consistency(db: &Db, out: &mut Out) {
    let Some(shadow) = &db.shadow else { return };
    let names: BTreeSet<&str> = shadow.iter().map(|s| s.name.as_str()).collect();
    for p in &db.passwd {
        if !names.contains(p.name.as_str()) {
            out.finding(
                Finding::new(
                    "accounts.no-shadow",
                    Severity::Medium,
                    Step::Accounts,
                    format!("Account {} is in passwd but not in shadow", shown(&p.name)),
                )
                .evidence(passwd_ev(p, format!("{} uid {}", shown(&p.name), p.uid)))
                .remedy(
                    "Accounts added by editing passwd by hand skip shadow; find out who added it. \
                     `pwck -r` lists all mismatches.",
                )
                .action(format!("account-lock user={}", p.name)),
            );
        }
    }
    let in_passwd: BTreeSet<&str> = db.passwd.iter().map(|p| p.name.as_str()).collect();
    for s in shadow.iter().filter(|s| !in_passwd.contains(s.name.as_str())) {
        out.finding(
            Finding::new(
                "accounts.shadow-orphan",
                Severity::Medium,
                Step::Accounts,
                format!("Account {} is in shadow but not in passwd", shown(&s.name)),
            )
            .evidence(Evidence::file(SHADOW, Some(s.line), format!("{} ({})", shown(&s.name), s.hash.name())))
            .remedy("A leftover or a half-removed account; `pwck -r` lists mismatches, remove the line with vipw -s."),
        );
    }
}

/// The password an account logs in with: the passwd field, or its shadow entry. None when
/// shadow is needed but unreadable.
fn effective_hash(db: &Db, p: &PasswdEntry) -> Option<(HashKind, Evidence)> {
    match p.password_field {
        HashKind::Shadowed => {
            let shadow = db.shadow.as_ref()?;
            Some(match shadow.iter().find(|s| s.name == p.name) {
                Some(s) => (s.hash, Evidence::file(SHADOW, Some(s.line), s.hash.name())),
                // pam_unix refuses a password it cannot find.
                None => (HashKind::Locked, passwd_ev(p, "no shadow entry")),
            })
        }
        kind => Some((kind, passwd_ev(p, format!("{} password in passwd", kind.name())))),
    }
}

fn rotate_or_lock(p: &PasswdEntry, uid_min: u32) -> String {
    // Service accounts and second root accounts should not log in at all.
    if (p.uid != 0 && p.uid < uid_min) || (p.uid == 0 && p.name != "root") {
        format!("account-lock user={}", p.name)
    } else {
        format!("passwd-rotate user={}", p.name)
    }
}

fn password_fields(db: &Db, uid_min: u32, out: &mut Out) {
    for p in &db.passwd {
        if !matches!(
            p.password_field,
            HashKind::Shadowed | HashKind::Locked | HashKind::Empty
        ) {
            out.finding(
                Finding::new(
                    "accounts.hash-in-passwd",
                    Severity::High,
                    Step::Accounts,
                    format!("The password hash of {} is in world-readable /etc/passwd", shown(&p.name)),
                )
                .evidence(passwd_ev(p, format!("{} hash in the password field", p.password_field.name())))
                .remedy("Every user can read and crack it: run `pwconv` to move hashes to shadow, then change the password.")
                .action(format!("passwd-rotate user={}", p.name)),
            );
        }
        let Some((kind, ev)) = effective_hash(db, p) else {
            continue;
        };
        if kind == HashKind::Empty {
            out.finding(
                Finding::new(
                    "accounts.empty-password",
                    Severity::Critical,
                    Step::Accounts,
                    format!("Account {} has an empty password", shown(&p.name)),
                )
                .evidence(Evidence {
                    detail: "empty password field: anyone may log in without a password".into(),
                    ..ev
                })
                .remedy("Set a strong password or lock the account now.")
                .action(rotate_or_lock(p, uid_min)),
            );
        } else if kind.is_legacy() {
            out.finding(
                Finding::new(
                    "accounts.legacy-hash",
                    Severity::High,
                    Step::Accounts,
                    format!("Account {} has a {} password hash", shown(&p.name), kind.name()),
                )
                .evidence(Evidence {
                    detail: format!("{} hash (cracked in minutes on a GPU)", kind.name()),
                    ..ev
                })
                .remedy("Change the password so it is stored with yescrypt or SHA-512.")
                .action(format!("passwd-rotate user={}", p.name)),
            );
        }
    }
}

/// True when the shell gives an interactive login (an empty field means /bin/sh).
pub fn is_login_shell(shell: &str) -> bool {
    let base = shell.trim().rsplit('/').next().unwrap_or("");
    !NO_LOGIN_SHELLS.contains(&base)
}

fn expired(ctx: &Context, db: &Db, name: &str) -> bool {
    db.shadow_of(name)
        .and_then(|s| s.expire)
        .is_some_and(|e| e > 0 && e <= ctx.today())
}

fn system_logins(ctx: &Context, db: &Db, uid_min: u32, out: &mut Out) {
    for p in db.passwd.iter().filter(|p| p.uid != 0 && p.uid < uid_min) {
        if !is_login_shell(&p.shell) || expired(ctx, db, &p.name) {
            continue;
        }
        let Some((kind, ev)) = effective_hash(db, p) else {
            continue;
        };
        if matches!(kind, HashKind::Locked | HashKind::Shadowed) {
            continue;
        }
        let shell = if p.shell.is_empty() {
            "/bin/sh (empty field)"
        } else {
            &p.shell
        };
        out.finding(
            Finding::new(
                "accounts.system-login",
                Severity::High,
                Step::Accounts,
                format!("System account {} can log in with a password", shown(&p.name)),
            )
            .evidence(passwd_ev(
                p,
                format!("uid {} below UID_MIN {uid_min}, shell {shell}", p.uid),
            ))
            .evidence(Evidence {
                detail: format!("{} password, not locked", kind.name()),
                ..ev
            })
            .remedy(
                "Service accounts need no password or shell: lock the account and set its shell to nologin.",
            )
            .action(format!("account-lock user={}", p.name)),
        );
    }
}

/// Maps characters that look alike to one letter, so `r00t` and Cyrillic `rооt` both
/// become `root`.
fn skeleton(name: &str) -> String {
    name.chars()
        .map(|c| match c.to_ascii_lowercase() {
            '0' | 'о' | 'ο' => 'o',
            '1' | '|' | 'і' | 'ı' => 'l',
            '3' | 'е' => 'e',
            '4' | 'а' | '@' => 'a',
            '5' | '$' | 'ѕ' => 's',
            '7' => 't',
            'р' => 'p',
            'с' => 'c',
            'у' => 'y',
            'х' => 'x',
            other => other,
        })
        .map(|c| if c == 'i' { 'l' } else { c })
        .collect()
}

fn conventional(name: &str) -> bool {
    let body = name.strip_suffix('$').unwrap_or(name);
    let mut chars = body.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
}

fn odd_names(db: &Db, out: &mut Out) {
    for p in &db.passwd {
        let n = &p.name;
        let sk = skeleton(n);
        // The imitation is the later line: accounts above it in passwd were there first.
        let earlier = db
            .passwd
            .iter()
            .take_while(|o| o.line < p.line)
            .map(|o| o.name.as_str());
        let imitated = earlier
            .chain(
                WELL_KNOWN
                    .iter()
                    .copied()
                    .filter(|w| !WELL_KNOWN.contains(&n.as_str()) || w == n),
            )
            .find(|other| *other != n && skeleton(other) == sk);
        let (severity, why) = if n.chars().any(char::is_whitespace) {
            (
                Severity::High,
                "contains white space (hides in listings)".to_string(),
            )
        } else if !n.is_ascii() {
            (Severity::High, "contains non-ASCII characters".to_string())
        } else if let Some(other) = imitated {
            (Severity::High, format!("looks like {other}"))
        } else if !conventional(n) {
            (
                Severity::Low,
                "does not follow the usual [a-z_][a-z0-9_.-]* pattern".to_string(),
            )
        } else {
            continue;
        };
        let why = match imitated {
            Some(other) if !why.starts_with("looks") => format!("{why}; looks like {other}"),
            _ => why,
        };
        out.finding(
            Finding::new(
                "accounts.odd-name",
                severity,
                Step::Accounts,
                format!("Account name {} {why}", shown(n)),
            )
            .evidence(passwd_ev(p, format!("name {} uid {}", shown(n), p.uid)))
            .remedy("Names made to look like another account are a classic way to hide one: find out who created it, lock it if unknown.")
            .action(format!("account-lock user={n}")),
        );
    }
}

fn recent(ctx: &Context, db: &Db, uid_min: u32, out: &mut Out) {
    let days = ctx.options.recent_days.unwrap_or(DEFAULT_RECENT_DAYS);
    let today = ctx.today();
    let now_secs = ctx
        .now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    for p in &db.passwd {
        let mut evidence = Vec::new();
        let shadow_recent = db.shadow_of(&p.name).and_then(|s| {
            let lc = s.last_change.filter(|&d| d > 0)?;
            (lc <= today && today - lc <= days).then(|| {
                Evidence::file(
                    SHADOW,
                    Some(s.line),
                    format!(
                        "password last set {} ({} days ago)",
                        &date(lc as i64 * 86_400)[..10],
                        today - lc
                    ),
                )
            })
        });
        evidence.extend(shadow_recent);
        // A home's ctime changes with every file made in it, so it only counts for people's
        // accounts, and only as a hint.
        let person = p.uid == 0 || p.uid >= uid_min;
        if person && p.home.len() > 1 {
            if let Ok(md) = ctx.host.metadata(&p.home) {
                let age = now_secs - md.ctime();
                if md.is_dir() && md.uid() == p.uid && (0..=(days as i64 * 86_400)).contains(&age) {
                    evidence.push(Evidence::file(
                        p.home.clone(),
                        None,
                        format!(
                            "home directory changed (ctime) {} ({} days ago)",
                            date(md.ctime()),
                            age / 86_400
                        ),
                    ));
                }
            }
        }
        // The home alone is too weak a sign when shadow could tell.
        if evidence.is_empty()
            || (db.shadow.is_some() && evidence.iter().all(|e| e.path.as_deref() != Some(SHADOW)))
        {
            continue;
        }
        let which = if evidence.len() > 1 {
            "password set and home directory changed"
        } else if evidence[0].path.as_deref() == Some(SHADOW) {
            "password set"
        } else {
            "home directory changed"
        };
        // A new service account that can neither log in nor run a shell is what a package
        // install leaves; one that can log in is what an intruder leaves.
        let can_log_in = is_login_shell(&p.shell)
            || effective_hash(db, p)
                .is_some_and(|(k, _)| !matches!(k, HashKind::Locked | HashKind::Shadowed));
        let mut f = Finding::new(
            "accounts.recent",
            if can_log_in { Severity::Medium } else { Severity::Low },
            Step::Accounts,
            format!("Account {} is new or changed: {which} in the last {days} days", shown(&p.name)),
        )
        .evidence(passwd_ev(p, format!("uid {} shell {}", p.uid, p.shell)))
        .remedy("Confirm you (or a package you installed) created or changed this account; if not, lock it and investigate.");
        for e in evidence {
            f = f.evidence(e);
        }
        out.finding(f.action(format!("account-lock user={}", p.name)));
    }
}

fn sudo_groups(db: &Db, out: &mut Out) {
    for g in ["sudo", "wheel", "admin"] {
        let Some(entry) = db.group(g) else { continue };
        let members = db.group_members(g);
        if members.is_empty() {
            continue;
        }
        out.finding(
            Finding::new(
                "accounts.sudo-group",
                Severity::Info,
                Step::Accounts,
                format!("Members of {g} (may become root): {}", members.join(", ")),
            )
            .evidence(Evidence::file(
                GROUP,
                Some(entry.line),
                format!("{g}: {}", members.join(", ")),
            ))
            .remedy(format!(
                "Remove anyone who should not be an administrator: `gpasswd -d USER {g}`."
            )),
        );
    }
}

/// Groups whose members are root in all but name.
const ROOT_EQUIVALENT_GROUPS: &[(&str, &str)] = &[
    ("root", "group root owns system files"),
    ("docker", "any docker member can mount / into a container"),
    ("lxd", "any lxd member can start a privileged container"),
    ("disk", "disk members read and write raw block devices"),
    ("shadow", "shadow members read every password hash"),
];

fn root_equivalent_groups(db: &Db, out: &mut Out) {
    for (g, why) in ROOT_EQUIVALENT_GROUPS {
        let Some(entry) = db.group(g) else { continue };
        // Only listed members: the group's own system user (uid = gid) is expected.
        let members: Vec<&String> = entry.members.iter().filter(|m| *m != "root").collect();
        if members.is_empty() {
            continue;
        }
        let names: Vec<String> = members.iter().map(|m| shown(m)).collect();
        out.finding(
            Finding::new(
                "accounts.root-group",
                Severity::Medium,
                Step::Accounts,
                format!("Members of {g} are as good as root: {}", names.join(", ")),
            )
            .evidence(Evidence::file(
                GROUP,
                Some(entry.line),
                format!("{g}: {} ({why})", names.join(", ")),
            ))
            .remedy(format!(
                "Remove members who should not be administrators: `gpasswd -d USER {g}`."
            )),
        );
    }
}

fn sudo_rules(ctx: &Context, out: &mut Out) {
    let (cfg, problems) = match sudoers::load(&ctx.host) {
        Ok(Some(v)) => v,
        Ok(None) => return,
        Err(e) if e.is_permission_denied() && !ctx.is_root => {
            out.skip(format!(
                "{} needs root: sudo rights not checked",
                sudoers::SUDOERS
            ));
            return;
        }
        Err(e) => {
            out.host_error(&e);
            return;
        }
    };
    for p in problems {
        match p {
            sudoers::LoadProblem::Host(e) => out.host_error(&e),
            sudoers::LoadProblem::Loop(f) => out.error(
                f.clone(),
                format!("{f}: included again (an include loop) or nested too deep; not read twice"),
            ),
        }
    }
    const ADMIN: &[&str] = &["root", "%sudo", "%admin", "%wheel"];
    for r in &cfg.rules {
        let ev = Evidence::file(
            r.file.clone(),
            Some(r.line),
            rampart_core::render::sanitize(&r.text),
        );
        let standard = ADMIN.contains(&r.principals.as_str());
        let (id, severity, title) = match (r.nopasswd, r.all_commands) {
            (true, true) => (
                "accounts.sudo-nopasswd",
                Severity::High,
                format!("{} may run any command as root without a password", r.principals),
            ),
            (true, false) => (
                "accounts.sudo-nopasswd",
                Severity::Medium,
                format!(
                    "{} may run some commands as root without a password",
                    r.principals
                ),
            ),
            (false, true) if standard => (
                "accounts.sudo-all",
                Severity::Info,
                format!("{} may run any command as root", r.principals),
            ),
            (false, true) => (
                "accounts.sudo-all",
                Severity::Medium,
                format!("{} may run any command as root (a direct grant)", r.principals),
            ),
            (false, false) => (
                "accounts.sudo-grant",
                Severity::Info,
                format!("{} may run some commands as root", r.principals),
            ),
        };
        out.finding(
            Finding::new(id, severity, Step::Accounts, title)
                .evidence(ev)
                .remedy(format!(
                    "If this grant is not yours, remove it with `visudo -f {}`; otherwise prefer group \
                     membership (sudo) with a password over per-user NOPASSWD rules.",
                    r.file
                )),
        );
    }
    for d in &cfg.defaults {
        let t = d.text.to_ascii_lowercase();
        let (id, why) = if t.contains("!authenticate") {
            (
                "accounts.sudo-no-auth",
                "sudo asks nobody for a password (!authenticate)",
            )
        } else if t.contains("env_keep") && (t.contains("ld_preload") || t.contains("ld_library_path")) {
            (
                "accounts.sudo-env-keep",
                "sudo keeps LD_PRELOAD/LD_LIBRARY_PATH (root code injection)",
            )
        } else {
            continue;
        };
        out.finding(
            Finding::new(id, Severity::High, Step::Accounts, why)
                .evidence(Evidence::file(
                    d.file.clone(),
                    Some(d.line),
                    rampart_core::render::sanitize(&d.text),
                ))
                .remedy(format!("Remove the Defaults line with `visudo -f {}`.", d.file)),
        );
    }
}

/// `YYYY-MM-DD HH:MM UTC` for a Unix time.
pub fn date(secs: i64) -> String {
    rampart_core::time::utc_minute(secs)
}

/// The authorized_keys paths sshd uses for a user (AuthorizedKeysFile tokens expanded)
/// plus the two default names, deduplicated.
fn key_paths(tokens: &[String], p: &PasswdEntry) -> Vec<String> {
    let home = p.home.trim_end_matches('/');
    let mut out: Vec<String> = Vec::new();
    let defaults = [
        ".ssh/authorized_keys".to_string(),
        ".ssh/authorized_keys2".to_string(),
    ];
    for t in tokens.iter().chain(defaults.iter()) {
        if t.eq_ignore_ascii_case("none") {
            continue;
        }
        let expanded = t
            .replace("%%", "\u{0}")
            .replace("%h", home)
            .replace("%u", &p.name)
            .replace("%U", &p.uid.to_string())
            .replace('\u{0}', "%");
        let path = if expanded.starts_with('/') {
            expanded
        } else {
            format!("{home}/{expanded}")
        };
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

fn authorized_keys(ctx: &Context, db: &Db, uid_min: u32, out: &mut Out) {
    let tokens: Vec<String> = match sshd_config::load(&ctx.host, sshd_config::MAIN) {
        Ok(Some((cfg, _))) => cfg
            .get("authorizedkeysfile")
            .map(|d| d.value.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let now_secs = ctx
        .now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let recent_days = ctx.options.recent_days.unwrap_or(DEFAULT_RECENT_DAYS) as i64;
    let mut seen = BTreeSet::new();
    let mut denied = Vec::new();
    for p in &db.passwd {
        if p.home.is_empty() || p.home == "/" {
            continue;
        }
        for path in key_paths(&tokens, p) {
            if !seen.insert(path.clone()) {
                continue;
            }
            let bytes = match ctx.host.read_limited(&path, KEYS_LIMIT) {
                Ok(b) => b,
                Err(e) if e.is_not_found() => continue,
                Err(e) if e.is_permission_denied() && !ctx.is_root => {
                    denied.push(path);
                    continue;
                }
                Err(e) => {
                    out.host_error(&e);
                    continue;
                }
            };
            let mtime = ctx.host.metadata(&path).map(|m| m.mtime()).ok();
            let file = keys::parse(&String::from_utf8_lossy(&bytes));
            report_keys(p, &path, &file, mtime, now_secs, recent_days, uid_min, out);
        }
    }
    if !denied.is_empty() {
        out.skip(format!(
            "{} authorized_keys file(s) need root to read: {}",
            denied.len(),
            denied.join(", ")
        ));
    }
}

#[allow(clippy::too_many_arguments)]
fn report_keys(
    p: &PasswdEntry,
    path: &str,
    file: &keys::KeyFile,
    mtime: Option<i64>,
    now_secs: i64,
    recent_days: i64,
    uid_min: u32,
    out: &mut Out,
) {
    if file.keys.is_empty() && file.bad_lines.is_empty() {
        return;
    }
    let name = shown(&p.name);
    let mut severity = Severity::Info;
    let mut why = Vec::new();
    let system = p.uid != 0 && p.uid < uid_min;
    if system {
        severity = Severity::High;
        why.push(format!(
            "{name} is a system account (uid {}): service accounts rarely need SSH keys",
            p.uid
        ));
    }
    if p.uid == 0 && file.keys.iter().any(|k| !k.has_option("from")) {
        severity = severity.max(Severity::Low);
        why.push("root keys usable from any address (no from=)".to_string());
    }
    if path.ends_with("authorized_keys2") && !file.keys.is_empty() {
        severity = severity.max(Severity::Medium);
        why.push("authorized_keys2 is deprecated and a known hiding place".to_string());
    }
    let age_days = mtime.map(|m| (now_secs - m) / 86_400);
    if let Some(age) = age_days.filter(|a| (0..=recent_days).contains(a)) {
        severity = severity.max(Severity::Medium);
        why.push(format!("changed {age} days ago"));
    }
    let mut f_evidence = Vec::new();
    for k in &file.keys {
        let mut detail = format!(
            "{} {}",
            k.key_type,
            if k.comment.is_empty() {
                "(no comment)".to_string()
            } else {
                format!("comment {:?}", k.comment)
            }
        );
        if !k.options.is_empty() {
            detail.push_str(&format!(", options {}", k.options.join(",")));
        }
        if let Some(cmd) = &k.command {
            let signals = crate::suspicious::scan(cmd);
            if let Some(worst) = crate::suspicious::worst(&signals) {
                severity = severity.max(worst);
                why.push(format!(
                    "a forced command looks planted: {}",
                    crate::suspicious::describe(&signals)
                ));
            }
            detail.push_str(&format!(
                ", forced command {:?}",
                rampart_core::render::sanitize(cmd)
            ));
        }
        if k.key_type == "ssh-dss" {
            severity = severity.max(Severity::Low);
            why.push("a DSA key (weak, disabled in current OpenSSH)".to_string());
        }
        f_evidence.push(Evidence::file(path.to_string(), Some(k.line), detail));
    }
    if !file.bad_lines.is_empty() {
        f_evidence.push(Evidence::file(
            path.to_string(),
            file.bad_lines.first().copied(),
            format!(
                "{} line(s) that are not keys (lines {})",
                file.bad_lines.len(),
                file.bad_lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let types: BTreeSet<&str> = file.keys.iter().map(|k| k.key_type.as_str()).collect();
    let modified = mtime.map(date).unwrap_or_else(|| "unknown".into());
    let mut title = format!(
        "{name} has {} SSH key(s) in {path} ({}; modified {modified})",
        file.keys.len(),
        types.into_iter().collect::<Vec<_>>().join(", ")
    );
    if !why.is_empty() {
        title.push_str(&format!(": {}", why.join("; ")));
    }
    let mut f = Finding::new("accounts.authorized-keys", severity, Step::Accounts, title).remedy(format!(
        "Check every key against the people who should log in as {name}; delete unknown lines from {path}."
    ));
    for e in f_evidence {
        f = f.evidence(e);
    }
    if system {
        f = f.action(format!("account-lock user={}", p.name));
    }
    out.finding(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes() {
        assert_eq!(skeleton("r00t"), skeleton("root"));
        assert_eq!(skeleton("rооt"), skeleton("root")); // Cyrillic o
        assert_ne!(skeleton("alice"), skeleton("root"));
        assert!(conventional("www-data"));
        assert!(conventional("machine$"));
        assert!(!conventional("Admin"));
        assert!(!conventional("9lives"));
    }

    #[test]
    fn login_shells() {
        assert!(is_login_shell("/bin/bash"));
        assert!(is_login_shell(""));
        assert!(!is_login_shell("/usr/sbin/nologin"));
        assert!(!is_login_shell("/bin/sync"));
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(date(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn key_paths_expand_tokens() {
        let p = crate::etc::parse_passwd(1, "bob:x:1001:1001::/home/bob:/bin/bash").unwrap();
        let v = key_paths(&["/etc/ssh/keys/%u".into(), ".ssh/authorized_keys".into()], &p);
        assert_eq!(
            v,
            vec![
                "/etc/ssh/keys/bob",
                "/home/bob/.ssh/authorized_keys",
                "/home/bob/.ssh/authorized_keys2"
            ]
        );
    }
}
