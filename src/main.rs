//! The `hotline` command: `serve` runs the engine, `check` validates config and menus.
//! Holds no logic: it parses flags, loads the config, starts tracing and maps errors to exit codes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hotline", version, about = "12345 hotline telephony engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines on standard error: `text` for people (coloured only on a terminal), `json`
    /// (one object per line) for log shippers. Levels and modules: `RUST_LOG`.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Start the engine: SIP (UDP and TCP), RTP, IVR and the HTTP API.
    Serve {
        /// Configuration file.
        #[arg(long, default_value = "config/hotline.toml")]
        config: PathBuf,
        /// SIP address for UDP and TCP (overrides the file); port 0 picks a free port.
        #[arg(long)]
        sip_listen: Option<SocketAddr>,
        /// HTTP address (overrides the file); port 0 picks a free port.
        #[arg(long)]
        http_listen: Option<SocketAddr>,
        /// Data folder for call records, recordings and tickets (overrides the file).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Load the config, every IVR menu and prompt; print each problem as `file:line: what`.
    Check {
        #[arg(long, default_value = "config/hotline.toml")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    match cli.command {
        Command::Check { config } => match hotline::shell::check(&config) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                for p in problems {
                    eprintln!("{p}");
                }
                ExitCode::from(1)
            }
        },
        Command::Serve {
            config,
            sip_listen,
            http_listen,
            data_dir,
        } => {
            let overrides = hotline::shell::Overrides {
                sip_listen,
                http_listen,
                data_dir,
            };
            match serve(&config, overrides) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hotline: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn serve(config: &std::path::Path, overrides: hotline::shell::Overrides) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(hotline::shell::serve_from_file(config, overrides))
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`, symphonia's chatter at
/// `warn`). Colour codes only when standard error is a terminal: a file or a journal gets
/// plain text.
fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,symphonia=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
}
