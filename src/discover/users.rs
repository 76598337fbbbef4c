//! Whose runtimes a run covers. `sudo trustsync status` resets `HOME` to root's, yet the
//! Pythons that fail live in the invoking user's home (`~/.pyenv`, `~/miniconda3/envs`):
//! as root, trustsync covers that user as if they had run it, plus root; with
//! `--all-users`, or as root with nobody invoking (a hook, cron), every account with a
//! login shell and a home directory. Not root: only oneself.
//!
//! Accounts come from `/etc/passwd`, parsed here: the format is seven `:`-separated fields
//! and no crate is needed for it. An account known only through NSS (LDAP, sssd) is not
//! listed by `--all-users`; an invoking user who is such an account is looked up with the
//! system's `getent` (started by [`crate::runtimes::exec`], from its fixed path).

use std::collections::HashMap;
use std::path::PathBuf;

/// One account whose home is searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub shell: String,
}

impl Account {
    /// A shell one can log in with: not `nologin`, `false`, `sync`, `halt`, `shutdown`.
    pub fn can_log_in(&self) -> bool {
        let base = self.shell.rsplit('/').next().unwrap_or("");
        !self.shell.is_empty()
            && !matches!(base, "nologin" | "false" | "sync" | "halt" | "shutdown")
    }
}

/// Parses `/etc/passwd` (or one `getent passwd` line): lines that do not have seven fields,
/// a numeric uid and gid and an absolute home are skipped.
pub fn parse_passwd(text: &str) -> Vec<Account> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() != 7 || f[0].is_empty() || !f[5].starts_with('/') {
                return None;
            }
            Some(Account {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: PathBuf::from(f[5]),
                shell: f[6].to_string(),
            })
        })
        .collect()
}

/// Who ran `sudo`, `pkexec` or `doas` to become root: `SUDO_UID` (or `SUDO_USER`),
/// `PKEXEC_UID`, `DOAS_USER`. `None` when nobody did, or when it was root itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invoker {
    Uid(u32),
    Name(String),
}

pub fn invoker(env: &HashMap<String, String>) -> Option<Invoker> {
    let uid = |k: &str| env.get(k).and_then(|v| v.trim().parse::<u32>().ok());
    let found = uid("SUDO_UID")
        .map(Invoker::Uid)
        .or_else(|| env.get("SUDO_USER").cloned().map(Invoker::Name))
        .or_else(|| uid("PKEXEC_UID").map(Invoker::Uid))
        .or_else(|| env.get("DOAS_USER").cloned().map(Invoker::Name));
    found.filter(|i| !matches!(i, Invoker::Uid(0)) && *i != Invoker::Name("root".into()))
}

/// Whose homes a run searches, in this order: the invoking user, then root; or every
/// account that can log in. `lookup` finds an invoking user `accounts` lacks (NSS).
pub fn accounts_to_cover(
    euid: u32,
    env: &HashMap<String, String>,
    accounts: &[Account],
    all_users: bool,
    lookup: impl Fn(&Invoker) -> Option<Account>,
) -> Vec<Account> {
    if euid != 0 {
        return Vec::new();
    }
    let root = accounts.iter().find(|a| a.uid == 0).cloned();
    let invoking = invoker(env);
    if all_users || invoking.is_none() {
        let mut all: Vec<Account> = accounts
            .iter()
            .filter(|a| a.uid == 0 || a.can_log_in())
            .cloned()
            .collect();
        // One home searched once, even when two accounts share it.
        let mut seen = std::collections::HashSet::new();
        all.retain(|a| seen.insert(a.home.clone()));
        return all;
    }
    let invoking = invoking.unwrap();
    let found = accounts
        .iter()
        .find(|a| match &invoking {
            Invoker::Uid(u) => a.uid == *u,
            Invoker::Name(n) => &a.name == n,
        })
        .cloned()
        .or_else(|| lookup(&invoking));
    found.into_iter().chain(root).collect()
}

/// The name of `uid` among `accounts`, else the number.
pub fn name_of(accounts: &[Account], uid: u32) -> String {
    accounts
        .iter()
        .find(|a| a.uid == uid)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| format!("uid {uid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nann:x:1000:1000:Ann,,,:/home/ann:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/zsh\nsvc:x:998:998::/var/lib/svc:/bin/false\nbroken line\nodd:x:nan:1::/home/odd:/bin/sh\nrel:x:1002:1002::home/rel:/bin/sh\n";

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn names(v: &[Account]) -> Vec<&str> {
        v.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn passwd_lines_that_are_not_accounts_are_skipped() {
        let all = parse_passwd(PASSWD);
        assert_eq!(names(&all), ["root", "daemon", "ann", "bob", "svc"]);
        assert!(!all[1].can_log_in() && !all[4].can_log_in() && all[3].can_log_in());
    }

    #[test]
    fn sudo_covers_the_invoking_user_then_root() {
        let all = parse_passwd(PASSWD);
        let none = |_: &Invoker| None;
        let sudo = env(&[("SUDO_UID", "1001"), ("SUDO_USER", "ann")]);
        // SUDO_UID wins over a SUDO_USER the user could not have set differently anyway.
        assert_eq!(
            names(&accounts_to_cover(0, &sudo, &all, false, none)),
            ["bob", "root"]
        );
        let doas = env(&[("DOAS_USER", "ann")]);
        assert_eq!(
            names(&accounts_to_cover(0, &doas, &all, false, none)),
            ["ann", "root"]
        );
        // --all-users, or root with nobody invoking: every account that can log in.
        assert_eq!(
            names(&accounts_to_cover(0, &sudo, &all, true, none)),
            ["root", "ann", "bob"]
        );
        assert_eq!(
            names(&accounts_to_cover(0, &env(&[]), &all, false, none)),
            ["root", "ann", "bob"]
        );
        // sudo from root is root's own run.
        let from_root = env(&[("SUDO_UID", "0"), ("SUDO_USER", "root")]);
        assert_eq!(invoker(&from_root), None);
        // Not root: nobody else's home.
        assert!(accounts_to_cover(1000, &sudo, &all, true, none).is_empty());
    }

    #[test]
    fn an_invoking_user_passwd_lacks_is_looked_up() {
        let all = parse_passwd(PASSWD);
        let sudo = env(&[("SUDO_UID", "70000")]);
        let ldap = |i: &Invoker| {
            (*i == Invoker::Uid(70000))
                .then(|| parse_passwd("carol:*:70000:100::/home/carol:/bin/bash").remove(0))
        };
        assert_eq!(
            names(&accounts_to_cover(0, &sudo, &all, false, ldap)),
            ["carol", "root"]
        );
    }
}
