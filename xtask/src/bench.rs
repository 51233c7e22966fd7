//! `cargo xtask bench`: figures, not assertions. Each prints the machine it ran on.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use crate::setup::{self, VirtualDisplay};
use crate::shell::{self, Failure, Guard, Progress, cargo, target_dir};

pub fn bench(args: &[String]) -> Result<(), Failure> {
    let which = args.first().map(String::as_str).unwrap_or("all");
    print_machine();
    match which {
        "ring" => ring(),
        "ring-audio" => ring_audio(),
        "memory" => memory(),
        "core" => core(),
        // Minutes long and it saturates the machine, so `all` leaves it out.
        "routing" => routing(),
        "all" => {
            ring()?;
            core()?;
            memory()
        }
        other => Err(Failure::new(format!(
            "unknown benchmark `{other}` (ring, ring-audio, core, memory, routing, all)"
        ))),
    }
}

fn print_machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("MemTotal"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map(|kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown memory".into());
    println!(
        "machine: {cpu}, {cores} cores, {memory}, {}",
        std::env::consts::OS
    );
}

/// Ring latency: visitor starts a chat → every operator core has the ring event (in-process, loopback).
/// Routing under load: 500 operators, 5,000 visitors, 100 new chats/s for 60 s, with the server
/// binary in its own process so its CPU and memory are measured alone.
fn routing() -> Result<(), Failure> {
    println!(
        "\n== routing (500 operators, 5,000 visitors, 100 chats/s for 60 s, release build) =="
    );
    shell::run(cargo().args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "switchboard-server",
        "--bin",
        "switchboard-server",
    ]))?;
    shell::run(cargo().args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "switchboard-e2e",
        "--bin",
        "switchboard-bench",
        "--",
        "routing",
        "500",
        "5000",
        "100",
        "60",
    ]))
}

fn ring() -> Result<(), Failure> {
    println!("\n== ring latency (1,000 chats, 50 operator cores, release build) ==");
    shell::run(cargo().args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "switchboard-e2e",
        "--bin",
        "switchboard-bench",
        "--",
        "ring",
        "1000",
        "50",
    ]))
}

/// Ring start/stop latency from the sound (D03): 100 rings through a private real-time
/// PulseAudio null sink, recorded from its monitor (see tests/src/bench/ring_audio.rs).
fn ring_audio() -> Result<(), Failure> {
    println!(
        "\n== ring audio latency (100 rings, sound through a PulseAudio null sink, release build) =="
    );
    setup::install_audio_bench_packages()?;
    shell::run(cargo().args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "switchboard-e2e",
        "--bin",
        "switchboard-bench",
        "--",
        "ring-audio",
        "100",
    ]))
}

/// The offline-first core: catch-up, cold open, search and cache size (issue 4).
fn core() -> Result<(), Failure> {
    println!(
        "\n== offline-first core (10,000 missed events, 10,000 chats / 1,000,000 messages, release build) =="
    );
    shell::run(cargo().args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "switchboard-e2e",
        "--bin",
        "switchboard-bench",
        "--",
        "core",
    ]))
}

/// Desktop memory: total PSS of the app and its WebKit processes, idle and signed in, under Xvfb.
fn memory() -> Result<(), Failure> {
    println!("\n== desktop memory (idle, signed in, under Xvfb) ==");
    let mut progress = Progress::new(2);
    setup::build_apps(&mut progress)?;
    let work = target_dir().join("bench/memory");
    let _ = std::fs::remove_dir_all(&work);
    let server = setup::start_demo_server("127.0.0.1:0", &work.join("server.sqlite3"))?;
    let display = VirtualDisplay::start()?;
    let app_path = target_dir().join("debug/switchboard");
    let app_path = app_path.to_string_lossy();
    let mut command = setup::in_session_bus(&[app_path.as_ref()]);
    command
        .env("DISPLAY", &display.name)
        .env("SWITCHBOARD_SERVER_URL", &server.url)
        .env("SWITCHBOARD_DATA_DIR", work.join("app"))
        .env("SWITCHBOARD_AUDIO", "off")
        .env("SWITCHBOARD_EMAIL", setup::DEMO_OPERATOR)
        .env("SWITCHBOARD_PASSWORD", setup::DEMO_PASSWORD);
    let session = Guard::spawn("switchboard", &mut command)?;
    println!("    waiting 20 s for the app to sign in and settle");
    std::thread::sleep(Duration::from_secs(20));
    let processes = descendants(session.pid());
    let mut total_kib = 0;
    for (pid, name) in &processes {
        if !(name.starts_with("switchboard") || name.starts_with("WebKit")) {
            continue;
        }
        if let Some(pss) = pss_kib(*pid) {
            println!(
                "    {name:<24} pid {pid:<8} PSS {:>8.1} MiB",
                pss as f64 / 1024.0
            );
            total_kib += pss;
        }
    }
    if total_kib == 0 {
        return Err(Failure::new(
            "found no switchboard or WebKit process: did the app start?",
        ));
    }
    println!(
        "desktop memory: total PSS {:.1} MiB (app + WebKit processes)",
        total_kib as f64 / 1024.0
    );
    drop(session);
    drop(display);
    drop(server);
    Ok(())
}

/// Every process below `root` (pid → command name), from /proc.
fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parent_of: HashMap<u32, (u32, String)> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (name) state ppid ...": the name may hold spaces, so split at the last ')'.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = stat[open + 1..close].to_string();
            let ppid = stat[close + 1..]
                .split_whitespace()
                .nth(1)
                .and_then(|ppid| ppid.parse().ok())
                .unwrap_or(0);
            parent_of.insert(pid, (ppid, name));
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, (ppid, name)) in &parent_of {
            if *ppid == parent {
                found.push((*pid, name.clone()));
                frontier.push(*pid);
            }
        }
    }
    found
}

fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(
        Path::new("/proc")
            .join(pid.to_string())
            .join("smaps_rollup"),
    )
    .ok()?;
    rollup
        .lines()
        .find(|line| line.starts_with("Pss:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
}
