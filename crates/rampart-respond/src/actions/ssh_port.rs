//! `ssh-port port=N [from=CIDR,…]`: move sshd without ever locking the operator out.
//!
//! Apply: journal the config and the firewall, validate the new config with `sshd -t`,
//! arm the detached rollback, label the port for SELinux when enforcing, open the new
//! port in the firewall, add `Port N` (keeping the old ports), reload sshd and wait until
//! it listens. Confirm (from a login on the new port): remove the old ports, reload, close
//! the old admin port in the baseline. Without a confirmation the rollback restores the
//! config and firewall byte for byte and reloads sshd.

use super::firewall::{need_nft, sources};
use super::run_tool;
use crate::action::{Action, Outcome, Plan};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::fsutil::{self, Meta};
use crate::guard;
use crate::journal::Entry;
use crate::spec::ActionSpec;
use crate::sshd;
use rampart_nft::baseline::{self, Snapshot, Source};
use std::time::Duration;

pub struct SshPort {
    port: u16,
    from: Vec<Source>,
}

impl SshPort {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        spec.only_keys(&["port", "from"])?;
        let port = spec
            .port("port")?
            .ok_or_else(|| RespondError::Input("ssh-port: port=N is required".into()))?;
        Ok(SshPort {
            port,
            from: sources(spec, "from")?,
        })
    }

    fn firewall_present(env: &Env) -> bool {
        rampart_core::cmd::which("nft").is_some()
            && baseline::snapshot(&env.nft()).is_ok_and(|s| s.has_chain(baseline::CHAIN))
    }

    fn sources_text(&self) -> String {
        if self.from.is_empty() {
            "everyone".into()
        } else {
            self.from
                .iter()
                .map(|s| format!("{}/{}", s.addr, s.len))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

impl Action for SshPort {
    fn name(&self) -> &'static str {
        "ssh-port"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        if rampart_core::cmd::which("sshd").is_none() {
            return Err(RespondError::Precondition(
                "sshd is not installed (no sshd in the system path)".into(),
            ));
        }
        let text = sshd::read_config(env)?;
        let old = sshd::ports(env)?;
        let n = self.port;
        if old.contains(&n) {
            return Err(RespondError::Input(format!(
                "ssh-port: sshd is already configured for port {n}"
            )));
        }
        let inc = sshd::ports_in_includes(env)?;
        if sshd::listening_ports(env)?.contains(&n) {
            return Err(RespondError::Precondition(format!(
                "ssh-port: port {n} is in use by another program"
            )));
        }
        if !self.from.is_empty() {
            need_nft()?;
        }
        if !sshd::socket_activated(env) {
            sshd::running_pid(env)?;
        }
        sshd::validate(env, &sshd::add_port(&text, n, !inc.is_empty()))?;
        let old_s: Vec<String> = old.iter().map(|p| p.to_string()).collect();
        let mut plan = Plan {
            needs_confirm: true,
            ..Default::default()
        };
        if sshd::selinux_enforcing(env) {
            plan.changes.push(format!(
                "semanage port -a -t ssh_port_t -p tcp {n} (SELinux is enforcing)"
            ));
        }
        if Self::firewall_present(env) {
            plan.changes.push(format!(
                "firewall: accept TCP {n} from {} in {}",
                self.sources_text(),
                baseline::CHAIN
            ));
        }
        if !self.from.is_empty() {
            plan.changes.push(format!(
                "firewall: drop TCP {n} unless from {} (chain {})",
                self.sources_text(),
                baseline::ADMIN_CHAIN
            ));
        }
        if sshd::socket_activated(env) {
            plan.changes.push(format!(
                "ssh.socket is in use: write {} with ListenStream {} and {n}, systemctl daemon-reload, restart ssh.socket",
                sshd::SOCKET_DROPIN,
                old_s.join(", ")
            ));
        } else {
            plan.changes.push(format!(
                "{}: add `Port {n}` (keep {}), checked with sshd -t; reload sshd (SIGHUP)",
                env.sshd_config.display(),
                old_s.join(", ")
            ));
        }
        let where_old = if inc.is_empty() || sshd::socket_activated(env) {
            String::new()
        } else {
            let files: Vec<String> = inc.iter().map(|f| f.display().to_string()).collect();
            format!(" (also from {})", files.join(", "))
        };
        plan.changes.push(format!(
            "wait {} s for `rampart respond confirm` from a login on port {n}; then remove port {}{where_old} \
             (and its firewall rules); without it, roll everything back",
            env.confirm_timeout_secs,
            old_s.join(", ")
        ));
        if let Some(c) = env.session.ssh {
            if !self.from.is_empty() && !self.from.iter().any(|s| contains(s, c.client)) {
                plan.warnings.push(format!(
                    "your address {} is not in from=; you will not be able to confirm from here",
                    c.client
                ));
            }
        }
        Ok(plan)
    }

    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome> {
        let n = self.port;
        let text = sshd::read_config(env)?;
        let old = sshd::ports(env)?;
        let socket = sshd::socket_activated(env);
        let selinux = sshd::selinux_enforcing(env);
        let firewall = Self::firewall_present(env);
        let nft = env.nft();
        let inc = sshd::ports_in_includes(env)?;
        entry.backup_file(&env.sshd_config)?;
        if !socket {
            for f in &inc {
                entry.backup_file(f)?;
            }
            entry.put("port_includes", &inc)?;
        }
        if socket {
            entry.backup_file(&env.path(sshd::SOCKET_DROPIN))?;
        }
        if firewall || !self.from.is_empty() {
            entry.put("nft_before", baseline::snapshot(&nft)?)?;
        }
        entry.put("old_ports", &old)?;
        entry.put("socket", socket)?;
        entry.put("selinux", selinux)?;
        entry.commit()?;
        env.step("saved");
        let new_text = sshd::add_port(&text, n, !inc.is_empty());
        sshd::validate(env, &new_text)?;
        guard::arm(env, entry)?;
        env.step("armed");
        let mut done = Vec::new();
        if selinux {
            run_tool(
                "semanage",
                &["port", "-a", "-t", "ssh_port_t", "-p", "tcp", &n.to_string()],
                None,
            )?;
            done.push(format!("SELinux: port {n} labelled ssh_port_t"));
        }
        if firewall {
            let mut cmds = vec![rampart_nft::add_table()];
            cmds.extend(baseline::open_port_in_baseline(n, &self.from));
            nft.apply(cmds, "open the new SSH port")?;
            done.push(format!("firewall: TCP {n} accepted from {}", self.sources_text()));
        }
        if !self.from.is_empty() {
            nft.apply(
                baseline::restrict_port(n, &self.from),
                "restrict the new SSH port",
            )?;
        }
        env.step("firewall-opened");
        if socket {
            let mut ports = old.clone();
            ports.push(n);
            let path = env.path(sshd::SOCKET_DROPIN);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| RespondError::io(dir, e))?;
            }
            fsutil::write_atomic(
                &path,
                sshd::socket_dropin(&ports).as_bytes(),
                Meta {
                    uid: 0,
                    gid: 0,
                    mode: 0o644,
                },
            )?;
            run_tool("systemctl", &["daemon-reload"], None)?;
            run_tool("systemctl", &["restart", "ssh.socket"], None)?;
        } else {
            let meta = Meta::of(&env.sshd_config)?;
            fsutil::write_atomic(&env.sshd_config, new_text.as_bytes(), meta)?;
            env.step("config-written");
            sshd::reload(env)?;
        }
        env.step("reloaded");
        if !sshd::wait_listening(env, n, true, Duration::from_secs(10))? {
            return Err(RespondError::failed(
                "sshd",
                format!("not listening on port {n} after the reload"),
            ));
        }
        done.push(format!("sshd listens on port {n} as well"));
        Ok(Outcome {
            done,
            secrets: Vec::new(),
        })
    }

    fn confirm(&self, env: &Env, entry: &mut Entry) -> Result<Vec<String>> {
        let n = self.port;
        if let Some(c) = env.session.ssh {
            if c.server_port != n && !env.force {
                return Err(RespondError::Refused(format!(
                    "confirm from a login on the new port {n}; this session came in on port {}",
                    c.server_port
                )));
            }
        }
        let old: Vec<u16> = entry.get("old_ports")?;
        let socket: bool = entry.get("socket").unwrap_or(false);
        let mut done = Vec::new();
        if socket {
            let path = env.path(sshd::SOCKET_DROPIN);
            fsutil::write_atomic(
                &path,
                sshd::socket_dropin(&[n]).as_bytes(),
                Meta {
                    uid: 0,
                    gid: 0,
                    mode: 0o644,
                },
            )?;
            run_tool("systemctl", &["daemon-reload"], None)?;
            run_tool("systemctl", &["restart", "ssh.socket"], None)?;
        } else {
            // Backed up at apply; a failure from here on leaves the change unconfirmed, so
            // the rollback restores these files with the rest.
            let includes: Vec<std::path::PathBuf> = entry.get("port_includes").unwrap_or_default();
            for f in &includes {
                let before = std::fs::read_to_string(f).map_err(|e| RespondError::io(f, e))?;
                let after = sshd::keep_only_port(&before, n);
                if after != before {
                    fsutil::write_atomic(f, after.as_bytes(), Meta::of(f)?)?;
                    done.push(format!("{}: Port lines removed", f.display()));
                }
            }
            let text = sshd::keep_only_port(&sshd::read_config(env)?, n);
            sshd::validate(env, &text)?;
            let meta = Meta::of(&env.sshd_config)?;
            fsutil::write_atomic(&env.sshd_config, text.as_bytes(), meta)?;
            env.step("confirm-config-written");
            sshd::reload(env)?;
        }
        done.push(format!("sshd no longer listens on port {old:?}"));
        if rampart_core::cmd::which("nft").is_some() {
            for p in &old {
                let k = baseline::delete_rules(&env.nft(), baseline::CHAIN, &baseline::admin_comment(*p))?;
                if k > 0 {
                    done.push(format!("firewall: port {p} closed"));
                }
            }
        }
        Ok(done)
    }

    fn verify(&self, env: &Env, entry: &Entry) -> Result<()> {
        if !sshd::wait_listening(env, self.port, true, Duration::from_secs(5))? {
            return Err(RespondError::failed(
                "sshd",
                format!("not listening on port {}", self.port),
            ));
        }
        if entry.record.confirmed {
            let old: Vec<u16> = entry.get("old_ports")?;
            for p in old {
                if !sshd::wait_listening(env, p, false, Duration::from_secs(5))? {
                    return Err(RespondError::failed(
                        "sshd",
                        format!("still listening on the old port {p}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn undo(&self, env: &Env, entry: &Entry) -> Result<Vec<String>> {
        let mut done = Vec::new();
        if entry.record.files.is_empty() {
            return Ok(vec!["nothing had been changed".into()]);
        }
        for p in entry.restore_files()? {
            done.push(format!("{} restored", p.display()));
        }
        let socket: bool = entry.get("socket").unwrap_or(false);
        if socket {
            run_tool("systemctl", &["daemon-reload"], None)?;
            run_tool("systemctl", &["restart", "ssh.socket"], None)?;
        } else if sshd::reload(env).is_ok() {
            done.push("sshd reloaded".into());
        }
        if let Ok(before) = entry.get::<Snapshot>("nft_before") {
            baseline::restore(&env.nft(), &before)?;
            done.push("firewall: Rampart's input chains restored".into());
        }
        if entry.get::<bool>("selinux").unwrap_or(false) {
            let _ = run_tool(
                "semanage",
                &[
                    "port",
                    "-d",
                    "-t",
                    "ssh_port_t",
                    "-p",
                    "tcp",
                    &self.port.to_string(),
                ],
                None,
            );
        }
        Ok(done)
    }
}

fn contains(s: &Source, ip: std::net::IpAddr) -> bool {
    crate::spec::Cidr {
        addr: s.addr,
        len: s.len,
    }
    .contains(ip)
}
