//! The `trustsync` command: a thin clap layer over the library. Every decision lives in the
//! library; this file only turns flags into options and results into exit codes.
//! Exit codes: 0 all in sync, 1 some runtime drifts or is broken (probe: fails somewhere),
//! 2 usage or internal error (probe: could not connect).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};
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

/// How runtimes are found: shared by every command that looks at them.
#[derive(Args, Clone)]
struct DiscoveryArgs {
    /// Also check this interpreter, venv or openssl binary (repeatable).
    #[arg(long = "runtime", value_name = "PATH")]
    runtimes: Vec<PathBuf>,
    /// Check only the runtimes named with --runtime (and the trust variables), not the
    /// usual places.
    #[arg(long)]
    only: bool,
    /// Ask every interpreter again instead of reusing remembered answers.
    #[arg(long)]
    fresh: bool,
    /// Seconds each runtime gets to say where it looks.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    runtime_timeout: f64,
    /// Read the OS store from this filesystem tree instead of `/`.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
}

impl DiscoveryArgs {
    fn options(&self) -> trustsync::discover::Options {
        let mut opts = trustsync::discover::Options::from_process();
        opts.runtimes = self.runtimes.clone();
        opts.timeout = Duration::from_secs_f64(self.runtime_timeout.max(0.1));
        if self.fresh {
            opts.cache_dir = None;
        }
        if self.only {
            opts.scan_common_dirs = false;
            opts.env.remove("PATH");
        }
        opts
    }

    fn status(&self, printer: &Printer) -> Result<trustsync::status::Status, u8> {
        trustsync::status::run(&self.root, &self.options()).map_err(|e| {
            printer.warn(&format!("cannot read the OS trust store: {e}"));
            2
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Show the OS trust store and, per runtime, whether it sees the OS's CAs.
    Status {
        /// Machine-readable output (schema in README.md).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        discovery: DiscoveryArgs,
    },
    /// Explain a failing TLS connection: does HOST's chain verify in the OS store and in
    /// each runtime, and if not, why.
    Probe {
        /// HOST[:PORT] (default port 443); omit with --chain.
        #[arg(required_unless_present = "chain")]
        target: Option<String>,
        /// Name to send as SNI and to verify (default: HOST).
        #[arg(long)]
        servername: Option<String>,
        /// Seconds for connecting and for the handshake.
        #[arg(long, default_value_t = 10.0, value_name = "SECS")]
        timeout: f64,
        /// HTTP CONNECT proxy, http://[user:pass@]host:port (default: $HTTPS_PROXY).
        #[arg(long, value_name = "URL")]
        proxy: Option<String>,
        /// Analyse a saved chain (PEM, leaf first) instead of connecting.
        #[arg(
            long,
            value_name = "FILE",
            requires = "name",
            conflicts_with = "target"
        )]
        chain: Option<PathBuf>,
        /// With --chain: the host name the chain is for.
        #[arg(long, value_name = "HOST")]
        name: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        discovery: DiscoveryArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Status { json, discovery } => {
            let printer = Printer::new(json);
            match discovery.status(&printer) {
                Ok(status) => {
                    printer.status(&trustsync::report::StatusReport::new(&status));
                    status.exit_code() as u8
                }
                Err(code) => code,
            }
        }
        Command::Probe {
            target,
            servername,
            timeout,
            proxy,
            chain,
            name,
            json,
            discovery,
        } => {
            let printer = Printer::new(json);
            probe(
                &printer, target, servername, timeout, proxy, chain, name, &discovery,
            )
        }
    };
    ExitCode::from(code)
}

#[allow(clippy::too_many_arguments)]
fn probe(
    printer: &Printer,
    target: Option<String>,
    servername: Option<String>,
    timeout: f64,
    proxy: Option<String>,
    chain: Option<PathBuf>,
    name: Option<String>,
    discovery: &DiscoveryArgs,
) -> u8 {
    use trustsync::probe::{self, ProxySetting};
    let status = match discovery.status(printer) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let sets = trustsync::probe_sets::trust_sets(&status);
    let outcome = match (chain, target) {
        (Some(file), _) => probe::load_chain_file(&file).map(|certs| {
            let hint = probe::proxy_env_hint(|k| std::env::var(k).ok());
            probe::analyse(
                &certs,
                name.as_deref().unwrap_or_default(),
                &sets,
                SystemTime::now(),
                hint,
            )
        }),
        (None, Some(t)) => probe::Target::parse(&t).and_then(|mut target| {
            target.servername = servername;
            target.timeout = Duration::from_secs_f64(timeout.max(0.1));
            if let Some(p) = proxy {
                target.proxy = ProxySetting::Url(p.parse()?);
            }
            probe::run(&target, &sets, SystemTime::now())
        }),
        (None, None) => unreachable!("clap requires a target or --chain"),
    };
    printer.probe(&outcome);
    probe::exit_code(&outcome) as u8
}
