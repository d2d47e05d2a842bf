//! Why a backend section could not be built or did not pass its preflight.

type Source = Box<dyn std::error::Error + Send + Sync>;

/// Why the backend a section selects could not be built or did not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The section cannot be used: a missing table, an unreadable or malformed credential, a
    /// credential the backend refused, or a backend this build lacks. The message names the
    /// key to fix.
    #[error("{message}")]
    Invalid {
        /// What is wrong, naming the section and key.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Source>,
    },
    /// The backend could not be opened or reached, or did not answer in time.
    #[error("{message}")]
    Unavailable {
        /// What failed, naming the backend and where it was looked for.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Source>,
    },
}

impl SetupError {
    /// True when the configuration must change (the binary exits with 2); false when the
    /// backend is down or slow and a retry may succeed.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Invalid { .. })
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            source: None,
        }
    }

    #[allow(dead_code)] // unused when no backend feature is on
    pub(crate) fn invalid_because(message: impl Into<String>, source: impl Into<Source>) -> Self {
        Self::Invalid {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    #[allow(dead_code)] // unused when no backend feature is on
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    #[allow(dead_code)] // unused when no backend feature is on
    pub(crate) fn unavailable_because(
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Self::Unavailable {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}
