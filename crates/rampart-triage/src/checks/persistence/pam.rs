//! PAM backdoors: modules in /etc/pam.d that no package installed, pam_exec lines (a
//! program run at every login, with the password if `expose_authtok`), and auth stacks
//! of sshd, login, su and sudo that pam_permit.so (or a pam_exec program) lets anyone
//! through.
//!
//! "Lets anyone through" is decided by running the auth stack the way Linux-PAM does
//! (controls, jumps, include and substack) with the outcome an intruder who knows no
//! password gets: every module that checks a credential fails, pam_permit and pam_exec
//! (whose program may answer yes) succeed, and everything else stays out of the decision.
//! Debian's own `auth required pam_permit.so` after `requisite pam_deny.so` is therefore
//! fine, a `sufficient pam_permit.so` is not.

use super::{entries, read, show, suspicious_finding, Owners};
use crate::context::{Context, Out};
use crate::pam::{parse, Action, Control, PamLine, Ret};
use crate::suspicious;
use rampart_core::{Finding, Severity, Step};
use std::collections::BTreeMap;

const PAM_D: &str = "/etc/pam.d";
/// Services whose auth stack is who may log in or become root.
const LOGIN_SERVICES: &[&str] = &["sshd", "login", "su", "su-l", "sudo", "sudo-i"];
/// Where Linux-PAM finds a module given by name (multiarch directories are added).
const MODULE_DIRS: &[&str] = &[
    "/lib/security",
    "/lib64/security",
    "/usr/lib/security",
    "/usr/lib64/security",
];
/// Modules that check a credential: they fail for someone who knows none.
const AUTHENTICATORS: &[&str] = &[
    "pam_unix.so",
    "pam_rootok.so",
    "pam_sss.so",
    "pam_ldap.so",
    "pam_krb5.so",
    "pam_winbind.so",
    "pam_google_authenticator.so",
    "pam_u2f.so",
    "pam_oath.so",
    "pam_yubico.so",
    "pam_radius_auth.so",
    "pam_userdb.so",
    "pam_pwdfile.so",
    "pam_tacplus.so",
    "pam_ssh_agent_auth.so",
    "pam_pkcs11.so",
    "pam_p11.so",
    "pam_fprintd.so",
    "pam_deny.so",
];
/// include / substack nesting deeper than this is a loop.
const MAX_DEPTH: usize = 8;
/// pam_exec's own options, before the command.
const PAM_EXEC_FLAGS: &[&str] = &[
    "debug",
    "expose_authtok",
    "quiet",
    "quiet_log",
    "seteuid",
    "stdout",
];

/// The files of /etc/pam.d, each parsed once.
struct PamFiles<'a> {
    ctx: &'a Context,
    parsed: BTreeMap<String, Option<Vec<PamLine>>>,
}

impl PamFiles<'_> {
    fn get(&mut self, path: &str, out: &mut Out) -> Option<&[PamLine]> {
        if !self.parsed.contains_key(path) {
            let lines = match read(self.ctx, path, out) {
                Some(b) => {
                    let (lines, bad) = parse(path, &String::from_utf8_lossy(&b));
                    if let Some(first) = bad.first() {
                        out.error(
                            format!("{path}:{first}"),
                            format!(
                                "{path}: {} line(s) are not PAM rules (first at line {first}); PAM rejects them",
                                bad.len()
                            ),
                        );
                    }
                    Some(lines)
                }
                None => None,
            };
            self.parsed.insert(path.to_string(), lines);
        }
        self.parsed.get(path).and_then(|l| l.as_deref())
    }
}

fn include_path(target: &str) -> String {
    if target.starts_with('/') {
        target.to_string()
    } else {
        format!("{PAM_D}/{target}")
    }
}

/// A stack of one type with include lines expanded and substacks nested.
enum Item {
    Module(PamLine),
    Substack(PamLine, Vec<Item>),
}

fn stack(files: &mut PamFiles, path: &str, kind: &str, depth: usize, out: &mut Out) -> Vec<Item> {
    if depth > MAX_DEPTH {
        out.error(
            path,
            format!("{path}: include/substack nests deeper than {MAX_DEPTH} levels"),
        );
        return Vec::new();
    }
    let Some(lines) = files.get(path, out).map(<[PamLine]>::to_vec) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    for l in lines {
        if !l.kind.is_empty() && l.kind != kind {
            continue;
        }
        match l.control {
            Control::Include => items.extend(stack(files, &include_path(&l.module), kind, depth + 1, out)),
            Control::Substack => {
                let sub = stack(files, &include_path(&l.module), kind, depth + 1, out);
                items.push(Item::Substack(l, sub));
            }
            Control::Actions(_) => items.push(Item::Module(l)),
        }
    }
    items
}

/// What a module returns to someone who knows no password.
fn intruder_outcome(module: &str) -> Ret {
    match module {
        // pam_exec succeeds whenever its program exits 0: an intruder's program will.
        "pam_permit.so" | "pam_exec.so" => Ret::Success,
        m if AUTHENTICATORS.contains(&m) => Ret::AuthErr,
        _ => Ret::Ignore,
    }
}

/// Runs a stack as Linux-PAM's dispatcher does; Ok(line that granted) when it succeeds.
fn evaluate(items: &[Item]) -> Result<Option<&PamLine>, ()> {
    #[derive(PartialEq)]
    enum Impression {
        Undecided,
        Positive,
        Negative,
    }
    let mut impression = Impression::Undecided;
    let mut status = Ret::AuthErr;
    let mut granted_by: Option<&PamLine> = None;
    let mut i = 0;
    while i < items.len() {
        let (line, ret) = match &items[i] {
            Item::Module(l) => (l, intruder_outcome(l.name())),
            Item::Substack(l, sub) => (
                l,
                match evaluate(sub) {
                    Ok(_) => Ret::Success,
                    Err(()) => Ret::AuthErr,
                },
            ),
        };
        let action = line.control.action(ret);
        match action {
            Action::Ignore => {}
            Action::Ok | Action::Done => {
                let undecided_or_good = impression == Impression::Undecided
                    || (impression == Impression::Positive && status == Ret::Success);
                if undecided_or_good && ret != Ret::Ignore {
                    // The line that first made the stack succeed is the one to show.
                    if ret == Ret::Success && impression == Impression::Undecided {
                        granted_by = match &items[i] {
                            Item::Module(l) => Some(l),
                            Item::Substack(_, sub) => evaluate(sub).ok().flatten().or(Some(line)),
                        };
                    }
                    impression = Impression::Positive;
                    status = ret;
                }
                if action == Action::Done && impression != Impression::Negative {
                    break;
                }
            }
            Action::Bad | Action::Die => {
                if impression != Impression::Negative {
                    impression = Impression::Negative;
                    status = Ret::AuthErr;
                }
                if action == Action::Die {
                    break;
                }
            }
            Action::Reset => {
                impression = Impression::Undecided;
                status = Ret::AuthErr;
                granted_by = None;
            }
            Action::Jump(n) => i += n,
        }
        i += 1;
    }
    if impression == Impression::Positive && status == Ret::Success {
        Ok(granted_by)
    } else {
        Err(())
    }
}

pub fn check(ctx: &Context, owners: &Owners, out: &mut Out) {
    let pam_files = entries(ctx, PAM_D, "PAM files", out);
    let mut files = PamFiles {
        ctx,
        parsed: BTreeMap::new(),
    };
    for service in LOGIN_SERVICES {
        let path = format!("{PAM_D}/{service}");
        let auth = stack(&mut files, &path, "auth", 0, out);
        if let Ok(granted) = evaluate(&auth) {
            out.finding(bypass_finding(service, &path, granted));
        }
    }
    let mut modules: BTreeMap<String, Vec<PamLine>> = BTreeMap::new();
    for e in &pam_files {
        let Some(lines) = files.get(&e.host_path, out) else {
            continue;
        };
        for l in lines.iter().filter(|l| !l.is_include()) {
            if l.name() == "pam_exec.so" {
                pam_exec(ctx, owners, l, out);
            }
            modules.entry(l.module.clone()).or_default().push(l.clone());
        }
    }
    if !owners.known() {
        if !modules.is_empty() {
            out.skip("no dpkg database: PAM modules not compared with packages");
        }
        return;
    }
    let dirs = module_dirs(ctx);
    for (module, uses) in modules {
        unowned_module(ctx, owners, &dirs, &module, &uses, out);
    }
}

/// The auth stack of `service` lets someone without a password in; `granted` is the line
/// whose success decided it.
fn bypass_finding(service: &str, path: &str, granted: Option<&PamLine>) -> Finding {
    let by_exec = granted.is_some_and(|l| l.name() == "pam_exec.so");
    let (id, title, line_kind) = if by_exec {
        (
            "persistence.pam-exec-auth",
            format!(
                "PAM lets anyone authenticate to {service} whom a pam_exec program approves (pam_exec.so                  decides the auth stack)"
            ),
            "pam_exec.so",
        )
    } else {
        (
            "persistence.pam-permit",
            format!(
                "PAM lets anyone authenticate to {service} without a password (pam_permit.so decides the                  auth stack)"
            ),
            "pam_permit.so",
        )
    };
    let mut f = Finding::new(id, Severity::Critical, Step::Persistence, title).remedy(format!(
        "Restore {path} and the files it includes from the packages (`apt-get install --reinstall          libpam-runtime` and the package of {service}), or remove the {line_kind} line; then look for logins          since the change and treat the host as compromised."
    ));
    if let Some(l) = granted {
        f = f.evidence(l.evidence(show(&l.raw)));
    }
    f
}

/// The directories a module name is looked up in, multiarch ones included.
fn module_dirs(ctx: &Context) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    for base in ["/lib", "/usr/lib"] {
        if let Ok(entries) = ctx.host.read_dir_opt(base) {
            for e in entries {
                if e.name.to_string_lossy().contains("-linux-") {
                    dirs.push(format!("{}/security", e.host_path));
                }
            }
        }
    }
    dirs.extend(MODULE_DIRS.iter().map(|d| d.to_string()));
    dirs
}

fn unowned_module(
    ctx: &Context,
    owners: &Owners,
    dirs: &[String],
    module: &str,
    uses: &[PamLine],
    out: &mut Out,
) {
    // Every place the module is: /lib and /usr/lib hold the same files on merged-/usr
    // systems, and dpkg lists each file under one of the two names.
    let found: Vec<String> = if module.starts_with('/') {
        let twin = match module.strip_prefix("/usr") {
            Some(rest) if rest.starts_with("/lib") => rest.to_string(),
            _ => format!("/usr{module}"),
        };
        vec![module.to_string(), twin]
    } else {
        dirs.iter().map(|d| format!("{d}/{module}")).collect()
    }
    .into_iter()
    .filter(|p| ctx.host.exists(p))
    .collect();
    // A module that is nowhere makes PAM fail that line: broken, not a backdoor.
    let Some(path) = found.first().cloned() else {
        return;
    };
    if !found.iter().all(|p| matches!(owners.owner(p), Some(None))) {
        return;
    }
    let hidden =
        suspicious::is_temp_path(&path) || path.split('/').any(|c| c.starts_with('.') && c.len() > 1);
    let mut f = Finding::new(
        "persistence.pam-module-unowned",
        if hidden {
            Severity::Critical
        } else {
            Severity::High
        },
        Step::Persistence,
        format!(
            "PAM loads {} into logins, and no package installed it",
            show(&path)
        ),
    )
    .remedy(format!(
        "A PAM module sees every password typed at login and can let anyone in. Copy {} aside for analysis, \
         remove the lines that load it, and treat the host as compromised unless you installed it yourself.",
        show(&path)
    ));
    for l in uses.iter().take(10) {
        f = f.evidence(l.evidence(show(&l.raw)));
    }
    out.finding(f);
}

fn pam_exec(ctx: &Context, owners: &Owners, l: &PamLine, out: &mut Out) {
    let mut expose = false;
    let mut rest = l.args.as_slice();
    while let Some((a, tail)) = rest.split_first() {
        let is_flag = PAM_EXEC_FLAGS.contains(&a.as_str()) || a.starts_with("log=") || a.starts_with("type=");
        if !is_flag {
            break;
        }
        expose |= a == "expose_authtok";
        rest = tail;
    }
    let command = rest.join(" ");
    let program = rest.first().map(String::as_str).unwrap_or("");
    let service = l.file.rsplit('/').next().unwrap_or(&l.file);
    let signals = suspicious::scan(&command);
    if !signals.is_empty() {
        out.finding(suspicious_finding(
            "persistence.pam-exec",
            &format!("A pam_exec.so line of {service} (runs at every {})", l.kind),
            &l.file,
            Some(l.line),
            &l.raw,
            &signals,
        ));
        return;
    }
    let unowned =
        program.starts_with('/') && ctx.host.exists(program) && matches!(owners.owner(program), Some(None));
    let severity = if expose || suspicious::is_temp_path(program) {
        Severity::Critical
    } else {
        Severity::High
    };
    let mut title = format!("PAM runs {} at every {} of {service}", show(program), l.kind);
    if expose {
        title.push_str(", and hands it the password typed (expose_authtok)");
    }
    if unowned {
        title.push_str("; no package installed that program");
    }
    out.finding(
        Finding::new("persistence.pam-exec", severity, Step::Persistence, title)
            .evidence(l.evidence(show(&l.raw)))
            .remedy(format!(
                "pam_exec is a favourite way to log passwords or open a backdoor at login. Unless you set it up, \
                 copy {} aside, remove the line from {}, and treat the host as compromised.",
                show(program),
                l.file
            )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(text: &str) -> Vec<Item> {
        parse("/etc/pam.d/t", text)
            .0
            .into_iter()
            .filter(|l| l.kind == "auth")
            .map(Item::Module)
            .collect()
    }

    const DEBIAN_COMMON_AUTH: &str = "auth [success=1 default=ignore] pam_unix.so nullok\n\
        auth requisite pam_deny.so\nauth required pam_permit.so\n";

    #[test]
    fn debian_stack_refuses_an_intruder() {
        assert!(evaluate(&auth(DEBIAN_COMMON_AUTH)).is_err());
    }

    #[test]
    fn sufficient_permit_first_lets_anyone_in() {
        let s = auth(&format!("auth sufficient pam_permit.so\n{DEBIAN_COMMON_AUTH}"));
        let granted = evaluate(&s).unwrap().unwrap();
        assert_eq!(granted.line, 1);
    }

    #[test]
    fn permit_instead_of_deny_lets_anyone_in() {
        let s = auth("auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_permit.so\nauth required pam_permit.so\n");
        assert!(evaluate(&s).is_ok());
    }

    #[test]
    fn jump_over_deny_to_permit() {
        // On pam_unix failure (auth_err) jump over the deny.
        let s = auth("auth [success=ok default=1] pam_unix.so\nauth requisite pam_deny.so\nauth required pam_permit.so\n");
        assert!(evaluate(&s).is_ok());
        let s = auth("auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\nauth required pam_permit.so\n");
        assert!(evaluate(&s).is_err());
    }

    #[test]
    fn pam_exec_deciding_auth_is_a_bypass_but_an_optional_one_is_not() {
        let s = auth(&format!(
            "auth sufficient pam_exec.so /usr/local/bin/ok\n{DEBIAN_COMMON_AUTH}"
        ));
        assert_eq!(evaluate(&s).unwrap().unwrap().name(), "pam_exec.so");
        let s = auth(&format!(
            "auth optional pam_exec.so /usr/local/bin/log\n{DEBIAN_COMMON_AUTH}"
        ));
        assert!(evaluate(&s).is_err());
    }

    #[test]
    fn required_failure_is_not_undone_by_a_later_permit() {
        let s = auth("auth required pam_unix.so\nauth sufficient pam_permit.so\n");
        assert!(evaluate(&s).is_err());
    }

    #[test]
    fn lines_and_controls() {
        let (l, bad) = parse(
            "/etc/pam.d/x",
            "# c\n@include common-auth\n-auth optional pam_gnome_keyring.so\nauth [success=2 default=ignore]\tpam_exec.so expose_authtok /tmp/x\nnonsense\nauth bogus pam_unix.so\n",
        );
        assert_eq!(bad, vec![5, 6]);
        assert_eq!(l.len(), 3);
        assert!(l[0].is_include() && l[0].module == "common-auth");
        assert_eq!(l[1].module, "pam_gnome_keyring.so");
        assert_eq!(l[2].args, vec!["expose_authtok", "/tmp/x"]);
        assert_eq!(l[2].control.action(Ret::Success), Action::Jump(2));
        assert_eq!(l[2].control.action(Ret::AuthErr), Action::Ignore);
    }
}
