//! Who may change the machine-wide state dir (`%ProgramData%\trustsync`), decided on the
//! SDDL text Windows prints for its owner and DACL.
//!
//! Why: that directory holds the bundle every user's runtimes are pointed at and the
//! journal `undo` restores registry values from. `%ProgramData%` lets ordinary users create
//! folders and files, and its ACL is inherited by new subfolders, so a directory created
//! with defaults (or created in advance by a user) would let a non-administrator swap the
//! bundle or plant a journal. trustsync creates the directory with [`MACHINE_DIR_SDDL`]
//! (protected: SYSTEM and Administrators full control, Users read) and, as the POSIX engine
//! refuses user-writable directories when root, refuses to use one that an account other
//! than SYSTEM, Administrators or the running user owns or may write. The Windows calls that
//! create the directory and read its SDDL are in `trustsync_platform::windows_acl`; this decision is
//! compiled and tested everywhere.
#![forbid(unsafe_code)]

/// The security descriptor trustsync creates its machine state dir with.
pub const MACHINE_DIR_SDDL: &str = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)";

const SYSTEM: &str = "S-1-5-18";
const ADMINISTRATORS: &str = "S-1-5-32-544";

/// Read, execute, read attributes and the security descriptor, synchronize
/// (`FILE_GENERIC_READ | FILE_GENERIC_EXECUTE`), and the generic read/execute bits.
const READ_ONLY_MASK: u32 = 0x0012_00a9 | 0x8000_0000 | 0x2000_0000;
/// Rights letters that only read.
const READ_ONLY_LETTERS: &[&str] = &["FR", "FX", "GR", "GX", "RC"];

/// Expands the SDDL aliases that matter here to string SIDs.
fn sid(alias: &str) -> &str {
    match alias {
        "SY" => SYSTEM,
        "BA" => ADMINISTRATORS,
        "BU" => "S-1-5-32-545",
        "AU" => "S-1-5-11",
        "WD" => "S-1-1-0",
        other => other,
    }
}

/// The owner SID in `sddl` (`O:BA…` or `O:S-1-5-21-…`).
fn owner(sddl: &str) -> Option<&str> {
    let rest = &sddl[sddl.find("O:")? + 2..];
    let end = match rest.strip_prefix("S-") {
        Some(tail) => {
            2 + tail
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(tail.len())
        }
        None => 2.min(rest.len()),
    };
    Some(sid(&rest[..end]))
}

fn rights_only_read(rights: &str) -> bool {
    if let Some(hex) = rights
        .strip_prefix("0x")
        .or_else(|| rights.strip_prefix("0X"))
    {
        return u32::from_str_radix(hex, 16).is_ok_and(|mask| mask & !READ_ONLY_MASK == 0);
    }
    rights.len().is_multiple_of(2)
        && rights
            .as_bytes()
            .chunks(2)
            .all(|pair| READ_ONLY_LETTERS.iter().any(|l| l.as_bytes() == pair))
}

/// Why a directory with this owner and DACL (as `O:…D:…` SDDL) could be changed by an
/// account other than SYSTEM, Administrators or `me` (the running user's SID); `None`
/// when it cannot.
pub fn unsafe_reason(sddl: &str, me: &str) -> Option<String> {
    let trusted = |s: &str| s == SYSTEM || s == ADMINISTRATORS || s.eq_ignore_ascii_case(me);
    match owner(sddl) {
        Some(o) if trusted(o) => {}
        Some(o) => return Some(format!("it is owned by {o}, not an administrator")),
        None => return Some("its owner cannot be read".into()),
    }
    let Some(start) = sddl.find("D:") else {
        return Some("it has no access list (everyone may write it)".into());
    };
    let dacl = &sddl[start + 2..];
    let dacl = &dacl[..dacl.find("S:").unwrap_or(dacl.len())];
    if dacl.starts_with("NO_ACCESS_CONTROL") {
        return Some("it has no access list (everyone may write it)".into());
    }
    for ace in dacl.split('(').skip(1) {
        let ace = ace.trim_end_matches(')');
        let fields: Vec<&str> = ace.split(';').collect();
        let [kind, flags, rights, _, _, who, ..] = fields.as_slice() else {
            return Some(format!("its access entry ({ace}) cannot be read"));
        };
        let who = sid(who);
        // Deny entries only take rights away; CREATOR OWNER entries only shape what a
        // creator gets, and creating needs a right checked on its own entry.
        let allows = matches!(*kind, "A" | "OA");
        let inherit_only = flags.contains("IO");
        if !allows || inherit_only || trusted(who) || who == "CO" {
            continue;
        }
        if !rights_only_read(rights) {
            return Some(format!("{who} may change it (rights {rights})"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "S-1-5-21-1-2-3-1001";

    #[test]
    fn trustsyncs_own_descriptor_is_safe() {
        assert_eq!(unsafe_reason(&format!("O:BA{MACHINE_DIR_SDDL}"), ME), None);
        // As Windows prints it back: inherited-flag bits, SIDs in full.
        let printed = format!(
            "O:{ME}D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(D;;FA;;;S-1-5-7)"
        );
        assert_eq!(unsafe_reason(&printed, ME), None);
    }

    #[test]
    fn programdata_defaults_and_foreign_owners_are_not() {
        // What a subfolder of %ProgramData% inherits: Users may create files and folders.
        let inherited = "O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)";
        assert!(unsafe_reason(inherited, ME)
            .unwrap()
            .contains("S-1-5-32-545"));
        let by_user = format!("O:S-1-5-21-9-9-9-1002{MACHINE_DIR_SDDL}");
        assert!(unsafe_reason(&by_user, ME)
            .unwrap()
            .contains("owned by S-1-5-21-9-9-9-1002"));
        assert!(unsafe_reason("O:BAD:NO_ACCESS_CONTROL", ME).is_some());
        assert!(unsafe_reason("O:BA", ME).is_some());
        let everyone_writes = "O:BAD:(A;;0x1201bf;;;WD)";
        assert!(unsafe_reason(everyone_writes, ME)
            .unwrap()
            .contains("S-1-1-0"));
        let everyone_reads = "O:SYD:(A;;FRFX;;;WD)(A;OICIIO;GA;;;CO)";
        assert_eq!(unsafe_reason(everyone_reads, ME), None);
        assert!(unsafe_reason("O:BAD:(A;;FRFW;;;WD)", ME).is_some());
        assert!(unsafe_reason("O:BAD:(A;;zz;;;WD)", ME).is_some());
    }
}
