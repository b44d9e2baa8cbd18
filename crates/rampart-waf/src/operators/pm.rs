//! `@pm`: case-insensitive multi-phrase match (Aho-Corasick).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::gram_index::GramIndex;
use super::Captures;

/// Phrase lists up to this many bytes get a DFA.
const DFA_MAX_BYTES: usize = 8 * 1024;

/// Lists of this many phrases or more are first checked with a [`GramIndex`] (CRS's response-body
/// lists: a 1 KB page is cleared in about a microsecond, a third of the NFA walk).
const GRAM_INDEX_MIN_PHRASES: usize = 32;

#[derive(Debug)]
pub(crate) struct Pm {
    ac: AhoCorasick,
    /// Exact pre-check: when no phrase occurs, the automaton is not run.
    index: Option<GramIndex>,
    /// The phrases (ASCII-lowercased), for the rule screen.
    phrases: Option<Vec<Vec<u8>>>,
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
        let index = (phrases.len() >= GRAM_INDEX_MIN_PHRASES)
            .then(|| GramIndex::new(&phrases))
            .flatten();
        // Every list goes to the rule screen, whose gram index scans one value once for the
        // phrases of all the phase's rules (CRS's php-errors.data included).
        let phrases = (!phrases.iter().any(Vec::is_empty))
            .then(|| phrases.iter().map(|p| p.to_ascii_lowercase()).collect());
        Ok(Pm { ac, index, phrases })
    }

    /// One of these is in every matching input (compared ASCII case-insensitively).
    pub(crate) fn literals(&self) -> Option<&[Vec<u8>]> {
        self.phrases.as_deref()
    }

    pub(crate) fn matches(&self, input: &[u8], caps: Option<&mut Captures>) -> bool {
        if self.index.as_ref().is_some_and(|ix| !ix.any(input)) {
            return false;
        }
        let Some(m) = self.ac.find(input) else {
            return false;
        };
        if let Some(caps) = caps {
            super::set_captures(caps, std::iter::once(&input[m.start()..m.end()]));
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
