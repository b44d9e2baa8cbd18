//! `firewall-baseline [allow=PORT,…] [admin-from=CIDR,…] [services=NAME,…] [admin-port=N,…]
//! [ftp-passive=MIN-MAX]`: the default-drop `baseline_input` chain of `inet rampart`,
//! applied under the confirm-or-rollback guard. Refuses a policy that would drop the
//! operator's own SSH session unless `--force`. When FTP (port 21) is admitted, so are the
//! passive data ports its server is configured for, from the same sources.

use crate::action::{Action, Outcome, Plan};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::ftp;
use crate::guard;
use crate::journal::Entry;
use crate::spec::ActionSpec;
use crate::sshd;
use rampart_nft::baseline::{self, Baseline, Port, PortRange, Snapshot, Source};

pub struct FirewallBaseline {
    allow: Vec<Port>,
    services: Vec<(String, Vec<Port>)>,
    admin_from: Vec<Source>,
    admin_ports: Vec<u16>,
    /// `ftp-passive=MIN-MAX`: instead of the range read from the FTP server's config.
    ftp_passive: Option<(u16, u16)>,
}

/// How the baseline lets FTP in: open (`allow=21`) or only from admin-from (`services=ftp`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum FtpAccess {
    None,
    Open,
    Restricted,
}

const FTP_CONTROL: u16 = 21;
const FTP_PASSIVE_COMMENT: &str = "rampart ftp passive";

fn parse_range(v: &str) -> Result<(u16, u16)> {
    let bad = || {
        RespondError::Input(format!(
            "firewall-baseline: ftp-passive={v:?} is not MIN-MAX (ports 1-65535)"
        ))
    };
    let (a, b) = v.split_once('-').ok_or_else(bad)?;
    let (a, b) = (
        a.parse::<u16>().map_err(|_| bad())?,
        b.parse::<u16>().map_err(|_| bad())?,
    );
    if a == 0 || a > b {
        return Err(bad());
    }
    Ok((a, b))
}

pub(crate) fn sources(spec: &ActionSpec, key: &str) -> Result<Vec<Source>> {
    Ok(spec
        .cidrs(key)?
        .into_iter()
        .map(|c| Source {
            addr: c.addr,
            len: c.len,
        })
        .collect())
}

pub(crate) fn need_nft() -> Result<()> {
    if rampart_core::cmd::which("nft").is_none() {
        return Err(RespondError::Precondition(
            "nft is not installed (Debian: apt-get install nftables)".into(),
        ));
    }
    Ok(())
}

impl FirewallBaseline {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        spec.only_keys(&["allow", "admin-from", "services", "admin-port", "ftp-passive"])?;
        let allow = spec
            .list("allow")
            .iter()
            .map(|p| Port::parse(p).map_err(|e| RespondError::Input(format!("firewall-baseline: allow={e}"))))
            .collect::<Result<Vec<_>>>()?;
        let services = spec
            .list("services")
            .into_iter()
            .map(|name| {
                let ports = baseline::service_ports(&name).ok_or_else(|| {
                    RespondError::Input(format!(
                        "firewall-baseline: services={name}: unknown service (known: {})",
                        baseline::SERVICE_NAMES
                    ))
                })?;
                Ok((name, ports))
            })
            .collect::<Result<Vec<_>>>()?;
        let admin_ports = spec
            .list("admin-port")
            .iter()
            .map(|p| crate::spec::parse_port("firewall-baseline", "admin-port", p))
            .collect::<Result<Vec<_>>>()?;
        let ftp_passive = spec.one("ftp-passive")?.map(|v| parse_range(&v)).transpose()?;
        Ok(FirewallBaseline {
            allow,
            services,
            admin_from: sources(spec, "admin-from")?,
            admin_ports,
            ftp_passive,
        })
    }

    fn ftp_access(&self) -> FtpAccess {
        if self.allow.contains(&Port::tcp(FTP_CONTROL)) {
            FtpAccess::Open
        } else if self
            .services
            .iter()
            .any(|(_, ports)| ports.contains(&Port::tcp(FTP_CONTROL)))
        {
            FtpAccess::Restricted
        } else {
            FtpAccess::None
        }
    }

    /// The passive ranges to admit with FTP: the one given, else those the servers set.
    fn ftp_ranges(&self, env: &Env) -> Result<Vec<ftp::PassiveRange>> {
        if self.ftp_access() == FtpAccess::None {
            return Ok(Vec::new());
        }
        match self.ftp_passive {
            Some((first, last)) => Ok(vec![ftp::PassiveRange {
                first,
                last,
                file: "ftp-passive=".into(),
            }]),
            None => ftp::passive_ranges(env),
        }
    }

    /// The policy, with `ftp_ranges` (from [`Self::ftp_ranges`], read once per plan or apply).
    fn baseline(&self, env: &Env, ftp_ranges: &[ftp::PassiveRange]) -> Result<(Baseline, Vec<u16>)> {
        let admin = if self.admin_ports.is_empty() {
            sshd::ports(env).unwrap_or_else(|_| vec![22])
        } else {
            self.admin_ports.clone()
        };
        let mut restricted: Vec<Port> = admin.iter().map(|&p| Port::tcp(p)).collect();
        for (_, ports) in &self.services {
            restricted.extend(ports.iter().copied());
        }
        restricted.dedup();
        let restricted_ftp = self.ftp_access() == FtpAccess::Restricted;
        let ranges = ftp_ranges
            .iter()
            .map(|r| PortRange {
                first: r.first,
                last: r.last,
                restricted: restricted_ftp,
                comment: FTP_PASSIVE_COMMENT.into(),
            })
            .collect();
        Ok((
            Baseline {
                allow: self.allow.clone(),
                restricted,
                admin_from: self.admin_from.clone(),
                ranges,
            },
            admin,
        ))
    }
}

impl Action for FirewallBaseline {
    fn name(&self) -> &'static str {
        "firewall-baseline"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        need_nft()?;
        let ftp_ranges = self.ftp_ranges(env)?;
        let (b, admin) = self.baseline(env, &ftp_ranges)?;
        if let Some(c) = env.session.ssh {
            if !b.admits(c.client, c.server_port) && !env.force {
                return Err(RespondError::Refused(format!(
                    "this baseline would drop your own SSH session ({} to port {})",
                    c.client, c.server_port
                )));
            }
        }
        let from = if self.admin_from.is_empty() {
            "everyone".to_string()
        } else {
            self.admin_from
                .iter()
                .map(|s| format!("{}/{}", s.addr, s.len))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut plan = Plan {
            needs_confirm: true,
            ..Default::default()
        };
        plan.changes.push(format!(
            "nftables table inet rampart: chain {} (hook input, policy drop); other tables and guard's sets untouched",
            baseline::CHAIN
        ));
        plan.changes
            .push("accept established/related, loopback, essential ICMP and ICMPv6, DHCPv6 replies".into());
        if !self.allow.is_empty() {
            let ports: Vec<String> = self.allow.iter().map(|p| p.to_string()).collect();
            plan.changes
                .push(format!("accept from everyone: ports {}", ports.join(", ")));
        }
        let admin_s: Vec<String> = admin.iter().map(|p| p.to_string()).collect();
        plan.changes
            .push(format!("accept SSH (port {}) from {from}", admin_s.join(", ")));
        for (name, ports) in &self.services {
            let ps: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
            plan.changes
                .push(format!("accept {name} ({}) from {from}", ps.join(", ")));
        }
        let ftp_from = if self.ftp_access() == FtpAccess::Restricted {
            from.as_str()
        } else {
            "everyone"
        };
        for r in &ftp_ranges {
            plan.changes.push(format!(
                "accept FTP passive data ports {}-{} (from {}) from {ftp_from}",
                r.first, r.last, r.file
            ));
        }
        plan.changes.push("drop everything else".into());
        if self.admin_from.is_empty() {
            plan.warnings
                .push("no admin-from=CIDR: SSH and the named services stay open to everyone".into());
        }
        if self.ftp_access() != FtpAccess::None && ftp_ranges.is_empty() {
            plan.warnings.push(
                "FTP is admitted but no passive port range is configured (vsftpd pasv_min_port/\
                 pasv_max_port, ProFTPD PassivePorts, Pure-FTPd PassivePortRange): passive transfers \
                 will be dropped; set a range and re-run, or give ftp-passive=MIN-MAX"
                    .into(),
            );
        }
        Ok(plan)
    }

    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome> {
        let (b, _) = self.baseline(env, &self.ftp_ranges(env)?)?;
        let nft = env.nft();
        let before = baseline::snapshot(&nft)?;
        entry.put("nft_before", &before)?;
        entry.commit()?;
        env.step("saved");
        guard::arm(env, entry)?;
        env.step("armed");
        nft.apply(b.commands(), "firewall baseline")?;
        env.step("applied");
        Ok(Outcome {
            done: vec![format!("chain {} loaded (policy drop)", baseline::CHAIN)],
            secrets: Vec::new(),
        })
    }

    fn verify(&self, env: &Env, _entry: &Entry) -> Result<()> {
        let now = baseline::snapshot(&env.nft())?;
        let ok = now
            .objects
            .iter()
            .any(|o| o["chain"]["name"] == baseline::CHAIN && o["chain"]["policy"] == "drop");
        if ok {
            Ok(())
        } else {
            Err(RespondError::failed(
                "firewall-baseline",
                "chain baseline_input is not loaded",
            ))
        }
    }

    fn undo(&self, env: &Env, entry: &Entry) -> Result<Vec<String>> {
        let Ok(before) = entry.get::<Snapshot>("nft_before") else {
            return Ok(vec!["nothing had been changed".into()]);
        };
        baseline::restore(&env.nft(), &before)?;
        Ok(vec![
            "Rampart's input chains restored to their previous state".into()
        ])
    }
}
