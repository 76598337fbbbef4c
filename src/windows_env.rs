//! The registry's persistent environment for the Windows fix: the only Windows-specific
//! code it needs, and the only `unsafe` in this crate.
//!
//! It reads, writes and deletes values in `HKLM\SYSTEM\CurrentControlSet\Control\Session
//! Manager\Environment` or `HKCU\Environment` exactly as stored (type and raw bytes), tells
//! whether this process may write the machine key, and broadcasts `WM_SETTINGCHANGE`
//! ("Environment") so Explorer and other listeners give new processes the new values.
//! Nothing here decides anything: that is [`crate::apply_windows`], compiled and tested on
//! every OS through the [`EnvStore`] trait this file implements.
//!
//! Why `windows-sys` rather than a registry crate: five small calls, and the workspace
//! already builds `windows-sys` for the store reader.
#![allow(unsafe_code)]

use crate::apply_windows::{EnvStore, RegValue, Scope, WinError};
use crate::windows_acl::wide;
use std::collections::BTreeMap;
use std::io;
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_SUCCESS};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegDeleteValueW, RegOpenKeyExW, RegQueryValueExW, RegSetValueExW, HKEY,
    HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_QUERY_VALUE, KEY_SET_VALUE,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    SendMessageTimeoutW, HWND_BROADCAST, SMTO_ABORTIFHUNG, WM_SETTINGCHANGE,
};

/// An open registry key, closed on drop.
struct Key(HKEY);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a key RegOpenKeyExW opened and nothing else closes.
        unsafe { RegCloseKey(self.0) };
    }
}

fn check(rc: u32) -> io::Result<()> {
    if rc == ERROR_SUCCESS {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc as i32))
    }
}

fn open(scope: Scope, access: u32) -> io::Result<Key> {
    let hive = match scope {
        Scope::Machine => HKEY_LOCAL_MACHINE,
        Scope::User => HKEY_CURRENT_USER,
    };
    let subkey = wide(scope.subkey());
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: `subkey` is NUL-terminated and outlives the call; `key` is a valid out pointer.
    check(unsafe { RegOpenKeyExW(hive, subkey.as_ptr(), 0, access, &mut key) })?;
    Ok(Key(key))
}

fn query(key: &Key, name: &str) -> io::Result<Option<RegValue>> {
    let name = wide(name);
    let mut kind = 0u32;
    // The first call has no buffer (a size query); each call after it has the size the
    // one before said, until the value fits (it may grow between two calls).
    let mut data: Vec<u8> = Vec::new();
    loop {
        let mut len = u32::try_from(data.len()).map_err(|_| io::ErrorKind::InvalidData)?;
        let buffer = if data.is_empty() {
            std::ptr::null_mut()
        } else {
            data.as_mut_ptr()
        };
        // SAFETY: `name` is NUL-terminated; `buffer` is null (a size query) or has `len`
        // writable bytes, and RegQueryValueExW writes at most `len`; `kind` and `len` are
        // valid out pointers.
        let rc = unsafe {
            RegQueryValueExW(
                key.0,
                name.as_ptr(),
                std::ptr::null(),
                &mut kind,
                buffer,
                &mut len,
            )
        };
        match rc {
            ERROR_FILE_NOT_FOUND => return Ok(None),
            ERROR_SUCCESS | ERROR_MORE_DATA if len as usize > data.len() => {
                data.resize(len as usize, 0);
            }
            _ => {
                check(rc)?;
                data.truncate(len as usize);
                return Ok(Some(RegValue { kind, data }));
            }
        }
    }
}

/// One scope's environment key, open for reading and writing.
pub struct RegistryEnv {
    scope: Scope,
    key: Key,
}

impl RegistryEnv {
    pub fn open(scope: Scope) -> Result<RegistryEnv, WinError> {
        let key =
            open(scope, KEY_QUERY_VALUE | KEY_SET_VALUE).map_err(|source| WinError::Registry {
                key: scope.key_name(),
                name: String::new(),
                what: "open for writing",
                source,
            })?;
        Ok(RegistryEnv { scope, key })
    }

    fn error(&self, name: &str, what: &'static str, source: io::Error) -> WinError {
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
        query(&self.key, name).map_err(|e| self.error(name, "read", e))
    }

    fn set(&mut self, name: &str, value: &RegValue) -> Result<(), WinError> {
        let wname = wide(name);
        let len = u32::try_from(value.data.len())
            .map_err(|_| self.error(name, "write", io::ErrorKind::InvalidInput.into()))?;
        // SAFETY: `wname` is NUL-terminated; `value.data` has `len` readable bytes.
        let rc = unsafe {
            RegSetValueExW(
                self.key.0,
                wname.as_ptr(),
                0,
                value.kind,
                value.data.as_ptr(),
                len,
            )
        };
        check(rc).map_err(|e| self.error(name, "write", e))
    }

    fn delete(&mut self, name: &str) -> Result<(), WinError> {
        let wname = wide(name);
        // SAFETY: `wname` is NUL-terminated and outlives the call.
        let rc = unsafe { RegDeleteValueW(self.key.0, wname.as_ptr()) };
        if rc == ERROR_FILE_NOT_FOUND {
            return Ok(());
        }
        check(rc).map_err(|e| self.error(name, "delete", e))
    }
}

/// The values of `names` set in `scope`'s key (read-only; an unreadable key reads as
/// empty, since it then sets nothing this process could see either).
pub fn read_values(scope: Scope, names: &[&str]) -> BTreeMap<String, RegValue> {
    let Ok(key) = open(scope, KEY_QUERY_VALUE) else {
        return BTreeMap::new();
    };
    names
        .iter()
        .filter_map(|n| Some((n.to_string(), query(&key, n).ok()??)))
        .collect()
}

/// Whether this process may write the machine-wide environment (an elevated
/// administrator): then `fix` works for every user, else for this user only.
pub fn machine_writable() -> bool {
    open(Scope::Machine, KEY_SET_VALUE).is_ok()
}

/// Tells running programs (Explorer first) that the environment changed, so processes
/// they start from now on get the new values. Best effort: a window that does not answer
/// within 5 s is skipped.
pub fn broadcast_environment_change() -> bool {
    let what = wide("Environment");
    let mut result = 0usize;
    // SAFETY: `what` is NUL-terminated and outlives the (synchronous) call; `result` is a
    // valid out pointer.
    let rc = unsafe {
        SendMessageTimeoutW(
            HWND_BROADCAST,
            WM_SETTINGCHANGE,
            0,
            what.as_ptr() as isize,
            SMTO_ABORTIFHUNG,
            5000,
            &mut result,
        )
    };
    rc != 0
}
