//! Links the `rampart` binary with packed relative relocations (DT_RELR) when it is
//! built natively against a glibc that can load them (2.36 and later). Rampart is one
//! large position-independent binary started for every short command (`rampart triage
//! --only network` competes with `ss`); DT_RELR shrinks its 60,000 relocation records
//! to a few kilobytes and the loader's start-up work with them, while keeping ASLR.
//! Elsewhere (cross builds, musl, older glibc) the binary is linked as usual.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    let host = std::env::var("HOST").unwrap_or_default();
    if target == host && target.ends_with("-linux-gnu") && glibc_has_dt_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_has_dt_relr() -> bool {
    extern "C" {
        fn gnu_get_libc_version() -> *const std::os::raw::c_char;
    }
    // SAFETY: glibc returns a pointer to a static NUL-terminated version string.
    let v = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) };
    let mut parts = v
        .to_str()
        .unwrap_or("")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_has_dt_relr() -> bool {
    false
}
