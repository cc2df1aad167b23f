//! The error of parsing names and text into the change model, which is also
//! the guest SDK's error of plugin set-up and decoding.

use std::fmt;

/// An error with a message for the operator: a refused configuration, or the
/// reason a record could not be decoded (it goes to the dead-letter queue).
///
/// Build one from a `String` or `&str` (`Err("bad".into())`, `?` on a
/// `Result<_, String>`) or with [`Error::new`] from anything that displays.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with the given message.
    pub fn new(message: impl fmt::Display) -> Error {
        Error {
            message: message.to_string(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with some context: `context: message`.
    pub fn context(self, context: impl fmt::Display) -> Error {
        Error {
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message, f)
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error { message }
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::new(message)
    }
}

impl From<Error> for String {
    fn from(e: Error) -> String {
        e.message
    }
}
