//! Exit status as a contract (SPEC §2): 0 all compliant, 1 some token not compliant, 2 a usage
//! error, an unreadable file or an input that is not a decodable JWT. 2 wins over 1 wins over 0.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    Compliant = 0,
    NonCompliant = 1,
    Error = 2,
}

impl ExitStatus {
    /// The status of a batch that holds both outcomes.
    pub fn merge(self, other: ExitStatus) -> ExitStatus {
        self.max(other)
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus::{self, *};

    #[test]
    fn error_wins_over_non_compliant_wins_over_compliant() {
        assert_eq!(Compliant.merge(Compliant), Compliant);
        assert_eq!(Compliant.merge(NonCompliant), NonCompliant);
        assert_eq!(NonCompliant.merge(Compliant), NonCompliant);
        assert_eq!(NonCompliant.merge(Error), Error);
        assert_eq!(Error.merge(NonCompliant), Error);
        assert_eq!([Compliant, NonCompliant, Error, Compliant].into_iter().fold(Compliant, ExitStatus::merge), Error);
    }
}
