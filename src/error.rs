//! The one error type of kiln.

/// Every fallible kiln function returns this error. Messages start with the
/// name of the op in brackets, e.g. `[matmul] shapes (2, 3) and (4, 5) cannot be multiplied`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bad arguments to an op: shapes, dtypes, axes or parameters.
    #[error("[{op}] {message}")]
    Invalid {
        /// The op's name, e.g. `"matmul"`.
        op: &'static str,
        /// What is wrong, without the op's name.
        message: String,
    },
    /// No usable GPU adapter or device, or a feature the adapter lacks.
    #[error("[device] {0}")]
    Device(String),
    /// A failure while running kernels or reading results back.
    #[error("[eval] {0}")]
    Eval(String),
}

impl Error {
    /// The error as `op`'s own, for an op that reports what the ops it is
    /// made of found wrong with its arguments.
    pub(crate) fn within(self, op: &'static str) -> Error {
        match self {
            Error::Invalid { message, .. } => Error::Invalid { op, message },
            other => other,
        }
    }
}

/// Shorthand for `Result<T, kiln::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error::Invalid`] for `op`.
pub(crate) fn invalid(op: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        op,
        message: message.into(),
    }
}

/// Returns early with an [`Error::Invalid`] for `op`, formatted like `format!`.
macro_rules! bail {
    ($op:expr, $($arg:tt)*) => {
        return Err($crate::error::invalid($op, format!($($arg)*)))
    };
}
pub(crate) use bail;

/// Formats a shape the way NumPy prints tuples: `(2, 3)`, `(4,)`, `()`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}
