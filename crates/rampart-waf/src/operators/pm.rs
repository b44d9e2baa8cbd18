//! `@pm`: case-insensitive multi-phrase match (Aho-Corasick).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::Captures;

/// Phrase lists up to this many bytes get a DFA.
const DFA_MAX_BYTES: usize = 8 * 1024;

#[derive(Debug)]
pub(crate) struct Pm {
    ac: AhoCorasick,
}

impl Pm {
    pub(crate) fn new(phrases: Vec<Vec<u8>>) -> Result<Pm, String> {
        // A full DFA scans (response bodies above all) several times faster than the default NFA,
        // but its size grows with the phrase list: CRS's php-errors.data (69 KB) alone would add
        // tens of MB per loaded rule set.
        let bytes: usize = phrases.iter().map(Vec::len).sum();
        let kind = (bytes <= DFA_MAX_BYTES).then_some(AhoCorasickKind::DFA);
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .kind(kind)
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
