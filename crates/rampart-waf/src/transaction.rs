//! One HTTP transaction: the request/response data the rules inspect and the per-phase evaluation.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rampart_seclang::IdRange;

use crate::actions::ctl::Ctl;
use crate::actions::disruptive::AllowScope;
use crate::actions::setvar::SetOp;
use crate::actions::{severity, DisruptiveAction};
use crate::body::{self, multipart::Multipart, xml::XmlDoc, BodyProcessor, Pairs};
use crate::config::{ConnInfo, LimitAction, RuleEngineMode};
use crate::engine::{Engine, Fixed};
use crate::macros::{Macro, Part};
use crate::operators::{atoi, Captures};
use crate::rule::Rule;
use crate::screen::{ChainScreen, RuleScreen};
use crate::screen_memo::{self, ScreenMemo};
use crate::template::{self, Template};
use crate::variables::{Exclusion, KeySel, Target, Var};
use crate::{Disruptive, Intervention, MatchedRule};

/// Which rules a `ctl:ruleRemoveTarget*` applies to.
enum RuleSel {
    Ids(Vec<IdRange>),
    Tag(String),
    Msg(String),
}

/// What the direct TX look-up decided for a rule (see [`Transaction::tx_check`]).
enum TxCheck {
    NoMatch,
    /// Matched, and the match is recorded.
    Matched,
    /// Evaluate the rule in full.
    Evaluate,
}

/// A value that matched, with its capture groups.
#[derive(Default)]
struct Hit {
    name: String,
    value: Vec<u8>,
    /// The capture groups, when the rule captures (`caps` keeps its buffers either way).
    has_caps: bool,
    caps: Captures,
}

/// A value picked from a variable, before transformation.
struct Item<'s> {
    var: Var,
    key: Cow<'s, [u8]>,
    value: Cow<'s, [u8]>,
}

pub struct Transaction<'e> {
    engine: &'e Engine,
    conn: ConnInfo,
    /// REMOTE_ADDR's text, written on first use.
    remote_addr: std::cell::OnceCell<Vec<u8>>,
    id: String,
    start: Instant,
    mode: RuleEngineMode,
    request_body_access: bool,
    response_body_access: bool,
    request_body_limit: usize,
    response_body_limit: usize,
    body_processor: Option<BodyProcessor>,
    force_body_var: bool,

    method: Vec<u8>,
    uri_raw: Vec<u8>,
    uri: Vec<u8>,
    protocol: Vec<u8>,
    request_line: Vec<u8>,
    filename: Vec<u8>,
    basename: Vec<u8>,
    query: Vec<u8>,
    args_get: Pairs,
    args_post: Pairs,
    headers: Pairs,
    cookies: Pairs,
    body: Vec<u8>,
    body_exceeded: bool,
    request_body_var: bool,
    files: Vec<(Vec<u8>, Vec<u8>, usize)>,
    multipart: Option<Multipart>,
    xml: Option<XmlDoc>,
    reqbody_error: Option<String>,
    reqbody_processor: Option<BodyProcessor>,

    status: u16,
    response_protocol: Vec<u8>,
    response_headers: Pairs,
    response_body: Vec<u8>,
    response_exceeded: bool,

    pub(crate) tx: VarMap<'e>,
    collections: HashMap<String, VarMap<'e>>,
    matched_var: (String, Vec<u8>),
    /// MATCHED_VARS is `matched_vars[..mv_len]`; the entries' buffers are reused.
    matched_vars: Vec<(String, Vec<u8>)>,
    mv_len: usize,
    /// Times MATCHED_VAR was written (the TX template needs to know which rule wrote it last).
    mv_writes: u32,
    hit_pool: Vec<Hit>,
    removed_ids: Vec<IdRange>,
    removed_tags: Vec<String>,
    removed_msgs: Vec<String>,
    removed_targets: Vec<(RuleSel, Exclusion)>,
    /// Bit set of the variables `removed_targets` names (see [`Var::bit`]): CRS 941010 removes
    /// REQUEST_FILENAME from the XSS rules on most requests, which must not cost every other
    /// variable an exclusion check.
    removed_vars: u128,
    matched: Vec<MatchedRule>,
    log_lines: Vec<String>,
    intervention: Option<Intervention>,
    /// Phases (1-based) that must not run any more because of `allow`.
    allowed_until: u8,
    phases_done: [bool; 6],
    highest_severity: Option<u8>,
    cur_rule: Option<&'e Rule>,
    /// Transformation results of the current rule's values, keyed by position.
    scratch_caps: Captures,
    /// Transformed values of the current phase: (value address, length, chain id) → result
    /// (`None`: the chain left the value unchanged). Only for request/response data, which does
    /// not change within a phase.
    tcache: RefCell<TransformCache>,
    /// Rule screen of the current phase (see [`crate::screen`]): per (variable, chain) pair the
    /// offset of its group bits in `screen_bits`, `u32::MAX` until first needed.
    screen_off: Vec<u32>,
    screen_bits: Vec<u64>,
    /// The connection's screen bits of values seen before (see [`crate::screen_memo`]).
    memo: RefCell<ScreenMemo>,
    /// Emptied byte buffers for the request line's parts and the headers (see [`TxBuffers`]).
    spare: Vec<Vec<u8>>,
    /// Set while a negated screened rule is evaluated whose screen is clear: its head link's
    /// operator is known to be false on every value (see [`Self::eval_negated_screened`]).
    head_op_false: bool,
    /// Set while a screened rule whose verdicts the memo may keep is evaluated: its chain screen
    /// and group (see [`Self::refine`]).
    refining: Option<(u32, u32)>,
    /// Memo refinements tried so far (see [`Self::refine`]).
    refines: Cell<u32>,
    /// Variables without a value in this phase, among the collections a plain request leaves
    /// empty ([`Var::bit`], see [`Self::empty_collections`]).
    empty_vars: u128,
    /// The chain screens (bit = index mod 64) with a value the memo knew in this phase: a screen
    /// whose values are all new is not refined (see [`Self::refine`]).
    memo_hits: Cell<u64>,
    /// Phase 1 started from the engine's TX template (which [`Entry::fixed`] assumes).
    ///
    /// [`Entry::fixed`]: crate::engine::Entry::fixed
    template_applied: bool,
}

type TransformCache = HashMap<(usize, usize, u32), Option<Vec<u8>>, BuildHasherDefault<KeyHasher>>;

/// Buffers a finished transaction leaves to the next one on the same connection
/// ([`Transaction::into_buffers`], [`Engine::transaction_reusing`]): their capacity, never their
/// content, except for the screen memo (what the rule screens found in the connection's values,
/// see [`crate::screen_memo`]). A transaction built from scratch allocates its scratch space (the
/// transformation cache, match and screen buffers, header lists) anew; with these it starts with
/// them sized.
#[derive(Default)]
pub struct TxBuffers {
    tcache: TransformCache,
    hit_pool: Vec<Hit>,
    matched_vars: Vec<(String, Vec<u8>)>,
    screen_off: Vec<u32>,
    screen_bits: Vec<u64>,
    scratch_caps: Captures,
    headers: Pairs,
    response_headers: Pairs,
    body: Vec<u8>,
    response_body: Vec<u8>,
    /// Content, unlike the rest: the screen bits of the connection's values so far.
    memo: ScreenMemo,
    /// The last transaction's header names and values and request-line parts, emptied: a
    /// request's dozens of small copies come out of these instead of the allocator.
    spare: Vec<Vec<u8>>,
}

/// At most this many spare buffers of at most [`KEEP_SPARE_CAPACITY`] bytes each and
/// [`KEEP_SPARE_BYTES`] in all are kept: a request's headers take a few KB, and an idle
/// keep-alive connection should not hold the memory of 64 headers of 4 KB.
const KEEP_SPARE: usize = 64;
const KEEP_SPARE_CAPACITY: usize = 4096;
const KEEP_SPARE_BYTES: usize = 16 * 1024;

/// Body buffers bigger than this are not kept for the next transaction (an idle connection
/// should not hold a large upload's memory).
const KEEP_BODY_CAPACITY: usize = 16 * 1024;

impl TxBuffers {
    /// Whether the memo lets the rule of `group` in chain screen `kind` through for `value`
    /// (`None`: the memo does not hold the value).
    #[cfg(test)]
    pub(crate) fn memo_lets_through(&mut self, kind: u32, value: &[u8], group: u32) -> Option<bool> {
        let bits = self.memo.get(kind, false, value)?;
        Some(bits[(group / 64) as usize] & 1 << (group % 64) != 0)
    }

    /// Empties every buffer, keeping capacities (bodies only up to [`KEEP_BODY_CAPACITY`]).
    fn cleared(mut self) -> TxBuffers {
        self.tcache.clear();
        for h in &mut self.hit_pool {
            h.has_caps = false;
        }
        self.screen_bits.clear();
        self.scratch_caps.clear();
        let mut kept = 0;
        let mut fits = |b: &Vec<u8>| {
            let ok = b.capacity() <= KEEP_SPARE_CAPACITY && kept + b.capacity() <= KEEP_SPARE_BYTES;
            kept += if ok { b.capacity() } else { 0 };
            ok
        };
        self.spare.truncate(KEEP_SPARE);
        self.spare.retain(|b| fits(b));
        for (k, v) in self.headers.drain(..).chain(self.response_headers.drain(..)) {
            for b in [k, v] {
                if self.spare.len() < KEEP_SPARE && fits(&b) {
                    self.spare.push(b);
                }
            }
        }
        for b in &mut self.spare {
            b.clear();
        }
        for b in [&mut self.body, &mut self.response_body] {
            b.clear();
            if b.capacity() > KEEP_BODY_CAPACITY {
                *b = Vec::new();
            }
        }
        self
    }
}

/// TX and the other collections: lower-cased name → value.
/// Names and constant values borrow from the rules, so most setvars allocate nothing.
pub(crate) type VarMap<'e> = HashMap<Cow<'e, str>, Cow<'e, [u8]>, BuildHasherDefault<KeyHasher>>;

/// A multiply-xor hasher for the transformation cache and the rule-set-named TX variables
/// (SipHash costs more than the lookups it guards). TX names come from the rules, except those
/// built from request data (e.g. CRS 920450's header names): a handful per request.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.write_u64(b as u64);
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
}

/// Bigger values (request/response bodies) are transformed per rule rather than kept: a copy per
/// transformation chain of a 13 MB body would multiply its memory.
const CACHE_MAX_VALUE: usize = 64 * 1024;

/// Memo refinements per transaction (see [`Transaction::refine`]): a browser's request and
/// response take a few dozen, and new values cost a look-up each.
const MAX_REFINES: u32 = 64;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Seconds, microseconds and a counter in hex (as `{:x}{:05x}{:04x}`), written by hand: the
/// formatting machinery cost more than the rest of an unmatched transaction's bookkeeping.
fn unique_id() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = String::with_capacity(25);
    push_hex(&mut id, now.as_secs(), 1);
    push_hex(&mut id, u64::from(now.subsec_micros()), 5);
    push_hex(&mut id, n & 0xffff, 4);
    id
}

/// `v` in lower-case hex, at least `width` digits.
fn push_hex(out: &mut String, v: u64, width: usize) {
    let digits = (16 - v.leading_zeros() as usize / 4).max(width);
    for i in (0..digits).rev() {
        out.push(char::from(b"0123456789abcdef"[(v >> (i * 4)) as usize & 0xf]));
    }
}

impl<'e> Transaction<'e> {
    pub(crate) fn new(engine: &'e Engine, conn: ConnInfo) -> Transaction<'e> {
        Transaction::new_with(engine, conn, TxBuffers::default())
    }

    pub(crate) fn new_with(engine: &'e Engine, conn: ConnInfo, bufs: TxBuffers) -> Transaction<'e> {
        let c = engine.config();
        let mut b = bufs.cleared();
        if b.tcache.capacity() == 0 {
            b.tcache.reserve(256);
        }
        if b.screen_bits.capacity() == 0 {
            b.screen_bits.reserve(256);
        }
        b.screen_off.clear();
        b.screen_off.resize(engine.screens.pairs.len(), u32::MAX);
        let mut memo = std::mem::take(&mut b.memo);
        memo.begin(engine.generation);
        Transaction {
            engine,
            conn,
            remote_addr: std::cell::OnceCell::new(),
            id: unique_id(),
            start: Instant::now(),
            mode: c.rule_engine,
            request_body_access: c.request_body_access,
            response_body_access: c.response_body_access,
            request_body_limit: c.request_body_limit,
            response_body_limit: c.response_body_limit,
            body_processor: None,
            force_body_var: false,
            method: Vec::new(),
            uri_raw: Vec::new(),
            uri: Vec::new(),
            protocol: Vec::new(),
            request_line: Vec::new(),
            filename: Vec::new(),
            basename: Vec::new(),
            query: Vec::new(),
            args_get: Vec::new(),
            args_post: Vec::new(),
            headers: b.headers,
            cookies: Vec::new(),
            body: b.body,
            body_exceeded: false,
            request_body_var: false,
            files: Vec::new(),
            multipart: None,
            xml: None,
            reqbody_error: None,
            reqbody_processor: None,
            status: 0,
            response_protocol: Vec::new(),
            response_headers: b.response_headers,
            response_body: b.response_body,
            response_exceeded: false,
            // CRS sets about 100 TX variables; sizing up front avoids rehashing on every request.
            tx: VarMap::with_capacity_and_hasher(160, Default::default()),
            collections: HashMap::new(),
            matched_var: (String::new(), Vec::new()),
            matched_vars: b.matched_vars,
            mv_len: 0,
            mv_writes: 0,
            hit_pool: b.hit_pool,
            removed_ids: Vec::new(),
            removed_tags: Vec::new(),
            removed_msgs: Vec::new(),
            removed_targets: Vec::new(),
            removed_vars: 0,
            matched: Vec::new(),
            log_lines: Vec::new(),
            intervention: None,
            allowed_until: 0,
            phases_done: [false; 6],
            highest_severity: None,
            cur_rule: None,
            scratch_caps: b.scratch_caps,
            tcache: RefCell::new(b.tcache),
            screen_off: b.screen_off,
            screen_bits: b.screen_bits,
            memo: RefCell::new(memo),
            spare: b.spare,
            head_op_false: false,
            refining: None,
            refines: Cell::new(0),
            empty_vars: 0,
            memo_hits: Cell::new(0),
            template_applied: false,
        }
    }

    /// The unique id (UNIQUE_ID).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Ends the transaction, keeping its buffers for the next one on the same connection
    /// ([`Engine::transaction_reusing`]).
    pub fn into_buffers(mut self) -> TxBuffers {
        let mut spare = std::mem::take(&mut self.spare);
        for b in [
            self.method,
            self.uri_raw,
            self.uri,
            self.protocol,
            self.request_line,
            self.filename,
            self.basename,
            self.query,
            self.response_protocol,
        ] {
            if b.capacity() > 0 {
                spare.push(b);
            }
        }
        TxBuffers {
            tcache: self.tcache.into_inner(),
            hit_pool: self.hit_pool,
            matched_vars: self.matched_vars,
            screen_off: self.screen_off,
            screen_bits: self.screen_bits,
            scratch_caps: self.scratch_caps,
            headers: self.headers,
            response_headers: self.response_headers,
            body: self.body,
            response_body: self.response_body,
            memo: self.memo.into_inner(),
            spare,
        }
        .cleared()
    }

    /// The rule engine mode in force for this transaction (after any `ctl:ruleEngine`).
    pub fn rule_engine(&self) -> RuleEngineMode {
        self.mode
    }

    pub fn process_uri(&mut self, method: &str, uri: &str, http_version: &str) {
        self.process_uri_bytes(method.as_bytes(), uri.as_bytes(), http_version.as_bytes());
    }

    /// [`Self::process_uri`] with the request line's raw bytes (no UTF-8 conversion).
    pub fn process_uri_bytes(&mut self, method: &[u8], uri: &[u8], http_version: &[u8]) {
        self.method = self.buffer_of(method);
        self.uri_raw = self.buffer_of(uri);
        self.protocol = self.buffer_of(http_version);
        let mut line = self.buffer_of(b"");
        line.reserve(method.len() + uri.len() + http_version.len() + 2);
        for (i, part) in [method, uri, http_version].iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            line.extend_from_slice(part);
        }
        self.request_line = line;
        // An absolute-form target keeps only path and query in REQUEST_URI.
        let rel: &[u8] = match memchr::memmem::find(uri, b"://") {
            Some(p)
                if p > 0
                    && uri[..p]
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)) =>
            {
                let after = &uri[p + 3..];
                memchr::memchr(b'/', after).map_or(&b"/"[..], |s| &after[s..])
            }
            _ => uri,
        };
        self.uri = self.buffer_of(rel);
        let (path, query) = match memchr::memchr(b'?', rel) {
            Some(q) => (&rel[..q], &rel[q + 1..]),
            None => (rel, &b""[..]),
        };
        let path = &path[..memchr::memchr(b'#', path).unwrap_or(path.len())];
        // REQUEST_FILENAME is the percent-decoded path (as in ModSecurity and Coraza).
        let mut filename = self.buffer_of(b"");
        percent_decode_into(path, &mut filename);
        self.filename = filename;
        let base_at = self
            .filename
            .iter()
            .rposition(|&c| c == b'/' || c == b'\\')
            .map_or(0, |p| p + 1);
        let mut basename = self.buffer_of(b"");
        basename.extend_from_slice(&self.filename[base_at..]);
        self.basename = basename;
        self.query = self.buffer_of(query);
        self.args_get = body::urlencoded::parse(query, self.engine.config().argument_separator);
        self.args_get.truncate(self.engine.config().arguments_limit);
    }

    pub fn add_request_header(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"cookie") {
            parse_cookies(value, &mut self.cookies);
        }
        let pair = (self.buffer_of(name), self.buffer_of(value));
        self.headers.push(pair);
    }

    /// A copy of `bytes` in a spare buffer when there is one.
    fn buffer_of(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut b = self.spare.pop().unwrap_or_default();
        b.extend_from_slice(bytes);
        b
    }

    fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn response_header(&self, name: &[u8]) -> Option<&[u8]> {
        self.response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Phase 1.
    pub fn process_request_headers(&mut self) -> Option<Intervention> {
        self.run_phase(1);
        self.intervention.clone()
    }

    pub fn request_body_wanted(&self) -> bool {
        self.request_body_access && self.mode != RuleEngineMode::Off && self.intervention.is_none()
    }

    fn is_multipart(&self) -> bool {
        self.header(b"content-type")
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with(b"multipart/form-data"))
    }

    /// Buffers a chunk of the request body, enforcing the body limits.
    pub fn append_request_body(&mut self, chunk: &[u8]) -> Option<Intervention> {
        if !self.request_body_access || self.body_exceeded {
            return None;
        }
        let cfg = self.engine.config();
        let limit = if self.is_multipart() {
            self.request_body_limit
        } else {
            self.request_body_limit
                .min(cfg.request_body_no_files_limit.max(1))
        };
        let room = limit.saturating_sub(self.body.len());
        if chunk.len() <= room {
            self.body.extend_from_slice(chunk);
            return None;
        }
        self.body.extend_from_slice(&chunk[..room]);
        self.body_exceeded = true;
        self.set_tx("inbound_data_error", b"1".to_vec());
        if cfg.request_body_limit_action == LimitAction::Reject && self.mode == RuleEngineMode::On {
            let iv = Intervention {
                status: 413,
                action: Disruptive::Deny,
                rule_id: None,
                log: format!(
                    "[client {}] ModSecurity: Request body (Content-Length) is larger than the configured limit ({limit}). [unique_id \"{}\"]",
                    self.conn.client_ip, self.id
                ),
            };
            self.intervention = Some(iv.clone());
            return Some(iv);
        }
        None
    }

    /// Runs the body processor, then phase 2.
    pub fn process_request_body(&mut self) -> Option<Intervention> {
        if self.request_body_access && self.intervention.is_none() {
            self.parse_request_body();
        }
        self.run_phase(2);
        self.intervention.clone()
    }

    /// The processor the Content-Type implies when no `ctl` chose one.
    fn default_processor(&self) -> Option<BodyProcessor> {
        let lower = self
            .header(b"content-type")?
            .trim_ascii_start()
            .to_ascii_lowercase();
        if lower.starts_with(b"application/x-www-form-urlencoded") {
            Some(BodyProcessor::UrlEncoded)
        } else if lower.starts_with(b"multipart/form-data") {
            Some(BodyProcessor::Multipart)
        } else {
            None
        }
    }

    fn parse_request_body(&mut self) {
        let ct = self
            .header(b"content-type")
            .map(|c| c.to_vec())
            .unwrap_or_default();
        let processor = self.body_processor.or_else(|| self.default_processor());
        self.reqbody_processor = processor;
        match processor {
            Some(BodyProcessor::UrlEncoded) => {
                self.args_post = body::urlencoded::parse(&self.body, self.engine.config().argument_separator);
                self.request_body_var = true;
            }
            Some(BodyProcessor::Multipart) => {
                let mut m = body::multipart::parse(&ct, &self.body);
                self.args_post = std::mem::take(&mut m.args);
                self.files = std::mem::take(&mut m.files);
                if let Some(e) = &m.error {
                    self.reqbody_error = Some(e.clone());
                }
                self.multipart = Some(m);
            }
            Some(BodyProcessor::Json) if !self.body.is_empty() => match body::json::parse(&self.body) {
                Ok(p) => self.args_post = p,
                Err(e) => self.reqbody_error = Some(e),
            },
            Some(BodyProcessor::Json) => {}
            Some(BodyProcessor::Xml) => match body::xml::parse(&self.body) {
                Ok(d) => self.xml = Some(d),
                Err(e) => self.reqbody_error = Some(e),
            },
            None => {}
        }
        let limit = self.engine.config().arguments_limit;
        if self.args_post.len() > limit {
            // Like ModSecurity's SecArgumentsLimit: a body with more arguments than that is a
            // body error (and the rules never iterate millions of them).
            self.args_post.truncate(limit);
            self.reqbody_error = Some(format!("Request body has more than {limit} arguments"));
        }
        if self.force_body_var {
            self.request_body_var = true;
        }
    }

    pub fn add_response_header(&mut self, name: &[u8], value: &[u8]) {
        let pair = (self.buffer_of(name), self.buffer_of(value));
        self.response_headers.push(pair);
    }

    /// Phase 3.
    pub fn process_response_headers(&mut self, status: u16, http_version: &str) -> Option<Intervention> {
        self.status = status;
        self.response_protocol = self.buffer_of(http_version.as_bytes());
        self.run_phase(3);
        self.intervention.clone()
    }

    pub fn response_body_wanted(&self) -> bool {
        if !self.response_body_access || self.mode == RuleEngineMode::Off || self.intervention.is_some() {
            return false;
        }
        let ct = self.response_header(b"content-type").unwrap_or(b"");
        let mime = ct
            .split(|&c| c == b';')
            .next()
            .unwrap_or(b"")
            .trim_ascii()
            .to_ascii_lowercase();
        self.engine
            .config()
            .response_body_mime_types
            .iter()
            .any(|m| m.as_bytes().eq_ignore_ascii_case(&mime))
    }

    pub fn append_response_body(&mut self, chunk: &[u8]) -> Option<Intervention> {
        if self.response_exceeded {
            return None;
        }
        let room = self.response_body_limit.saturating_sub(self.response_body.len());
        if chunk.len() <= room {
            self.response_body.extend_from_slice(chunk);
            return None;
        }
        self.response_body.extend_from_slice(&chunk[..room]);
        self.response_exceeded = true;
        self.set_tx("outbound_data_error", b"1".to_vec());
        if self.engine.config().response_body_limit_action == LimitAction::Reject
            && self.mode == RuleEngineMode::On
        {
            let iv = Intervention {
                status: 500,
                action: Disruptive::Deny,
                rule_id: None,
                log: format!(
                    "[client {}] ModSecurity: Response body too large (over limit of {}). [unique_id \"{}\"]",
                    self.conn.client_ip, self.response_body_limit, self.id
                ),
            };
            self.intervention = Some(iv.clone());
            return Some(iv);
        }
        None
    }

    /// Phase 4.
    pub fn process_response_body(&mut self) -> Option<Intervention> {
        self.run_phase(4);
        self.intervention.clone()
    }

    /// Phase 5.
    pub fn process_logging(&mut self) {
        self.run_phase(5);
    }

    pub fn matched_rules(&self) -> &[MatchedRule] {
        &self.matched
    }

    pub fn intervention(&self) -> Option<&Intervention> {
        self.intervention.as_ref()
    }

    /// ModSecurity-style error-log lines, one per matched rule that logs.
    pub fn error_log_lines(&self) -> Vec<String> {
        self.log_lines.clone()
    }

    /// The JSON audit-log record of this transaction.
    pub fn audit_record(&self) -> serde_json::Value {
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let headers = |h: &Pairs| {
            serde_json::Value::Object(
                h.iter()
                    .map(|(k, v)| (s(k), serde_json::Value::String(s(v))))
                    .collect(),
            )
        };
        let messages: Vec<serde_json::Value> = self
            .matched
            .iter()
            .filter(|m| m.log || m.disruptive)
            .map(|m| {
                serde_json::json!({
                    "id": m.id, "phase": m.phase, "msg": m.msg, "data": m.data,
                    "severity": m.severity.map(severity::name), "tags": m.tags,
                    "matched_var_name": m.matched_var_name, "disruptive": m.disruptive,
                })
            })
            .collect();
        serde_json::json!({
            "transaction": {
                "id": self.id,
                "client_ip": self.conn.client_ip.to_string(),
                "client_port": self.conn.client_port,
                "server_ip": self.conn.server_ip.to_string(),
                "server_port": self.conn.server_port,
                "request": {
                    "method": s(&self.method), "uri": s(&self.uri_raw), "http_version": s(&self.protocol),
                    "headers": headers(&self.headers),
                    "body_length": self.body.len(),
                },
                "response": {
                    "status": self.status, "headers": headers(&self.response_headers),
                    "body_length": self.response_body.len(),
                },
                "rule_engine": format!("{:?}", self.mode),
                "intervention": self.intervention.as_ref().map(|i| serde_json::json!({
                    "status": i.status, "rule_id": i.rule_id,
                    "action": match &i.action { Disruptive::Deny => "deny".to_string(), Disruptive::Drop => "drop".to_string(), Disruptive::Redirect(u) => format!("redirect:{u}") },
                })),
                "messages": messages,
            }
        })
    }

    // ---- evaluation ----

    fn run_phase(&mut self, phase: u8) {
        if self.phases_done[phase as usize] {
            return;
        }
        self.phases_done[phase as usize] = true;
        self.tcache.get_mut().clear();
        self.reset_screen();
        if self.mode == RuleEngineMode::Off {
            return;
        }
        if phase < 5 && (self.intervention.is_some() || phase <= self.allowed_until) {
            return;
        }
        let engine = self.engine;
        let rules = &engine.phases[(phase - 1) as usize];
        let mut skip = 0u32;
        let mut i = 0;
        if let (1, Some(t)) = (phase, &engine.template) {
            self.apply_template(t);
            i = t.upto;
            skip = t.skip;
        }
        while let Some(entry) = rules.get(i) {
            i += 1;
            let rule = &*entry.rule;
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if self.mode == RuleEngineMode::Off {
                break;
            }
            if entry.fixed != Fixed::No && self.template_applied && self.removed_vars & Var::Tx.bit() == 0 {
                let Fixed::Match { hit, skips } = entry.fixed else {
                    continue;
                };
                // What eval_rule would leave (see template::fixed_outcomes), without the rule.
                let (name, value) = &engine.fixed_hits[hit as usize];
                self.cur_rule = Some(rule);
                self.mv_writes += 1;
                self.matched_var.0.clone_from(name);
                self.matched_var.1.clone_from(value);
                if self.matched_vars.is_empty() {
                    self.matched_vars.push(Default::default());
                }
                self.matched_vars[0].0.clone_from(name);
                self.matched_vars[0].1.clone_from(value);
                self.mv_len = 1;
                if skips {
                    i = entry.skip_to;
                }
                skip = 0;
                continue;
            }
            if self.is_removed(entry.id, rule) {
                continue;
            }
            let matched = if let Some(s) = &entry.screen {
                self.eval_screened(rule, s)
            } else if let Some((key, count)) = &rule.tx_check {
                match self.tx_check(rule, key, *count) {
                    TxCheck::NoMatch => false,
                    TxCheck::Matched => true,
                    TxCheck::Evaluate => self.eval_rule(rule),
                }
            } else {
                self.eval_rule(rule)
            };
            if !matched {
                continue;
            }
            if rule.skip_after.is_some() {
                i = entry.skip_to;
            }
            skip = rule.skip;
            if phase < 5 && self.intervention.is_some() {
                break;
            }
            if let DisruptiveAction::Allow(scope) = rule.disruptive {
                if self.mode == RuleEngineMode::On {
                    self.allowed_until = match scope {
                        AllowScope::Phase => phase,
                        AllowScope::Request => 2.max(phase),
                        AllowScope::All => 4,
                    };
                    break;
                }
            }
        }
        self.cur_rule = None;
    }

    /// Evaluates a rule reading one TX variable (see [`Rule::single_tx_target`]) by a direct
    /// look-up. A single-link rule without `capture` is decided here, with what
    /// [`Self::eval_rule`] would do on its one match (MATCHED_VAR(S), actions, the record): CRS
    /// has some 40 such rules per request (the paranoia-level `skipAfter`s, the anomaly score
    /// checks), most of which match.
    fn tx_check(&mut self, rule: &'e Rule, key: &str, count: bool) -> TxCheck {
        if self.removed_vars & Var::Tx.bit() != 0 {
            // A ctl may have removed the variable from this rule: evaluate in full.
            return TxCheck::Evaluate;
        }
        // Operand macros naming request data apply the current rule's exclusions.
        self.cur_rule = Some(rule);
        let Some(op) = &rule.operator else {
            return TxCheck::Evaluate;
        };
        let v = self.tx.get_key_value(key);
        let value: &[u8] = match (v, count) {
            (Some(_), true) => b"1",
            (None, true) => b"0",
            (Some((_, v)), false) => v,
            // No value: nothing to match, negated or not.
            (None, false) => return TxCheck::NoMatch,
        };
        if op.matches(self, value, None) == rule.negated {
            return TxCheck::NoMatch;
        }
        if rule.chain.is_some() || rule.capture || rule.multi_match {
            return TxCheck::Evaluate;
        }
        // The one hit eval_link would record: `TX:<stored key>` (a count's has no key).
        self.mv_len = 0;
        self.mv_writes += 1;
        let name = &mut self.matched_var.0;
        name.clear();
        name.push_str(Var::Tx.name());
        if let (Some((k, _)), false) = (v, count) {
            if !k.is_empty() {
                name.push(':');
                name.push_str(k);
            }
        }
        self.matched_var.1.clear();
        self.matched_var.1.extend_from_slice(value);
        if self.matched_vars.is_empty() {
            self.matched_vars.push(Default::default());
        }
        let slot = &mut self.matched_vars[0];
        slot.0.clone_from(&self.matched_var.0);
        slot.1.clone_from(&self.matched_var.1);
        self.mv_len = 1;
        self.run_actions(rule);
        self.record_match(rule);
        TxCheck::Matched
    }

    /// Starts phase 1 from the TX template (see [`crate::template`]): its TX, then the transparent
    /// rules it passed over, then MATCHED_VAR as the rules in between would have left it.
    fn apply_template(&mut self, t: &'e Template) {
        self.template_applied = true;
        // Some 160 variables: sized once instead of growing (and rehashing) seven times.
        self.tx.reserve(t.tx.len());
        for (k, v) in &t.tx {
            self.tx.insert(Cow::Borrowed(&**k), Cow::Borrowed(&**v));
        }
        let rules = &self.engine.phases[0];
        let mut last_write: Option<usize> = None;
        for &ri in &t.resume {
            let entry = &rules[ri];
            let rule = &*entry.rule;
            if self.is_removed(entry.id, rule) {
                continue;
            }
            let before = self.mv_writes;
            match &entry.screen {
                Some(s) => self.eval_screened(rule, s),
                None => self.eval_rule(rule),
            };
            if self.mv_writes != before {
                last_write = Some(ri);
            }
        }
        if let Some((at, name, value)) = &t.matched {
            if last_write.is_none_or(|w| w < *at) {
                self.matched_var.0.clone_from(name);
                self.matched_var.1.clone_from(value);
            }
        }
    }

    /// Runs the start of phase 1 that does not depend on the request, for the engine's template.
    pub(crate) fn build_template(engine: &Engine) -> Option<Template> {
        if engine.config().rule_engine == RuleEngineMode::Off {
            return None;
        }
        let mut tx = Transaction::new(engine, ConnInfo::default());
        let rules = &engine.phases[0];
        let mut t = Template::default();
        let (mut i, mut skip, mut pure_rules) = (0, 0u32, 0);
        while let Some(entry) = rules.get(i) {
            let rule = &*entry.rule;
            if skip > 0 {
                skip -= 1;
                i += 1;
                continue;
            }
            if template::pure(rule) {
                let quiet = template::quiet(rule);
                // A rule that would leave a trace if it matched: undo it and stop if it does.
                let undo = (!quiet).then(|| (tx.tx.clone(), tx.matched_var.clone(), tx.mv_writes));
                let before = tx.mv_writes;
                let matched = tx.eval_rule(rule);
                if let (true, Some((vars, mv, writes))) = (matched, undo) {
                    (tx.tx, tx.matched_var, tx.mv_writes) = (vars, mv, writes);
                    break;
                }
                pure_rules += 1;
                if tx.mv_writes != before {
                    t.matched = Some((i, tx.matched_var.0.clone(), tx.matched_var.1.clone()));
                }
                i += 1;
                if matched {
                    if rule.skip_after.is_some() {
                        i = entry.skip_to;
                    }
                    skip = rule.skip;
                }
            } else if template::transparent(rule) {
                t.resume.push(i);
                i += 1;
            } else {
                if std::env::var_os("TEMPLATE_DEBUG").is_some() {
                    eprintln!("template stops at rule {} (index {i})", rule.id);
                }
                break;
            }
        }
        if pure_rules == 0 {
            return None;
        }
        t.upto = i;
        t.skip = skip;
        t.tx = tx
            .tx
            .iter()
            .map(|(k, v)| (Box::from(&**k), Box::from(&**v)))
            .collect();
        Some(t)
    }

    /// Evaluates a screened rule: skipped when its screen shows it cannot match; while a rule
    /// the memo may refine runs, its false verdicts are recorded (see [`Self::refine`]).
    fn eval_screened(&mut self, rule: &'e Rule, s: &RuleScreen) -> bool {
        if s.negated {
            return self.eval_negated_screened(rule, s);
        }
        if !self.screen_passes(s) {
            return false;
        }
        if !s.refine {
            return self.eval_rule(rule);
        }
        self.refining = Some((s.screen, s.group));
        let matched = self.eval_rule(rule);
        self.refining = None;
        matched
    }

    /// A negated screened rule (`!@pmFromFile sql-errors.data` on the response body) matches
    /// every value its operator does not: when the screen shows that none of its literals occurs
    /// in any of its values, the operator is false on each, and the rule is evaluated without
    /// running it.
    fn eval_negated_screened(&mut self, rule: &'e Rule, s: &RuleScreen) -> bool {
        self.head_op_false = !self.screen_passes(s);
        let matched = self.eval_rule(rule);
        self.head_op_false = false;
        matched
    }

    /// `detect(value)`, unless the connection's memo knows `value` is clean for `kind`; a clean
    /// verdict is remembered (a match is not: it is rare, and its captures are needed).
    pub(crate) fn unless_known_clean(
        &self,
        kind: u32,
        value: &[u8],
        detect: impl FnOnce(&[u8]) -> bool,
    ) -> bool {
        if value.len() > screen_memo::MAX_VALUE {
            return detect(value);
        }
        if self.memo.borrow_mut().get(kind, false, value).is_some() {
            return false;
        }
        let found = detect(value);
        if !found {
            self.memo.borrow_mut().remember(value, 0, |_| {});
        }
        found
    }

    /// Records that a screened rule's operator was false on `item`'s value (after the rule's
    /// transformations, those of its chain screen): the connection's memo entry for the value
    /// loses the rule's bit, and the next transaction sending it skips the rule. Only values the
    /// memo can hold count, and only once the connection repeats values: a screen whose values
    /// were all new in this phase is not refined (a value is refined the second time it is
    /// sent). A transaction refines at most [`MAX_REFINES`] values, which bounds the look-ups
    /// when values are new.
    fn refine(&self, screen: u32, group: u32, item: &Item<'_>) {
        let Cow::Borrowed(v) = item.value else { return };
        if self.memo_hits.get() & 1 << (screen % 64) == 0
            || v.len() > screen_memo::MAX_VALUE
            || !item.var.stable()
            || self.refines.get() >= MAX_REFINES
        {
            return;
        }
        self.refines.set(self.refines.get() + 1);
        self.memo.borrow_mut().forget(screen, v, group);
    }

    /// The collections with no value now, as [`Self::gather_values`] reads them (a set bit is
    /// a promise: no value of that variable). Request data stays put for a phase.
    fn empty_collections(&self) -> u128 {
        use Var::*;
        let mut e = 0;
        let (get, post) = (self.args_get.is_empty(), self.args_post.is_empty());
        if get && post {
            e |= Args.bit() | ArgsNames.bit();
        }
        if get {
            e |= ArgsGet.bit() | ArgsGetNames.bit();
        }
        if post {
            e |= ArgsPost.bit() | ArgsPostNames.bit();
        }
        if self.cookies.is_empty() {
            e |= RequestCookies.bit() | RequestCookiesNames.bit();
        }
        if self.xml.is_none() {
            e |= Xml.bit();
        }
        if self.files.is_empty() {
            e |= Files.bit() | FilesNames.bit();
        }
        if self.multipart.is_none() {
            e |= MultipartPartHeaders.bit();
        }
        if !self.request_body_var {
            e |= RequestBody.bit();
        }
        e
    }

    fn reset_screen(&mut self) {
        self.empty_vars = self.empty_collections();
        self.memo_hits.set(0);
        self.screen_off.fill(u32::MAX);
        self.screen_bits.clear();
    }

    /// Whether a screened rule may match: whether one of its literals occurs in a value of one of
    /// its target variables after its transformation chain.
    fn screen_passes(&mut self, s: &RuleScreen) -> bool {
        if s.vars & !self.empty_vars == 0 {
            return false;
        }
        let engine = self.engine;
        let (word, bit) = ((s.group / 64) as usize, 1u64 << (s.group % 64));
        for &p in s.pairs() {
            let mut off = self.screen_off[p as usize];
            if off == u32::MAX {
                let pair = &engine.screens.pairs[p as usize];
                let Some(cs) = engine.screens.chains[pair.screen as usize].as_ref() else {
                    return true;
                };
                off = self.compute_screen(p, cs);
                self.screen_off[p as usize] = off;
            }
            if self.screen_bits[off as usize + word] & bit != 0 {
                return true;
            }
        }
        false
    }

    /// The group bits of one (variable, chain) pair: the OR over all the variable's values,
    /// transformed through the transformation cache (shared with the rules' own evaluation).
    fn compute_screen(&mut self, pair: u16, cs: &ChainScreen) -> u32 {
        let engine = self.engine;
        let pair = &engine.screens.pairs[pair as usize];
        let (target, var, chain, multi) = (&pair.target, pair.target.var, pair.chain, pair.multi);
        let mut bits = std::mem::take(&mut self.screen_bits);
        let off = bits.len();
        bits.resize(off + cs.words, 0);
        let slot = &mut bits[off..];
        let mut all = false;
        {
            let this: &Self = self;
            // One value's bits, OR-ed into `out`.
            let scan = |v: &[u8], out: &mut [u64]| {
                if cs.transforms.is_empty() {
                    cs.scan(v, out);
                } else if multi {
                    // What a multiMatch rule's operator sees: the value and every changed step.
                    cs.scan(v, out);
                    let mut cur: Cow<'_, [u8]> = Cow::Borrowed(v);
                    for t in &cs.transforms {
                        if let Some(next) = t(&cur) {
                            cs.scan(&next, out);
                            cur = Cow::Owned(next);
                        }
                    }
                } else {
                    let key = (v.as_ptr() as usize, v.len(), chain);
                    let mut cache = this.tcache.borrow_mut();
                    let t = cache.entry(key).or_insert_with(|| apply_chain(&cs.transforms, v));
                    cs.scan(t.as_deref().unwrap_or(v), out);
                }
            };
            let mut each = |item: Item<'_>| {
                if all {
                    return;
                }
                let v: &[u8] = &item.value;
                if matches!(item.value, Cow::Owned(_)) || v.len() > CACHE_MAX_VALUE {
                    // Not cached (see eval_link): let the rules look at it themselves.
                    all = true;
                } else if v.len() <= screen_memo::MAX_VALUE {
                    let mut memo = this.memo.borrow_mut();
                    let bits = match memo.get(pair.screen, multi, v) {
                        Some(known) => {
                            this.memo_hits.set(this.memo_hits.get() | 1 << (pair.screen % 64));
                            Some(known)
                        }
                        None => memo.remember(v, cs.words, |own| scan(v, own)),
                    };
                    match bits {
                        Some(b) => slot.iter_mut().zip(b).for_each(|(s, k)| *s |= k),
                        None => scan(v, slot),
                    }
                } else {
                    scan(v, slot);
                }
            };
            match var {
                // Both selections (`/*` texts and `//@*` attributes).
                Var::Xml => {
                    if let Some(doc) = &this.xml {
                        for v in doc.texts.iter().chain(&doc.attrs) {
                            each(Item {
                                var,
                                key: Cow::Borrowed(b""),
                                value: Cow::Borrowed(v),
                            });
                        }
                    }
                }
                _ => this.gather_values(target, None, &mut each),
            }
        }
        if all {
            slot.fill(u64::MAX);
        }
        self.screen_bits = bits;
        off as u32
    }

    /// `id` is the rule's (from its list entry): the rule itself is read only when a ctl removed
    /// rules by tag or message.
    fn is_removed(&self, id: u64, rule: &Rule) -> bool {
        self.removed_ids.iter().any(|r| r.contains(id))
            || (!self.removed_tags.is_empty() && rule.tags.iter().any(|t| self.removed_tags.contains(t)))
            || (!self.removed_msgs.is_empty()
                && rule
                    .msg_text()
                    .is_some_and(|m| self.removed_msgs.iter().any(|x| x.as_bytes() == m)))
    }

    /// Evaluates a rule and its chain; on a full match runs its actions. Returns whether it matched.
    fn eval_rule(&mut self, rule: &'e Rule) -> bool {
        self.cur_rule = Some(rule);
        self.mv_len = 0;
        // As in ModSecurity, each link's non-disruptive actions run as soon as it matches, so a
        // chained rule can test what its parent just set (CRS 920420 sets tx.content_type).
        // The actions run once per matched value, with that value's captures and MATCHED_VAR in
        // place (CRS 920450 builds one TX variable per restricted header this way).
        let mut link = rule;
        loop {
            let Some(n) = self.eval_link(rule, link) else {
                return false;
            };
            if n == 0 {
                self.run_actions(link);
            }
            for i in 0..n {
                let h = &self.hit_pool[i];
                if h.has_caps {
                    for (i, v) in h.caps.iter().enumerate() {
                        const KEYS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
                        // An owned TX.n from an earlier capture is overwritten in place.
                        match self.tx.get_mut(KEYS[i]) {
                            Some(Cow::Owned(buf)) => {
                                buf.clear();
                                buf.extend_from_slice(v);
                            }
                            _ => {
                                self.tx.insert(Cow::Borrowed(KEYS[i]), Cow::Owned(v.clone()));
                            }
                        }
                    }
                }
                // clone_from reuses the buffers: no allocation per match.
                let h = &self.hit_pool[i];
                self.mv_writes += 1;
                self.matched_var.0.clone_from(&h.name);
                self.matched_var.1.clone_from(&h.value);
                if self.mv_len < self.matched_vars.len() {
                    let slot = &mut self.matched_vars[self.mv_len];
                    slot.0.clone_from(&h.name);
                    slot.1.clone_from(&h.value);
                } else {
                    self.matched_vars.push((h.name.clone(), h.value.clone()));
                }
                self.mv_len += 1;
                self.run_actions(link);
            }
            match &link.chain {
                Some(next) => link = next,
                None => break,
            }
        }
        self.record_match(rule);
        true
    }

    fn run_actions(&mut self, rule: &'e Rule) {
        for sv in &rule.setvars {
            // Names are nearly always constant: lower-cased at load time, no allocation here.
            let name: Cow<'e, str> = match sv.name.constant() {
                Some(c) => Cow::Borrowed(std::str::from_utf8(c).unwrap_or("")),
                None => {
                    // Lower-cased in place: ASCII case never changes which bytes are valid UTF-8.
                    let mut name = self.expand(&sv.name);
                    name.make_ascii_lowercase();
                    Cow::Owned(lossy(name))
                }
            };
            // `=+%{tx.x}` only needs the number (no copy of the operand); `=%{tx.x}` of a value
            // the rules set borrows it like a constant.
            let (value, number): (Cow<'e, [u8]>, i64) = match (sv.value.constant(), sv.op) {
                (Some(c), _) => (Cow::Borrowed(c), atoi(c)),
                (None, SetOp::Delete) => (Cow::Borrowed(b""), 0),
                (None, SetOp::Add | SetOp::Sub) => (Cow::Borrowed(b""), atoi(&self.expand_cow(&sv.value))),
                (None, SetOp::Set) => (self.expand_to_value(&sv.value), 0),
            };
            let map = if sv.collection == "tx" {
                &mut self.tx
            } else {
                self.collections.entry(sv.collection.clone()).or_default()
            };
            match sv.op {
                SetOp::Set => {
                    map.insert(name, value);
                }
                SetOp::Add | SetOp::Sub => {
                    let cur = map.get(name.as_ref()).map_or(0, |v| atoi(v));
                    let d = number;
                    let n = if sv.op == SetOp::Add {
                        cur.saturating_add(d)
                    } else {
                        cur.saturating_sub(d)
                    };
                    // Anomaly scores are added to over and over: rewrite an owned value in place.
                    match map.get_mut(name.as_ref()) {
                        Some(Cow::Owned(buf)) => {
                            buf.clear();
                            let _ = std::io::Write::write_fmt(buf, format_args!("{n}"));
                        }
                        _ => {
                            let mut buf = Vec::with_capacity(8);
                            let _ = std::io::Write::write_fmt(&mut buf, format_args!("{n}"));
                            map.insert(name, Cow::Owned(buf));
                        }
                    }
                }
                SetOp::Delete => {
                    map.remove(name.as_ref());
                }
            }
        }
        for c in &rule.ctls {
            match c {
                Ctl::RuleEngine(m) => self.mode = *m,
                Ctl::RuleRemoveById(r) => self.removed_ids.extend_from_slice(r),
                Ctl::RuleRemoveByTag(t) => self.removed_tags.push(t.clone()),
                Ctl::RuleRemoveByMsg(m) => self.removed_msgs.push(m.clone()),
                Ctl::RuleRemoveTargetById(ids, ex) => self
                    .removed_targets
                    .extend(ex.iter().map(|e| (RuleSel::Ids(ids.clone()), e.clone()))),
                Ctl::RuleRemoveTargetByTag(t, ex) => self
                    .removed_targets
                    .extend(ex.iter().map(|e| (RuleSel::Tag(t.clone()), e.clone()))),
                Ctl::RuleRemoveTargetByMsg(m, ex) => self
                    .removed_targets
                    .extend(ex.iter().map(|e| (RuleSel::Msg(m.clone()), e.clone()))),
                Ctl::RequestBodyProcessor(p) => self.body_processor = Some(*p),
                Ctl::ForceRequestBodyVariable(b) => self.force_body_var = *b,
                Ctl::RequestBodyAccess(b) => self.request_body_access = *b,
                Ctl::ResponseBodyAccess(b) => self.response_body_access = *b,
                Ctl::RequestBodyLimit(n) => self.request_body_limit = *n,
                Ctl::ResponseBodyLimit(n) => self.response_body_limit = *n,
                Ctl::Audit => {}
            }
            if let Ctl::RuleRemoveTargetById(_, ex)
            | Ctl::RuleRemoveTargetByTag(_, ex)
            | Ctl::RuleRemoveTargetByMsg(_, ex) = c
            {
                self.removed_vars |= ex.iter().fold(0, |m, e| m | e.var.bit());
            }
        }
        if !rule.ctls.is_empty() {
            // A ctl may change what the variables hold (forceRequestBodyVariable): the screens
            // and the empty collections are taken anew, after it.
            self.reset_screen();
        }
    }

    fn record_match(&mut self, rule: &'e Rule) {
        if let Some(s) = rule.severity {
            self.highest_severity = Some(self.highest_severity.map_or(s, |h| h.min(s)));
        }
        let blocking = matches!(
            rule.disruptive,
            DisruptiveAction::Deny | DisruptiveAction::Drop | DisruptiveAction::Redirect(_)
        );
        if !rule.log && !blocking {
            // Like ModSecurity, only logging or disruptive matches are reported; CRS's many
            // flow-control rules (nolog, pass) would only cost allocations here.
            return;
        }
        let msg = rule
            .msg
            .as_ref()
            .map(|m| lossy(self.expand(m)))
            .unwrap_or_default();
        let data = rule
            .logdata
            .as_ref()
            .map(|m| lossy(self.expand(m)))
            .unwrap_or_default();
        let intervene = blocking && self.mode == RuleEngineMode::On;
        let status = rule.status.unwrap_or(match rule.disruptive {
            DisruptiveAction::Redirect(_) => 302,
            _ => 403,
        });
        let line = if rule.log || intervene {
            Some(self.log_line(rule, &msg, &data, intervene, status))
        } else {
            None
        };
        if let Some(l) = &line {
            self.log_lines.push(l.clone());
        }
        self.matched.push(MatchedRule {
            id: rule.id,
            phase: rule.phase,
            msg,
            data,
            severity: rule.severity,
            tags: rule.tags.clone(),
            matched_var: lossy(self.matched_var.1.clone()),
            matched_var_name: self.matched_var.0.clone(),
            log: rule.log,
            disruptive: blocking,
        });
        if intervene {
            let action = match &rule.disruptive {
                DisruptiveAction::Drop => Disruptive::Drop,
                DisruptiveAction::Redirect(u) => Disruptive::Redirect(lossy(self.expand(&Macro::parse(u)))),
                _ => Disruptive::Deny,
            };
            self.intervention = Some(Intervention {
                status,
                action,
                rule_id: Some(rule.id),
                log: line.unwrap_or_default(),
            });
        }
    }

    fn log_line(&self, rule: &Rule, msg: &str, data: &str, intervene: bool, status: u16) -> String {
        use std::fmt::Write;
        let esc = log_escape;
        let mut l = format!("[client {}] ModSecurity: ", self.conn.client_ip);
        if intervene {
            let _ = write!(l, "Access denied with code {status} (phase {}). ", rule.phase);
        } else {
            l.push_str("Warning. ");
        }
        if rule.operator_text.is_empty() {
            l.push_str("Unconditional match in SecAction.");
        } else {
            let _ = write!(
                l,
                "Matched \"{}\" against \"{}\" required.",
                esc(&rule.operator_text),
                esc(&self.matched_var.0)
            );
        }
        let _ = write!(
            l,
            " [file \"{}\"] [line \"{}\"] [id \"{}\"]",
            esc(&rule.file),
            rule.line,
            rule.id
        );
        if !msg.is_empty() {
            let _ = write!(l, " [msg \"{}\"]", esc(msg));
        }
        if !data.is_empty() {
            let _ = write!(l, " [data \"{}\"]", esc(data));
        }
        if let Some(s) = rule.severity {
            let _ = write!(l, " [severity \"{}\"]", severity::name(s));
        }
        if let Some(v) = &rule.ver {
            let _ = write!(l, " [ver \"{}\"]", esc(v));
        }
        if let Some(v) = &rule.rev {
            let _ = write!(l, " [rev \"{}\"]", esc(v));
        }
        if let Some(v) = &rule.maturity {
            let _ = write!(l, " [maturity \"{}\"]", esc(v));
        }
        if let Some(v) = &rule.accuracy {
            let _ = write!(l, " [accuracy \"{}\"]", esc(v));
        }
        for t in &rule.tags {
            let _ = write!(l, " [tag \"{}\"]", esc(t));
        }
        let host = self
            .header(b"host")
            .map(|h| lossy(h.to_vec()))
            .unwrap_or_else(|| self.conn.server_ip.to_string());
        let _ = write!(
            l,
            " [hostname \"{}\"] [uri \"{}\"] [unique_id \"{}\"]",
            esc(&host),
            esc(&lossy(self.uri.clone())),
            self.id
        );
        l
    }

    /// Evaluates one link of a chain: every target value, transformed, against the operator.
    /// `None` when nothing matched; an empty list for `SecAction`.
    /// Matches go to `self.hit_pool[..n]`, whose buffers are reused from rule to rule.
    fn eval_link(&mut self, head: &Rule, rule: &Rule) -> Option<usize> {
        let Some(op) = &rule.operator else {
            return Some(0);
        };
        let mut pool = std::mem::take(&mut self.hit_pool);
        let mut n = 0usize;
        let mut caps = std::mem::take(&mut self.scratch_caps);
        let op_false = self.head_op_false && std::ptr::eq(head, rule);
        let refining = self.refining.filter(|_| std::ptr::eq(head, rule));
        {
            let this: &Self = self;
            let mut each = |item: Item<'_>| {
                let check = |v: &[u8], caps: &mut Captures| -> bool {
                    let want_caps = rule.capture;
                    let hit = !op_false && op.matches(this, v, if want_caps { Some(caps) } else { None });
                    if !hit {
                        if let Some((screen, group)) = refining {
                            this.refine(screen, group, &item);
                        }
                    }
                    hit != rule.negated
                };
                let want = |caps: &Captures| rule.capture && !caps.is_empty();
                let mut hit = false;
                if rule.transforms.is_empty() {
                    if check(&item.value, &mut caps) {
                        push_hit(
                            &mut pool,
                            &mut n,
                            &item,
                            &item.value,
                            want(&caps).then_some(&caps),
                        );
                    }
                } else if !rule.multi_match
                    && matches!(item.value, Cow::Borrowed(_))
                    && item.var.stable()
                    && item.value.len() <= CACHE_MAX_VALUE
                {
                    // The same values go through the same transformation chains in many rules:
                    // transform each once per phase.
                    let key = (item.value.as_ptr() as usize, item.value.len(), rule.chain_id);
                    let mut cache = this.tcache.borrow_mut();
                    let transformed = cache
                        .entry(key)
                        .or_insert_with(|| apply_chain(&rule.transforms, &item.value));
                    // Operators read TX and the request data, never this cache: the borrow is safe.
                    let v: &[u8] = transformed.as_deref().unwrap_or(&item.value);
                    if check(v, &mut caps) {
                        push_hit(&mut pool, &mut n, &item, v, want(&caps).then_some(&caps));
                    }
                } else {
                    let mut cur: Cow<'_, [u8]> = Cow::Borrowed(&item.value);
                    if rule.multi_match && check(&cur, &mut caps) {
                        push_hit(&mut pool, &mut n, &item, &cur, want(&caps).then_some(&caps));
                        hit = true;
                    }
                    for t in &rule.transforms {
                        if let Some(next) = t(&cur) {
                            cur = Cow::Owned(next);
                            if rule.multi_match && !hit && check(&cur, &mut caps) {
                                push_hit(&mut pool, &mut n, &item, &cur, want(&caps).then_some(&caps));
                                hit = true;
                            }
                        }
                    }
                    if !rule.multi_match && check(&cur, &mut caps) {
                        push_hit(&mut pool, &mut n, &item, &cur, want(&caps).then_some(&caps));
                    }
                }
            };
            for t in &rule.targets {
                this.gather(t, head, rule, &mut each);
            }
        }
        self.scratch_caps = caps;
        self.hit_pool = pool;
        (n > 0).then_some(n)
    }

    fn excluded(&self, head: &Rule, rule: &Rule, var: Var, key: &[u8]) -> bool {
        (rule.excluded_vars & var.bit() != 0 && rule.exclusions.iter().any(|e| e.excludes(var, key)))
            || (self.removed_vars & var.bit() != 0
                && self.removed_targets.iter().any(|(sel, e)| {
                    e.excludes(var, key)
                        && match sel {
                            RuleSel::Ids(ids) => ids.iter().any(|r| r.contains(head.id)),
                            RuleSel::Tag(t) => head.tags.iter().any(|x| x == t),
                            RuleSel::Msg(m) => head.msg_text().is_some_and(|x| x == m.as_bytes()),
                        }
                }))
    }

    /// Hands the values a target selects (or their count) to `out`, without collecting them.
    fn gather<'s>(&'s self, t: &Target, head: &Rule, rule: &Rule, out: &mut dyn FnMut(Item<'s>)) {
        if t.count {
            let mut n = 0usize;
            self.gather_values(t, Some((head, rule)), &mut |_| n += 1);
            out(Item {
                var: t.var,
                key: Cow::Borrowed(b""),
                value: number(n),
            });
        } else {
            self.gather_values(t, Some((head, rule)), out);
        }
    }

    /// `excl`: the (head, link) rules whose exclusions apply; `None` for every value.
    fn gather_values<'s>(&'s self, t: &Target, excl: Option<(&Rule, &Rule)>, out: &mut dyn FnMut(Item<'s>)) {
        let var = t.var;
        let sel = t.sel.as_ref();
        // Decided once per target: most rules exclude nothing from most collections.
        let may_exclude =
            excl.is_some_and(|(_, rule)| (rule.excluded_vars | self.removed_vars) & var.bit() != 0);
        let is_excluded = |key: &[u8]| excl.is_some_and(|(head, rule)| self.excluded(head, rule, var, key));
        let keep = |key: &[u8]| sel.is_none_or(|s| s.matches(key)) && !(may_exclude && is_excluded(key));
        let pairs = |list: &'s Pairs, names: bool, out: &mut dyn FnMut(Item<'s>)| {
            for (k, v) in list {
                if keep(k) {
                    let value = if names {
                        Cow::Borrowed(k.as_slice())
                    } else {
                        Cow::Borrowed(v.as_slice())
                    };
                    out(Item {
                        var,
                        key: Cow::Borrowed(k.as_slice()),
                        value,
                    });
                }
            }
        };
        let scalar = |v: Cow<'s, [u8]>, out: &mut dyn FnMut(Item<'s>)| {
            if !is_excluded(b"") {
                out(Item {
                    var,
                    key: Cow::Borrowed(b""),
                    value: v,
                });
            }
        };
        let num = number;
        let map_items = |m: Option<&'s VarMap<'e>>, out: &mut dyn FnMut(Item<'s>)| {
            let Some(m) = m else { return };
            match sel {
                Some(KeySel::Key(k)) => {
                    if let Some((key, v)) = m.get_key_value(k.as_str()) {
                        if !is_excluded(key.as_bytes()) {
                            out(Item {
                                var,
                                key: Cow::Borrowed(key.as_bytes()),
                                value: Cow::Borrowed(&**v),
                            });
                        }
                    }
                }
                _ => {
                    for (k, v) in m {
                        if keep(k.as_bytes()) {
                            out(Item {
                                var,
                                key: Cow::Borrowed(k.as_bytes()),
                                value: Cow::Borrowed(&**v),
                            });
                        }
                    }
                }
            }
        };
        use Var::*;
        match var {
            Args => {
                pairs(&self.args_get, false, out);
                pairs(&self.args_post, false, out);
            }
            ArgsGet => pairs(&self.args_get, false, out),
            ArgsPost => pairs(&self.args_post, false, out),
            ArgsNames => {
                pairs(&self.args_get, true, out);
                pairs(&self.args_post, true, out);
            }
            ArgsGetNames => pairs(&self.args_get, true, out),
            ArgsPostNames => pairs(&self.args_post, true, out),
            ArgsCombinedSize => {
                let n: usize = self
                    .args_get
                    .iter()
                    .chain(&self.args_post)
                    .map(|(k, v)| k.len() + v.len())
                    .sum();
                scalar(num(n), out)
            }
            RequestHeaders => pairs(&self.headers, false, out),
            RequestHeadersNames => pairs(&self.headers, true, out),
            RequestCookies => pairs(&self.cookies, false, out),
            RequestCookiesNames => pairs(&self.cookies, true, out),
            ResponseHeaders => pairs(&self.response_headers, false, out),
            ResponseHeadersNames => pairs(&self.response_headers, true, out),
            RequestFilename => scalar(Cow::Borrowed(&self.filename), out),
            RequestBasename => scalar(Cow::Borrowed(&self.basename), out),
            RequestUri => scalar(Cow::Borrowed(&self.uri), out),
            RequestUriRaw => scalar(Cow::Borrowed(&self.uri_raw), out),
            RequestLine => scalar(Cow::Borrowed(&self.request_line), out),
            RequestMethod => scalar(Cow::Borrowed(&self.method), out),
            RequestProtocol => scalar(Cow::Borrowed(&self.protocol), out),
            QueryString => scalar(Cow::Borrowed(&self.query), out),
            RequestBody => {
                if self.request_body_var {
                    scalar(Cow::Borrowed(&self.body), out)
                }
            }
            RequestBodyLength => scalar(num(self.body.len()), out),
            FullRequest => {
                let mut f = self.request_line.clone();
                f.extend_from_slice(b"\r\n");
                for (k, v) in &self.headers {
                    f.extend_from_slice(k);
                    f.extend_from_slice(b": ");
                    f.extend_from_slice(v);
                    f.extend_from_slice(b"\r\n");
                }
                f.extend_from_slice(b"\r\n");
                f.extend_from_slice(&self.body);
                scalar(Cow::Owned(f), out)
            }
            FullRequestLength => {
                let n = self.request_line.len()
                    + 2
                    + self
                        .headers
                        .iter()
                        .map(|(k, v)| k.len() + v.len() + 4)
                        .sum::<usize>()
                    + 2
                    + self.body.len();
                scalar(num(n), out)
            }
            Xml => {
                if let Some(doc) = &self.xml {
                    let attrs = matches!(sel, Some(KeySel::Key(k)) if k == "//@*");
                    let list = if attrs { &doc.attrs } else { &doc.texts };
                    let key: &'static [u8] = if attrs { b"//@*" } else { b"/*" };
                    if !is_excluded(key) {
                        for v in list {
                            out(Item {
                                var,
                                key: Cow::Borrowed(key),
                                value: Cow::Borrowed(v),
                            });
                        }
                    }
                }
            }
            Files | FilesNames | FilesSizes | FilesTmpNames => {
                for (name, file, size) in &self.files {
                    if keep(name) {
                        let value = match var {
                            Files => Cow::Borrowed(file.as_slice()),
                            FilesNames => Cow::Borrowed(name.as_slice()),
                            FilesSizes => num(*size),
                            _ => Cow::Borrowed(&b""[..]),
                        };
                        out(Item {
                            var,
                            key: Cow::Borrowed(name.as_slice()),
                            value,
                        });
                    }
                }
            }
            FilesCombinedSize => scalar(num(self.files.iter().map(|f| f.2).sum()), out),
            MultipartPartHeaders => {
                if let Some(m) = &self.multipart {
                    pairs(&m.part_headers, false, out)
                }
            }
            MultipartFilename | MultipartName => {
                for (name, file, _) in &self.files {
                    let v = if var == MultipartFilename { file } else { name };
                    if keep(name) {
                        out(Item {
                            var,
                            key: Cow::Borrowed(name.as_slice()),
                            value: Cow::Borrowed(v.as_slice()),
                        });
                    }
                }
            }
            MultipartStrictError
            | MultipartUnmatchedBoundary
            | MultipartBoundaryQuoted
            | MultipartBoundaryWhitespace
            | MultipartDataBefore
            | MultipartDataAfter
            | MultipartHeaderFolding
            | MultipartLfLine
            | MultipartMissingSemicolon
            | MultipartInvalidQuoting
            | MultipartInvalidPart
            | MultipartInvalidHeaderFolding
            | MultipartFileLimitExceeded
            | MultipartCrlfLfLines => {
                let m = self.multipart.as_ref();
                let flag = m.is_some_and(|m| match var {
                    MultipartStrictError => m.strict_error(),
                    MultipartUnmatchedBoundary => m.unmatched_boundary,
                    MultipartBoundaryQuoted => m.boundary_quoted,
                    MultipartBoundaryWhitespace => m.boundary_whitespace,
                    MultipartDataBefore => m.data_before,
                    MultipartDataAfter => m.data_after,
                    MultipartHeaderFolding | MultipartInvalidHeaderFolding => m.header_folding,
                    MultipartLfLine => m.lf_line,
                    MultipartMissingSemicolon => m.missing_semicolon,
                    MultipartInvalidQuoting => m.invalid_quoting,
                    MultipartInvalidPart => m.invalid_part,
                    MultipartCrlfLfLines => m.lf_line && m.crlf_line,
                    _ => false,
                });
                scalar(Cow::Borrowed(if flag { b"1" } else { b"0" }), out)
            }
            ReqbodyError => scalar(
                Cow::Borrowed(if self.reqbody_error.is_some() { b"1" } else { b"0" }),
                out,
            ),
            ReqbodyErrorMsg => scalar(
                Cow::Borrowed(self.reqbody_error.as_deref().unwrap_or("").as_bytes()),
                out,
            ),
            ReqbodyProcessorError => scalar(
                Cow::Borrowed(if self.reqbody_error.is_some() { b"1" } else { b"0" }),
                out,
            ),
            ReqbodyProcessor => {
                // Always present (empty when no processor applies): CRS 901340 tests it with `!@rx`.
                let p = self
                    .reqbody_processor
                    .or(self.body_processor)
                    .or_else(|| self.default_processor());
                scalar(Cow::Borrowed(p.map_or("", |p| p.name()).as_bytes()), out)
            }
            InboundDataError => scalar(Cow::Borrowed(if self.body_exceeded { b"1" } else { b"0" }), out),
            OutboundDataError => scalar(
                Cow::Borrowed(if self.response_exceeded { b"1" } else { b"0" }),
                out,
            ),
            UrlencodedError => scalar(Cow::Borrowed(b"0"), out),
            ResponseBody => scalar(Cow::Borrowed(&self.response_body), out),
            ResponseStatus => scalar(num(self.status as usize), out),
            ResponseProtocol => scalar(Cow::Borrowed(&self.response_protocol), out),
            ResponseContentType => scalar(
                Cow::Borrowed(self.response_header(b"content-type").unwrap_or(b"")),
                out,
            ),
            ResponseContentLength => scalar(
                Cow::Borrowed(self.response_header(b"content-length").unwrap_or(b"")),
                out,
            ),
            StatusLine => {
                let s = format!(
                    "{} {}",
                    String::from_utf8_lossy(&self.response_protocol),
                    self.status
                );
                scalar(Cow::Owned(s.into_bytes()), out)
            }
            MatchedVar => scalar(Cow::Borrowed(&self.matched_var.1), out),
            MatchedVarName => scalar(Cow::Borrowed(self.matched_var.0.as_bytes()), out),
            MatchedVars | MatchedVarsNames => {
                for (k, v) in &self.matched_vars[..self.mv_len] {
                    if keep(k.as_bytes()) {
                        let value = if var == MatchedVars {
                            Cow::Borrowed(v.as_slice())
                        } else {
                            Cow::Borrowed(k.as_bytes())
                        };
                        out(Item {
                            var,
                            key: Cow::Borrowed(k.as_bytes()),
                            value,
                        });
                    }
                }
            }
            Tx => map_items(Some(&self.tx), out),
            Ip | Global | Session | User | Resource => {
                map_items(self.collections.get(&var.name().to_ascii_lowercase()), out)
            }
            Env => {
                if let Some(KeySel::Key(k)) = sel {
                    if let Some(v) = Some(k.as_str()).and_then(|k| {
                        std::env::vars_os()
                            .find(|(n, _)| n.to_string_lossy().eq_ignore_ascii_case(k))
                            .map(|(_, v)| v.to_string_lossy().into_owned())
                    }) {
                        out(Item {
                            var,
                            key: Cow::Owned(k.clone().into_bytes()),
                            value: Cow::Owned(v.into_bytes()),
                        });
                    }
                }
            }
            Geo | WebserverErrorLog => {}
            Rule => {
                if let Some(r) = self.cur_rule {
                    let fields: [(&[u8], Cow<'s, [u8]>); 4] = [
                        (b"id", num(r.id as usize)),
                        (b"phase", num(r.phase as usize)),
                        (b"severity", num(r.severity.unwrap_or(0) as usize)),
                        (
                            b"msg",
                            Cow::Owned(r.msg.as_ref().map(|m| self.expand(m)).unwrap_or_default()),
                        ),
                    ];
                    for (k, v) in fields {
                        if keep(k) {
                            out(Item {
                                var,
                                key: Cow::Borrowed(k),
                                value: v,
                            });
                        }
                    }
                }
            }
            UniqueId => scalar(Cow::Borrowed(self.id.as_bytes()), out),
            RemoteAddr | RemoteHost => {
                let addr = self
                    .remote_addr
                    .get_or_init(|| self.conn.client_ip.to_string().into_bytes());
                scalar(Cow::Borrowed(addr), out)
            }
            RemotePort => scalar(num(self.conn.client_port as usize), out),
            ServerAddr => scalar(Cow::Owned(self.conn.server_ip.to_string().into_bytes()), out),
            ServerPort => scalar(num(self.conn.server_port as usize), out),
            ServerName => {
                let host = self.header(b"host").unwrap_or(b"");
                let name = match host.iter().rposition(|&c| c == b':') {
                    Some(p) if !host.ends_with(b"]") => &host[..p],
                    _ => host,
                };
                scalar(Cow::Borrowed(name), out)
            }
            Duration => scalar(num(self.start.elapsed().as_millis() as usize), out),
            HighestSeverity => scalar(num(self.highest_severity.unwrap_or(255) as usize), out),
            Time | TimeDay | TimeEpoch | TimeHour | TimeMin | TimeMon | TimeSec | TimeWday | TimeYear => {
                scalar(Cow::Owned(time_var(var).into_bytes()), out)
            }
            AuthType | RemoteUser | PathInfo | Sessionid | Userid => scalar(Cow::Borrowed(b""), out),
        }
    }

    /// A setvar value: [`Self::expand`], except that a single TX variable holding a constant of
    /// the rules is borrowed again rather than copied.
    fn expand_to_value(&self, m: &Macro) -> Cow<'e, [u8]> {
        if let [Part::Var(Var::Tx, Some(k))] = m.parts.as_slice() {
            match self.tx.get(k.as_str()) {
                Some(Cow::Borrowed(b)) => return Cow::Borrowed(b),
                Some(Cow::Owned(v)) => return Cow::Owned(v.clone()),
                None => return Cow::Borrowed(b""),
            }
        }
        Cow::Owned(self.expand(m))
    }

    /// Like [`Self::expand`], without copying when the macro is a single TX variable.
    pub(crate) fn expand_cow<'a>(&'a self, m: &'a Macro) -> Cow<'a, [u8]> {
        if let [Part::Var(Var::Tx, Some(k))] = m.parts.as_slice() {
            return Cow::Borrowed(self.tx.get(k.as_str()).map_or(&b""[..], |v| &**v));
        }
        Cow::Owned(self.expand(m))
    }

    /// Expands the macros of `m`.
    pub(crate) fn expand(&self, m: &Macro) -> Vec<u8> {
        // Room for the literal parts and a short value per variable: one allocation, mostly.
        let room: usize = m
            .parts
            .iter()
            .map(|p| if let Part::Lit(l) = p { l.len() } else { 16 })
            .sum();
        let mut out = Vec::with_capacity(room);
        for p in &m.parts {
            match p {
                Part::Lit(l) => out.extend_from_slice(l),
                Part::Var(var, key) => match var {
                    Var::Tx => {
                        if let Some(v) = key.as_deref().and_then(|k| self.tx.get(k)) {
                            let v: &[u8] = v;
                            out.extend_from_slice(v);
                        }
                    }
                    Var::MatchedVar => out.extend_from_slice(&self.matched_var.1),
                    Var::MatchedVarName => out.extend_from_slice(self.matched_var.0.as_bytes()),
                    Var::Rule if key.as_deref() == Some("msg") => {
                        if let Some(m) = self.cur_rule.and_then(|r| r.msg.as_ref()) {
                            if m.parts.iter().all(|p| matches!(p, Part::Lit(_))) {
                                out.extend_from_slice(m.constant().unwrap_or(b""));
                            }
                        }
                    }
                    _ => {
                        let Some(rule) = self.cur_rule else { continue };
                        let target = Target {
                            var: *var,
                            sel: key.as_ref().map(|k| KeySel::Key(k.clone())),
                            count: false,
                        };
                        let mut first = true;
                        self.gather(&target, rule, rule, &mut |i| {
                            if first {
                                out.extend_from_slice(&i.value);
                                first = false;
                            }
                        });
                    }
                },
            }
        }
        out
    }

    fn set_tx(&mut self, key: &str, value: Vec<u8>) {
        self.tx.insert(Cow::Owned(key.to_string()), Cow::Owned(value));
    }

    /// Reads a TX variable (lower-case name), for tests and the proxy's diagnostics.
    pub fn tx_var(&self, name: &str) -> Option<&[u8]> {
        self.tx.get(name.to_ascii_lowercase().as_str()).map(|v| &**v)
    }
}

/// A transformation chain's result; `None` when no step changed the value.
fn apply_chain(chain: &[crate::transformations::Transform], value: &[u8]) -> Option<Vec<u8>> {
    let mut cur: Option<Vec<u8>> = None;
    for t in chain {
        if let Some(next) = t(cur.as_deref().unwrap_or(value)) {
            cur = Some(next);
        }
    }
    cur
}

/// Records a match in the pool's next slot, reusing its buffers.
fn push_hit(pool: &mut Vec<Hit>, n: &mut usize, item: &Item<'_>, value: &[u8], caps: Option<&Captures>) {
    if *n == pool.len() {
        pool.push(Hit::default());
    }
    let h = &mut pool[*n];
    h.name.clear();
    h.name.push_str(item.var.name());
    if !item.key.is_empty() {
        h.name.push(':');
        h.name.push_str(&String::from_utf8_lossy(&item.key));
    }
    h.value.clear();
    h.value.extend_from_slice(value);
    // clone_from writes into the buffers this slot's last match left.
    match caps {
        Some(c) => {
            h.caps.clone_from(c);
            h.has_caps = true;
        }
        None => h.has_caps = false,
    }
    *n += 1;
}

/// A count or size as a value; the small ones (most `&` counts) without allocating.
fn number(n: usize) -> Cow<'static, [u8]> {
    const DIGITS: [&[u8]; 10] = [b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9"];
    match DIGITS.get(n) {
        Some(d) => Cow::Borrowed(d),
        None => Cow::Owned(n.to_string().into_bytes()),
    }
}

/// `%XX` decoding only (no `+`); invalid escapes stay as they are.
fn percent_decode_into(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
}

fn hex(c: u8) -> Option<u8> {
    crate::transformations::hex_val(c)
}

/// Escapes a value for a log line as ModSecurity does: quotes, backslashes and control characters.
fn log_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn lossy(v: Vec<u8>) -> String {
    match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// `Cookie: a=1; b=2` → pairs; values are not decoded (ModSecurity v0 cookies).
fn parse_cookies(value: &[u8], out: &mut Pairs) {
    for part in value.split(|&c| c == b';') {
        let part = part.trim_ascii();
        if part.is_empty() {
            continue;
        }
        match memchr::memchr(b'=', part) {
            Some(eq) => out.push((
                part[..eq].trim_ascii().to_vec(),
                part[eq + 1..].trim_ascii().to_vec(),
            )),
            None => out.push((part.to_vec(), Vec::new())),
        }
    }
}

fn time_var(var: Var) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, mi, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let wday = (days + 4).rem_euclid(7);
    match var {
        Var::TimeEpoch => secs.to_string(),
        Var::TimeYear => y.to_string(),
        Var::TimeMon => format!("{:02}", m - 1),
        Var::TimeDay => d.to_string(),
        Var::TimeHour => format!("{h:02}"),
        Var::TimeMin => format!("{mi:02}"),
        Var::TimeSec => format!("{s:02}"),
        Var::TimeWday => wday.to_string(),
        _ => format!("{h:02}:{mi:02}:{s:02}"),
    }
}

#[cfg(test)]
mod buffer_tests {
    use crate::{ConnInfo, Engine, TxBuffers};

    /// What a connection keeps between requests stays small whatever the last request sent.
    #[test]
    fn an_idle_connection_keeps_bounded_buffers() {
        let e = Engine::from_str("SecRuleEngine On\nSecRequestBodyAccess On\n", "<test>").unwrap();
        let big = vec![b'x'; 4000];
        let mut bufs = TxBuffers::default();
        for _ in 0..3 {
            let mut tx = e.transaction_reusing(ConnInfo::default(), bufs);
            tx.process_uri("POST", "/", "HTTP/1.1");
            for i in 0..100 {
                tx.add_request_header(format!("X-{i:03}").as_bytes(), &big);
            }
            tx.add_request_header(b"Content-Type", b"text/plain");
            tx.process_request_headers();
            tx.append_request_body(&vec![b'b'; 100_000]);
            tx.process_request_body();
            bufs = tx.into_buffers();
            let spare: usize = bufs.spare.iter().map(|b| b.capacity()).sum();
            assert!(
                spare <= super::KEEP_SPARE_BYTES && bufs.spare.len() <= super::KEEP_SPARE,
                "{spare}"
            );
            // Most header buffers are kept (4 of 4 KB, the rest small).
            assert!(bufs.spare.len() >= 50, "{}", bufs.spare.len());
            assert!(bufs.body.capacity() <= super::KEEP_BODY_CAPACITY);
        }
    }
}

#[cfg(test)]
mod unique_id_tests {
    #[test]
    fn hex_as_the_format_macro_writes_it() {
        for (v, w) in [
            (0u64, 1),
            (0, 5),
            (0x1f, 4),
            (0xffff, 4),
            (0x6745_fa12, 1),
            (u64::MAX, 1),
            (0x12345, 5),
        ] {
            let mut s = String::new();
            super::push_hex(&mut s, v, w);
            assert_eq!(s, format!("{v:0w$x}"));
        }
        let id = super::unique_id();
        assert!(
            id.len() >= 10 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
}
