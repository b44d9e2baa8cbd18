//! The OWASP CRS regression suite (go-ftw YAML) as both of Rampart's runners read it: the
//! engine's in-process driver (rampart-waf) and the over-the-wire runner (rampart-proxy).
//! One model of the test files, one list of excused tests, one way of building each stage's
//! request bytes (go-ftw's), one albedo backend and one judge of the logged rule ids; the
//! runners differ only in how a request reaches the engine.

mod albedo;
mod judge;
mod request;
mod suite;

pub use albedo::{reflect, Reply};
pub use judge::{judge_log, logged_ids, Expect};
pub use request::{build_request, encode_form, expand_template};
pub use suite::{load_suite, Case, Input, Output, Stage, Suite};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `../shared/crs`: the CRS rules, crs-setup.conf.example and the regression tests.
pub fn crs_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs")).to_path_buf()
}

/// The engine base configuration Rampart ships (ModSecurity's recommended settings), loaded
/// before crs-setup.conf by the proxy, the benchmark and both runners.
pub fn base_conf() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rampart-proxy/conf/modsecurity-base.conf"
    ))
    .to_path_buf()
}

/// The test-only setup rule from tests/regression/README.md.
pub const TEST_SETUP_RULE: &str = r#"SecAction "id:900005,\
  phase:1,\
  nolog,\
  pass,\
  ctl:ruleEngine=DetectionOnly,\
  ctl:ruleRemoveById=910000,\
  setvar:tx.blocking_paranoia_level=4,\
  setvar:tx.crs_validate_utf8_encoding=1,\
  setvar:tx.arg_name_length=100,\
  setvar:tx.arg_length=400,\
  setvar:tx.total_arg_length=64000,\
  setvar:tx.max_num_args=255,\
  setvar:tx.max_file_size=64100,\
  setvar:tx.combined_file_sizes=65535"
"#;

/// The tests Rampart excuses ("<rule>-<test>" → reason), from crs-overrides.yaml beside this
/// crate's manifest. Every entry needs a reason.
pub fn excused() -> Result<HashMap<String, String>, String> {
    #[derive(serde::Deserialize)]
    struct Overrides {
        #[serde(default)]
        excused: Vec<Excuse>,
    }
    #[derive(serde::Deserialize)]
    struct Excuse {
        test: String,
        reason: String,
    }
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/crs-overrides.yaml"));
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let o: Overrides = serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = HashMap::new();
    for e in o.excused {
        if e.reason.trim().is_empty() {
            return Err(format!(
                "{}: test {} is excused without a reason",
                path.display(),
                e.test
            ));
        }
        out.insert(e.test, e.reason);
    }
    Ok(out)
}
