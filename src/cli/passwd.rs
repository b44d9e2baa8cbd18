//! `rampart passwd`: password strength (`check`); more subcommands join `PasswdCommand`.
//!
//! A password is read from standard input, never from the command line, where every user
//! of the host could read it in `ps`. On a terminal the prompt goes to stderr and echo is
//! off while typing.

use anyhow::{bail, Context as _};
use std::io::{BufRead, IsTerminal, Write};

/// Longer input is not a password but a mistake (a file piped in).
const MAX_PASSWORD_BYTES: usize = 4096;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: PasswdCommand,
}

#[derive(clap::Subcommand)]
pub enum PasswdCommand {
    /// Rate a password read from standard input against the playbook's policy: 8+
    /// characters with upper case, lower case, digit and special character, and a zxcvbn
    /// score of at least 3. Exit 0 if it passes, 1 if not.
    Check(CheckArgs),
    /// Give accounts new generated passwords, hashed as the host hashes and stored with
    /// chpasswd; printed once (or --out FILE). Undo with `rampart respond undo`.
    Rotate(super::respond::RotateArgs),
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The account the password is for: its name counts as a guessable word.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// One JSON object: the rating (never the password).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    match args.command {
        PasswdCommand::Check(a) => check(a),
        PasswdCommand::Rotate(a) => super::respond::passwd_rotate(a),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<i32> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        prompt_without_echo("Password to check: ")?
    } else {
        read_password(stdin.lock()).context("reading the password from standard input")?
    };
    let inputs: Vec<&str> = args.user.iter().map(String::as_str).collect();
    let rating = rampart_passwd::rate(&password, &inputs);
    wipe(password);
    let text = render(&rating, args.json)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if rating.ok() { 0 } else { 1 })
}

/// The first line of `input` without its line ending.
fn read_password(input: impl BufRead) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    input
        .take(MAX_PASSWORD_BYTES as u64 + 1)
        .read_until(b'\n', &mut buf)
        .context("reading standard input")?;
    if buf.is_empty() {
        bail!("no password on standard input (pipe one in, or run on a terminal to be prompted)");
    }
    if buf.len() > MAX_PASSWORD_BYTES {
        wipe_bytes(&mut buf);
        bail!("the password is longer than {MAX_PASSWORD_BYTES} bytes");
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    match String::from_utf8(buf) {
        Ok(s) => Ok(s),
        Err(e) => {
            wipe_bytes(&mut e.into_bytes());
            bail!("the password is not valid UTF-8")
        }
    }
}

/// Restores the terminal's settings when dropped, even on an early return.
struct EchoOff {
    fd: i32,
    saved: libc::termios,
}

impl EchoOff {
    fn new(fd: i32) -> anyhow::Result<EchoOff> {
        // SAFETY: termios is plain data; tcgetattr fills it or fails.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            bail!(
                "cannot read the terminal settings: {}",
                std::io::Error::last_os_error()
            );
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        // SAFETY: fd is the open terminal and quiet a copy of its own settings.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
            bail!("cannot turn off echo: {}", std::io::Error::last_os_error());
        }
        Ok(EchoOff { fd, saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in new() on the same descriptor.
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved);
        }
    }
}

fn prompt_without_echo(prompt: &str) -> anyhow::Result<String> {
    let mut err = std::io::stderr();
    err.write_all(prompt.as_bytes())?;
    err.flush()?;
    let _guard = EchoOff::new(libc::STDIN_FILENO)?;
    read_password(std::io::stdin().lock())
}

fn render(rating: &rampart_passwd::Rating, json: bool) -> anyhow::Result<String> {
    if json {
        let mut v = serde_json::to_value(rating)?;
        v["ok"] = serde_json::Value::Bool(rating.ok());
        return Ok(format!("{v}\n"));
    }
    let classes: Vec<&str> = [
        (rating.has_upper, "upper case"),
        (rating.has_lower, "lower case"),
        (rating.has_digit, "digit"),
        (rating.has_special, "special"),
    ]
    .iter()
    .filter(|(has, _)| *has)
    .map(|(_, name)| *name)
    .collect();
    let summary = format!(
        "{} characters{}{}; zxcvbn score {} of 4",
        rating.length,
        if classes.is_empty() { "" } else { ", " },
        classes.join(", "),
        rating.score
    );
    if rating.ok() {
        return Ok(format!("Password passes the policy ({summary}).\n"));
    }
    let mut s = format!("Password fails the policy ({summary}):\n");
    for p in &rating.problems {
        s.push_str(&format!("  - {p}\n"));
    }
    Ok(s)
}

fn wipe(s: String) {
    wipe_bytes(&mut s.into_bytes());
}

/// Overwrites a secret before its memory is freed.
fn wipe_bytes(b: &mut [u8]) {
    for byte in b.iter_mut() {
        // SAFETY: a valid, exclusive reference; volatile so the store is not optimised away.
        unsafe { std::ptr::write_volatile(byte, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_line_without_its_ending() {
        assert_eq!(
            read_password(&b"k7#Vq!m2Rz@wL9xe\r\nsecond\n"[..]).unwrap(),
            "k7#Vq!m2Rz@wL9xe"
        );
        assert_eq!(read_password(&b"no newline"[..]).unwrap(), "no newline");
        assert_eq!(read_password(&b"\n"[..]).unwrap(), "");
        let err = read_password(&b""[..]).unwrap_err().to_string();
        assert!(err.contains("no password on standard input"), "{err}");
        let long = vec![b'a'; MAX_PASSWORD_BYTES + 10];
        assert!(read_password(&long[..])
            .unwrap_err()
            .to_string()
            .contains("longer than"));
        assert!(read_password(&b"\xff\xfe\n"[..])
            .unwrap_err()
            .to_string()
            .contains("UTF-8"));
    }

    #[test]
    fn human_report_names_every_problem() {
        let r = rampart_passwd::rate("password", &[]);
        let text = render(&r, false).unwrap();
        assert!(
            text.starts_with("Password fails the policy (8 characters, lower case; zxcvbn score 0 of 4):")
        );
        assert!(text.contains("  - no upper-case letter\n"));
        assert!(text.contains("  - no digit\n"));
        let ok = render(&rampart_passwd::rate("k7#Vq!m2Rz@wL9xe", &[]), false).unwrap();
        assert!(ok.starts_with(
            "Password passes the policy (16 characters, upper case, lower case, digit, special"
        ));
    }

    #[test]
    fn json_has_the_verdict_and_never_the_password() {
        let r = rampart_passwd::rate("Alice2024!", &["alice"]);
        let text = render(&r, true).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["length"], 10);
        assert!(v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("zxcvbn")));
        assert!(!text.contains("Alice2024"));
    }
}
