//! The `trustsync` command: a thin clap layer over the library. Exit codes: 0 all in sync,
//! 1 some runtime drifts or is broken, 2 usage or internal error.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use trustsync::printer::Printer;

#[derive(Parser)]
#[command(
    name = "trustsync",
    version,
    about = "Make every runtime on this machine trust what the OS trusts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the OS trust store and, per runtime, whether it sees the OS's CAs.
    Status {
        /// Machine-readable output (schema in README.md).
        #[arg(long)]
        json: bool,
        /// Also check this interpreter or venv (repeatable).
        #[arg(long = "runtime", value_name = "PATH")]
        runtimes: Vec<PathBuf>,
        /// Seconds each runtime gets to answer.
        #[arg(long, default_value_t = 10.0, value_name = "SECS")]
        timeout: f64,
        /// Ask every interpreter again instead of reusing remembered answers.
        #[arg(long)]
        fresh: bool,
        /// Check only the runtimes named with --runtime (and the trust variables), not the
        /// usual places.
        #[arg(long)]
        only: bool,
        /// Read the OS store from this filesystem tree instead of `/`.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Status {
            json,
            runtimes,
            timeout,
            root,
            only,
            fresh,
        } => {
            let printer = Printer::new(json);
            let mut opts = trustsync::discover::Options::from_process();
            opts.runtimes = runtimes;
            if fresh {
                opts.cache_dir = None;
            }
            if only {
                opts.scan_common_dirs = false;
                opts.env.remove("PATH");
            }
            opts.timeout = Duration::from_secs_f64(timeout.max(0.1));
            match trustsync::status::run(&root, &opts) {
                Ok(status) => {
                    printer.status(&trustsync::report::StatusReport::new(&status));
                    status.exit_code()
                }
                Err(e) => {
                    printer.warn(&format!("cannot read the OS trust store: {e}"));
                    2
                }
            }
        }
    };
    ExitCode::from(code as u8)
}
