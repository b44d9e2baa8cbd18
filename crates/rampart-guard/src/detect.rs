//! The brute-force detector: a pure function of the events it is fed (and their
//! times), deciding bans. It never touches the host.
//!
//! State is compact and bounded: per (address or IPv6 prefix, service) a ring of the
//! last [`RING`] failure times as `u32` seconds, the last connection port (to skip
//! closing lines of connections already counted) and a few hashes of unknown user
//! names; per banned network its offence count for escalation. Quiet entries are
//! pruned, and the table never exceeds `max_tracked` entries.

use crate::config::GuardConfig;
use crate::net::Net;
use crate::parse::{Event, Kind, Service};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

pub const RING: usize = 32;
const USERS: usize = 6;
/// Distinct unknown user names remembered per address (the enumeration rule's limit).
pub const MAX_USERS: usize = USERS;

/// Why a ban was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    Burst,
    Slow,
    Enumeration,
    Manual,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Burst => "burst",
            Rule::Slow => "slow",
            Rule::Enumeration => "enumeration",
            Rule::Manual => "manual",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub net: Net,
    /// The address whose events led to the ban (inside `net`).
    pub addr: IpAddr,
    pub service: Service,
    pub rule: Rule,
    /// Failures counted in the rule's window.
    pub failures: u32,
    /// This network's offence number (1 = first ban); the ban time doubles with each.
    pub offence: u32,
    pub ban_secs: u64,
    /// When the ban was decided (event time, Unix seconds).
    pub at: i64,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct DetectCounters {
    pub failures: u64,
    pub successes: u64,
    pub informational: u64,
    pub allowed: u64,
    pub while_banned: u64,
    pub duplicates: u64,
    pub not_guarded: u64,
    pub bans: u64,
    pub pruned: u64,
    pub tracked: u64,
}

/// A multiply-xorshift hasher for the 128-bit keys (the std SipHash costs more than
/// the rest of a line's processing).
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let x = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^ (x >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x100_0000_01B3);
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.0 = (self.0.rotate_left(7) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u128(&mut self, n: u128) {
        let folded = (n as u64) ^ ((n >> 64) as u64).rotate_left(32);
        self.0 = (self.0 ^ folded).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

#[derive(Clone)]
struct Track {
    times: [u32; RING],
    /// Number of valid entries (≤ RING) and the next write position.
    len: u8,
    head: u8,
    users_len: u8,
    has_port: bool,
    last_port: u16,
    users_since: u32,
    users: [u32; USERS],
    last_seen: u32,
}

impl Track {
    fn new() -> Self {
        Track {
            times: [0; RING],
            len: 0,
            head: 0,
            users_len: 0,
            has_port: false,
            last_port: 0,
            users_since: 0,
            users: [0; USERS],
            last_seen: 0,
        }
    }

    fn push(&mut self, t: u32) {
        self.times[self.head as usize] = t;
        self.head = ((self.head as usize + 1) % RING) as u8;
        self.len = (self.len as usize + 1).min(RING) as u8;
    }

    /// The k-th most recent time (k ≥ 1), if that many are kept.
    fn recent(&self, k: u32) -> Option<u32> {
        if k == 0 || k as usize > self.len as usize {
            return None;
        }
        Some(self.times[(self.head as usize + RING - k as usize) % RING])
    }

    fn count_since(&self, since: u32) -> u32 {
        (1..=self.len as u32)
            .take_while(|&k| self.recent(k).is_some_and(|t| t >= since))
            .count() as u32
    }
}

#[derive(Clone, Copy)]
struct Offender {
    offences: u32,
    banned_until: i64,
    last_ban: i64,
}

pub struct Detector {
    cfg: GuardConfig,
    guarded: [bool; 7],
    never: Vec<Net>,
    tracks: FastMap<(u128, u8), Track>,
    offenders: FastMap<u128, Offender>,
    pub counters: DetectCounters,
    since_prune: u32,
}

fn t32(t: i64) -> u32 {
    t.clamp(0, u32::MAX as i64) as u32
}

fn user_hash(u: &[u8]) -> u32 {
    let mut h = KeyHasher::default();
    h.write(u);
    (h.finish() >> 32) as u32 | 1
}

impl Detector {
    /// `own` are the host's addresses: never banned, whatever the configuration.
    pub fn new(cfg: &GuardConfig, own: &[IpAddr]) -> Self {
        let mut never = cfg.allow.clone();
        if !cfg.allow_loopback_bans {
            never.push("127.0.0.0/8".parse().expect("literal"));
            never.push("::1".parse().expect("literal"));
        }
        for a in own {
            never.push(Net::host(*a));
        }
        let mut guarded = [false; 7];
        for s in cfg.guarded() {
            guarded[s as usize] = true;
        }
        Detector {
            cfg: cfg.clone(),
            guarded,
            never,
            tracks: FastMap::default(),
            offenders: FastMap::default(),
            counters: DetectCounters::default(),
            since_prune: 0,
        }
    }

    pub fn ban_unit(&self, addr: IpAddr) -> Net {
        Net::of(addr, 32, self.cfg.ipv6_prefix)
    }

    pub fn is_allowed(&self, addr: IpAddr) -> bool {
        self.never.iter().any(|n| n.contains(addr))
    }

    /// Marks `net` as banned until `until` with `offences` so far (restored bans,
    /// manual bans): its events are not counted meanwhile, and its next ban escalates.
    pub fn restore(&mut self, net: Net, until: i64, offences: u32, last_ban: i64) {
        self.offenders.insert(
            net.key().0,
            Offender {
                offences,
                banned_until: until,
                last_ban,
            },
        );
    }

    /// Forgets a ban (manual unban): the address is counted again from zero.
    pub fn lift(&mut self, net: Net) {
        if let Some(o) = self.offenders.get_mut(&net.key().0) {
            o.banned_until = 0;
        }
    }

    pub fn observe(&mut self, e: &Event<'_>, now: i64) -> Option<Decision> {
        if !self.guarded[e.service as usize] {
            self.counters.not_guarded += 1;
            return None;
        }
        if e.kind == Kind::Success {
            self.counters.successes += 1;
            let net = self.ban_unit(e.addr);
            if let (Some(t), Some(p)) = (self.tracks.get_mut(&(net.key().0, e.service as u8)), e.port) {
                t.has_port = true;
                t.last_port = p;
            }
            return None;
        }
        if e.weight == 0 || (e.kind == Kind::Scanner && !self.cfg.count_scanners) {
            self.counters.informational += 1;
            return None;
        }
        if self.is_allowed(e.addr) {
            self.counters.allowed += 1;
            return None;
        }
        let net = self.ban_unit(e.addr);
        let key = net.key().0;
        if let Some(o) = self.offenders.get(&key) {
            if o.banned_until > now {
                self.counters.while_banned += 1;
                return None;
            }
        }
        self.since_prune += 1;
        if self.since_prune >= 4096 || self.tracks.len() >= self.cfg.max_tracked {
            self.prune(now);
        }
        let now32 = t32(now);
        let track = self
            .tracks
            .entry((key, e.service as u8))
            .or_insert_with(Track::new);
        if e.secondary {
            if let (true, Some(p)) = (track.has_port, e.port) {
                if track.last_port == p {
                    self.counters.duplicates += 1;
                    return None;
                }
            }
        }
        self.counters.failures += 1;
        if let Some(p) = e.port {
            track.has_port = true;
            track.last_port = p;
        }
        track.last_seen = now32;
        for _ in 0..e.weight {
            track.push(now32);
        }
        let mut enumeration = 0;
        if e.invalid_user {
            if track.users_len > 0
                && now32.saturating_sub(track.users_since) > self.cfg.enumeration.window.0 as u32
            {
                track.users_len = 0;
            }
            if track.users_len == 0 {
                track.users_since = now32;
            }
            let h = user_hash(e.user.unwrap_or(b""));
            let n = track.users_len as usize;
            if !track.users[..n].contains(&h) && n < USERS {
                track.users[n] = h;
                track.users_len += 1;
            }
            enumeration = track.users_len as u32;
        }
        let c = &self.cfg;
        let rule = if track
            .recent(c.burst.count)
            .is_some_and(|t| now32.saturating_sub(t) < c.burst.window.0 as u32)
        {
            Some((
                Rule::Burst,
                track.count_since(now32.saturating_sub(c.burst.window.0 as u32 - 1)),
            ))
        } else if enumeration >= c.enumeration.count.min(USERS as u32) {
            Some((Rule::Enumeration, enumeration))
        } else if track
            .recent(c.slow.count)
            .is_some_and(|t| now32.saturating_sub(t) < c.slow.window.0 as u32)
        {
            Some((
                Rule::Slow,
                track.count_since(now32.saturating_sub(c.slow.window.0 as u32 - 1)),
            ))
        } else {
            None
        };
        let (rule, failures) = rule?;
        self.tracks.remove(&(key, e.service as u8));
        Some(self.ban(net, e.addr, e.service, rule, failures, now))
    }

    /// Records a ban of `net` decided now (escalating with its offence count).
    pub fn ban(
        &mut self,
        net: Net,
        addr: IpAddr,
        service: Service,
        rule: Rule,
        failures: u32,
        now: i64,
    ) -> Decision {
        let memory = self.cfg.offence_memory.0 as i64;
        let o = self.offenders.entry(net.key().0).or_insert(Offender {
            offences: 0,
            banned_until: 0,
            last_ban: 0,
        });
        if o.offences > 0 && now - o.last_ban > memory {
            o.offences = 0;
        }
        o.offences += 1;
        let shift = (o.offences - 1).min(40);
        let ban_secs = self
            .cfg
            .ban_time
            .0
            .saturating_mul(1u64 << shift)
            .min(self.cfg.ban_time_max.0);
        o.banned_until = now + ban_secs as i64;
        o.last_ban = now;
        self.counters.bans += 1;
        Decision {
            net,
            addr,
            service,
            rule,
            failures,
            offence: o.offences,
            ban_secs,
            at: now,
        }
    }

    fn prune(&mut self, now: i64) {
        self.since_prune = 0;
        let before = self.tracks.len();
        let longest = self
            .cfg
            .slow
            .window
            .0
            .max(self.cfg.burst.window.0)
            .max(self.cfg.enumeration.window.0);
        let horizon = t32(now - longest as i64);
        self.tracks.retain(|_, t| t.last_seen >= horizon);
        if self.tracks.len() >= self.cfg.max_tracked * 9 / 10 {
            // Under a flood of distinct sources: keep only those active in the burst window.
            let h = t32(now - self.cfg.burst.window.0 as i64);
            self.tracks.retain(|_, t| t.last_seen >= h);
            if self.tracks.len() >= self.cfg.max_tracked * 9 / 10 {
                // Still full: forget single failures first.
                self.tracks.retain(|_, t| t.len > 1);
            }
            if self.tracks.len() >= self.cfg.max_tracked {
                self.tracks.clear();
            }
        }
        self.counters.pruned += (before - self.tracks.len()) as u64;
        let memory = self.cfg.offence_memory.0 as i64;
        self.offenders
            .retain(|_, o| o.banned_until > now || now - o.last_ban <= memory);
        self.counters.tracked = self.tracks.len() as u64;
    }

    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Rule as R, Secs};

    fn cfg() -> GuardConfig {
        GuardConfig::default()
    }

    fn fail(addr: &str) -> Event<'static> {
        Event::new(Service::Ssh, Kind::Failure, addr.parse().unwrap())
    }

    #[test]
    fn burst_bans_on_the_fifth_failure_in_the_window() {
        let mut d = Detector::new(&cfg(), &[]);
        let t0 = 1_700_000_000;
        for i in 0..4 {
            assert!(d.observe(&fail("203.0.113.1"), t0 + i * 60).is_none());
        }
        let b = d.observe(&fail("203.0.113.1"), t0 + 240).unwrap();
        assert_eq!(
            (b.rule, b.failures, b.ban_secs, b.offence),
            (Rule::Burst, 5, 3600, 1)
        );
        assert_eq!(b.net.to_string(), "203.0.113.1");
        // Banned: further events are not counted.
        assert!(d.observe(&fail("203.0.113.1"), t0 + 241).is_none());
        assert_eq!(d.counters.while_banned, 1);
        // Spread out over more than the window: no burst ban.
        let mut d = Detector::new(&cfg(), &[]);
        for i in 0..6 {
            assert!(d.observe(&fail("203.0.113.2"), t0 + i * 200).is_none(), "{i}");
        }
    }

    #[test]
    fn slow_brute_force_and_escalation() {
        let mut c = cfg();
        c.slow = R {
            count: 20,
            window: Secs(12 * 3600),
        };
        let mut d = Detector::new(&c, &[]);
        let t0 = 1_700_000_000;
        let mut ban = None;
        for i in 0..20 {
            ban = d.observe(&fail("198.51.100.9"), t0 + i * 1800);
        }
        let b = ban.expect("20 failures in 9.5 h");
        assert_eq!((b.rule, b.failures), (Rule::Slow, 20));
        // Comes back after the ban: second offence doubles.
        let t1 = t0 + 20 * 1800 + 3600;
        let mut b2 = None;
        for i in 0..5 {
            b2 = d.observe(&fail("198.51.100.9"), t1 + i);
        }
        let b2 = b2.unwrap();
        assert_eq!((b2.offence, b2.ban_secs), (2, 7200));
        // The cap.
        let mut now = t1 + 7200;
        let mut last = 0;
        for _ in 0..12 {
            now += 1_000_000;
            for i in 0..5 {
                if let Some(b) = d.observe(&fail("198.51.100.9"), now + i) {
                    last = b.ban_secs;
                    now += b.ban_secs as i64;
                }
            }
        }
        assert_eq!(last, 7 * 86400);
    }

    #[test]
    fn enumeration_of_unknown_users() {
        let mut d = Detector::new(&cfg(), &[]);
        let t0 = 1_700_000_000;
        let users: [&'static [u8]; 4] = [b"a", b"b", b"a", b"c"];
        for (i, u) in users.iter().enumerate() {
            let e = fail("192.0.2.5").invalid(true).user(u);
            assert!(d.observe(&e, t0 + i as i64 * 500).is_none());
        }
        let e = fail("192.0.2.5").invalid(true).user(b"d");
        let b = d.observe(&e, t0 + 2000).unwrap();
        assert_eq!((b.rule, b.failures), (Rule::Enumeration, 4));
    }

    #[test]
    fn closing_lines_of_counted_connections_are_not_counted_twice() {
        let mut d = Detector::new(&cfg(), &[]);
        let t0 = 1_700_000_000;
        for i in 0..4u16 {
            let f = fail("192.0.2.6").port(Some(1000 + i));
            let c = Event::new(Service::Ssh, Kind::Probe, f.addr)
                .port(Some(1000 + i))
                .secondary();
            assert!(d.observe(&f, t0).is_none());
            assert!(
                d.observe(&c, t0).is_none(),
                "closing line of connection {i} counted"
            );
        }
        assert_eq!(d.counters.duplicates, 4);
        // Key-only probes: every connection is only a closing line — they count.
        let mut d = Detector::new(&cfg(), &[]);
        let mut banned = false;
        for i in 0..5u16 {
            let c = Event::new(Service::Ssh, Kind::Probe, "192.0.2.7".parse().unwrap())
                .port(Some(2000 + i))
                .secondary();
            banned |= d.observe(&c, t0).is_some();
        }
        assert!(banned);
    }

    #[test]
    fn allow_list_loopback_and_own_addresses() {
        let mut c = cfg();
        c.allow = vec!["10.0.0.0/8".parse().unwrap()];
        let own: Vec<IpAddr> = vec!["192.0.2.200".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        let mut d = Detector::new(&c, &own);
        for a in ["10.1.1.1", "127.0.0.5", "::1", "192.0.2.200", "::ffff:10.0.0.1"] {
            for i in 0..10 {
                assert!(d.observe(&fail(a), 1_700_000_000 + i).is_none(), "{a}");
            }
        }
        c.allow_loopback_bans = true;
        let mut d = Detector::new(&c, &own);
        let mut b = None;
        for i in 0..5 {
            b = b.or(d.observe(&fail("127.0.0.5"), 1_700_000_000 + i));
            assert!(d.observe(&fail("127.0.0.1"), 1_700_000_000 + i).is_none());
        }
        assert!(b.is_some());
    }

    #[test]
    fn ipv6_is_counted_and_banned_per_prefix() {
        let mut d = Detector::new(&cfg(), &[]);
        let mut b = None;
        for i in 1..=5 {
            b = d.observe(&fail(&format!("2001:db8:0:1::{i}")), 1_700_000_000 + i as i64);
        }
        assert_eq!(b.unwrap().net.to_string(), "2001:db8:0:1::/64");
    }

    #[test]
    fn memory_is_bounded_under_a_flood_of_sources() {
        let mut c = cfg();
        c.max_tracked = 1000;
        let mut d = Detector::new(&c, &[]);
        for i in 0..100_000u32 {
            let a = IpAddr::V4(std::net::Ipv4Addr::from(
                0x0A00_0000u32.wrapping_add(i) | 0x0100_0000,
            ));
            d.observe(
                &Event::new(Service::Ssh, Kind::Failure, a),
                1_700_000_000 + i as i64 / 100,
            );
            assert!(d.tracked() <= 1000);
        }
    }
}
