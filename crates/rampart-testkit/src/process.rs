//! Running programs from tests: checked runs, children killed on drop, and starting a
//! freshly written executable despite ETXTBSY.

use std::process::{Child, Command, Output};
use std::time::Duration;

/// Runs `program` with `args` and panics with its stderr unless it succeeds.
pub fn run(program: &str, args: &[&str]) -> Output {
    checked(Command::new(program).args(args), &format!("{program} {args:?}"))
}

/// Runs the command and panics with `what` and its stderr unless it succeeds.
pub fn checked(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what}: {}", stderr(&out));
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A child process killed and reaped when the test is done with it.
pub struct KillOnDrop(pub Child);

impl KillOnDrop {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns a program the test has just written (a copy of a binary). Another test thread
/// may fork while the copy is still open for writing, and the forked child holds that
/// descriptor until its own exec: for that moment exec fails with ETXTBSY, so try again.
pub fn spawn_fresh_copy(cmd: &mut Command) -> Child {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Ok(child) => return child,
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{:?}: {e}", cmd.get_program()),
        }
    }
}
