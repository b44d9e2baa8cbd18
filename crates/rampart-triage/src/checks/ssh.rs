//! The SSH server's effective configuration: `sshd -T` on a live host (it resolves
//! defaults, Include and every keyword exactly as the running sshd would), otherwise
//! `/etc/ssh/sshd_config` parsed with Include and Match. Either way the parsed files give
//! the file:line evidence, and Match blocks are judged on their own.

use crate::context::{Context, Out};
use crate::runner::Check;
use crate::sshd_config::{self, Directive, SshdConfig, MAIN};
use rampart_core::{cmd, Evidence, Finding, Severity, Step};
use std::time::Duration;

pub struct Ssh;

/// The port `ssh.port-22` proposes to `rampart respond`; any unused port works.
pub const SUGGESTED_PORT: u16 = 22022;

/// sshd's built-in defaults (OpenSSH 9) for the keywords judged here.
const DEFAULTS: &[(&str, &str)] = &[
    ("port", "22"),
    ("permitrootlogin", "prohibit-password"),
    ("passwordauthentication", "yes"),
    ("permitemptypasswords", "no"),
    ("maxauthtries", "6"),
    ("x11forwarding", "no"),
    ("kbdinteractiveauthentication", "yes"),
    ("usepam", "no"),
    ("permituserenvironment", "no"),
    ("strictmodes", "yes"),
    ("hostbasedauthentication", "no"),
    ("ignorerhosts", "yes"),
    ("gatewayports", "no"),
    ("loglevel", "INFO"),
    ("authorizedkeysfile", ".ssh/authorized_keys .ssh/authorized_keys2"),
];

/// Spelling of the keywords for evidence and remedies.
fn display_key(key: &str) -> &str {
    match key {
        "port" => "Port",
        "permitrootlogin" => "PermitRootLogin",
        "passwordauthentication" => "PasswordAuthentication",
        "permitemptypasswords" => "PermitEmptyPasswords",
        "maxauthtries" => "MaxAuthTries",
        "x11forwarding" => "X11Forwarding",
        "kbdinteractiveauthentication" => "KbdInteractiveAuthentication",
        "challengeresponseauthentication" => "ChallengeResponseAuthentication",
        "usepam" => "UsePAM",
        "permituserenvironment" => "PermitUserEnvironment",
        "strictmodes" => "StrictModes",
        "hostbasedauthentication" => "HostbasedAuthentication",
        "ignorerhosts" => "IgnoreRhosts",
        "gatewayports" => "GatewayPorts",
        "loglevel" => "LogLevel",
        "authorizedkeysfile" => "AuthorizedKeysFile",
        "protocol" => "Protocol",
        "ciphers" => "Ciphers",
        "macs" => "MACs",
        "kexalgorithms" => "KexAlgorithms",
        other => other,
    }
}

impl Check for Ssh {
    fn name(&self) -> &'static str {
        "ssh"
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        check(ctx, MAIN, out);
    }
}

/// Judges the SSH server configured by `config` (a host path; [`MAIN`] for the system's
/// own): `sshd -T -f config` on a live host, the parsed files otherwise.
pub fn check(ctx: &Context, config: &str, out: &mut Out) {
    let parsed = match sshd_config::load(&ctx.host, config) {
        Ok(Some((cfg, problems))) => {
            for p in problems {
                out.error(p.subject, p.message);
            }
            Some(cfg)
        }
        Ok(None) => None,
        Err(e) => {
            out.host_error(&e);
            None
        }
    };
    let effective = if ctx.host.is_live() {
        sshd_t(config, out)
    } else {
        None
    };
    if parsed.is_none() && effective.is_none() {
        out.skip(format!("no {config}: no SSH server is installed"));
        return;
    }
    let view = View {
        effective: effective.as_ref(),
        parsed: parsed.as_ref(),
    };
    judge_global(&view, out);
    if let Some(p) = &parsed {
        for m in &p.matches {
            judge_match(m, out);
        }
    }
}

/// `sshd -T -f config` on the live host; None (with a note) when it is missing or fails.
fn sshd_t(config: &str, out: &mut Out) -> Option<SshdConfig> {
    cmd::which("sshd")?;
    match effective_config(config) {
        Ok(cfg) => Some(cfg),
        Err(e) => {
            out.skip(format!("{e}; the configuration was parsed from {config} instead"));
            None
        }
    }
}

/// The configuration sshd itself computes from `config` (`sshd -T -f config`): every
/// keyword with its effective value, defaults and Include files resolved.
pub fn effective_config(config: &str) -> Result<SshdConfig, String> {
    let opts = cmd::Options {
        timeout: Duration::from_secs(5),
        max_output: 1024 * 1024,
        ..Default::default()
    };
    match cmd::run_with("sshd", ["-T", "-f", config], &opts) {
        Ok(o) if o.success() => Ok(SshdConfig::from_sshd_t(&o.stdout_text())),
        Ok(o) => Err(format!("sshd -T failed ({})", o.stderr_line())),
        Err(e) => Err(format!("sshd -T could not run ({e})")),
    }
}

/// One value of a keyword and where it came from.
struct Setting {
    value: String,
    evidence: Evidence,
}

struct View<'a> {
    effective: Option<&'a SshdConfig>,
    parsed: Option<&'a SshdConfig>,
}

impl View<'_> {
    fn settings(&self, key: &str) -> Vec<Setting> {
        let shown = display_key(key);
        let from_file = |d: &Directive, note: &str| {
            Evidence::file(d.file.clone(), Some(d.line), format!("{shown} {}{note}", d.value))
        };
        let parsed_all = |cfg: &SshdConfig| -> Vec<Directive> {
            let mut v: Vec<Directive> = if sshd_config::is_multi(key) {
                cfg.all(key).into_iter().cloned().collect()
            } else {
                cfg.get(key).into_iter().cloned().collect()
            };
            if v.is_empty() && key == "kbdinteractiveauthentication" {
                v.extend(cfg.get("challengeresponseauthentication").cloned());
            }
            v
        };
        if let Some(eff) = self.effective {
            let values: Vec<&Directive> = if sshd_config::is_multi(key) {
                eff.all(key)
            } else {
                eff.get(key).into_iter().collect()
            };
            let in_files = self.parsed.map(parsed_all).unwrap_or_default();
            return values
                .into_iter()
                .map(|d| {
                    let evidence = match in_files.iter().find(|f| same_value(&f.value, &d.value)) {
                        Some(f) => from_file(f, " (confirmed by sshd -T)"),
                        None => Evidence::at(
                            "sshd -T",
                            format!("{shown} {} (sshd's default or computed value)", d.value),
                        ),
                    };
                    Setting {
                        value: d.value.clone(),
                        evidence,
                    }
                })
                .collect();
        }
        let Some(parsed) = self.parsed else {
            return Vec::new();
        };
        let found = parsed_all(parsed);
        if !found.is_empty() {
            return found
                .iter()
                .map(|d| Setting {
                    value: d.value.clone(),
                    evidence: from_file(d, ""),
                })
                .collect();
        }
        match DEFAULTS.iter().find(|(k, _)| *k == key) {
            Some((_, default)) => vec![Setting {
                value: default.to_string(),
                evidence: Evidence::file(
                    MAIN,
                    None,
                    format!(
                        "{shown} is not set in {}: sshd's default is {default}",
                        files_list(parsed)
                    ),
                ),
            }],
            None => Vec::new(),
        }
    }

    fn value(&self, key: &str) -> Option<Setting> {
        self.settings(key).into_iter().next()
    }
}

/// sshd -T prints some values in another spelling than the file used.
fn same_value(file: &str, effective: &str) -> bool {
    let norm = |v: &str| match v.to_ascii_lowercase().as_str() {
        "prohibit-password" => "without-password".to_string(),
        other => other.to_string(),
    };
    norm(file) == norm(effective)
}

fn files_list(cfg: &SshdConfig) -> String {
    cfg.files.join(", ")
}

fn yes(v: &str) -> bool {
    v.eq_ignore_ascii_case("yes")
}

/// A rule's verdict on one value.
struct Verdict {
    id: &'static str,
    severity: Severity,
    title: String,
    remedy: String,
    action: Option<String>,
}

fn harden(key: &str, value: &str) -> Option<String> {
    Some(format!("ssh-harden {key}={value}"))
}

/// Judges one keyword's value; shared by the global configuration and Match blocks.
fn judge(key: &str, value: &str) -> Option<Verdict> {
    let v = value.trim();
    let verdict = |id, severity, title: &str, remedy: &str, action| Verdict {
        id,
        severity,
        title: title.to_string(),
        remedy: remedy.to_string(),
        action,
    };
    match key {
        "permitrootlogin" => match v.to_ascii_lowercase().as_str() {
            "yes" => Some(verdict(
                "ssh.root-login",
                Severity::High,
                "SSH allows root to log in with a password",
                "Set PermitRootLogin no and log in as an ordinary user who uses sudo; keep a second \
                 session open until you have tested it.",
                harden("PermitRootLogin", "no"),
            )),
            "prohibit-password" | "without-password" => Some(verdict(
                "ssh.root-login",
                Severity::Low,
                "SSH allows root to log in with a key",
                "Set PermitRootLogin no once an ordinary admin user with sudo can log in; root's \
                 authorized_keys are listed under accounts.",
                harden("PermitRootLogin", "no"),
            )),
            _ => None,
        },
        "passwordauthentication" if yes(v) => Some(verdict(
            "ssh.password-auth",
            Severity::Medium,
            "SSH accepts passwords (brute-force target)",
            "Install your public key in ~/.ssh/authorized_keys, test a key login, then set \
             PasswordAuthentication no.",
            harden("PasswordAuthentication", "no"),
        )),
        "permitemptypasswords" if yes(v) => Some(verdict(
            "ssh.empty-passwords",
            Severity::Critical,
            "SSH lets accounts with an empty password log in",
            "Set PermitEmptyPasswords no now, and give every account a password or lock it.",
            harden("PermitEmptyPasswords", "no"),
        )),
        "maxauthtries" => match v.parse::<u32>() {
            Ok(n) if n > 4 => Some(verdict(
                "ssh.max-auth-tries",
                Severity::Low,
                &format!("SSH allows {n} authentication attempts per connection"),
                "Set MaxAuthTries 3 so each connection gets fewer guesses.",
                harden("MaxAuthTries", "3"),
            )),
            _ => None,
        },
        "x11forwarding" if yes(v) => Some(verdict(
            "ssh.x11-forwarding",
            Severity::Low,
            "SSH forwards X11",
            "Set X11Forwarding no unless users run graphical programs over SSH.",
            harden("X11Forwarding", "no"),
        )),
        "permituserenvironment" if !v.eq_ignore_ascii_case("no") => Some(verdict(
            "ssh.user-environment",
            Severity::Medium,
            "SSH lets users set environment variables such as LD_PRELOAD at login",
            "Set PermitUserEnvironment no.",
            harden("PermitUserEnvironment", "no"),
        )),
        "strictmodes" if v.eq_ignore_ascii_case("no") => Some(verdict(
            "ssh.strict-modes",
            Severity::Medium,
            "SSH accepts key files that anyone can write",
            "Set StrictModes yes.",
            harden("StrictModes", "yes"),
        )),
        "hostbasedauthentication" if yes(v) => Some(verdict(
            "ssh.hostbased",
            Severity::Medium,
            "SSH trusts other hosts (host-based authentication)",
            "Set HostbasedAuthentication no.",
            harden("HostbasedAuthentication", "no"),
        )),
        "ignorerhosts" if v.eq_ignore_ascii_case("no") => Some(verdict(
            "ssh.rhosts",
            Severity::Medium,
            "SSH honours .rhosts and .shosts files",
            "Set IgnoreRhosts yes and delete any .rhosts/.shosts files.",
            harden("IgnoreRhosts", "yes"),
        )),
        "gatewayports" if !v.eq_ignore_ascii_case("no") => Some(verdict(
            "ssh.gateway-ports",
            Severity::Low,
            "SSH lets forwarded ports listen on every interface",
            "Set GatewayPorts no.",
            harden("GatewayPorts", "no"),
        )),
        "loglevel" if v.eq_ignore_ascii_case("quiet") || v.eq_ignore_ascii_case("fatal") => Some(verdict(
            "ssh.log-level",
            Severity::Medium,
            "SSH does not log logins",
            "Set LogLevel INFO (or VERBOSE to log key fingerprints).",
            harden("LogLevel", "INFO"),
        )),
        "protocol" if v.split(',').any(|p| p.trim() == "1") => Some(verdict(
            "ssh.protocol-1",
            Severity::High,
            "The SSH configuration asks for protocol version 1",
            "Remove the Protocol line and upgrade sshd; protocol 1 is broken.",
            None,
        )),
        "ciphers" | "macs" | "kexalgorithms" => {
            let weak: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|a| {
                    let a = a.to_ascii_lowercase();
                    a.contains("-cbc")
                        || a.contains("arcfour")
                        || a.contains("3des")
                        || a.contains("hmac-md5")
                        || a == "diffie-hellman-group1-sha1"
                        || a == "diffie-hellman-group-exchange-sha1"
                        || a == "diffie-hellman-group14-sha1"
                })
                .collect();
            (!weak.is_empty()).then(|| {
                verdict(
                    "ssh.weak-crypto",
                    Severity::Medium,
                    &format!("SSH offers weak algorithms: {}", weak.join(", ")),
                    &format!(
                        "Remove the {} line (sshd's defaults are strong) or drop the weak algorithms.",
                        display_key(key)
                    ),
                    None,
                )
            })
        }
        "authorizedkeysfile" => {
            let odd: Vec<&str> = v
                .split_whitespace()
                .filter(|p| {
                    !p.eq_ignore_ascii_case("none")
                        && (crate::suspicious::is_temp_path(p)
                            || (p.starts_with('/') && !p.starts_with("/etc/ssh/") && !p.starts_with("%h")))
                })
                .collect();
            (!odd.is_empty()).then(|| {
                verdict(
                    "ssh.authorized-keys-file",
                    Severity::Medium,
                    &format!(
                        "SSH reads authorized keys from an unusual place: {}",
                        odd.join(", ")
                    ),
                    "Check who can write these files; the default is .ssh/authorized_keys in each home.",
                    None,
                )
            })
        }
        _ => None,
    }
}

const JUDGED: &[&str] = &[
    "permitrootlogin",
    "passwordauthentication",
    "permitemptypasswords",
    "maxauthtries",
    "x11forwarding",
    "permituserenvironment",
    "strictmodes",
    "hostbasedauthentication",
    "ignorerhosts",
    "gatewayports",
    "loglevel",
    "protocol",
    "ciphers",
    "macs",
    "kexalgorithms",
    "authorizedkeysfile",
];

/// Keywords that only an old sshd knew; their presence dates the configuration.
const OBSOLETE: &[&str] = &[
    "protocol",
    "rsaauthentication",
    "rhostsrsaauthentication",
    "useprivilegeseparation",
    "serverkeybits",
    "keyregenerationinterval",
    "uselogin",
];

fn finding_from(v: Verdict, evidence: Evidence, suffix: &str) -> Finding {
    let mut f = Finding::new(
        v.id,
        v.severity,
        Step::RemoteLogin,
        format!("{}{suffix}", v.title),
    )
    .evidence(evidence)
    .remedy(v.remedy);
    if let Some(a) = v.action {
        f = f.action(a);
    }
    f
}

fn judge_global(view: &View, out: &mut Out) {
    let ports = view.settings("port");
    if let Some(p22) = ports.iter().find(|p| p.value.trim() == "22") {
        out.finding(
            Finding::new(
                "ssh.port-22",
                Severity::Medium,
                Step::RemoteLogin,
                "SSH listens on the default port 22",
            )
            .evidence(p22.evidence.clone())
            .remedy(format!(
                "Move SSH to another port and admit only your admin addresses: \
                 `rampart respond plan ssh-port port={SUGGESTED_PORT} from=YOUR_IP/32` (any free port \
                 works; respond keeps the old port until you confirm the new one)."
            ))
            .action(format!("ssh-port port={SUGGESTED_PORT}")),
        );
    }
    for key in JUDGED {
        for s in view.settings(key) {
            if let Some(v) = judge(key, &s.value) {
                out.finding(finding_from(v, s.evidence, ""));
            }
        }
    }
    // Keyboard-interactive login asks PAM, which asks for the password.
    if let (Some(kbd), Some(pam)) = (view.value("kbdinteractiveauthentication"), view.value("usepam")) {
        if yes(&kbd.value) && yes(&pam.value) {
            out.finding(
                Finding::new(
                    "ssh.kbd-interactive",
                    Severity::Low,
                    Step::RemoteLogin,
                    "SSH accepts passwords through keyboard-interactive (PAM) login",
                )
                .evidence(kbd.evidence)
                .evidence(pam.evidence)
                .remedy("Set KbdInteractiveAuthentication no once key logins work.")
                .action("ssh-harden KbdInteractiveAuthentication=no"),
            );
        }
    }
    if let Some(parsed) = view.parsed {
        let old: Vec<&Directive> = parsed
            .global
            .iter()
            .chain(parsed.matches.iter().flat_map(|m| m.directives.iter()))
            .filter(|d| OBSOLETE.contains(&d.key.as_str()))
            .collect();
        if !old.is_empty() {
            let mut f = Finding::new(
                "ssh.obsolete-option",
                Severity::Low,
                Step::RemoteLogin,
                "The SSH configuration has options only old sshd versions knew",
            )
            .remedy("Remove them; the configuration was probably copied from an old or foreign system, review it whole.");
            for d in old {
                f = f.evidence(Evidence::file(
                    d.file.clone(),
                    Some(d.line),
                    format!("{} {}", display_key(&d.key), d.value),
                ));
            }
            out.finding(f);
        }
    }
}

fn judge_match(m: &sshd_config::MatchBlock, out: &mut Out) {
    let suffix = format!(" (for Match {})", m.criteria);
    for d in &m.directives {
        let key = if d.key == "challengeresponseauthentication" {
            "kbdinteractiveauthentication"
        } else {
            d.key.as_str()
        };
        if !JUDGED.contains(&key) {
            continue;
        }
        if let Some(v) = judge(key, &d.value) {
            let evidence = Evidence::file(
                d.file.clone(),
                Some(d.line),
                format!(
                    "{} {} inside Match {} ({}:{})",
                    display_key(key),
                    d.value,
                    m.criteria,
                    m.file,
                    m.line
                ),
            );
            out.finding(finding_from(v, evidence, &suffix));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(judge("permitrootlogin", "yes").unwrap().severity, Severity::High);
        assert_eq!(
            judge("permitrootlogin", "prohibit-password").unwrap().severity,
            Severity::Low
        );
        assert!(judge("permitrootlogin", "no").is_none());
        assert!(judge("maxauthtries", "4").is_none());
        assert_eq!(judge("maxauthtries", "10").unwrap().id, "ssh.max-auth-tries");
        assert!(judge("ciphers", "aes128-ctr,aes256-cbc")
            .unwrap()
            .title
            .contains("aes256-cbc"));
        assert!(judge("ciphers", "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com").is_none());
        assert_eq!(
            judge("permitemptypasswords", "yes").unwrap().action.as_deref(),
            Some("ssh-harden PermitEmptyPasswords=no")
        );
        assert!(judge("authorizedkeysfile", ".ssh/authorized_keys .ssh/authorized_keys2").is_none());
        assert!(judge("authorizedkeysfile", "/tmp/.keys/%u").is_some());
        assert!(judge("authorizedkeysfile", "/etc/ssh/authorized_keys/%u").is_none());
    }
}
