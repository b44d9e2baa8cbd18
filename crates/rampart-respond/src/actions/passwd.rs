//! `passwd-rotate user=NAME… [length=N]`: a generated strong password per account,
//! hashed the way the host hashes and stored with the system's own tools
//! (`chpasswd -e` via stdin on the live host, `usermod --prefix` on a throwaway root),
//! which take the password-file locks. The previous shadow lines go to the entry's
//! root-only secret file; undo puts them back byte for byte.

use super::run_tool;
use crate::action::{Action, Outcome, Plan, Secret};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::hash::{self, Method};
use crate::journal::Entry;
use crate::pwfile;
use crate::spec::ActionSpec;

pub struct PasswdRotate {
    pub users: Vec<String>,
    pub length: usize,
}

impl PasswdRotate {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        spec.only_keys(&["user", "length"])?;
        let users = spec.list("user");
        if users.is_empty() {
            return Err(RespondError::Input("passwd-rotate: user=NAME is required".into()));
        }
        for u in &users {
            pwfile::valid_user_name(u)?;
        }
        let length = match spec.one("length")? {
            None => rampart_passwd::DEFAULT_GENERATED_LENGTH,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (12..=256).contains(n))
                .ok_or_else(|| RespondError::Input(format!("passwd-rotate: length={v}: must be 12-256")))?,
        };
        Ok(PasswdRotate { users, length })
    }
}

/// Stores `crypt` as `user`'s password hash with the system's tools.
pub(crate) fn set_hash(env: &Env, user: &str, crypt: &str) -> Result<()> {
    if env.is_live_root() {
        // On stdin, so the hash never shows in the process list.
        run_tool(
            "chpasswd",
            &["-e"],
            Some(format!("{user}:{crypt}\n").into_bytes()),
        )?;
    } else {
        let root = env.root.display().to_string();
        run_tool("usermod", &["--prefix", &root, "-p", crypt, "--", user], None)?;
    }
    Ok(())
}

impl Action for PasswdRotate {
    fn name(&self) -> &'static str {
        "passwd-rotate"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        let (method, why) = hash::host_method(env);
        let tool = if env.is_live_root() {
            "chpasswd -e"
        } else {
            "usermod --prefix"
        };
        let mut plan = Plan::default();
        for u in &self.users {
            pwfile::fields_of(env, "/etc/passwd", u)?;
            let sh = pwfile::fields_of(env, "/etc/shadow", u)?;
            if sh.get(1).is_some_and(|h| h.starts_with('!')) {
                plan.warnings
                    .push(format!("{u} is locked; the new password replaces the lock"));
            }
            plan.changes.push(format!(
                "set a new generated {}-character password for {u} ({} hash, from {why}; stored with {tool})",
                self.length,
                method.name()
            ));
        }
        Ok(plan)
    }

    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome> {
        let (method, _) = hash::host_method(env);
        let mut before = String::new();
        for u in &self.users {
            let line = pwfile::line_of(env, "/etc/shadow", u)?.ok_or_else(|| {
                RespondError::Precondition(format!("unknown user {u:?} (not in /etc/shadow)"))
            })?;
            before.push_str(&line);
            before.push('\n');
        }
        entry.write_secret(before.as_bytes())?;
        entry.put("users", &self.users)?;
        entry.put("method", method.name())?;
        entry.commit()?;
        let mut out = Outcome::default();
        for u in &self.users {
            let pw =
                rampart_passwd::generate(self.length).map_err(|e| RespondError::failed("generate", e))?;
            let crypt = hash::hash(method, &pw)?;
            set_hash(env, u, &crypt)?;
            env.step("passwd-set");
            let stored = pwfile::fields_of(env, "/etc/shadow", u)?;
            if !stored.get(1).is_some_and(|h| hash::verify(&pw, h)) {
                return Err(RespondError::failed(
                    u.clone(),
                    "the stored hash does not match the new password",
                ));
            }
            out.done
                .push(format!("{u}: new password set ({})", method.name()));
            out.secrets.push(Secret {
                label: u.clone(),
                value: pw,
            });
        }
        Ok(out)
    }

    fn verify(&self, env: &Env, entry: &Entry) -> Result<()> {
        let method = match entry.get::<String>("method")?.as_str() {
            "yescrypt" => Method::Yescrypt,
            _ => Method::Sha512,
        };
        for u in &self.users {
            let f = pwfile::fields_of(env, "/etc/shadow", u)?;
            if !f.get(1).is_some_and(|h| h.starts_with(method.prefix())) {
                return Err(RespondError::failed(u.clone(), "shadow entry has no new hash"));
            }
        }
        Ok(())
    }

    fn undo(&self, env: &Env, entry: &Entry) -> Result<Vec<String>> {
        restore_lines(env, entry, &[("/etc/shadow", 0)])
    }
}

/// Puts the lines saved in the secret file back. `files` maps each account file to the
/// position of its lines in the secret (all lines of one file, then the next).
pub(crate) fn restore_lines(env: &Env, entry: &Entry, files: &[(&str, usize)]) -> Result<Vec<String>> {
    let secret = match entry.read_secret() {
        Ok(s) => s,
        // Crashed before the before-state was saved: nothing was changed.
        Err(_) if entry.record.data.is_empty() => return Ok(vec!["nothing had been changed".into()]),
        Err(e) => return Err(e),
    };
    let text = String::from_utf8_lossy(&secret).into_owned();
    let names: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
    let _lock = pwfile::lock(env, &names)?;
    let mut done = Vec::new();
    for (i, (file, _)) in files.iter().enumerate() {
        let section = text.split("\x1e\n").nth(i).unwrap_or("");
        for line in section.lines().filter(|l| !l.is_empty()) {
            let user = line.split(':').next().unwrap_or("");
            pwfile::replace_line(env, file, user, line)?;
            done.push(format!("{file}: previous entry of {user} restored"));
        }
    }
    Ok(done)
}
