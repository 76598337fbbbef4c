//! Thin FFI: mark every descriptor this process inherited as close-on-exec.
//!
//! Rust opens its own descriptors with `O_CLOEXEC`, but whoever started trustsync (apt's
//! hook runner, a shell with `3>file`, sudo) may have left descriptors open without it; a
//! program trustsync starts (possibly as another user) must not get them. Borrowing a raw
//! descriptor number is `unsafe` in Rust even for `fcntl`, and no crate offers a safe
//! close-on-exec sweep, hence this one small file; the decision of *when* lives in
//! `spawn.rs`.
#![allow(unsafe_code)]

use std::os::fd::BorrowedFd;

/// Sets `FD_CLOEXEC` on every open descriptor above 2. Cheap (one directory listing), and
/// idempotent, so it runs before every start.
pub fn close_inherited_on_exec() {
    let list = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    let Ok(entries) = std::fs::read_dir(list) else {
        return;
    };
    // Collected first: the listing's own descriptor is open while iterating.
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: `fd` is only borrowed for the duration of one fcntl call. If it was the
        // (now closed) listing descriptor or got closed by another thread meanwhile, fcntl
        // fails with EBADF, which is ignored; no memory is touched through it.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        if let Ok(flags) = rustix::io::fcntl_getfd(borrowed) {
            let _ = rustix::io::fcntl_setfd(borrowed, flags | rustix::io::FdFlags::CLOEXEC);
        }
    }
}
