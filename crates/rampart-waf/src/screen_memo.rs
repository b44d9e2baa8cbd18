//! What the rule screens found in a value, remembered across the transactions of one connection.
//!
//! A keep-alive client sends the same header values with every request (User-Agent, the Accept
//! headers, a session's cookies), and a polled resource comes back with the same body. A value's
//! screen bits are a function of its bytes, the chain screen (its transformations and literals) and
//! nothing else, so a connection keeps them, within a small budget, and a repeated value is looked
//! up instead of being transformed and scanned again. The key holds the value's bytes in full (a
//! hash collision cannot mix two values up), and the memo belongs to one rule set: a reload
//! starts it afresh.
//!
//! The same memo holds the values libinjection found clean ([`SQLI`], [`XSS`] in place of a
//! chain screen index, no bits): its verdict, too, depends on the bytes alone.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::transaction::KeyHasher;

/// Memo kinds of the values `@detectSQLi` and `@detectXSS` found clean (chain screen indices are
/// far below: pair ids are u16).
pub(crate) const SQLI: u32 = u32::MAX;
pub(crate) const XSS: u32 = u32::MAX - 1;

/// Values longer than this are scanned every time (a big body would crowd out the headers).
pub(crate) const MAX_VALUE: usize = 4096;

/// Bytes of keys and bit sets one connection keeps; past it the memo starts over.
const MAX_BYTES: usize = 32 * 1024;

/// The entries live in two arenas, so remembering a value allocates nothing once the arenas
/// have grown; the index maps a key's hash to its place (a colliding key replaces the other).
#[derive(Default)]
pub(crate) struct ScreenMemo {
    /// The rule set the entries belong to ([`crate::Engine::generation`]).
    generation: u64,
    index: HashMap<u64, Entry, BuildHasherDefault<KeyHasher>>,
    /// Keys, one after the other: chain screen index (4 bytes), multiMatch flag, value bytes.
    keys: Vec<u8>,
    bits: Vec<u64>,
    /// The key of the last look-up, and its hash.
    key: Vec<u8>,
    hash: u64,
}

#[derive(Clone, Copy)]
struct Entry {
    key_at: u32,
    key_len: u32,
    bits_at: u32,
    bits_len: u32,
}

impl ScreenMemo {
    /// Forgets everything when the entries belong to another rule set.
    pub(crate) fn for_generation(&mut self, generation: u64) {
        if self.generation != generation {
            self.clear();
            self.generation = generation;
        }
    }

    fn clear(&mut self) {
        self.index.clear();
        self.keys.clear();
        self.bits.clear();
    }

    /// The bits remembered for `value` under `kind` (a chain screen index, [`SQLI`], [`XSS`]).
    pub(crate) fn get(&mut self, kind: u32, multi: bool, value: &[u8]) -> Option<&[u64]> {
        self.key.clear();
        self.key.extend_from_slice(&kind.to_le_bytes());
        self.key.push(multi as u8);
        self.key.extend_from_slice(value);
        let mut h = KeyHasher::default();
        h.write(&self.key);
        self.hash = h.finish();
        let e = *self.index.get(&self.hash)?;
        let key = &self.keys[e.key_at as usize..(e.key_at + e.key_len) as usize];
        (key == &self.key[..]).then(|| &self.bits[e.bits_at as usize..(e.bits_at + e.bits_len) as usize])
    }

    /// Remembers `bits` for the value of the last [`Self::get`].
    pub(crate) fn put_last(&mut self, bits: &[u64]) {
        if self.key.len() + bits.len() * 8 > MAX_BYTES {
            return;
        }
        if self.bytes() + self.key.len() + bits.len() * 8 > MAX_BYTES {
            self.clear();
        }
        let e = Entry {
            key_at: self.keys.len() as u32,
            key_len: self.key.len() as u32,
            bits_at: self.bits.len() as u32,
            bits_len: bits.len() as u32,
        };
        self.keys.extend_from_slice(&self.key);
        self.bits.extend_from_slice(bits);
        self.index.insert(self.hash, e);
    }

    fn bytes(&self) -> usize {
        self.keys.len() + self.bits.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::{ScreenMemo, MAX_BYTES};

    #[test]
    fn keys_hold_the_screen_the_match_mode_and_the_whole_value() {
        let mut m = ScreenMemo::default();
        m.for_generation(1);
        assert!(m.get(3, false, b"Mozilla/5.0").is_none());
        m.put_last(&[0b101]);
        assert_eq!(m.get(3, false, b"Mozilla/5.0"), Some(&[0b101u64][..]));
        assert!(m.get(4, false, b"Mozilla/5.0").is_none());
        assert!(m.get(3, true, b"Mozilla/5.0").is_none());
        assert!(m.get(3, false, b"Mozilla/5.1").is_none());
        assert!(m.get(3, false, b"Mozilla/5.").is_none());
    }

    #[test]
    fn another_rule_set_starts_afresh() {
        let mut m = ScreenMemo::default();
        m.for_generation(1);
        m.get(0, false, b"x");
        m.put_last(&[1]);
        m.for_generation(1);
        assert!(m.get(0, false, b"x").is_some());
        m.for_generation(2);
        assert!(m.get(0, false, b"x").is_none());
    }

    #[test]
    fn the_memory_stays_within_its_budget() {
        let mut m = ScreenMemo::default();
        m.for_generation(1);
        for i in 0..10_000u32 {
            m.get(i, false, &[b'v'; 200]);
            m.put_last(&[u64::from(i); 4]);
            assert!(m.bytes() <= MAX_BYTES);
        }
        // The last value is there; the budget kept only the most recent ones.
        assert_eq!(m.get(9_999, false, &[b'v'; 200]), Some(&[9_999u64; 4][..]));
        assert!(m.index.len() < 200);
    }
}
