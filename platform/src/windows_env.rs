//! The registry's persistent environment for the Windows fix, as plain data: read, write
//! and delete values of `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`
//! or `HKCU\Environment` exactly as stored (type and raw bytes), tell whether this process
//! may write the machine key, and broadcast `WM_SETTINGCHANGE` ("Environment") so Explorer
//! and other listeners give new processes the new values. FFI only: nothing here decides
//! anything; that is trustsync's `apply::windows`, compiled and tested on every OS.
//!
//! Why `windows-sys` rather than a registry crate: five small calls, and the workspace
//! already builds `windows-sys` for the store reader.
#![allow(unsafe_code)]

use crate::windows_acl::wide;
use std::io;
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_SUCCESS};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegDeleteValueW, RegOpenKeyExW, RegQueryValueExW, RegSetValueExW, HKEY,
    HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_QUERY_VALUE, KEY_SET_VALUE,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    SendMessageTimeoutW, HWND_BROADCAST, SMTO_ABORTIFHUNG, WM_SETTINGCHANGE,
};

/// Which hive an environment key is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hive {
    LocalMachine,
    CurrentUser,
}

/// A registry value exactly as stored: its type (`REG_SZ` = 1, `REG_EXPAND_SZ` = 2, …)
/// and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    pub kind: u32,
    pub data: Vec<u8>,
}

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

fn open(hive: Hive, subkey: &str, access: u32) -> io::Result<Key> {
    let hive = match hive {
        Hive::LocalMachine => HKEY_LOCAL_MACHINE,
        Hive::CurrentUser => HKEY_CURRENT_USER,
    };
    let subkey = wide(subkey);
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: `subkey` is NUL-terminated and outlives the call; `key` is a valid out pointer.
    check(unsafe { RegOpenKeyExW(hive, subkey.as_ptr(), 0, access, &mut key) })?;
    Ok(Key(key))
}

fn query(key: &Key, name: &str) -> io::Result<Option<RawValue>> {
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
                return Ok(Some(RawValue { kind, data }));
            }
        }
    }
}

/// One environment key, open for reading (and writing, when opened so).
pub struct EnvKey {
    key: Key,
}

impl EnvKey {
    /// Opens `subkey` of `hive`; `writable` asks for the right to set and delete values.
    pub fn open(hive: Hive, subkey: &str, writable: bool) -> io::Result<EnvKey> {
        let access = if writable {
            KEY_QUERY_VALUE | KEY_SET_VALUE
        } else {
            KEY_QUERY_VALUE
        };
        Ok(EnvKey {
            key: open(hive, subkey, access)?,
        })
    }

    /// The value `name`, or `None` when it is not set.
    pub fn get(&self, name: &str) -> io::Result<Option<RawValue>> {
        query(&self.key, name)
    }

    /// Sets `name` to `value` (type and bytes as given).
    pub fn set(&self, name: &str, value: &RawValue) -> io::Result<()> {
        let wname = wide(name);
        let len = u32::try_from(value.data.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
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
        check(rc)
    }

    /// Deletes `name`; a value that is not there is not an error.
    pub fn delete(&self, name: &str) -> io::Result<()> {
        let wname = wide(name);
        // SAFETY: `wname` is NUL-terminated and outlives the call.
        let rc = unsafe { RegDeleteValueW(self.key.0, wname.as_ptr()) };
        if rc == ERROR_FILE_NOT_FOUND {
            return Ok(());
        }
        check(rc)
    }
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
