/// The disruptive action a rule names. `Block` defers to the phase's default action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DisruptiveAction {
    Pass,
    Deny,
    Drop,
    Block,
    /// `allow` (whole transaction), `allow:phase` or `allow:request`.
    Allow(AllowScope),
    Redirect(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllowScope {
    All,
    Phase,
    Request,
}

impl DisruptiveAction {
    pub(crate) fn parse(name: &str, value: Option<&str>) -> Result<DisruptiveAction, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "pass" => DisruptiveAction::Pass,
            "deny" => DisruptiveAction::Deny,
            "drop" => DisruptiveAction::Drop,
            "block" => DisruptiveAction::Block,
            "allow" => DisruptiveAction::Allow(match value.map(str::to_ascii_lowercase).as_deref() {
                None | Some("") => AllowScope::All,
                Some("phase") => AllowScope::Phase,
                Some("request") => AllowScope::Request,
                Some(other) => return Err(format!("bad allow scope `{other}`")),
            }),
            "redirect" => DisruptiveAction::Redirect(value.ok_or("redirect needs a URL")?.to_string()),
            "proxy" => return Err("the proxy action is not supported".into()),
            other => return Err(format!("unknown disruptive action `{other}`")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            DisruptiveAction::parse("allow", Some("phase")),
            Ok(DisruptiveAction::Allow(AllowScope::Phase))
        );
        assert_eq!(
            DisruptiveAction::parse("redirect", Some("/x")),
            Ok(DisruptiveAction::Redirect("/x".into()))
        );
        assert!(DisruptiveAction::parse("redirect", None).is_err());
    }
}
