//! Skips: a test that needs root or a program prints why it did not run and returns.
//! CI runs as root with `scripts/install-test-deps` done, so there they always run.

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

pub fn have(program: &str) -> bool {
    rampart_core::cmd::which(program).is_some()
}

/// True when running as root; otherwise prints `skipped: needs root (<why>)`.
pub fn root(why: &str) -> bool {
    if is_root() {
        return true;
    }
    eprintln!("skipped: needs root ({why})");
    false
}

/// True when running as root and every program is installed; otherwise prints the
/// first reason the test cannot run.
pub fn root_with(programs: &[&str], why: &str) -> bool {
    if !root(why) {
        return false;
    }
    match programs.iter().find(|p| !have(p)) {
        Some(p) => {
            eprintln!("skipped: {p} is not installed (scripts/install-test-deps installs it)");
            false
        }
        None => true,
    }
}
