//! `trustsync list`: the OS store's CAs, one each, with what status already knows of them
//! (added locally, distrusted, expired), like p11-kit's `trust list`, but the same store
//! trustsync judges every runtime against (`OsStore`, under `--root` too). A person asks
//! "is our company root in there, and since when does it expire"; a script asks the same
//! with `--json`.
//!
//! Filters narrow the list and combine (a CA must pass each one given): `--local`,
//! `--distrusted`, `--expired`, and a PATTERN matching the subject (case-insensitive
//! substring) or a SHA-256 fingerprint prefix (hex, colons and case ignored).

use crate::model::cert::Certificate;
use crate::model::system::OsStore;

/// Which CAs `list` shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub local: bool,
    pub distrusted: bool,
    pub expired: bool,
    pub pattern: Option<String>,
}

/// One CA of the store as listed.
#[derive(Debug, Clone)]
pub struct Listed<'a> {
    pub cert: &'a Certificate,
    pub locally_added: bool,
    pub distrusted: bool,
    pub expired: bool,
}

impl Filter {
    /// Whether `pattern` names this CA: a subject substring or a fingerprint prefix.
    fn names(&self, cert: &Certificate) -> bool {
        let Some(pattern) = &self.pattern else {
            return true;
        };
        let wanted = pattern.to_lowercase();
        let hex: String = wanted.chars().filter(|c| *c != ':').collect();
        cert.subject.to_lowercase().contains(&wanted)
            || cert.display_name().to_lowercase().contains(&wanted)
            || (!hex.is_empty()
                && hex.chars().all(|c| c.is_ascii_hexdigit())
                && cert.fingerprint().starts_with(&hex))
    }

    fn admits(&self, l: &Listed<'_>) -> bool {
        (!self.local || l.locally_added)
            && (!self.distrusted || l.distrusted)
            && (!self.expired || l.expired)
            && self.names(l.cert)
    }
}

/// Every CA of the store (the trusted ones in store order, then the distrusted ones) that
/// passes `filter`, judged at `now` (Unix seconds).
pub fn select<'a>(os: &'a OsStore, filter: &Filter, now: i64) -> Vec<Listed<'a>> {
    let trusted = os.trusted.iter().map(|c| (c, false));
    let distrusted = os.distrusted.iter().map(|c| (c, true));
    trusted
        .chain(distrusted)
        .map(|(cert, distrusted)| Listed {
            cert,
            locally_added: os.is_locally_added(cert),
            distrusted,
            expired: cert.is_expired_at(now),
        })
        .filter(|l| filter.admits(l))
        .collect()
}

/// 0 something listed, 1 the filter matched nothing (2, an unreadable store, is the CLI's).
pub fn exit_code(listed: &[Listed<'_>]) -> i32 {
    i32::from(listed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::test_support::{ca, os_store};

    #[test]
    fn filters_combine_and_patterns_match_subject_or_fingerprint() {
        let (public, corp, other, bad) = (
            ca("Public Root"),
            ca("Corp Proxy Root"),
            ca("Other Root"),
            ca("Bad Root"),
        );
        let mut os = os_store(
            "debian",
            "/etc/ssl/certs/ca-certificates.crt",
            &[public.clone(), corp.clone(), other.clone()],
        );
        os.locally_added.insert(corp.sha256);
        os.distrusted.push(bad.clone());
        // test_support's CAs end in 2049: valid in 2023, expired in 2052.
        let (now, later) = (1_700_000_000, 2_600_000_000);
        let names = |f: Filter, at: i64| -> Vec<String> {
            select(&os, &f, at)
                .iter()
                .map(|l| l.cert.display_name())
                .collect()
        };
        assert_eq!(names(Filter::default(), now).len(), 4);
        let only = |local, distrusted, expired| Filter {
            local,
            distrusted,
            expired,
            pattern: None,
        };
        assert_eq!(names(only(true, false, false), now), ["Corp Proxy Root"]);
        assert_eq!(names(only(false, true, false), now), ["Bad Root"]);
        assert!(names(only(false, false, true), now).is_empty());
        assert_eq!(names(only(false, false, true), later).len(), 4);
        let by = |p: &str| Filter {
            pattern: Some(p.to_string()),
            ..Filter::default()
        };
        assert_eq!(names(by("PROXY"), now), ["Corp Proxy Root"]);
        let fp = other.fingerprint();
        let colons = format!("{}:{}", &fp[..2], &fp[2..6]).to_uppercase();
        assert_eq!(names(by(&colons), now), ["Other Root"]);
        let both = Filter {
            local: true,
            ..by("Public")
        };
        assert_eq!(exit_code(&select(&os, &both, now)), 1);
        assert_eq!(exit_code(&select(&os, &by("root"), now)), 0);
    }
}
