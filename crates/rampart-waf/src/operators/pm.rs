//! `@pm`: case-insensitive multi-phrase match (Aho-Corasick).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::Captures;

#[derive(Debug)]
pub(crate) struct Pm {
    ac: AhoCorasick,
}

impl Pm {
    pub(crate) fn new(phrases: Vec<Vec<u8>>) -> Result<Pm, String> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(&phrases)
            .map_err(|e| format!("phrase list does not compile: {e}"))?;
        Ok(Pm { ac })
    }

    pub(crate) fn matches(&self, input: &[u8], caps: Option<&mut Captures>) -> bool {
        let Some(m) = self.ac.find(input) else {
            return false;
        };
        if let Some(caps) = caps {
            caps.clear();
            caps.push(input[m.start()..m.end()].to_vec());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn phrases() {
        let p = super::Pm::new(vec![b"nikto".to_vec(), b"sqlmap".to_vec()]).unwrap();
        let mut caps = Vec::new();
        assert!(p.matches(b"Mozilla SQLMap/1.0", Some(&mut caps)));
        assert_eq!(caps[0], b"SQLMap");
        assert!(!p.matches(b"curl", None));
    }
}
