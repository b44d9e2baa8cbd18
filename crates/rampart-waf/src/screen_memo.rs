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

/// Bytes of values and bit sets one connection keeps; past it no new value is remembered (see
/// [`ScreenMemo::begin`] for when the memo starts over). A value has
/// an entry per chain screen that reads it (some twenty for a header under CRS): a browser's GET
/// with cookies takes about 18 KB, a JSON POST 26 KB, the benchmark's exchange 6 KB. The proxy's
/// 4,096 connections at most hold 128 MB of memos between them.
const MAX_BYTES: usize = 32 * 1024;

/// What an entry costs in the index beyond its value and bits (hash, place, control byte), so that
/// many tiny values (libinjection's clean verdicts keep no bits) stay within the budget too.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<(u64, Entry)>() + 1;

/// The entries live in two arenas, so remembering a value allocates nothing once the arenas
/// have grown; the index maps a key's hash to its place (a colliding key replaces the other).
#[derive(Default)]
pub(crate) struct ScreenMemo {
    /// The rule set the entries belong to ([`crate::Engine::generation`]).
    generation: u64,
    index: HashMap<u64, Entry, BuildHasherDefault<KeyHasher>>,
    /// The values, one after the other.
    values: Vec<u8>,
    bits: Vec<u64>,
    /// The kind, flag and hash of the last look-up.
    last: (u32, bool, u64),
    /// This transaction's look-ups, and how many found their value.
    looked: u32,
    found: u32,
    /// A value did not fit in this transaction.
    full: bool,
    /// Transactions in a row in which a value did not fit.
    full_streak: u32,
}

#[derive(Clone, Copy)]
struct Entry {
    kind: u32,
    multi: bool,
    value_at: u32,
    value_len: u32,
    bits_at: u32,
    bits_len: u32,
}

/// The index's hash of a key: the kind, the multiMatch flag and the whole value.
fn key_hash(kind: u32, multi: bool, value: &[u8]) -> u64 {
    let mut h = KeyHasher::default();
    h.write_u64(u64::from(kind) << 1 | u64::from(multi));
    h.write(value);
    h.finish()
}

impl ScreenMemo {
    /// Starts a transaction. Forgets everything when the entries belong to another rule set, or
    /// when the memo has been full for two transactions in a row and the last one found under a
    /// quarter of its values in it: the connection's values have moved on (a memo that filled
    /// up in the last transaction is kept: it has not been asked yet). A full memo that
    /// still answers most look-ups is kept as it is. Starting over whenever a value does not fit
    /// would make a connection whose values need more than the budget (kilobytes of cookies)
    /// remember and drop them all in every transaction, which costs more than no memo.
    pub(crate) fn begin(&mut self, generation: u64) {
        self.full_streak = if self.full { self.full_streak + 1 } else { 0 };
        if self.generation != generation
            || (self.full_streak >= 2 && u64::from(self.found) * 4 < u64::from(self.looked))
        {
            self.clear();
            self.full_streak = 0;
            self.generation = generation;
        }
        self.looked = 0;
        self.found = 0;
        self.full = false;
    }

    fn clear(&mut self) {
        self.index.clear();
        self.values.clear();
        self.bits.clear();
    }

    /// The bits remembered for `value` under `kind` (a chain screen index, [`SQLI`], [`XSS`]).
    pub(crate) fn get(&mut self, kind: u32, multi: bool, value: &[u8]) -> Option<&[u64]> {
        let hash = key_hash(kind, multi, value);
        self.last = (kind, multi, hash);
        self.looked = self.looked.saturating_add(1);
        let e = self.entry(hash, kind, multi, value)?;
        self.found = self.found.saturating_add(1);
        Some(&self.bits[e.bits_at as usize..(e.bits_at + e.bits_len) as usize])
    }

    /// The entry at `hash`, when it holds exactly this key.
    fn entry(&self, hash: u64, kind: u32, multi: bool, value: &[u8]) -> Option<Entry> {
        let e = *self.index.get(&hash)?;
        let same = e.kind == kind
            && e.multi == multi
            && self.values[e.value_at as usize..(e.value_at + e.value_len) as usize] == *value;
        same.then_some(e)
    }

    /// Remembers for `value`, which the last [`Self::get`] looked up, the `words` bits `fill` sets
    /// (in place, in the arena), and returns them; `None`, without calling `fill`, when they
    /// do not fit.
    pub(crate) fn remember(
        &mut self,
        value: &[u8],
        words: usize,
        fill: impl FnOnce(&mut [u64]),
    ) -> Option<&[u64]> {
        let size = value.len() + words * 8 + ENTRY_OVERHEAD;
        if size > MAX_BYTES {
            return None;
        }
        if self.bytes() + size > MAX_BYTES {
            self.full = true;
            return None;
        }
        let (kind, multi, hash) = self.last;
        let e = Entry {
            kind,
            multi,
            value_at: self.values.len() as u32,
            value_len: value.len() as u32,
            bits_at: self.bits.len() as u32,
            bits_len: words as u32,
        };
        self.values.extend_from_slice(value);
        let at = self.bits.len();
        self.bits.resize(at + words, 0);
        fill(&mut self.bits[at..]);
        self.index.insert(hash, e);
        Some(&self.bits[at..])
    }

    /// Clears `group`'s bit in the entry of `value` under the chain screen `kind` (not
    /// `multiMatch`), when there is one: that rule's operator was false on the value after the
    /// screen's transformations, so the bit no longer lets the rule through for this value.
    /// Returns whether an entry had the bit.
    pub(crate) fn forget(&mut self, kind: u32, value: &[u8], group: u32) -> bool {
        let Some(e) = self.entry(key_hash(kind, false, value), kind, false, value) else {
            return false;
        };
        let (word, bit) = ((group / 64) as usize, 1u64 << (group % 64));
        if word >= e.bits_len as usize {
            return false;
        }
        let w = &mut self.bits[e.bits_at as usize + word];
        let had = *w & bit != 0;
        *w &= !bit;
        had
    }

    fn bytes(&self) -> usize {
        self.values.len() + self.bits.len() * 8 + self.index.len() * ENTRY_OVERHEAD
    }
}

#[cfg(test)]
mod tests {
    use super::{ScreenMemo, MAX_BYTES};

    #[test]
    fn keys_hold_the_screen_the_match_mode_and_the_whole_value() {
        let mut m = ScreenMemo::default();
        m.begin(1);
        assert!(m.get(3, false, b"Mozilla/5.0").is_none());
        m.remember(b"Mozilla/5.0", 1, |b| b[0] = 0b101);
        assert_eq!(m.get(3, false, b"Mozilla/5.0"), Some(&[0b101u64][..]));
        assert!(m.get(4, false, b"Mozilla/5.0").is_none());
        assert!(m.get(3, true, b"Mozilla/5.0").is_none());
        assert!(m.get(3, false, b"Mozilla/5.1").is_none());
        assert!(m.get(3, false, b"Mozilla/5.").is_none());
    }

    #[test]
    fn forgetting_clears_one_bit_of_one_exact_entry() {
        let mut m = ScreenMemo::default();
        m.begin(1);
        m.get(3, false, b"text/html");
        m.remember(b"text/html", 2, |b| {
            b[0] = 0b110;
            b[1] = 1;
        });
        m.get(3, true, b"text/html");
        m.remember(b"text/html", 2, |b| b[0] = 0b110);
        assert!(m.forget(3, b"text/html", 2));
        assert!(!m.forget(3, b"text/html", 2), "the bit is already clear");
        assert!(!m.forget(4, b"text/html", 1), "another screen");
        assert!(!m.forget(3, b"text/htm", 1), "another value");
        assert!(!m.forget(3, b"text/html", 200), "a group past the entry's bits");
        assert_eq!(m.get(3, false, b"text/html"), Some(&[0b010u64, 1][..]));
        assert_eq!(
            m.get(3, true, b"text/html"),
            Some(&[0b110u64, 0][..]),
            "multiMatch entry untouched"
        );
        assert!(m.forget(3, b"text/html", 64));
        assert_eq!(m.get(3, false, b"text/html"), Some(&[0b010u64, 0][..]));
    }

    #[test]
    fn another_rule_set_starts_afresh() {
        let mut m = ScreenMemo::default();
        m.begin(1);
        m.get(0, false, b"x");
        m.remember(b"x", 1, |b| b[0] = 1);
        m.begin(1);
        assert!(m.get(0, false, b"x").is_some());
        m.begin(2);
        assert!(m.get(0, false, b"x").is_none());
    }

    /// One transaction looking up (and remembering) `values` under kind 0; how many it found.
    fn transaction(m: &mut ScreenMemo, values: impl Iterator<Item = u32>) -> u32 {
        m.begin(1);
        let mut found = 0;
        for i in values {
            let v = format!("value {i:>300}");
            if m.get(0, false, v.as_bytes()).is_some() {
                found += 1;
            } else {
                m.remember(v.as_bytes(), 1, |b| b[0] = u64::from(i));
            }
            assert!(m.bytes() <= MAX_BYTES);
        }
        found
    }

    #[test]
    fn a_full_memo_is_kept_while_it_answers_and_starts_over_when_it_does_not() {
        let mut m = ScreenMemo::default();
        // 200 values of ~300 bytes need twice the budget: the first ones stay and keep
        // answering, transaction after transaction, instead of being dropped and remembered
        // again each time.
        let fits = MAX_BYTES / (format!("value {:>300}", 0).len() + 8 + super::ENTRY_OVERHEAD);
        assert_eq!(transaction(&mut m, 0..200), 0);
        for _ in 0..5 {
            let found = transaction(&mut m, 0..200) as usize;
            assert!(
                found > fits * 3 / 4 && found <= fits,
                "{found} found, ~{fits} fit"
            );
        }
        // Then the connection moves on to other values: a transaction of a full memo finds
        // almost nothing, and the next one starts over and remembers the new values.
        assert_eq!(transaction(&mut m, 1000..1200), 0);
        assert_eq!(
            transaction(&mut m, 1000..1200),
            0,
            "started over at this transaction"
        );
        assert!(transaction(&mut m, 1000..1200) as usize > fits * 3 / 4);
        // A memo filled up in one transaction is not dropped in the next (the streak).
        let mut fresh = ScreenMemo::default();
        assert_eq!(transaction(&mut fresh, 0..200), 0);
        assert!(transaction(&mut fresh, 0..200) as usize > fits * 3 / 4);
    }

    #[test]
    fn the_memory_stays_within_its_budget() {
        let mut m = ScreenMemo::default();
        m.begin(1);
        for i in 0..10_000u32 {
            m.get(i, false, &[b'v'; 200]);
            m.remember(&[b'v'; 200], 4, |b| b.fill(u64::from(i)));
            assert!(m.bytes() <= MAX_BYTES);
        }
        // Tiny values without bits (libinjection's clean verdicts) count their index entries.
        let mut m2 = ScreenMemo::default();
        m2.begin(1);
        for i in 0..100_000u32 {
            let v = i.to_le_bytes();
            m2.get(super::SQLI, false, &v[..1 + (i % 3) as usize]);
            m2.remember(&v[..1 + (i % 3) as usize], 0, |_| {});
            assert!(m2.bytes() <= MAX_BYTES);
        }
        assert!(m2.index.len() <= MAX_BYTES / super::ENTRY_OVERHEAD);
        // The first values are there; the later ones did not fit.
        assert_eq!(m.get(0, false, &[b'v'; 200]), Some(&[0u64; 4][..]));
        assert!(m.get(9_999, false, &[b'v'; 200]).is_none());
        assert!(m.index.len() < 200);
    }
}
