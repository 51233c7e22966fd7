//! `switchboard-bench ring <chats> <operators>`: prints ring latency figures (not a test).

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ring") => {
            let chats = args
                .get(1)
                .map(|value| value.parse::<usize>())
                .transpose()
                .context("chats must be a number")?
                .unwrap_or(100);
            let operators = args
                .get(2)
                .map(|value| value.parse::<usize>())
                .transpose()
                .context("operators must be a number")?
                .unwrap_or(10);
            let report = switchboard_e2e::bench::ring_latency(chats, operators).await?;
            println!("{}", switchboard_e2e::bench::format_report(&report));
            Ok(())
        }
        _ => anyhow::bail!("usage: switchboard-bench ring <chats> <operators>"),
    }
}
