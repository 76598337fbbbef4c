//! The `trustsync` binary: everything, including the command line, lives in the library
//! (`trustsync::cli`).

fn main() -> std::process::ExitCode {
    trustsync::cli::main()
}
