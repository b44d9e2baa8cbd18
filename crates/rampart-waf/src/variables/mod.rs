//! Variables and collections a rule can target.

use crate::operators::Rx;

/// Every variable the engine knows. Collections take selectors; the rest are single values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::enum_variant_names)] // Names mirror SecLang (MATCHED_VAR).
pub(crate) enum Var {
    Args,
    ArgsGet,
    ArgsPost,
    ArgsNames,
    ArgsGetNames,
    ArgsPostNames,
    ArgsCombinedSize,
    RequestHeaders,
    RequestHeadersNames,
    RequestCookies,
    RequestCookiesNames,
    RequestFilename,
    RequestBasename,
    RequestUri,
    RequestUriRaw,
    RequestLine,
    RequestMethod,
    RequestProtocol,
    QueryString,
    RequestBody,
    RequestBodyLength,
    FullRequest,
    FullRequestLength,
    Xml,
    Files,
    FilesNames,
    FilesSizes,
    FilesCombinedSize,
    FilesTmpNames,
    MultipartStrictError,
    MultipartUnmatchedBoundary,
    MultipartPartHeaders,
    MultipartFilename,
    MultipartName,
    MultipartBoundaryQuoted,
    MultipartBoundaryWhitespace,
    MultipartDataBefore,
    MultipartDataAfter,
    MultipartHeaderFolding,
    MultipartLfLine,
    MultipartMissingSemicolon,
    MultipartInvalidQuoting,
    MultipartInvalidPart,
    MultipartInvalidHeaderFolding,
    MultipartFileLimitExceeded,
    MultipartCrlfLfLines,
    ReqbodyError,
    ReqbodyErrorMsg,
    ReqbodyProcessor,
    ReqbodyProcessorError,
    InboundDataError,
    OutboundDataError,
    ResponseBody,
    ResponseHeaders,
    ResponseHeadersNames,
    ResponseStatus,
    ResponseProtocol,
    ResponseContentType,
    ResponseContentLength,
    StatusLine,
    MatchedVar,
    MatchedVars,
    MatchedVarName,
    MatchedVarsNames,
    Tx,
    Ip,
    Global,
    Session,
    User,
    Resource,
    Env,
    Geo,
    Rule,
    UniqueId,
    RemoteAddr,
    RemotePort,
    RemoteHost,
    ServerAddr,
    ServerPort,
    ServerName,
    Duration,
    Time,
    TimeDay,
    TimeEpoch,
    TimeHour,
    TimeMin,
    TimeMon,
    TimeSec,
    TimeWday,
    TimeYear,
    HighestSeverity,
    UrlencodedError,
    WebserverErrorLog,
    AuthType,
    RemoteUser,
    PathInfo,
    Sessionid,
    /// The last variant ([`Var::bit`] checks that it still has a bit).
    Userid,
}

impl Var {
    pub(crate) fn from_name(name: &str) -> Option<Var> {
        use Var::*;
        Some(match name {
            "ARGS" => Args,
            "ARGS_GET" => ArgsGet,
            "ARGS_POST" => ArgsPost,
            "ARGS_NAMES" => ArgsNames,
            "ARGS_GET_NAMES" => ArgsGetNames,
            "ARGS_POST_NAMES" => ArgsPostNames,
            "ARGS_COMBINED_SIZE" => ArgsCombinedSize,
            "REQUEST_HEADERS" => RequestHeaders,
            "REQUEST_HEADERS_NAMES" => RequestHeadersNames,
            "REQUEST_COOKIES" => RequestCookies,
            "REQUEST_COOKIES_NAMES" => RequestCookiesNames,
            "REQUEST_FILENAME" => RequestFilename,
            "REQUEST_BASENAME" => RequestBasename,
            "REQUEST_URI" => RequestUri,
            "REQUEST_URI_RAW" => RequestUriRaw,
            "REQUEST_LINE" => RequestLine,
            "REQUEST_METHOD" => RequestMethod,
            "REQUEST_PROTOCOL" => RequestProtocol,
            "QUERY_STRING" => QueryString,
            "REQUEST_BODY" => RequestBody,
            "REQUEST_BODY_LENGTH" => RequestBodyLength,
            "FULL_REQUEST" => FullRequest,
            "FULL_REQUEST_LENGTH" => FullRequestLength,
            "XML" => Xml,
            "FILES" => Files,
            "FILES_NAMES" => FilesNames,
            "FILES_SIZES" => FilesSizes,
            "FILES_COMBINED_SIZE" => FilesCombinedSize,
            "FILES_TMPNAMES" => FilesTmpNames,
            "MULTIPART_STRICT_ERROR" => MultipartStrictError,
            "MULTIPART_UNMATCHED_BOUNDARY" => MultipartUnmatchedBoundary,
            "MULTIPART_PART_HEADERS" => MultipartPartHeaders,
            "MULTIPART_FILENAME" => MultipartFilename,
            "MULTIPART_NAME" => MultipartName,
            "MULTIPART_BOUNDARY_QUOTED" => MultipartBoundaryQuoted,
            "MULTIPART_BOUNDARY_WHITESPACE" => MultipartBoundaryWhitespace,
            "MULTIPART_DATA_BEFORE" => MultipartDataBefore,
            "MULTIPART_DATA_AFTER" => MultipartDataAfter,
            "MULTIPART_HEADER_FOLDING" => MultipartHeaderFolding,
            "MULTIPART_LF_LINE" => MultipartLfLine,
            "MULTIPART_MISSING_SEMICOLON" => MultipartMissingSemicolon,
            "MULTIPART_INVALID_QUOTING" => MultipartInvalidQuoting,
            "MULTIPART_INVALID_PART" => MultipartInvalidPart,
            "MULTIPART_INVALID_HEADER_FOLDING" => MultipartInvalidHeaderFolding,
            "MULTIPART_FILE_LIMIT_EXCEEDED" => MultipartFileLimitExceeded,
            "MULTIPART_CRLF_LF_LINES" => MultipartCrlfLfLines,
            "REQBODY_ERROR" => ReqbodyError,
            "REQBODY_ERROR_MSG" => ReqbodyErrorMsg,
            "REQBODY_PROCESSOR" => ReqbodyProcessor,
            "REQBODY_PROCESSOR_ERROR" => ReqbodyProcessorError,
            "INBOUND_DATA_ERROR" => InboundDataError,
            "OUTBOUND_DATA_ERROR" => OutboundDataError,
            "RESPONSE_BODY" => ResponseBody,
            "RESPONSE_HEADERS" => ResponseHeaders,
            "RESPONSE_HEADERS_NAMES" => ResponseHeadersNames,
            "RESPONSE_STATUS" => ResponseStatus,
            "RESPONSE_PROTOCOL" => ResponseProtocol,
            "RESPONSE_CONTENT_TYPE" => ResponseContentType,
            "RESPONSE_CONTENT_LENGTH" => ResponseContentLength,
            "STATUS_LINE" => StatusLine,
            "MATCHED_VAR" => MatchedVar,
            "MATCHED_VARS" => MatchedVars,
            "MATCHED_VAR_NAME" => MatchedVarName,
            "MATCHED_VARS_NAMES" => MatchedVarsNames,
            "TX" => Tx,
            "IP" => Ip,
            "GLOBAL" => Global,
            "SESSION" => Session,
            "USER" => User,
            "RESOURCE" => Resource,
            "ENV" => Env,
            "GEO" => Geo,
            "RULE" => Rule,
            "UNIQUE_ID" => UniqueId,
            "REMOTE_ADDR" => RemoteAddr,
            "REMOTE_PORT" => RemotePort,
            "REMOTE_HOST" => RemoteHost,
            "SERVER_ADDR" => ServerAddr,
            "SERVER_PORT" => ServerPort,
            "SERVER_NAME" => ServerName,
            "DURATION" => Duration,
            "TIME" => Time,
            "TIME_DAY" => TimeDay,
            "TIME_EPOCH" => TimeEpoch,
            "TIME_HOUR" => TimeHour,
            "TIME_MIN" => TimeMin,
            "TIME_MON" => TimeMon,
            "TIME_SEC" => TimeSec,
            "TIME_WDAY" => TimeWday,
            "TIME_YEAR" => TimeYear,
            "HIGHEST_SEVERITY" => HighestSeverity,
            "URLENCODED_ERROR" => UrlencodedError,
            "WEBSERVER_ERROR_LOG" => WebserverErrorLog,
            "AUTH_TYPE" => AuthType,
            "REMOTE_USER" => RemoteUser,
            "PATH_INFO" => PathInfo,
            "SESSIONID" => Sessionid,
            "USERID" => Userid,
            _ => return None,
        })
    }

    /// Whether this variable's values stay put (same bytes at the same address) for a whole
    /// phase: the transformation cache and the rule screen rely on it.
    pub(crate) fn stable(self) -> bool {
        use Var::*;
        matches!(
            self,
            Args | ArgsGet
                | ArgsPost
                | ArgsNames
                | ArgsGetNames
                | ArgsPostNames
                | RequestHeaders
                | RequestHeadersNames
                | RequestCookies
                | RequestCookiesNames
                | RequestFilename
                | RequestBasename
                | RequestUri
                | RequestUriRaw
                | RequestLine
                | RequestMethod
                | RequestProtocol
                | QueryString
                | RequestBody
                | Xml
                | Files
                | FilesNames
                | MultipartPartHeaders
                | ResponseHeaders
                | ResponseHeadersNames
                | ResponseBody
        )
    }

    /// This variable's bit in a `u128` set. Sets of these bits decide what a rule may skip (the
    /// empty collections, removed targets): two variables must never share a bit.
    pub(crate) fn bit(self) -> u128 {
        const _: () = assert!((Var::Userid as u32) < 128, "Var has outgrown a u128 bit set");
        debug_assert!((self as u32) < 128, "{self:?} has no bit of its own");
        1u128 << (self as u32 % 128)
    }

    /// The name used in MATCHED_VAR_NAME and logs.
    pub(crate) fn name(self) -> &'static str {
        use Var::*;
        match self {
            Args => "ARGS",
            ArgsGet => "ARGS_GET",
            ArgsPost => "ARGS_POST",
            ArgsNames => "ARGS_NAMES",
            ArgsGetNames => "ARGS_GET_NAMES",
            ArgsPostNames => "ARGS_POST_NAMES",
            ArgsCombinedSize => "ARGS_COMBINED_SIZE",
            RequestHeaders => "REQUEST_HEADERS",
            RequestHeadersNames => "REQUEST_HEADERS_NAMES",
            RequestCookies => "REQUEST_COOKIES",
            RequestCookiesNames => "REQUEST_COOKIES_NAMES",
            RequestFilename => "REQUEST_FILENAME",
            RequestBasename => "REQUEST_BASENAME",
            RequestUri => "REQUEST_URI",
            RequestUriRaw => "REQUEST_URI_RAW",
            RequestLine => "REQUEST_LINE",
            RequestMethod => "REQUEST_METHOD",
            RequestProtocol => "REQUEST_PROTOCOL",
            QueryString => "QUERY_STRING",
            RequestBody => "REQUEST_BODY",
            RequestBodyLength => "REQUEST_BODY_LENGTH",
            FullRequest => "FULL_REQUEST",
            FullRequestLength => "FULL_REQUEST_LENGTH",
            Xml => "XML",
            Files => "FILES",
            FilesNames => "FILES_NAMES",
            FilesSizes => "FILES_SIZES",
            FilesCombinedSize => "FILES_COMBINED_SIZE",
            FilesTmpNames => "FILES_TMPNAMES",
            MultipartStrictError => "MULTIPART_STRICT_ERROR",
            MultipartUnmatchedBoundary => "MULTIPART_UNMATCHED_BOUNDARY",
            MultipartPartHeaders => "MULTIPART_PART_HEADERS",
            MultipartFilename => "MULTIPART_FILENAME",
            MultipartName => "MULTIPART_NAME",
            MultipartBoundaryQuoted => "MULTIPART_BOUNDARY_QUOTED",
            MultipartBoundaryWhitespace => "MULTIPART_BOUNDARY_WHITESPACE",
            MultipartDataBefore => "MULTIPART_DATA_BEFORE",
            MultipartDataAfter => "MULTIPART_DATA_AFTER",
            MultipartHeaderFolding => "MULTIPART_HEADER_FOLDING",
            MultipartLfLine => "MULTIPART_LF_LINE",
            MultipartMissingSemicolon => "MULTIPART_MISSING_SEMICOLON",
            MultipartInvalidQuoting => "MULTIPART_INVALID_QUOTING",
            MultipartInvalidPart => "MULTIPART_INVALID_PART",
            MultipartInvalidHeaderFolding => "MULTIPART_INVALID_HEADER_FOLDING",
            MultipartFileLimitExceeded => "MULTIPART_FILE_LIMIT_EXCEEDED",
            MultipartCrlfLfLines => "MULTIPART_CRLF_LF_LINES",
            ReqbodyError => "REQBODY_ERROR",
            ReqbodyErrorMsg => "REQBODY_ERROR_MSG",
            ReqbodyProcessor => "REQBODY_PROCESSOR",
            ReqbodyProcessorError => "REQBODY_PROCESSOR_ERROR",
            InboundDataError => "INBOUND_DATA_ERROR",
            OutboundDataError => "OUTBOUND_DATA_ERROR",
            ResponseBody => "RESPONSE_BODY",
            ResponseHeaders => "RESPONSE_HEADERS",
            ResponseHeadersNames => "RESPONSE_HEADERS_NAMES",
            ResponseStatus => "RESPONSE_STATUS",
            ResponseProtocol => "RESPONSE_PROTOCOL",
            ResponseContentType => "RESPONSE_CONTENT_TYPE",
            ResponseContentLength => "RESPONSE_CONTENT_LENGTH",
            StatusLine => "STATUS_LINE",
            MatchedVar => "MATCHED_VAR",
            MatchedVars => "MATCHED_VARS",
            MatchedVarName => "MATCHED_VAR_NAME",
            MatchedVarsNames => "MATCHED_VARS_NAMES",
            Tx => "TX",
            Ip => "IP",
            Global => "GLOBAL",
            Session => "SESSION",
            User => "USER",
            Resource => "RESOURCE",
            Env => "ENV",
            Geo => "GEO",
            Rule => "RULE",
            UniqueId => "UNIQUE_ID",
            RemoteAddr => "REMOTE_ADDR",
            RemotePort => "REMOTE_PORT",
            RemoteHost => "REMOTE_HOST",
            ServerAddr => "SERVER_ADDR",
            ServerPort => "SERVER_PORT",
            ServerName => "SERVER_NAME",
            Duration => "DURATION",
            Time => "TIME",
            TimeDay => "TIME_DAY",
            TimeEpoch => "TIME_EPOCH",
            TimeHour => "TIME_HOUR",
            TimeMin => "TIME_MIN",
            TimeMon => "TIME_MON",
            TimeSec => "TIME_SEC",
            TimeWday => "TIME_WDAY",
            TimeYear => "TIME_YEAR",
            HighestSeverity => "HIGHEST_SEVERITY",
            UrlencodedError => "URLENCODED_ERROR",
            WebserverErrorLog => "WEBSERVER_ERROR_LOG",
            AuthType => "AUTH_TYPE",
            RemoteUser => "REMOTE_USER",
            PathInfo => "PATH_INFO",
            Sessionid => "SESSIONID",
            Userid => "USERID",
        }
    }
}

/// How a target picks entries of a collection.
#[derive(Debug, Clone)]
pub(crate) enum KeySel {
    /// Case-insensitive literal key (stored lower-cased).
    Key(String),
    /// Case-insensitive, with the required-literal prefilter: CRS excludes e.g. `/__utm/` cookies
    /// from a hundred rules, so this runs for every cookie of every such rule.
    Regex(Box<Rx>),
    /// A regex that is a plain word (`/__utm/`, `/^header_name_920450_/`): a case-insensitive
    /// substring or, with `anchored`, prefix test (stored lower-cased).
    Literal { lit: Vec<u8>, anchored: bool },
}

impl KeySel {
    pub(crate) fn matches(&self, key: &[u8]) -> bool {
        match self {
            KeySel::Key(k) => k.as_bytes().eq_ignore_ascii_case(key),
            KeySel::Regex(r) => r.matches(key, None),
            // The first byte alone rules out nearly every key (CRS 920450's chain reads every TX
            // variable for `^header_name_920450_`); `lit` is lower-cased and non-empty.
            KeySel::Literal { lit, anchored: true } => {
                key.len() >= lit.len()
                    && key[0].to_ascii_lowercase() == lit[0]
                    && key[..lit.len()].eq_ignore_ascii_case(lit)
            }
            KeySel::Literal { lit, anchored: false } => {
                key.len() >= lit.len() && key.windows(lit.len()).any(|w| w.eq_ignore_ascii_case(lit))
            }
        }
    }

    /// The selector for a `/regex/` key: a plain word (optionally `^`-anchored, optionally ending
    /// in `X*`, which any key satisfies) becomes a [`KeySel::Literal`], anything else a regex.
    pub(crate) fn regex(pattern: &str) -> Result<KeySel, String> {
        let (anchored, rest) = match pattern.strip_prefix('^') {
            Some(r) => (true, r),
            None => (false, pattern),
        };
        let word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        };
        let body = match rest.strip_suffix('*') {
            // `ab_*`: the `_*` can match nothing, so `ab` is what is required.
            Some(r) if r.len() >= 2 && word(r) => &r[..r.len() - 1],
            Some(_) => "",
            None => rest,
        };
        if word(body) {
            return Ok(KeySel::Literal {
                lit: body.to_ascii_lowercase().into_bytes(),
                anchored,
            });
        }
        Ok(KeySel::Regex(Box::new(Rx::new(&format!("(?i){pattern}"))?)))
    }
}

/// One compiled entry of a rule's target list.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub var: Var,
    pub sel: Option<KeySel>,
    pub count: bool,
}

/// An exclusion `!VAR:key` of a rule's target list (or from `ctl:ruleRemoveTarget*`).
#[derive(Debug, Clone)]
pub(crate) struct Exclusion {
    pub var: Var,
    /// `None` excludes the whole collection.
    pub sel: Option<KeySel>,
}

impl Exclusion {
    pub(crate) fn excludes(&self, var: Var, key: &[u8]) -> bool {
        self.var == var && self.sel.as_ref().is_none_or(|s| s.matches(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The literal fast path must select exactly the keys the regex would.
    #[test]
    fn literal_key_selectors_agree_with_the_regex() {
        let keys: [&[u8]; 10] = [
            b"header_name_920450_x-foo",
            b"HEADER_NAME_920450_",
            b"xheader_name_920450_",
            b"multipart_headers_content_types_1",
            b"MULTIPART_HEADERS_CONTENT_TYPE",
            b"__utma",
            b"a__UTMz",
            b"_utm",
            b"",
            b"header_name",
        ];
        for p in [
            "^header_name_920450_",
            "MULTIPART_HEADERS_CONTENT_TYPES_*",
            "__utm",
            "^__utm",
            "^a",
        ] {
            let fast = KeySel::regex(p).unwrap();
            assert!(matches!(fast, KeySel::Literal { .. }), "{p} should be a literal");
            let slow = KeySel::Regex(Box::new(Rx::new(&format!("(?i){p}")).unwrap()));
            for k in keys {
                assert_eq!(
                    fast.matches(k),
                    slow.matches(k),
                    "{p} on {}",
                    String::from_utf8_lossy(k)
                );
            }
        }
        for p in ["^a.b", "a|b", "ab$", "x+", "*"] {
            assert!(matches!(KeySel::regex(p), Ok(KeySel::Regex(_)) | Err(_)), "{p}");
        }
    }
}
