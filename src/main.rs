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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,symphonia=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
