//! The dpkg database of a host: installed packages (`/var/lib/dpkg/status`), the files
//! each package installed (`info/*.list`), their md5sums (`info/*.md5sums`) and conffiles.
//!
//! Used by the integrity check (changed package files), the persistence check (SUID files
//! and units owned by no package) and the patches check (installed versions). Everything
//! is read through [`HostRoot`] with bounded reads; a bad line is an error naming the
//! file and line, never the end of the load.

use rampart_core::{HostError, HostRoot};
use std::collections::HashMap;
use std::io::{self, BufRead};
use std::sync::OnceLock;
use thiserror::Error;

pub const STATUS: &str = "/var/lib/dpkg/status";
pub const INFO_DIR: &str = "/var/lib/dpkg/info";

/// The status file of a big desktop is about 10 MB.
const STATUS_LIMIT: u64 = 64 * 1024 * 1024;
/// One package's `.list` or `.md5sums` file (the largest Debian packages list ~100k files).
const INFO_FILE_LIMIT: u64 = 32 * 1024 * 1024;
/// A longer line in a control file is garbage, not data.
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Error)]
pub enum DpkgError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("{path}:{line}: {message}")]
    Parse {
        path: String,
        line: u64,
        message: String,
    },
}

impl DpkgError {
    /// The file (with line, when known) the error is about, for a report's subject.
    pub fn subject(&self) -> String {
        match self {
            DpkgError::Host(e) => e.to_string().split(": ").next().unwrap_or("").to_string(),
            DpkgError::Parse { path, line, .. } => format!("{path}:{line}"),
        }
    }
}

/// One installed package, from the status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub architecture: String,
    /// Source package name (without version), when it differs from the binary's.
    pub source: Option<String>,
    /// Configuration files the admin may change: (path, md5 hex as dpkg recorded it).
    pub conffiles: Vec<(String, String)>,
    /// Line of the `Package:` field in the status file.
    pub line: u64,
}

/// One line of a `.md5sums` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Md5Entry {
    /// Absolute host path.
    pub path: String,
    pub md5: [u8; 16],
    pub line: u64,
}

/// The dpkg database, loaded once and shared read-only.
#[derive(Debug)]
pub struct Dpkg {
    host: HostRoot,
    packages: Vec<Package>,
    by_name: HashMap<String, usize>,
    /// Stems of the info files (`libc6:amd64`) of each installed package.
    info_stems: HashMap<String, String>,
    /// Problems of the status file (bad stanzas).
    errors: Vec<DpkgError>,
    owners: OnceLock<Owners>,
    /// True when `/bin` is a link into `/usr` (merged /usr): `/bin/ls` and `/usr/bin/ls`
    /// are one file, and dpkg lists whichever name the package shipped.
    merged_usr: bool,
}

#[derive(Debug, Default)]
struct Owners {
    by_path: HashMap<String, u32>,
    errors: Vec<DpkgError>,
}

impl Dpkg {
    /// Reads the status file and lists the info directory. Fails only when the status
    /// file cannot be read (no dpkg database); bad stanzas are kept in [`errors`](Self::errors).
    pub fn load(host: &HostRoot) -> Result<Dpkg, DpkgError> {
        let status = host.read_limited(STATUS, STATUS_LIMIT)?;
        let mut errors = Vec::new();
        let mut packages = Vec::new();
        for_each_stanza(
            STATUS,
            &status[..],
            &[
                "Package",
                "Status",
                "Version",
                "Architecture",
                "Source",
                "Conffiles",
            ],
            &mut errors,
            |st| {
                // A stanza without Package is ignored, as dpkg itself does.
                let Some(name) = st.get("Package") else { return };
                // Only what is on disk now: "install ok installed" (also hold/deinstall
                // packages that are still installed).
                let installed = st
                    .get("Status")
                    .map(|s| s.split_whitespace().nth(2) == Some("installed"))
                    .unwrap_or(false);
                if !installed {
                    return;
                }
                let conffiles = st
                    .get("Conffiles")
                    .map(|v| {
                        v.lines()
                            .filter_map(|l| {
                                let mut it = l.split_whitespace();
                                Some((it.next()?.to_string(), it.next()?.to_string()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                packages.push(Package {
                    name: name.to_string(),
                    version: st.get("Version").unwrap_or("").to_string(),
                    architecture: st.get("Architecture").unwrap_or("").to_string(),
                    source: st
                        .get("Source")
                        .and_then(|s| s.split_whitespace().next())
                        .map(str::to_string),
                    conffiles,
                    line: st.line,
                });
            },
        )
        .map_err(|e| DpkgError::Parse {
            path: STATUS.into(),
            line: 0,
            message: e.to_string(),
        })?;

        let mut by_name = HashMap::with_capacity(packages.len());
        for (i, p) in packages.iter().enumerate() {
            // Multi-arch packages appear once per architecture; the first wins for lookups.
            by_name.entry(p.name.clone()).or_insert(i);
        }
        let mut info_stems = HashMap::new();
        match host.read_dir_opt(INFO_DIR) {
            Ok(entries) => {
                for e in entries {
                    let name = e.name.to_string_lossy();
                    if let Some(stem) = name.strip_suffix(".list") {
                        let pkg = stem.split(':').next().unwrap_or(stem);
                        if by_name.contains_key(pkg) {
                            info_stems
                                .entry(pkg.to_string())
                                .or_insert_with(|| stem.to_string());
                        }
                    }
                }
            }
            Err(e) => errors.push(e.into()),
        }
        let merged_usr = host
            .resolve_parent("/bin")
            .ok()
            .and_then(|p| std::fs::symlink_metadata(p).ok())
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        Ok(Dpkg {
            host: host.clone(),
            packages,
            by_name,
            info_stems,
            errors,
            owners: OnceLock::new(),
            merged_usr,
        })
    }

    /// Installed packages, in status-file order.
    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.by_name.get(name).map(|&i| &self.packages[i])
    }

    /// Problems met while loading the status file and, once [`owner_of`](Self::owner_of)
    /// ran, the file lists.
    pub fn errors(&self) -> Vec<&DpkgError> {
        let mut v: Vec<&DpkgError> = self.errors.iter().collect();
        if let Some(o) = self.owners.get() {
            v.extend(o.errors.iter());
        }
        v
    }

    /// The info file of `package` with `suffix` (`list`, `md5sums`, `conffiles`…).
    pub fn info_path(&self, package: &str, suffix: &str) -> String {
        let stem = self
            .info_stems
            .get(package)
            .map(String::as_str)
            .unwrap_or(package);
        format!("{INFO_DIR}/{stem}.{suffix}")
    }

    /// The paths a package installed (directories included), from its `.list` file.
    pub fn files(&self, package: &str) -> Result<Vec<String>, DpkgError> {
        let path = self.info_path(package, "list");
        let bytes = self.host.read_limited(&path, INFO_FILE_LIMIT)?;
        Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| l.starts_with('/'))
            .map(str::to_string)
            .collect())
    }

    /// The md5sums of a package's files. A package without a `.md5sums` file (some have
    /// none) gives an empty list; bad lines are returned as errors naming file:line.
    pub fn md5sums(&self, package: &str) -> Result<(Vec<Md5Entry>, Vec<DpkgError>), DpkgError> {
        let path = self.info_path(package, "md5sums");
        let bytes = match self.host.read_limited(&path, INFO_FILE_LIMIT) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(e.into()),
        };
        Ok(parse_md5sums(&path, &bytes))
    }

    /// The installed package that ships `path`, if any (file lists, merged-/usr aware).
    /// The first call reads every `.list` file (~30 ms on a server).
    pub fn owner_of(&self, path: &str) -> Option<&str> {
        let owners = self.owners.get_or_init(|| self.load_owners());
        let key = self.canonical(path);
        owners
            .by_path
            .get(key.as_ref())
            .map(|&i| self.packages[i as usize].name.as_str())
    }

    /// Whether `path` is a conffile of some installed package, and which.
    pub fn conffile_owner(&self, path: &str) -> Option<&str> {
        self.packages
            .iter()
            .find(|p| p.conffiles.iter().any(|(c, _)| c == path))
            .map(|p| p.name.as_str())
    }

    fn canonical<'a>(&self, path: &'a str) -> std::borrow::Cow<'a, str> {
        if self.merged_usr {
            for prefix in ["/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"] {
                if path.starts_with(prefix) {
                    return format!("/usr{path}").into();
                }
            }
        }
        path.into()
    }

    fn load_owners(&self) -> Owners {
        let mut o = Owners::default();
        for (i, p) in self.packages.iter().enumerate() {
            match self.files(&p.name) {
                Ok(files) => {
                    for f in files {
                        let key = self.canonical(&f).into_owned();
                        o.by_path.entry(key).or_insert(i as u32);
                    }
                }
                // Some packages (dpkg's own virtual ones) ship no list.
                Err(DpkgError::Host(e)) if e.is_not_found() => {}
                Err(e) => o.errors.push(e),
            }
        }
        o
    }
}

/// Parses `HEX  relative/path` lines.
pub fn parse_md5sums(path: &str, bytes: &[u8]) -> (Vec<Md5Entry>, Vec<DpkgError>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i as u64 + 1;
        if raw.is_empty() {
            continue;
        }
        let err = |message: &str| DpkgError::Parse {
            path: path.to_string(),
            line,
            message: message.to_string(),
        };
        let Some(sp) = raw.iter().position(|&b| b == b' ') else {
            errors.push(err("expected an md5 sum, two spaces and a path"));
            continue;
        };
        let Some(md5) = parse_hex16(&raw[..sp]) else {
            errors.push(err("the md5 sum is not 32 hex digits"));
            continue;
        };
        let rest = &raw[sp..];
        let rel = rest
            .strip_prefix(b"  ")
            .or_else(|| rest.strip_prefix(b" "))
            .unwrap_or(rest);
        if rel.is_empty() || rel.contains(&0) {
            errors.push(err("missing or invalid path"));
            continue;
        }
        let rel = String::from_utf8_lossy(rel);
        entries.push(Md5Entry {
            path: format!("/{}", rel.trim_start_matches('/')),
            md5,
            line,
        });
    }
    (entries, errors)
}

pub fn parse_hex16(s: &[u8]) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in s.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// One deb822 paragraph, with only the fields the caller asked for.
#[derive(Debug, Default)]
pub struct Stanza {
    /// Line of the first field.
    pub line: u64,
    fields: Vec<(&'static str, String)>,
}

impl Stanza {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| v.as_str())
    }
}

/// Streams deb822 paragraphs (`Field: value`, continuation lines start with a space,
/// paragraphs are separated by blank lines) from `reader`, keeping only the `wanted`
/// fields so a 70 MB Packages file costs no more memory than one paragraph. Lines longer
/// than [`MAX_LINE`] are skipped and reported in `errors` with file:line.
pub fn for_each_stanza<R: BufRead>(
    path: &str,
    mut reader: R,
    wanted: &[&'static str],
    errors: &mut Vec<DpkgError>,
    mut f: impl FnMut(&Stanza),
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(256);
    let mut st = Stanza::default();
    let mut current: Option<usize> = None; // index in st.fields of the field being continued
    let mut lineno = 0u64;
    loop {
        buf.clear();
        let n = read_line_bounded(&mut reader, &mut buf)?;
        if n == 0 {
            break;
        }
        lineno += 1;
        if n > MAX_LINE {
            // Huge fields exist (Provides of some packages); only a wanted one is a loss.
            let is_wanted = buf.first().is_some_and(|b| !b.is_ascii_whitespace())
                && buf.iter().position(|&b| b == b':').is_some_and(|c| {
                    wanted
                        .iter()
                        .any(|w| w.as_bytes().eq_ignore_ascii_case(&buf[..c]))
                });
            let continues_wanted =
                buf.first().is_some_and(|b| *b == b' ' || *b == b'\t') && current.is_some();
            if !(is_wanted || continues_wanted) {
                current = None;
                continue;
            }
            errors.push(DpkgError::Parse {
                path: path.to_string(),
                line: lineno,
                message: format!("line longer than {MAX_LINE} bytes; skipped"),
            });
            current = None;
            continue;
        }
        let mut line = &buf[..];
        while let Some((&last, rest)) = line.split_last() {
            if last == b'\n' || last == b'\r' {
                line = rest;
            } else {
                break;
            }
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            if !st.fields.is_empty() {
                f(&st);
            }
            st.fields.clear();
            st.line = 0;
            current = None;
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(i) = current {
                let v = &mut st.fields[i].1;
                if !v.is_empty() {
                    v.push('\n');
                }
                v.push_str(String::from_utf8_lossy(&line[1..]).trim_end());
            }
            continue;
        }
        if line[0] == b'#' {
            continue;
        }
        current = None;
        if st.line == 0 {
            st.line = lineno;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            errors.push(DpkgError::Parse {
                path: path.to_string(),
                line: lineno,
                message: "expected \"Field: value\"".into(),
            });
            continue;
        };
        let name = &line[..colon];
        if let Some(&w) = wanted.iter().find(|w| w.as_bytes().eq_ignore_ascii_case(name)) {
            let value = String::from_utf8_lossy(&line[colon + 1..]).trim().to_string();
            st.fields.push((w, value));
            current = Some(st.fields.len() - 1);
        }
    }
    if !st.fields.is_empty() {
        f(&st);
    }
    Ok(())
}

/// Reads one line into `buf`, keeping at most `MAX_LINE + 1` bytes of it; returns the
/// full length of the line (so callers can tell it was cut), 0 at end of input.
fn read_line_bounded<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut total = 0usize;
    loop {
        let (done, used) = {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(total);
            }
            let (done, used) = match memchr::memchr(b'\n', avail) {
                Some(i) => (true, i + 1),
                None => (false, avail.len()),
            };
            let room = (MAX_LINE + 1).saturating_sub(buf.len());
            buf.extend_from_slice(&avail[..used.min(room)]);
            (done, used)
        };
        r.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_keep_wanted_fields_and_continuations() {
        let text = "Package: a\nStatus: install ok installed\nDescription: x\n long\nConffiles:\n /etc/a 0123\n /etc/b 4567\n\nPackage: b\nVersion: 1\n";
        let mut errs = Vec::new();
        let mut seen = Vec::new();
        for_each_stanza(
            "t",
            text.as_bytes(),
            &["Package", "Conffiles", "Version"],
            &mut errs,
            |s| {
                seen.push((
                    s.line,
                    s.get("Package").unwrap().to_string(),
                    s.get("Conffiles").map(str::to_string),
                    s.get("Description").is_some(),
                ))
            },
        )
        .unwrap();
        assert!(errs.is_empty());
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].2.as_deref(), Some("/etc/a 0123\n/etc/b 4567"));
        assert!(!seen[0].3);
        assert_eq!(seen[1].0, 9);
    }

    #[test]
    fn overlong_lines_are_errors_with_their_line() {
        let mut text = String::from("Package: a\nVersion: ");
        text.push_str(&"y".repeat(MAX_LINE + 10));
        text.push_str("\nVersion: 2\nProvides: ");
        // An unwanted huge field is skipped silently.
        text.push_str(&"z".repeat(MAX_LINE + 10));
        text.push('\n');
        let mut errs = Vec::new();
        let mut versions = Vec::new();
        for_each_stanza("/f", text.as_bytes(), &["Package", "Version"], &mut errs, |s| {
            versions.push(s.get("Version").unwrap().to_string())
        })
        .unwrap();
        assert_eq!(versions, vec!["2"]);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].subject(), "/f:2");
    }

    #[test]
    fn md5sums_lines() {
        let (e, errs) = parse_md5sums(
            "/x.md5sums",
            b"d41d8cd98f00b204e9800998ecf8427e  usr/bin/ls\nnot-a-sum  usr/bin/x\n\n0123\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].path, "/usr/bin/ls");
        assert_eq!(e[0].md5[0], 0xd4);
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[0].to_string(),
            "/x.md5sums:2: the md5 sum is not 32 hex digits"
        );
        assert_eq!(errs[1].subject(), "/x.md5sums:4");
    }

    #[test]
    fn load_owner_and_md5sums_merged_usr() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("usr/bin")).unwrap();
        std::os::unix::fs::symlink("usr/bin", d.join("bin")).unwrap();
        std::fs::create_dir_all(d.join("var/lib/dpkg/info")).unwrap();
        std::fs::write(
            d.join("var/lib/dpkg/status"),
            "Package: coreutils\nStatus: install ok installed\nVersion: 9.1-1\nArchitecture: amd64\n\n\
             Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
             Package: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: amd64\n\
             Conffiles:\n /etc/ld.so.conf.d/x86_64-linux-gnu.conf 0123\n",
        )
        .unwrap();
        std::fs::write(d.join("var/lib/dpkg/info/coreutils.list"), "/.\n/bin\n/bin/ls\n").unwrap();
        std::fs::write(
            d.join("var/lib/dpkg/info/libc6:amd64.list"),
            "/usr/lib/x86_64-linux-gnu/libc.so.6\n",
        )
        .unwrap();
        std::fs::write(
            d.join("var/lib/dpkg/info/libc6:amd64.md5sums"),
            "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libc.so.6\n",
        )
        .unwrap();
        let host = HostRoot::at(d).unwrap();
        let db = Dpkg::load(&host).unwrap();
        assert_eq!(db.packages().len(), 2, "{:?}", db.packages());
        assert_eq!(db.package("libc6").unwrap().version, "2.36");
        assert_eq!(db.owner_of("/usr/bin/ls"), Some("coreutils"));
        assert_eq!(db.owner_of("/bin/ls"), Some("coreutils"));
        assert_eq!(db.owner_of("/usr/bin/evil"), None);
        assert_eq!(db.owner_of("/usr/lib/x86_64-linux-gnu/libc.so.6"), Some("libc6"));
        assert_eq!(
            db.conffile_owner("/etc/ld.so.conf.d/x86_64-linux-gnu.conf"),
            Some("libc6")
        );
        let (sums, errs) = db.md5sums("libc6").unwrap();
        assert_eq!(sums.len(), 1);
        assert!(errs.is_empty());
        assert!(db.md5sums("coreutils").unwrap().0.is_empty());
        assert!(db.errors().is_empty());
    }
}
