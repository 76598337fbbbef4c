//! The model every layer above shares, knowing no runtime family and no OS: certificates
//! and their OpenSSL subject hashes, CA files and hashed directories as loaded trust sets,
//! the OS store, and what a discovered runtime row is.

pub mod cert;
pub mod load;
pub mod name_hash;
pub mod runtime;
pub mod system;
