//! `switchboard-server`: runs the live-chat server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use switchboard_server::storage::{DEMO_EMBED_KEY, DEMO_OPERATORS, DEMO_PASSWORD};
use switchboard_server::{Config, Overrides, Server};

/// The Switchboard live-chat server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Arguments {
    /// TOML config file; environment variables and flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    bind: Option<SocketAddr>,
    /// SQLite database file (created when missing).
    #[arg(long, value_name = "FILE")]
    database: Option<PathBuf>,
    /// Folder holding the built widget.js.
    #[arg(long, value_name = "DIR")]
    widget_dir: Option<PathBuf>,
    /// Seed the demo organisation (safe to repeat).
    #[arg(long)]
    demo: bool,
    /// Write transcript emails as .eml files into this folder (used when no SMTP host is set).
    #[arg(long, value_name = "DIR")]
    mail_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let arguments = Arguments::parse();
    let overrides = Overrides {
        bind: arguments.bind,
        database: arguments.database,
        widget_dir: arguments.widget_dir,
        demo: arguments.demo,
        mail_dir: arguments.mail_dir,
    };
    let config = Config::load(arguments.config.as_deref(), std::env::vars(), overrides)
        .context("loading the configuration")?;
    let demo = config.demo;
    if let Some(switchboard_server::mail::MailTransport::Folder(folder)) = config.mail_transport() {
        tracing::info!(folder = %folder.path.display(), "transcript emails are written to a folder");
    }
    let server = Server::start(config).await.context("starting the server")?;
    let address = server.local_addr();
    // Scripts start the server on port 0 and read this line to learn the port.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "switchboard-server listening on http://{address}")?;
    if demo {
        writeln!(stdout, "demo page: http://{address}/demo")?;
        for (email, name, _) in DEMO_OPERATORS {
            writeln!(
                stdout,
                "demo sign-in: {email} / {DEMO_PASSWORD} ({name}), embed key {DEMO_EMBED_KEY}"
            )?;
        }
    }
    stdout.flush()?;
    drop(stdout);
    server
        .run_until(async {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::error!(%error, "cannot listen for Ctrl-C; stopping");
            }
        })
        .await
        .context("serving")?;
    Ok(())
}
