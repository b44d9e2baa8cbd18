//! Lines in, ban decisions out: a parser per source feeding one detector, with the
//! counters `rampart guard status` shows.

use crate::detect::{Decision, Detector};
use crate::parse::{Malformed, Outcome, Parser, MAX_LINE};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct Counters {
    pub lines: u64,
    /// Lines that were understood (events and well-formed uninteresting lines).
    pub parsed: u64,
    pub events: u64,
    pub failures: u64,
    pub successes: u64,
    /// Failure lines naming a host instead of an address, or PostgreSQL failures
    /// without a joinable `connection received` line.
    pub no_address: u64,
    /// Lines that could not be parsed, by reason.
    pub unparsed: u64,
    pub too_long: u64,
    pub nul_bytes: u64,
    pub bad_address: u64,
    pub ambiguous: u64,
    pub unrecognised: u64,
    pub bans: u64,
}

impl Counters {
    pub fn count<'a>(&mut self, o: &Outcome<'a>) {
        self.lines += 1;
        match o {
            Outcome::Event(e) => {
                self.parsed += 1;
                self.events += 1;
                if e.kind == crate::parse::Kind::Success {
                    self.successes += 1;
                } else if e.weight > 0 {
                    self.failures += 1;
                }
            }
            Outcome::Ignored => self.parsed += 1,
            Outcome::NoAddress => {
                self.parsed += 1;
                self.no_address += 1;
            }
            Outcome::Malformed(m) => {
                self.unparsed += 1;
                match m {
                    Malformed::TooLong => self.too_long += 1,
                    Malformed::Nul => self.nul_bytes += 1,
                    Malformed::BadAddress => self.bad_address += 1,
                    Malformed::Ambiguous => self.ambiguous += 1,
                    Malformed::Unrecognised => self.unrecognised += 1,
                }
            }
        }
    }
}

/// Where a line's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The time written in the line (replay); lines without one take the last seen.
    Log,
    /// The wall clock (live following: log times may lack a zone or a year).
    Wall,
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// One parser (per source) and the shared detector are passed in, so the daemon can
/// keep a parser per followed file.
pub fn process_line(
    parser: &mut Parser,
    detector: &mut Detector,
    counters: &mut Counters,
    clock: Clock,
    last_time: &mut i64,
    line: &[u8],
) -> Option<Decision> {
    let parsed = parser.parse(line);
    let now = match clock {
        Clock::Wall => 0,
        Clock::Log => {
            if let Some(t) = parsed.time {
                *last_time = t;
            }
            *last_time
        }
    };
    process_outcome(&parsed.outcome, clock, now, detector, counters)
}

/// Counts `outcome` and feeds its event (if any) to the detector at `log_time`
/// (`Clock::Log`) or now (`Clock::Wall`).
pub fn process_outcome(
    outcome: &Outcome<'_>,
    clock: Clock,
    log_time: i64,
    detector: &mut Detector,
    counters: &mut Counters,
) -> Option<Decision> {
    counters.count(outcome);
    let Outcome::Event(e) = outcome else {
        return None;
    };
    let now = match clock {
        Clock::Wall => unix_now(),
        Clock::Log => log_time,
    };
    let d = detector.observe(e, now);
    if d.is_some() {
        counters.bans += 1;
    }
    d
}

/// Splits a byte stream into lines, across chunk boundaries, without ever holding
/// more than [`MAX_LINE`] bytes of one line: longer lines are passed on cut (the
/// parser counts them as too long) and the rest is skipped to the next newline.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    overflow: bool,
}

impl LineSplitter {
    pub fn feed(&mut self, mut chunk: &[u8], f: &mut impl FnMut(&[u8])) {
        while !chunk.is_empty() {
            match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    let part = &chunk[..i];
                    chunk = &chunk[i + 1..];
                    if self.overflow {
                        // The cut head was passed on when the line overflowed.
                        self.overflow = false;
                    } else if self.pending.is_empty() {
                        f(part);
                    } else {
                        self.push(part);
                        f(&self.pending);
                        self.overflow = false;
                    }
                    self.pending.clear();
                }
                None => {
                    if !self.overflow {
                        self.push(chunk);
                        if self.overflow {
                            f(&self.pending);
                            self.pending.clear();
                        }
                    }
                    break;
                }
            }
        }
    }

    fn push(&mut self, part: &[u8]) {
        let room = (MAX_LINE + 1).saturating_sub(self.pending.len());
        if part.len() >= room {
            self.pending.extend_from_slice(&part[..room]);
            self.overflow = true;
        } else {
            self.pending.extend_from_slice(part);
        }
    }

    /// The last line when the stream ends without a newline.
    pub fn finish(&mut self, f: &mut impl FnMut(&[u8])) {
        if !self.pending.is_empty() && !self.overflow {
            f(&self.pending);
        }
        self.pending.clear();
        self.overflow = false;
    }

    /// Bytes of an unfinished line held back.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut |l| out.push(l.to_vec()));
        }
        s.finish(&mut |l| out.push(l.to_vec()));
        out
    }

    #[test]
    fn lines_across_chunks_and_long_lines() {
        assert_eq!(
            split(&[b"ab\ncd", b"ef\n", b"g"]),
            vec![b"ab".to_vec(), b"cdef".to_vec(), b"g".to_vec()]
        );
        let long = vec![b'x'; 3 * MAX_LINE];
        let out = split(&[b"a\n", &long[..MAX_LINE], &long[MAX_LINE..], b"\nb\n"]);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], b"a");
        assert_eq!(out[1].len(), MAX_LINE + 1, "cut head of the long line, once");
        assert_eq!(out[2], b"b");
    }
}
