//! Engine-wide settings from `Sec*` configuration directives.

use std::net::{IpAddr, Ipv4Addr};

/// `SecRuleEngine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleEngineMode {
    On,
    Off,
    /// Rules run and matches are logged, but nothing is blocked.
    DetectionOnly,
}

/// What to do with a body over its limit (`Sec*BodyLimitAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAction {
    /// Refuse the request (413) or the response (500).
    Reject,
    /// Inspect only the part up to the limit and let the rest through.
    ProcessPartial,
}

/// `SecAuditEngine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEngineMode {
    On,
    Off,
    RelevantOnly,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub rule_engine: RuleEngineMode,
    pub request_body_access: bool,
    pub request_body_limit: usize,
    pub request_body_no_files_limit: usize,
    pub request_body_limit_action: LimitAction,
    pub request_body_in_memory_limit: usize,
    pub response_body_access: bool,
    pub response_body_mime_types: Vec<String>,
    pub response_body_limit: usize,
    pub response_body_limit_action: LimitAction,
    pub component_signatures: Vec<String>,
    pub argument_separator: u8,
    /// `SecArgumentsLimit`: arguments kept per source (query string, body); more in a body is a
    /// body error.
    pub arguments_limit: usize,
    pub collection_timeout: u64,
    pub audit_engine: AuditEngineMode,
    pub audit_log_parts: String,
    pub audit_log_relevant_status: Option<String>,
    pub audit_log: Option<String>,
    pub audit_log_format: Option<String>,
    pub audit_log_type: Option<String>,
    pub debug_log_level: u8,
    pub pcre_match_limit: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            rule_engine: RuleEngineMode::Off,
            request_body_access: false,
            request_body_limit: 13_107_200,
            request_body_no_files_limit: 131_072,
            request_body_limit_action: LimitAction::Reject,
            request_body_in_memory_limit: 131_072,
            response_body_access: false,
            response_body_mime_types: vec!["text/plain".into(), "text/html".into()],
            response_body_limit: 524_288,
            response_body_limit_action: LimitAction::ProcessPartial,
            component_signatures: Vec::new(),
            argument_separator: b'&',
            arguments_limit: 1000,
            collection_timeout: 3600,
            audit_engine: AuditEngineMode::Off,
            audit_log_parts: "ABIJDEFHZ".into(),
            audit_log_relevant_status: None,
            audit_log: None,
            audit_log_format: None,
            audit_log_type: None,
            debug_log_level: 0,
            pcre_match_limit: 0,
        }
    }
}

/// The connection a transaction arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
}

impl Default for ConnInfo {
    fn default() -> Self {
        ConnInfo {
            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            client_port: 0,
            server_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            server_port: 80,
        }
    }
}

pub(crate) fn parse_on_off(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

pub(crate) fn parse_engine_mode(v: &str) -> Option<RuleEngineMode> {
    match v.to_ascii_lowercase().as_str() {
        "on" => Some(RuleEngineMode::On),
        "off" => Some(RuleEngineMode::Off),
        "detectiononly" => Some(RuleEngineMode::DetectionOnly),
        _ => None,
    }
}

pub(crate) fn parse_limit_action(v: &str) -> Option<LimitAction> {
    match v.to_ascii_lowercase().as_str() {
        "reject" => Some(LimitAction::Reject),
        "processpartial" => Some(LimitAction::ProcessPartial),
        _ => None,
    }
}

pub(crate) fn parse_audit_mode(v: &str) -> Option<AuditEngineMode> {
    match v.to_ascii_lowercase().as_str() {
        "on" => Some(AuditEngineMode::On),
        "off" => Some(AuditEngineMode::Off),
        "relevantonly" => Some(AuditEngineMode::RelevantOnly),
        _ => None,
    }
}

impl EngineConfig {
    /// Applies one configuration directive; `Err` says what is wrong with it.
    pub(crate) fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let one = || -> Result<&str, String> {
            match args {
                [a] => Ok(a.as_str()),
                _ => Err(format!("{name} takes one argument")),
            }
        };
        let size = || -> Result<usize, String> {
            one()?
                .parse::<usize>()
                .map_err(|_| format!("{name} takes a size in bytes"))
        };
        let on_off =
            || -> Result<bool, String> { parse_on_off(one()?).ok_or(format!("{name} takes On or Off")) };
        match name.to_ascii_lowercase().as_str() {
            "secruleengine" => {
                self.rule_engine =
                    parse_engine_mode(one()?).ok_or(format!("{name} takes On, Off or DetectionOnly"))?
            }
            "secrequestbodyaccess" => self.request_body_access = on_off()?,
            "secresponsebodyaccess" => self.response_body_access = on_off()?,
            "secrequestbodylimit" => self.request_body_limit = size()?,
            "secrequestbodynofileslimit" => self.request_body_no_files_limit = size()?,
            "secrequestbodyinmemorylimit" => self.request_body_in_memory_limit = size()?,
            "secrequestbodylimitaction" => {
                self.request_body_limit_action =
                    parse_limit_action(one()?).ok_or(format!("{name} takes Reject or ProcessPartial"))?
            }
            "secresponsebodylimit" => self.response_body_limit = size()?,
            "secresponsebodylimitaction" => {
                self.response_body_limit_action =
                    parse_limit_action(one()?).ok_or(format!("{name} takes Reject or ProcessPartial"))?
            }
            "secresponsebodymimetype" => {
                self.response_body_mime_types = args
                    .iter()
                    .flat_map(|a| a.split_whitespace())
                    .map(str::to_string)
                    .collect()
            }
            "secresponsebodymimetypesclear" => self.response_body_mime_types.clear(),
            "seccomponentsignature" => self.component_signatures.push(one()?.to_string()),
            "secargumentseparator" => {
                let v = one()?;
                if v.len() != 1 {
                    return Err(format!("{name} takes a single character"));
                }
                self.argument_separator = v.as_bytes()[0];
            }
            "seccollectiontimeout" => {
                self.collection_timeout = one()?.parse().map_err(|_| format!("{name} takes seconds"))?
            }
            "secauditengine" => {
                self.audit_engine =
                    parse_audit_mode(one()?).ok_or(format!("{name} takes On, Off or RelevantOnly"))?
            }
            "secauditlogparts" => self.audit_log_parts = one()?.to_string(),
            "secauditlogrelevantstatus" => self.audit_log_relevant_status = Some(one()?.to_string()),
            "secauditlog" => self.audit_log = Some(one()?.to_string()),
            "secauditlogformat" => self.audit_log_format = Some(one()?.to_string()),
            "secauditlogtype" => self.audit_log_type = Some(one()?.to_string()),
            "secdebugloglevel" => {
                self.debug_log_level = one()?.parse().map_err(|_| format!("{name} takes 0-9"))?
            }
            "secargumentslimit" => {
                self.arguments_limit = one()?.parse().map_err(|_| format!("{name} takes a number"))?
            }
            "secpcrematchlimit" | "secpcrematchlimitrecursion" => {
                self.pcre_match_limit = one()?.parse().map_err(|_| format!("{name} takes a number"))?
            }
            // Accepted for compatibility; they configure files and features this engine does not need.
            "secauditlogstoragedir"
            | "secauditlogdirmode"
            | "secauditlogfilemode"
            | "secauditlog2"
            | "secdebuglog"
            | "sectmpdir"
            | "secdatadir"
            | "secuploaddir"
            | "secuploadkeepfiles"
            | "secuploadfilemode"
            | "secuploadfilelimit"
            | "sectmpsaveuploadedfiles"
            | "secstatusengine"
            | "secunicodemapfile"
            | "secgeolookupdb"
            | "seccookieformat"
            | "secrequestbodyjsondepthlimit"
            | "secwebappid"
            | "secsensorid"
            | "secservertokens"
            | "sechashengine"
            | "seccontentinjection"
            | "secstreamoutbodyinspection"
            | "secstreaminbodyinspection"
            | "secxmlexternalentity"
            | "secconnengine"
            | "secremoterules"
            | "secremoterulesfailaction"
            | "secinterceptonerror"
            | "secruleperftime"
            | "seccookiev0separator"
            | "secdisablebackendcompression"
            | "secresponsebodymimetypes" => {}
            _ => return Err(format!("unknown or unsupported directive `{name}`")),
        }
        Ok(())
    }
}
