//! The rule screen: which rules of a phase can match at all, from one multi-literal scan per
//! (value, transformation chain) instead of one prefilter scan per (rule, value).
//!
//! A rule is screened when its operator has a required-literal set (`@rx` with required literals,
//! `@pm` lists) and every target reads request or response data that stays put for the phase
//! (no counts, no TX). Such a rule's operator is false on every value when none of its literals
//! occurs in any value of its target variables after its transformation chain: the rule cannot
//! match, or, negated, matches every value without the operator being run. Per chain, one Aho-Corasick automaton holds the literals of all screened rules using that
//! chain, each rule being one bit (its group); per phase and (variable, chain) pair, the bits of all
//! values are OR-ed together on first use. Selectors and exclusions only remove values, so the
//! union over a variable's values is a safe over-approximation: a rule whose bit is clear in all its
//! (variable, chain) pairs is skipped without gathering a single value.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::operators::gram_index::GramIndex;

use crate::rule::Rule;
use crate::transformations::Transform;
use crate::variables::{KeySel, Target, Var};

/// A screened rule's group bit and the (variable, chain) pairs it reads.
#[derive(Debug)]
pub(crate) struct RuleScreen {
    pub group: u32,
    /// The rule is negated (kept here so that screening reads nothing from the rule itself).
    pub negated: bool,
    /// The operator's verdict depends on the value alone (no macro operand, no negation, no
    /// `multiMatch`): a value it was false on may lose the rule's bit in the connection's screen
    /// memo (see [`crate::screen_memo::ScreenMemo::forget`]).
    pub refine: bool,
    /// The rule's chain screen (an index into [`Screens::chains`]).
    pub screen: u32,
    /// The variables of its targets ([`Var::bit`]): when all of them are empty in a transaction
    /// (no arguments, no cookies: most of CRS's phase-2 rules on a plain GET), the rule cannot
    /// match, and its pairs are not looked at.
    pub vars: u128,
    len: u8,
    /// Indices into [`Screens::pairs`], one per target variable (deduplicated), in place: a
    /// separate allocation per rule was one more pointer to chase (and miss) per screened rule.
    pairs: [u16; MAX_PAIRS],
}

/// Rules with more target variables than this are not screened (CRS rules have up to 10).
const MAX_PAIRS: usize = 12;

impl RuleScreen {
    pub(crate) fn pairs(&self) -> &[u16] {
        &self.pairs[..self.len as usize]
    }
}

/// The literals of every screened rule of one phase that uses one transformation chain.
#[derive(Debug)]
pub(crate) struct ChainScreen {
    /// Literals of 3 bytes or more, by their pattern ids: hashed grams checked in place, which
    /// keeps the tables small (full DFAs of CRS's literal sets reach several MB each and miss the
    /// cache on every walk).
    long: Option<(GramIndex, Vec<u32>)>,
    /// Shorter literals (two punctuation bytes such as `<?` or `${`), by their pattern ids.
    short: Option<Short>,
    /// Pattern `p` hits the groups `groups[starts[p]..starts[p + 1]]`.
    starts: Vec<u32>,
    groups: Vec<u32>,
    /// The groups of rules without literals (see [`Screening::Always`]), set for every value:
    /// only the memo's refinement clears them.
    always: Vec<u64>,
    /// Words of a group bit set.
    pub words: usize,
    pub transforms: Vec<Transform>,
}

impl ChainScreen {
    /// Sets the bit of every group one of whose literals occurs in `value`.
    pub(crate) fn scan(&self, value: &[u8], bits: &mut [u64]) {
        let mut mark = |p: u32| {
            for &g in &self.groups[self.starts[p as usize] as usize..self.starts[p as usize + 1] as usize] {
                bits[(g / 64) as usize] |= 1 << (g % 64);
            }
        };
        if let Some((ix, ids)) = &self.long {
            ix.each(value, |i| {
                mark(ids[i]);
                false
            });
        }
        if let Some(s) = &self.short {
            s.each(value, mark);
        }
        for (b, a) in bits.iter_mut().zip(&self.always) {
            *b |= a;
        }
    }
}

/// The short literals of a chain screen (ASCII-lowercased, compared case-insensitively), with
/// their pattern ids.
#[derive(Debug)]
enum Short {
    /// At most three distinct first bytes (either case of a letter counted): the text is walked
    /// with `memchr` to those bytes and the literals compared there. The response-body chain has
    /// just `<?` and `#{`, and a page has few `<` and `#` for an automaton's per-byte walk.
    Firsts(Vec<u8>, Vec<(Vec<u8>, u32)>),
    Automaton(AhoCorasick, Vec<u32>),
}

impl Short {
    fn new(lits: &[(usize, Vec<u8>)]) -> Option<Short> {
        let mut firsts: Vec<u8> = Vec::new();
        for (_, l) in lits {
            let c = *l.first()?;
            for b in [c.to_ascii_lowercase(), c.to_ascii_uppercase()] {
                if !firsts.contains(&b) {
                    firsts.push(b);
                }
            }
        }
        if firsts.len() <= 3 {
            return Some(Short::Firsts(
                firsts,
                lits.iter().map(|(i, l)| (l.clone(), *i as u32)).collect(),
            ));
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(lits.iter().map(|(_, l)| l))
            .ok()?;
        Some(Short::Automaton(
            ac,
            lits.iter().map(|(i, _)| *i as u32).collect(),
        ))
    }

    /// Calls `found` with the id of every literal that occurs in `text` (at least once each).
    fn each(&self, text: &[u8], mut found: impl FnMut(u32)) {
        match self {
            Short::Firsts(firsts, lits) => {
                let next = |from: usize| -> Option<usize> {
                    let t = &text[from..];
                    match firsts.as_slice() {
                        [a] => memchr::memchr(*a, t),
                        [a, b] => memchr::memchr2(*a, *b, t),
                        [a, b, c] => memchr::memchr3(*a, *b, *c, t),
                        _ => None,
                    }
                    .map(|p| from + p)
                };
                let mut at = 0;
                while let Some(i) = next(at) {
                    for (l, id) in lits {
                        if text[i..]
                            .get(..l.len())
                            .is_some_and(|w| w.eq_ignore_ascii_case(l))
                        {
                            found(*id);
                        }
                    }
                    at = i + 1;
                }
            }
            Short::Automaton(ac, ids) => {
                for m in ac.find_overlapping_iter(text) {
                    found(ids[m.pattern().as_usize()]);
                }
            }
        }
    }
}

/// All screens and the (variable, chain id) pairs screened rules read.
#[derive(Debug, Default)]
pub(crate) struct Screens {
    /// One per (phase, chain id) that has screened rules: a phase's values are scanned only for
    /// the literals of that phase's rules, with smaller automata (a response body is not walked
    /// through the request rules' literals).
    pub chains: Vec<Option<ChainScreen>>,
    /// The value sets: a variable, with its key when the rule names one (`REQUEST_HEADERS:Referer`),
    /// the chain id, whether it is for `multiMatch` rules, and the index of its screen in `chains`.
    /// With `multiMatch` rules the pair covers the value before and after every step that
    /// changed it (their operator sees each of those).
    pub pairs: Vec<Pair>,
}

#[derive(Debug)]
pub(crate) struct Pair {
    pub target: Target,
    pub chain: u32,
    pub multi: bool,
    pub screen: u32,
}

/// How a rule link is screened.
enum Screening<'r> {
    /// By its literals: a value without any of them cannot match.
    Literals(&'r [Vec<u8>]),
    /// Without literals, its operator's verdict depending on the value alone: its bit is set
    /// for every new value, and cleared in the connection's memo for each value the operator
    /// was false on, so that a repeated value does not run the rule again.
    Always,
}

/// Whether a rule link can be screened, and how.
fn screening(r: &Rule) -> Option<Screening<'_>> {
    // A negated rule is screened too: a clear screen then means its operator is false on every
    // value, which the engine uses instead of skipping the rule.
    if r.targets.is_empty() {
        return None;
    }
    if !r.targets.iter().all(|t| !t.count && t.var.stable()) {
        return None;
    }
    let op = r.operator.as_ref()?;
    match op.literals() {
        Some(lits) if !lits.is_empty() && !lits.iter().any(|l| common(l)) => Some(Screening::Literals(lits)),
        _ if refinable(r) => Some(Screening::Always),
        _ => None,
    }
}

/// Whether a false verdict of the rule's operator on a value holds for every later transaction
/// (see [`RuleScreen::refine`]).
fn refinable(r: &Rule) -> bool {
    !r.negated && !r.multi_match && r.operator.as_ref().is_some_and(|op| op.pure())
}

/// A literal that occurs in most values (a single letter, digit or separator, a two-letter word):
/// a rule with one is nearly always let through, and such literals make the shared scan report
/// a match at almost every position.
fn common(l: &[u8]) -> bool {
    match l {
        [] => true,
        [c] => c.is_ascii_alphanumeric() || b" -./,:;=_\n\r\t".contains(c),
        [a, b] => a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric(),
        _ => false,
    }
}

/// Builds the screens for the head links of `rules` (all phases) and sets their `screen`.
pub(crate) fn build<'a>(rules: impl Iterator<Item = &'a mut Rule>) -> Screens {
    struct Pending {
        /// literal → pattern id
        ids: HashMap<Vec<u8>, usize>,
        /// pattern id → groups
        hits: Vec<Vec<u32>>,
        groups: u32,
        always: Vec<u32>,
        transforms: Vec<Transform>,
    }
    let mut pending: Vec<Pending> = Vec::new();
    let mut screen_ids: HashMap<(u8, u32), u32> = HashMap::new();
    let mut pair_ids: HashMap<(Var, Option<String>, u32, bool, u32), u16> = HashMap::new();
    let mut screens = Screens::default();
    for r in rules {
        let Some(how) = screening(r) else { continue };
        if r.targets.len() > MAX_PAIRS {
            continue;
        }
        // Pair ids are u16: a rule set would need thousands of (variable, chain) pairs to run out.
        if screens.pairs.len() + r.targets.len() > u16::MAX as usize {
            continue;
        }
        let chain = r.chain_id;
        let screen = *screen_ids.entry((r.phase, chain)).or_insert_with(|| {
            pending.push(Pending {
                ids: HashMap::new(),
                hits: Vec::new(),
                groups: 0,
                always: Vec::new(),
                transforms: r.transforms.clone(),
            });
            (pending.len() - 1) as u32
        });
        let p = &mut pending[screen as usize];
        let mut pairs: Vec<u16> = Vec::new();
        for t in &r.targets {
            let next = screens.pairs.len();
            // A literal key narrows the values; a regex key or an XPath does not (over-approximated).
            let key = match &t.sel {
                Some(KeySel::Key(k)) if t.var != Var::Xml => Some(k.clone()),
                _ => None,
            };
            let multi = r.multi_match && !r.transforms.is_empty();
            let id = *pair_ids
                .entry((t.var, key.clone(), chain, multi, screen))
                .or_insert_with(|| {
                    let target = Target {
                        var: t.var,
                        sel: key.map(KeySel::Key),
                        count: false,
                    };
                    screens.pairs.push(Pair {
                        target,
                        chain,
                        multi,
                        screen,
                    });
                    next as u16
                });
            if !pairs.contains(&id) {
                pairs.push(id);
            }
        }
        let group = p.groups;
        p.groups += 1;
        let lits = match how {
            Screening::Literals(lits) => lits,
            Screening::Always => {
                p.always.push(group);
                &[]
            }
        };
        for l in lits {
            let l = l.to_ascii_lowercase();
            let next = p.hits.len();
            let id = *p.ids.entry(l).or_insert(next);
            if id == next {
                p.hits.push(Vec::new());
            }
            if !p.hits[id].contains(&group) {
                p.hits[id].push(group);
            }
        }
        let mut inline = [0u16; MAX_PAIRS];
        inline[..pairs.len()].copy_from_slice(&pairs);
        r.screen = Some(RuleScreen {
            group,
            negated: r.negated,
            refine: refinable(r),
            screen,
            vars: r.targets.iter().fold(0, |a, t| a | t.var.bit()),
            len: pairs.len() as u8,
            pairs: inline,
        });
    }
    screens.chains = pending
        .into_iter()
        .map(|p| {
            let mut pats: Vec<(usize, Vec<u8>)> = p.ids.into_iter().map(|(l, i)| (i, l)).collect();
            pats.sort();
            let (long, short): (Vec<_>, Vec<_>) = pats.into_iter().partition(|(_, l)| l.len() >= 3);
            let long = if long.is_empty() {
                None
            } else {
                let lits: Vec<Vec<u8>> = long.iter().map(|(_, l)| l.clone()).collect();
                Some((
                    GramIndex::new(&lits)?,
                    long.iter().map(|(i, _)| *i as u32).collect(),
                ))
            };
            let short = if short.is_empty() {
                None
            } else {
                Some(Short::new(&short)?)
            };
            let mut starts = vec![0u32];
            let mut groups = Vec::new();
            for h in &p.hits {
                groups.extend_from_slice(h);
                starts.push(groups.len() as u32);
            }
            let words = (p.groups as usize).div_ceil(64);
            // Empty when no rule of the chain is screened without literals: nothing to OR in.
            let mut always = Vec::new();
            for g in &p.always {
                always.resize(words, 0u64);
                always[(g / 64) as usize] |= 1 << (g % 64);
            }
            Some(ChainScreen {
                long,
                short,
                starts,
                groups,
                always,
                words,
                transforms: p.transforms,
            })
        })
        .collect();
    screens
}

#[cfg(test)]
mod tests {
    use crate::{ConnInfo, Engine, TxBuffers};

    /// The first-byte walk finds exactly the literals the automaton finds.
    #[test]
    fn short_literals_by_first_bytes_agree_with_the_automaton() {
        let mut x: u64 = 0x853c_49e6_748f_ea9b;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let alphabet = b"<?#{aAbB \x00";
        let mut firsts_used = 0;
        for _ in 0..500 {
            let lits: Vec<(usize, Vec<u8>)> = (0..1 + rnd(4))
                .map(|i| {
                    let l: Vec<u8> = (0..1 + rnd(2))
                        .map(|_| alphabet[rnd(alphabet.len() as u64) as usize])
                        .collect();
                    (i as usize, l.to_ascii_lowercase())
                })
                .collect();
            let fast = super::Short::new(&lits).unwrap();
            firsts_used += matches!(fast, super::Short::Firsts(..)) as u32;
            let ac = aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(aho_corasick::MatchKind::Standard)
                .build(lits.iter().map(|(_, l)| l))
                .unwrap();
            for _ in 0..10 {
                let text: Vec<u8> = (0..rnd(30))
                    .map(|_| alphabet[rnd(alphabet.len() as u64) as usize])
                    .collect();
                let mut want = vec![false; lits.len()];
                for m in ac.find_overlapping_iter(&text) {
                    want[m.pattern().as_usize()] = true;
                }
                let mut got = vec![false; lits.len()];
                fast.each(&text, |id| got[id as usize] = true);
                assert_eq!(got, want, "{lits:?} in {text:?}");
            }
        }
        assert!(firsts_used > 100, "{firsts_used}");
    }

    const RULES: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecRule ARGS|REQUEST_COOKIES "@rx (?i)union\s+select" "id:1,phase:2,pass,log,t:none,t:urlDecodeUni,t:lowercase,msg:'sqli'"
SecRule ARGS "@rx (?i)<script" "id:2,phase:2,pass,log,t:none,t:urlDecodeUni,t:lowercase,msg:'xss'"
SecRule REQUEST_HEADERS:User-Agent "@pm sqlmap nikto" "id:3,phase:1,pass,log,msg:'scanner'"
SecRule ARGS "!@rx (?i)union\s+select" "id:4,phase:2,pass,log,t:none,msg:'negated'"
SecRule ARGS_NAMES "@rx (?i)passwd" "id:5,phase:2,pass,log,t:none,t:lowercase,msg:'name',chain"
    SecRule ARGS "@rx secret" "t:none"
SecRule &TX:flag "@eq 0" "id:6,phase:1,pass,log,msg:'flag unset'"
SecRule TX:score "@ge 5" "id:7,phase:2,pass,log,msg:'score'"
SecAction "id:8,phase:2,pass,nolog,setvar:tx.score=7"
SecRule TX:score "@ge 5" "id:9,phase:2,pass,log,msg:'score after'"
SecRule ARGS "@rx x y z" "id:10,phase:2,pass,log,t:none,t:removeWhitespace,multiMatch,msg:'multi'"
"#;

    fn matched(e: &Engine, uri: &str, headers: &[(&str, &str)]) -> Vec<u64> {
        matched_on(e, &mut TxBuffers::default(), uri, headers)
    }

    /// The same on a connection: `bufs` carries the screen memo from one transaction to the next.
    fn matched_on(e: &Engine, bufs: &mut TxBuffers, uri: &str, headers: &[(&str, &str)]) -> Vec<u64> {
        let mut tx = e.transaction_reusing(ConnInfo::default(), std::mem::take(bufs));
        tx.process_uri("GET", uri, "HTTP/1.1");
        for (k, v) in headers {
            tx.add_request_header(k.as_bytes(), v.as_bytes());
        }
        tx.process_request_headers();
        tx.process_request_body();
        let mut ids: Vec<u64> = tx.matched_rules().iter().map(|m| m.id).collect();
        ids.sort();
        *bufs = tx.into_buffers();
        ids
    }

    /// A collection empty in the request line but filled by the body (ARGS from a form) is seen
    /// by phase 2's screens: the empty-collection shortcut is taken per phase.
    #[test]
    fn arguments_from_the_body_pass_the_screens_of_phase_2() {
        let e = Engine::from_str(RULES, "<test>").unwrap();
        let post = |body: &[u8]| {
            let mut tx = e.transaction(ConnInfo::default());
            tx.process_uri("POST", "/form", "HTTP/1.1");
            tx.add_request_header(b"User-Agent", b"Mozilla/5.0");
            tx.add_request_header(b"Content-Type", b"application/x-www-form-urlencoded");
            tx.add_request_header(b"Content-Length", body.len().to_string().as_bytes());
            tx.process_request_headers();
            tx.append_request_body(body);
            tx.process_request_body();
            let mut ids: Vec<u64> = tx.matched_rules().iter().map(|m| m.id).collect();
            ids.sort();
            ids
        };
        assert_eq!(post(b"q=union+select+1"), [1, 6, 9]);
        assert_eq!(post(b"a=%3Cscript%3E"), [2, 4, 6, 9]);
        assert_eq!(post(b"passwd=secret"), [4, 5, 6, 9]);
        assert_eq!(post(b""), [6, 9]);
    }

    const REFINED: &str = r#"
SecRuleEngine On
SecAction "id:19,phase:1,pass,nolog,setvar:tx.needle=zz"
SecRule REQUEST_HEADERS "@validateByteRange 32-126" "id:20,phase:1,pass,log,t:none,msg:'range'"
SecRule REQUEST_HEADERS "@rx ^a.*z$" "id:21,phase:1,pass,log,t:none,t:lowercase,msg:'a to z'"
SecRule REQUEST_HEADERS "@contains %{tx.needle}" "id:22,phase:1,pass,log,t:none,msg:'macro'"
SecRule REQUEST_HEADERS "!@rx ^m" "id:23,phase:1,pass,log,t:none,t:lowercase,msg:'negated'"
"#;

    /// Rules without literals whose operator reads the value alone are screened too, and a
    /// connection's memo drops them for the values they were false on, once a value repeats.
    #[test]
    fn a_repeated_value_skips_the_rules_it_did_not_match() {
        let e = Engine::from_str(REFINED, "<test>").unwrap();
        let screen = |id: u64| {
            let x = e.phases.iter().flatten().find(|x| x.rule.id == id).unwrap();
            x.screen.as_ref().map(|s| (s.screen, s.group, s.refine))
        };
        // The macro operand depends on TX and the negated rule matches on a false operator:
        // neither is refined (the negated one is not screened without literals).
        assert!(screen(22).is_none());
        assert!(screen(23).is_none());
        let (s20, g20, r20) = screen(20).unwrap();
        let (s21, g21, r21) = screen(21).unwrap();
        assert!(r20 && r21);
        let mut conn = TxBuffers::default();
        let ua = |v: &'static str| [("User-Agent", v)];
        for round in 0..4 {
            assert_eq!(
                matched_on(&e, &mut conn, "/", &ua("Mozilla")),
                [] as [u64; 0],
                "round {round}"
            );
            let through = conn.memo_lets_through(s21, b"Mozilla", g21);
            // The first transaction remembers the value, the second (a repeat) refines it.
            assert_eq!(through, Some(round == 0), "round {round}");
            assert_eq!(conn.memo_lets_through(s20, b"Mozilla", g20), Some(round == 0));
            // Values the rules match keep matching on the same connection, every time.
            assert_eq!(
                matched_on(&e, &mut conn, "/", &ua("AbcZ")),
                [21, 23],
                "round {round}"
            );
            assert_eq!(
                matched_on(&e, &mut conn, "/", &ua("Moz\x7f")),
                [20],
                "round {round}"
            );
            assert_eq!(
                matched_on(&e, &mut conn, "/", &ua("Mozzz")),
                [22],
                "round {round}"
            );
            assert_eq!(conn.memo_lets_through(s21, b"AbcZ", g21), Some(true));
        }
        // A fresh connection decides the same.
        assert_eq!(matched(&e, "/", &ua("AbcZ")), [21, 23]);
        assert_eq!(matched(&e, "/", &ua("Mozilla")), [] as [u64; 0]);
    }

    #[test]
    fn screened_rules_match_as_before() {
        let e = Engine::from_str(RULES, "<test>").unwrap();
        let screened: Vec<u64> = e
            .phases
            .iter()
            .flatten()
            .filter(|x| x.screen.is_some())
            .map(|x| x.rule.id)
            .collect();
        // Negated rules are screened too (a clear screen decides their operator); the chained one
        // is screened on its head.
        assert_eq!(screened, [3, 1, 2, 4, 5, 10]);
        let tx_checked: Vec<u64> = e
            .phases
            .iter()
            .flatten()
            .filter(|x| x.rule.tx_check.is_some())
            .map(|x| x.rule.id)
            .collect();
        assert_eq!(tx_checked, [6, 7, 9]);
        let ua = [("User-Agent", "Mozilla/5.0")];
        assert_eq!(matched(&e, "/?q=hello", &ua), [4, 6, 9]);
        // Found only after the transformation chain (percent-decoding, lower-casing).
        assert_eq!(matched(&e, "/?q=UNION%20%20SeLeCt+1", &ua), [1, 6, 9]);
        assert_eq!(matched(&e, "/?a=x&b=%3CScRiPt%3E", &ua), [2, 4, 6, 9]);
        // Cookies are one of rule 1's targets.
        let cookie = [("User-Agent", "x"), ("Cookie", "c=union%20select")];
        assert_eq!(matched(&e, "/", &cookie), [1, 6, 9]);
        // The selector: sqlmap in another header does not count.
        assert_eq!(matched(&e, "/", &[("User-Agent", "SQLMap/1.7")]), [3, 6, 9]);
        assert_eq!(
            matched(&e, "/", &[("User-Agent", "x"), ("Referer", "sqlmap")]),
            [6, 9]
        );
        // Chain: the head's screen passes, the chained link decides.
        assert_eq!(matched(&e, "/?passwd=secret", &ua), [4, 5, 6, 9]);
        assert_eq!(matched(&e, "/?passwd=open", &ua), [4, 6, 9]);
        // multiMatch: only the value before the transformation has the literal.
        assert_eq!(matched(&e, "/?q=x+y+z", &ua), [4, 6, 9, 10]);
        assert_eq!(matched(&e, "/?q=xyz", &ua), [4, 6, 9]);
        // Negated: one value without the literal is enough, whatever the others hold.
        assert_eq!(matched(&e, "/?q=union+select&a=hi", &ua), [1, 4, 6, 9]);
        assert_eq!(matched(&e, "/?q=union+select&a=union%09select", &ua), [1, 6, 9]);
        assert_eq!(matched(&e, "/", &ua), [6, 9]);
    }
}
