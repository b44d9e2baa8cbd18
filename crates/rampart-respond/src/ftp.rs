//! The passive-mode data ports of the FTP servers on the host, so that a firewall baseline
//! admitting FTP also admits its data connections (read from vsftpd, ProFTPD and
//! Pure-FTPd configuration under the host root; bounded reads).

use crate::env::Env;
use crate::error::{RespondError, Result};
use std::io::Read;
use std::path::Path;

/// A passive port range and the file that sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassiveRange {
    pub first: u16,
    pub last: u16,
    pub file: String,
}

/// A configuration file larger than this is not an FTP server's configuration.
const MAX_CONFIG: u64 = 1 << 20;

const VSFTPD: &[&str] = &["/etc/vsftpd.conf", "/etc/vsftpd/vsftpd.conf"];
const PROFTPD: &str = "/etc/proftpd/proftpd.conf";
const PUREFTPD_CONF: &str = "/etc/pure-ftpd/pure-ftpd.conf";
/// Debian's pure-ftpd wrapper reads one file per option.
const PUREFTPD_OPTION: &str = "/etc/pure-ftpd/conf/PassivePortRange";

/// Every passive range configured on the host (empty when no server sets one; such a
/// server picks any unprivileged port, which only a conntrack helper could follow).
pub fn passive_ranges(env: &Env) -> Result<Vec<PassiveRange>> {
    let mut out = Vec::new();
    for f in VSFTPD {
        if let Some(text) = read(env, f)? {
            out.extend(vsftpd(&text, f)?);
        }
    }
    if let Some(text) = read(env, PROFTPD)? {
        out.extend(keyword_pairs(&text, PROFTPD, "PassivePorts")?);
    }
    if let Some(text) = read(env, PUREFTPD_CONF)? {
        out.extend(keyword_pairs(&text, PUREFTPD_CONF, "PassivePortRange")?);
    }
    if let Some(text) = read(env, PUREFTPD_OPTION)? {
        let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        out.push(pair(line, PUREFTPD_OPTION, 1)?);
    }
    out.dedup_by(|a, b| a.first == b.first && a.last == b.last);
    Ok(out)
}

fn read(env: &Env, file: &str) -> Result<Option<String>> {
    let path = env.path(file);
    let f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RespondError::io(&path, e)),
    };
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG)
        .read_to_end(&mut bytes)
        .map_err(|e| RespondError::io(&path, e))?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn bad(file: &str, line: usize, what: String) -> RespondError {
    RespondError::Input(format!("{}:{line}: {what}", Path::new(file).display()))
}

fn port(file: &str, line: usize, key: &str, v: &str) -> Result<u16> {
    v.trim()
        .parse::<u16>()
        .map_err(|_| bad(file, line, format!("{key}={v:?} is not a port number")))
}

/// vsftpd: `pasv_min_port` / `pasv_max_port` (0 or unset: any port), `pasv_enable=NO` off.
fn vsftpd(text: &str, file: &str) -> Result<Option<PassiveRange>> {
    let (mut min, mut max, mut enabled) = (0u16, 0u16, true);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k.trim() {
            "pasv_min_port" => min = port(file, i + 1, "pasv_min_port", v)?,
            "pasv_max_port" => max = port(file, i + 1, "pasv_max_port", v)?,
            "pasv_enable" => enabled = !v.trim().eq_ignore_ascii_case("no"),
            _ => {}
        }
    }
    if !enabled || min == 0 || max == 0 {
        return Ok(None);
    }
    if min > max {
        return Err(RespondError::Input(format!(
            "{file}: pasv_min_port {min} is above pasv_max_port {max}"
        )));
    }
    Ok(Some(PassiveRange {
        first: min,
        last: max,
        file: file.to_string(),
    }))
}

/// ProFTPD `PassivePorts MIN MAX`, Pure-FTPd `PassivePortRange MIN MAX`.
fn keyword_pairs(text: &str, file: &str, keyword: &str) -> Result<Vec<PassiveRange>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let mut w = line.splitn(2, char::is_whitespace);
        if w.next().is_some_and(|k| k.eq_ignore_ascii_case(keyword)) {
            out.push(pair(w.next().unwrap_or(""), file, i + 1)?);
        }
    }
    Ok(out)
}

fn pair(v: &str, file: &str, line: usize) -> Result<PassiveRange> {
    let mut w = v.split_whitespace();
    let (Some(a), Some(b), None) = (w.next(), w.next(), w.next()) else {
        return Err(bad(file, line, format!("{v:?} is not `MIN MAX`")));
    };
    let (first, last) = (port(file, line, "min", a)?, port(file, line, "max", b)?);
    if first == 0 || first > last {
        return Err(bad(file, line, format!("{first}-{last} is not a port range")));
    }
    Ok(PassiveRange {
        first,
        last,
        file: file.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Env) {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = d.path().join(name.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let env = Env {
            root: d.path().to_path_buf(),
            ..Env::live()
        };
        (d, env)
    }

    #[test]
    fn reads_each_servers_range() {
        let (_d, env) = env_with(&[
            (
                "/etc/vsftpd.conf",
                "listen=YES\n#pasv_min_port=1\npasv_min_port=40000\npasv_max_port=40100\n",
            ),
            (
                "/etc/proftpd/proftpd.conf",
                "<Global>\n  PassivePorts 49152 65534\n</Global>\n",
            ),
            ("/etc/pure-ftpd/conf/PassivePortRange", "30000 30100\n"),
        ]);
        let r = passive_ranges(&env).unwrap();
        let got: Vec<(u16, u16)> = r.iter().map(|r| (r.first, r.last)).collect();
        assert_eq!(got, vec![(40000, 40100), (49152, 65534), (30000, 30100)]);
        assert_eq!(r[0].file, "/etc/vsftpd.conf");
    }

    #[test]
    fn no_range_when_unset_or_passive_off() {
        let (_d, env) = env_with(&[("/etc/vsftpd.conf", "listen=YES\npasv_min_port=40000\n")]);
        assert!(passive_ranges(&env).unwrap().is_empty());
        let (_d, env) = env_with(&[(
            "/etc/vsftpd.conf",
            "pasv_enable=NO\npasv_min_port=40000\npasv_max_port=40100\n",
        )]);
        assert!(passive_ranges(&env).unwrap().is_empty());
        let (_d, env) = env_with(&[]);
        assert!(passive_ranges(&env).unwrap().is_empty());
    }

    #[test]
    fn bad_values_name_the_file_and_line() {
        let (_d, env) = env_with(&[("/etc/vsftpd.conf", "listen=YES\npasv_min_port=forty\n")]);
        let e = passive_ranges(&env).unwrap_err().to_string();
        assert!(e.contains("/etc/vsftpd.conf:2") && e.contains("forty"), "{e}");
        let (_d, env) = env_with(&[("/etc/proftpd/proftpd.conf", "PassivePorts 50000\n")]);
        let e = passive_ranges(&env).unwrap_err().to_string();
        assert!(e.contains("proftpd.conf:1"), "{e}");
        let (_d, env) = env_with(&[("/etc/pure-ftpd/conf/PassivePortRange", "500 400\n")]);
        assert!(passive_ranges(&env).is_err());
    }
}
