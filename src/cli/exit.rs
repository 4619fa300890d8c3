//! Exit codes, documented in one place and derived from results, never from
//! a renderer.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | clean: no drift, capture complete, rehearsal passed |
//! | 1 | drift found, or a rehearsal step failed |
//! | 2 | the check could not be done: bad input, auth failure, an incomplete capture |

use std::process::ExitCode;

/// What a command found, as the process exit code says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1.
    Drift,
    /// Exit 2.
    CouldNotCheck,
}

impl Outcome {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Drift => 1,
            Outcome::CouldNotCheck => 2,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o.code())
    }
}
