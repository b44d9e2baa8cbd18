//! The real ssh client, logging in to a test sshd with a key or a password.

use crate::netns::Netns;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub enum Auth<'a> {
    /// Public key from this private key file, never asking anything (BatchMode).
    Key(&'a Path),
    /// One password attempt through sshpass.
    Password(&'a str),
}

/// One ssh login: `user@host -p port`, optionally bound to a source address.
pub struct Login<'a> {
    pub user: &'a str,
    pub host: &'a str,
    pub port: u16,
    /// `-b`: the local address to connect from.
    pub source: Option<&'a str>,
    pub auth: Auth<'a>,
}

impl Login<'_> {
    /// The argument vector (program first): host keys neither checked nor remembered,
    /// a 2 s connect timeout, errors only.
    pub fn argv(&self, remote_command: &[&str]) -> Vec<OsString> {
        let mut v: Vec<OsString> = Vec::new();
        if let Auth::Password(p) = self.auth {
            v.extend(["sshpass", "-p", p].map(OsString::from));
        }
        v.push("ssh".into());
        if let Auth::Key(k) = self.auth {
            v.extend(["-i".into(), k.as_os_str().to_owned()]);
        }
        if let Some(s) = self.source {
            v.extend(["-b", s].map(OsString::from));
        }
        v.extend(["-p".into(), self.port.to_string().into()]);
        let auth_opts: &[&str] = match self.auth {
            Auth::Key(_) => &["BatchMode=yes"],
            Auth::Password(_) => &[
                "PreferredAuthentications=password",
                "PubkeyAuthentication=no",
                "NumberOfPasswordPrompts=1",
            ],
        };
        let common = ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"];
        let tail = ["ConnectTimeout=2", "LogLevel=ERROR"];
        for o in common.iter().chain(auth_opts).chain(&tail) {
            v.extend(["-o", o].map(OsString::from));
        }
        v.push(format!("{}@{}", self.user, self.host).into());
        v.extend(remote_command.iter().map(OsString::from));
        v
    }

    /// Runs the login (with `remote_command`) inside `netns` or here; stdin is empty.
    pub fn run(&self, netns: Option<&Netns>, remote_command: &[&str]) -> Output {
        let argv = self.argv(remote_command);
        let mut cmd = match netns {
            Some(ns) => ns.command(&argv[0]),
            None => Command::new(&argv[0]),
        };
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .output()
            .expect("ssh runs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: Vec<OsString>) -> Vec<String> {
        v.into_iter().map(|s| s.into_string().unwrap()).collect()
    }

    #[test]
    fn key_login_never_prompts() {
        let key = Path::new("/k");
        let login = Login {
            user: "root",
            host: "192.0.2.1",
            port: 2201,
            source: Some("192.0.2.2"),
            auth: Auth::Key(key),
        };
        let v = words(login.argv(&["true"]));
        assert_eq!(&v[..7], ["ssh", "-i", "/k", "-b", "192.0.2.2", "-p", "2201"]);
        assert!(v.contains(&"BatchMode=yes".to_string()));
        assert_eq!(&v[v.len() - 2..], ["root@192.0.2.1", "true"]);
    }

    #[test]
    fn password_login_goes_through_sshpass_once() {
        let login = Login {
            user: "nobody",
            host: "127.0.0.1",
            port: 2222,
            source: None,
            auth: Auth::Password("wrong"),
        };
        let v = words(login.argv(&[]));
        assert_eq!(&v[..4], ["sshpass", "-p", "wrong", "ssh"]);
        assert!(v.contains(&"NumberOfPasswordPrompts=1".to_string()));
        assert!(v.contains(&"PubkeyAuthentication=no".to_string()));
        assert!(!v.contains(&"-b".to_string()));
        assert_eq!(v.last().unwrap(), "nobody@127.0.0.1");
    }
}
