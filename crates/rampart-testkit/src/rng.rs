//! A small deterministic generator (xorshift64) for randomised differential tests: the same
//! seed gives the same inputs on every run, with no extra crate.

pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn pick<'a>(&mut self, alphabet: &'a [u8]) -> &'a u8 {
        &alphabet[(self.next_u64() % alphabet.len() as u64) as usize]
    }

    /// `len` bytes drawn from `alphabet`.
    pub fn bytes(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len).map(|_| *self.pick(alphabet)).collect()
    }

    /// Between `min` and `max` bytes (inclusive) drawn from `alphabet`.
    pub fn word(&mut self, alphabet: &[u8], min: usize, max: usize) -> Vec<u8> {
        let len = min + (self.next_u64() % (max - min + 1) as u64) as usize;
        self.bytes(alphabet, len)
    }
}
