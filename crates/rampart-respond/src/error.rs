use thiserror::Error;

#[derive(Debug, Error)]
pub enum RespondError {
    /// The operator's input is wrong (unknown action, bad key, invalid CIDR…). Nothing changed.
    #[error("{0}")]
    Input(String),
    /// The host is not in a state the action can work with (unknown user, port in use,
    /// sshd missing…). Nothing changed.
    #[error("{0}")]
    Precondition(String),
    /// The action would cut the operator off; `--force` overrides.
    #[error("{0} (use --force to do it anyway)")]
    Refused(String),
    #[error("journal {path}: {message}")]
    Journal { path: String, message: String },
    #[error("{what}: {message}")]
    Failed { what: String, message: String },
    #[error(transparent)]
    Nft(#[from] rampart_nft::NftError),
    #[error(transparent)]
    Cmd(#[from] rampart_core::cmd::CmdError),
}

impl RespondError {
    pub fn failed(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        RespondError::Failed {
            what: what.into(),
            message: message.to_string(),
        }
    }

    pub fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        RespondError::failed(path.display().to_string(), e)
    }

    /// True when nothing was changed on the host (the input or the host was rejected).
    pub fn nothing_changed(&self) -> bool {
        matches!(
            self,
            RespondError::Input(_) | RespondError::Precondition(_) | RespondError::Refused(_)
        )
    }
}

pub type Result<T, E = RespondError> = std::result::Result<T, E>;
