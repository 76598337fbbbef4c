//! Windows security descriptors for trustsync's machine-wide state dir: create the
//! directory with a given SDDL, read a path's owner and DACL back as SDDL, and name the
//! running user's SID. FFI only; what is safe is decided in
//! trustsync's `apply::windows::acl`, compiled and tested on every OS.
#![allow(unsafe_code)]

use std::io;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;
use windows_sys::Win32::Foundation::{
    CloseHandle, LocalFree, ERROR_ALREADY_EXISTS, ERROR_INSUFFICIENT_BUFFER, HANDLE,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetNamedSecurityInfoW, SDDL_REVISION_1,
    SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, DACL_SECURITY_INFORMATION, OWNER_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::CreateDirectoryW;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// `s` as a NUL-terminated UTF-16 string, the shape every `…W` call takes (also used by
/// [`crate::windows_env`]).
pub(crate) fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn wide_path(p: &Path) -> Vec<u16> {
    p.as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect()
}

/// A NUL-terminated UTF-16 string Windows allocated with LocalAlloc, read then freed.
///
/// # Safety
/// `p` must be a valid, NUL-terminated string from a Win32 call that says to `LocalFree` it.
unsafe fn take_local_string(p: *mut u16) -> String {
    let mut len = 0;
    while *p.add(len) != 0 {
        len += 1;
    }
    let s = String::from_utf16_lossy(std::slice::from_raw_parts(p, len));
    LocalFree(p.cast());
    s
}

/// Creates `dir` (its parent must exist) with security descriptor `sddl`. `Ok(false)`
/// when it already exists (its descriptor is then left as it is: check it).
pub fn create_dir_with_sddl(dir: &Path, sddl: &str) -> io::Result<bool> {
    let sddl = wide(sddl);
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: `sddl` is NUL-terminated; `descriptor` receives a LocalAlloc'ed descriptor.
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
    };
    let path = wide_path(dir);
    // SAFETY: `path` is NUL-terminated; `attributes` points at a valid descriptor.
    let created = unsafe { CreateDirectoryW(path.as_ptr(), &attributes) };
    let error = io::Error::last_os_error();
    // SAFETY: `descriptor` came from the conversion above and is not used after this.
    unsafe { LocalFree(descriptor) };
    if created != 0 {
        return Ok(true);
    }
    if error.raw_os_error() == Some(ERROR_ALREADY_EXISTS as i32) {
        return Ok(false);
    }
    Err(error)
}

/// The owner and DACL of `path`, as SDDL (`O:…D:…`).
pub fn owner_and_dacl_sddl(path: &Path) -> io::Result<String> {
    let name = wide_path(path);
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    let what = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    // SAFETY: `name` is NUL-terminated; only the descriptor out pointer is requested (the
    // owner and DACL pointers point into it).
    let rc = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            what,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut descriptor,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: `descriptor` is valid until freed below; `text` receives a LocalAlloc'ed string.
    let ok = unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor,
            SDDL_REVISION_1,
            what,
            &mut text,
            std::ptr::null_mut(),
        )
    };
    let error = io::Error::last_os_error();
    // SAFETY: from GetNamedSecurityInfoW, which says to LocalFree it; not used after.
    unsafe { LocalFree(descriptor) };
    if ok == 0 {
        return Err(error);
    }
    // SAFETY: a NUL-terminated string the conversion allocated for the caller to free.
    Ok(unsafe { take_local_string(text) })
}

/// The running process's user, as a string SID (`S-1-5-21-…`).
pub fn current_user_sid() -> io::Result<String> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: the pseudo-handle of this process; `token` is a valid out pointer.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let result = (|| {
        let mut needed = 0u32;
        // SAFETY: a size query with a null buffer.
        unsafe { GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut needed) };
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(ERROR_INSUFFICIENT_BUFFER as i32) {
            return Err(error);
        }
        // u64 elements: TOKEN_USER holds pointers, so the buffer must be 8-aligned.
        let mut buffer = vec![0u64; (needed as usize).div_ceil(8)];
        // SAFETY: `buffer` has at least `needed` writable, aligned bytes.
        if unsafe {
            GetTokenInformation(
                token,
                TokenUser,
                buffer.as_mut_ptr().cast(),
                needed,
                &mut needed,
            )
        } == 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the call filled `buffer` with a TOKEN_USER whose SID points into it.
        let user = unsafe { &*(buffer.as_ptr() as *const TOKEN_USER) };
        let mut text: *mut u16 = std::ptr::null_mut();
        // SAFETY: a valid SID (alive while `buffer` is); `text` receives a LocalAlloc'ed string.
        if unsafe { ConvertSidToStringSidW(user.User.Sid, &mut text) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a NUL-terminated string the conversion allocated for the caller to free.
        Ok(unsafe { take_local_string(text) })
    })();
    // SAFETY: `token` was opened above and is not used after this.
    unsafe { CloseHandle(token) };
    result
}
