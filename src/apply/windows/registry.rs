//! The registry as an [`EnvStore`]: the Windows environment keys through the plain-data
//! calls in [`trustsync_platform::windows_env`] (the FFI lives there), with errors that name
//! the key and value. Windows only; everything that decides is in the rest of this module.

use super::{EnvStore, RegValue, Scope, WinError};
use std::collections::BTreeMap;
use trustsync_platform::windows_env::{EnvKey, Hive, RawValue};

fn hive(scope: Scope) -> Hive {
    match scope {
        Scope::Machine => Hive::LocalMachine,
        Scope::User => Hive::CurrentUser,
    }
}

fn reg_value(raw: RawValue) -> RegValue {
    RegValue {
        kind: raw.kind,
        data: raw.data,
    }
}

/// One scope's environment key, open for reading and writing.
pub struct RegistryEnv {
    scope: Scope,
    key: EnvKey,
}

impl RegistryEnv {
    pub fn open(scope: Scope) -> Result<RegistryEnv, WinError> {
        let key = EnvKey::open(hive(scope), scope.subkey(), true).map_err(|source| {
            WinError::Registry {
                key: scope.key_name(),
                name: String::new(),
                what: "open for writing",
                source,
            }
        })?;
        Ok(RegistryEnv { scope, key })
    }

    fn error(&self, name: &str, what: &'static str, source: std::io::Error) -> WinError {
        WinError::Registry {
            key: self.scope.key_name(),
            name: name.to_string(),
            what,
            source,
        }
    }
}

impl EnvStore for RegistryEnv {
    fn scope(&self) -> Scope {
        self.scope
    }

    fn get(&self, name: &str) -> Result<Option<RegValue>, WinError> {
        self.key
            .get(name)
            .map(|v| v.map(reg_value))
            .map_err(|e| self.error(name, "read", e))
    }

    fn set(&mut self, name: &str, value: &RegValue) -> Result<(), WinError> {
        let raw = RawValue {
            kind: value.kind,
            data: value.data.clone(),
        };
        self.key
            .set(name, &raw)
            .map_err(|e| self.error(name, "write", e))
    }

    fn delete(&mut self, name: &str) -> Result<(), WinError> {
        self.key
            .delete(name)
            .map_err(|e| self.error(name, "delete", e))
    }
}

/// The values of `names` set in `scope`'s key (read-only; an unreadable key reads as
/// empty, since it then sets nothing this process could see either).
pub fn read_values(scope: Scope, names: &[&str]) -> BTreeMap<String, RegValue> {
    let Ok(key) = EnvKey::open(hive(scope), scope.subkey(), false) else {
        return BTreeMap::new();
    };
    names
        .iter()
        .filter_map(|n| Some((n.to_string(), reg_value(key.get(n).ok()??))))
        .collect()
}

/// Whether this process may write the machine-wide environment (an elevated
/// administrator): then `fix` works for every user, else for this user only.
pub fn machine_writable() -> bool {
    EnvKey::open(Hive::LocalMachine, Scope::Machine.subkey(), true).is_ok()
}

pub use trustsync_platform::windows_env::broadcast_environment_change;
