//! Running external programs: argument vectors only (never a shell string), a fixed
//! search path (a compromised host's `$PATH` is not trusted), a clean environment,
//! bounded output and a timeout.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Where programs are looked up, in order. The caller's `$PATH` is ignored on purpose.
pub const SEARCH_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

#[derive(Debug, Error)]
pub enum CmdError {
    #[error("{program}: not installed (looked in {})", SEARCH_PATH.join(":"))]
    NotFound { program: String },
    #[error("{program}: could not start: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("{program}: no answer within {timeout:?}; stopped")]
    Timeout { program: String, timeout: Duration },
    #[error("{program}: {source}")]
    Io { program: String, source: std::io::Error },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub timeout: Duration,
    /// Bytes kept of each of stdout and stderr; the rest is read and dropped.
    pub max_output: usize,
    pub stdin: Option<Vec<u8>>,
    /// Extra environment variables on top of the clean one.
    pub env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(30),
            max_output: 64 * 1024 * 1024,
            stdin: None,
            env: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// True when stdout or stderr was longer than `max_output` and cut.
    pub truncated: bool,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The first line of stderr, for error messages.
    pub fn stderr_line(&self) -> String {
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

/// Finds `program` on [`SEARCH_PATH`]; a name containing `/` is taken as a path.
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    SEARCH_PATH
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs `program` with `args` and default options.
pub fn run<I, S>(program: &str, args: I) -> Result<Output, CmdError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_with(program, args, &Options::default())
}

/// Runs `program` with `args`, waiting at most `opts.timeout`.
pub fn run_with<I, S>(program: &str, args: I, opts: &Options) -> Result<Output, CmdError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let path = which(program).ok_or_else(|| CmdError::NotFound {
        program: program.to_string(),
    })?;
    let mut cmd = Command::new(&path);
    cmd.args(args)
        .env_clear()
        .env("PATH", SEARCH_PATH.join(":"))
        .env("LC_ALL", "C")
        .stdin(if opts.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|source| CmdError::Spawn {
        program: program.to_string(),
        source,
    })?;

    let writer = opts.stdin.clone().and_then(|input| {
        child.stdin.take().map(|mut stdin| {
            thread::spawn(move || {
                // A program that exits without reading its input is not our error.
                let _ = stdin.write_all(&input);
            })
        })
    });
    let out_reader = spawn_reader(child.stdout.take(), opts.max_output);
    let err_reader = spawn_reader(child.stderr.take(), opts.max_output);

    let status = wait_timeout(&mut child, opts.timeout).map_err(|e| match e {
        WaitError::Timeout => CmdError::Timeout {
            program: program.to_string(),
            timeout: opts.timeout,
        },
        WaitError::Io(source) => CmdError::Io {
            program: program.to_string(),
            source,
        },
    })?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    let (stdout, t1) = out_reader.join().unwrap_or_default();
    let (stderr, t2) = err_reader.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
        truncated: t1 || t2,
    })
}

type Reader = thread::JoinHandle<(Vec<u8>, bool)>;

fn spawn_reader<R: Read + Send + 'static>(src: Option<R>, cap: usize) -> Reader {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut truncated = false;
        if let Some(mut src) = src {
            let mut buf = [0u8; 64 * 1024];
            loop {
                match src.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = cap.saturating_sub(kept.len());
                        if n > room {
                            truncated = true;
                        }
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
            }
        }
        (kept, truncated)
    })
}

enum WaitError {
    Timeout,
    Io(std::io::Error),
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Result<ExitStatus, WaitError> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => return Err(WaitError::Io(e)),
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(WaitError::Timeout);
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_without_a_shell() {
        // The argument reaches the program verbatim; a shell would have expanded it.
        let out = run("echo", ["$(id) ; rm -rf /"]).unwrap();
        assert!(out.success());
        assert_eq!(out.stdout_text(), "$(id) ; rm -rf /\n");
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let err = run("no-such-program-rampart", ["x"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("no-such-program-rampart: not installed"),
            "{err}"
        );
    }

    #[test]
    fn timeout_stops_the_program() {
        let opts = Options {
            timeout: Duration::from_millis(100),
            ..Default::default()
        };
        let err = run_with("sleep", ["10"], &opts).unwrap_err();
        assert!(matches!(err, CmdError::Timeout { .. }));
    }

    #[test]
    fn output_is_capped_and_stdin_is_fed() {
        let opts = Options {
            max_output: 4,
            stdin: Some(b"hello world".to_vec()),
            ..Default::default()
        };
        let out = run_with("cat", Vec::<&str>::new(), &opts).unwrap();
        assert_eq!(out.stdout, b"hell");
        assert!(out.truncated);
    }

    #[test]
    fn environment_is_clean() {
        std::env::set_var("RAMPART_TEST_LEAK", "secret");
        let out = run("env", Vec::<&str>::new()).unwrap();
        assert!(!out.stdout_text().contains("RAMPART_TEST_LEAK"));
        assert!(out.stdout_text().contains("LC_ALL=C"));
    }
}
