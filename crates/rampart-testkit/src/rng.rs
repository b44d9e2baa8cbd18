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

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `seed` with a few bytes flipped, inserted, deleted or duplicated, half of the new bytes
    /// drawn from `specials` (the characters a parser under test cares about).
    pub fn mutate(&mut self, seed: &[u8], specials: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + self.below(8) {
            let at = self.below(v.len() + 1);
            let byte = if self.below(2) == 0 {
                specials[self.below(specials.len())]
            } else {
                self.next_u64() as u8
            };
            match self.below(4) {
                0 if at < v.len() => v[at] = byte,
                1 => v.insert(at, byte),
                2 if at < v.len() => {
                    v.remove(at);
                }
                _ => {
                    let end = (at + self.below(16)).min(v.len());
                    let chunk = v[at..end].to_vec();
                    v.splice(at..at, chunk);
                }
            }
        }
        v
    }

    /// Between `min` and `max` bytes (inclusive) drawn from `alphabet`.
    pub fn word(&mut self, alphabet: &[u8], min: usize, max: usize) -> Vec<u8> {
        let len = min + (self.next_u64() % (max - min + 1) as u64) as usize;
        self.bytes(alphabet, len)
    }
}
