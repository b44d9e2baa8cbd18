//! `ssh-harden KEYWORD=VALUE`: set one sshd option (for example `PermitRootLogin=no`).
//! sshd takes the first value it reads for most keywords, and Debian's main file
//! includes `sshd_config.d/*.conf` at its top, so the line goes first in the main file,
//! ahead of any Include. The result is checked with `sshd -t` before anything changes and
//! with `sshd -T` afterwards. Because an option such as `PasswordAuthentication no` can
//! lock out whoever logs in with a password, it runs under the confirm-or-rollback guard.

use crate::action::{Action, Outcome, Plan};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::fsutil::{self, Meta};
use crate::guard;
use crate::journal::Entry;
use crate::spec::ActionSpec;
use crate::sshd;

pub struct SshHarden {
    key: String,
    value: String,
}

impl SshHarden {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        let [(key, value)] = spec.args.as_slice() else {
            return Err(RespondError::Input(
                "ssh-harden: give exactly one KEYWORD=VALUE (for example PermitRootLogin=no)".into(),
            ));
        };
        if !key.chars().all(|c| c.is_ascii_alphanumeric()) || key.eq_ignore_ascii_case("match") {
            return Err(RespondError::Input(format!(
                "ssh-harden: {key:?} is not an sshd keyword"
            )));
        }
        if key.eq_ignore_ascii_case("port") {
            return Err(RespondError::Input(
                "ssh-harden: use the ssh-port action to change the port".into(),
            ));
        }
        if value.is_empty() || value.chars().any(|c| c.is_control() || c == '#') {
            return Err(RespondError::Input(format!(
                "ssh-harden: {key}={value:?}: not a usable value"
            )));
        }
        Ok(SshHarden {
            key: key.clone(),
            value: value.clone(),
        })
    }

    fn new_text(&self, text: &str) -> String {
        format!(
            "# Set by rampart respond ssh-harden\n{} {}\n{text}",
            self.key, self.value
        )
    }

    /// The effective value of the keyword per `sshd -T -f`.
    fn effective(&self, env: &Env) -> Result<Option<String>> {
        let out = rampart_core::cmd::run(
            "sshd",
            [
                "-T",
                "-f",
                &env.sshd_config.display().to_string(),
                "-C",
                "user=root,host=localhost,addr=127.0.0.1",
            ],
        )?;
        if !out.success() {
            return Err(RespondError::failed("sshd -T", out.stderr_line()));
        }
        let k = self.key.to_ascii_lowercase();
        Ok(out.stdout_text().lines().find_map(|l| {
            let (a, b) = l.split_once(' ')?;
            (a == k).then(|| b.to_string())
        }))
    }
}

impl Action for SshHarden {
    fn name(&self) -> &'static str {
        "ssh-harden"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        let text = sshd::read_config(env)?;
        sshd::validate(env, &self.new_text(&text))?;
        sshd::running_pid(env)?;
        Ok(Plan {
            changes: vec![
                format!(
                    "{}: `{} {}` as the first line (checked with sshd -t)",
                    env.sshd_config.display(),
                    self.key,
                    self.value
                ),
                "reload sshd (SIGHUP); running sessions stay".into(),
                format!(
                    "wait {} s for `rampart respond confirm` from a new login; roll back without it",
                    env.confirm_timeout_secs
                ),
            ],
            warnings: Vec::new(),
            needs_confirm: true,
        })
    }

    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome> {
        let text = sshd::read_config(env)?;
        entry.backup_file(&env.sshd_config)?;
        entry.commit()?;
        let new = self.new_text(&text);
        sshd::validate(env, &new)?;
        guard::arm(env, entry)?;
        fsutil::write_atomic(&env.sshd_config, new.as_bytes(), Meta::of(&env.sshd_config)?)?;
        sshd::reload(env)?;
        Ok(Outcome {
            done: vec![format!("sshd: {} {}", self.key, self.value)],
            secrets: Vec::new(),
        })
    }

    fn verify(&self, env: &Env, _entry: &Entry) -> Result<()> {
        match self.effective(env)? {
            Some(v) if v.eq_ignore_ascii_case(&self.value) => Ok(()),
            other => Err(RespondError::failed(
                "sshd -T",
                format!(
                    "{} is {:?}, not {}",
                    self.key,
                    other.unwrap_or_default(),
                    self.value
                ),
            )),
        }
    }

    fn undo(&self, env: &Env, entry: &Entry) -> Result<Vec<String>> {
        if entry.record.files.is_empty() {
            return Ok(vec!["nothing had been changed".into()]);
        }
        let mut done: Vec<String> = entry
            .restore_files()?
            .iter()
            .map(|p| format!("{} restored", p.display()))
            .collect();
        if sshd::reload(env).is_ok() {
            done.push("sshd reloaded".into());
        }
        Ok(done)
    }
}
