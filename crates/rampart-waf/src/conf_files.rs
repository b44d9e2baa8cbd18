//! Rule directories as Apache's `Include dir/*.conf` reads them.

use std::path::{Path, PathBuf};

/// The `*.conf` files of `dir` in name order (the order CRS rule files must load in).
pub fn conf_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "conf") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_conf_files_sorted() {
        let d = std::env::temp_dir().join(format!("rampart-waf-conf-files-{}", std::process::id()));
        std::fs::create_dir_all(d.join("d.conf")).unwrap();
        for n in ["b.conf", "a.conf", "c.data", "z.conf.example"] {
            std::fs::write(d.join(n), "").unwrap();
        }
        let names: Vec<String> = super::conf_files_in(&d)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let _ = std::fs::remove_dir_all(&d);
        assert_eq!(names, ["a.conf", "b.conf"]);
    }
}
