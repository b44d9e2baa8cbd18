//! `account-lock user=NAME`: lock the password (`usermod -L`), expire the account
//! (`usermod -e 1`) and give it a nologin shell — lock, never delete. The previous passwd
//! and shadow lines go to the entry's root-only secret file; undo puts them back byte
//! for byte. Refuses root and the operator's own login user unless `--force`.

use super::passwd::restore_lines;
use super::run_tool;
use crate::action::{Action, Outcome, Plan};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::journal::Entry;
use crate::pwfile;
use crate::spec::ActionSpec;

pub struct AccountLock {
    pub user: String,
}

impl AccountLock {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        spec.only_keys(&["user"])?;
        let user = spec.required("user")?;
        pwfile::valid_user_name(&user)?;
        Ok(AccountLock { user })
    }

    fn nologin(env: &Env) -> String {
        ["/usr/sbin/nologin", "/sbin/nologin"]
            .into_iter()
            .find(|p| env.path(p).exists())
            .unwrap_or("/usr/sbin/nologin")
            .to_string()
    }
}

impl Action for AccountLock {
    fn name(&self) -> &'static str {
        "account-lock"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        let u = &self.user;
        let pw = pwfile::fields_of(env, "/etc/passwd", u)?;
        pwfile::fields_of(env, "/etc/shadow", u)?;
        if (u == "root" || pw.get(2).map(String::as_str) == Some("0")) && !env.force {
            return Err(RespondError::Refused(format!(
                "{u} has uid 0; locking it can lock out every administrator"
            )));
        }
        if env.session.login_user.as_deref() == Some(u.as_str()) && !env.force {
            return Err(RespondError::Refused(format!(
                "{u} is the user of your own login session; locking it can lock you out"
            )));
        }
        let nologin = Self::nologin(env);
        Ok(Plan {
            changes: vec![
                format!("lock the password of {u} (usermod -L)"),
                format!("expire {u} (usermod -e 1: 1970-01-02)"),
                format!(
                    "set the shell of {u} to {nologin} (was {})",
                    pw.get(6).map(String::as_str).unwrap_or("")
                ),
            ],
            warnings: vec![format!(
                "processes already running as {u} keep running; look at them with `rampart triage`"
            )],
            needs_confirm: false,
        })
    }

    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome> {
        let u = &self.user;
        let passwd = pwfile::line_of(env, "/etc/passwd", u)?
            .ok_or_else(|| RespondError::Precondition(format!("unknown user {u:?} (not in /etc/passwd)")))?;
        let shadow = pwfile::line_of(env, "/etc/shadow", u)?
            .ok_or_else(|| RespondError::Precondition(format!("unknown user {u:?} (not in /etc/shadow)")))?;
        // Both lines in the root-only file: a passwd line can hold a hash on unshadowed hosts.
        entry.write_secret(format!("{passwd}\n\x1e\n{shadow}\n").as_bytes())?;
        entry.put("user", u)?;
        entry.commit()?;
        let nologin = Self::nologin(env);
        let root = env.root.display().to_string();
        let mut args: Vec<&str> = Vec::new();
        if !env.is_live_root() {
            args.extend(["--prefix", &root]);
        }
        args.extend(["-L", "-e", "1", "-s", &nologin, "--", u]);
        run_tool("usermod", &args, None)?;
        Ok(Outcome {
            done: vec![format!("{u}: password locked, account expired, shell {nologin}")],
            secrets: Vec::new(),
        })
    }

    fn verify(&self, env: &Env, _entry: &Entry) -> Result<()> {
        let sh = pwfile::fields_of(env, "/etc/shadow", &self.user)?;
        let pw = pwfile::fields_of(env, "/etc/passwd", &self.user)?;
        let locked = sh.get(1).is_some_and(|h| h.starts_with('!'));
        let expired = sh.get(7).map(String::as_str) == Some("1");
        let nologin = pw.get(6).is_some_and(|s| s.ends_with("/nologin"));
        if locked && expired && nologin {
            Ok(())
        } else {
            Err(RespondError::failed(
                self.user.clone(),
                format!("not locked as planned (locked {locked}, expired {expired}, nologin {nologin})"),
            ))
        }
    }

    fn undo(&self, env: &Env, entry: &Entry) -> Result<Vec<String>> {
        restore_lines(env, entry, &[("/etc/passwd", 0), ("/etc/shadow", 1)])
    }
}
