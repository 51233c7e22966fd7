//! D03: the ring is real sound. A child process (this test binary, re-executed) plays through
//! ALSA's default device, which a private `~/.asoundrc` points at a WAV file; the parent then
//! measures the samples: sound while a chat rings, silence once another operator accepts it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use switchboard_core::protocol::ChatState;
use switchboard_core::{
    AudioOutput, ConnectionState, Core, CoreConfig, CredentialStore, RingerState,
    SOUND_SETTINGS_FILE, Sound, SoundSettings,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};

#[path = "support/capture.rs"]
mod capture;

use capture::Wav;

/// Set in the re-executed child to the folder holding `.asoundrc`; the child writes its
/// timeline there.
const CHILD_ENV: &str = "SWITCHBOARD_RING_SOUND_CHILD";
const TEST_NAME: &str = "d03_ring_sounds_while_ringing_and_stops_when_another_operator_accepts";
const WAIT: Duration = Duration::from_secs(20);
const RINGING_FOR: Duration = Duration::from_secs(2);
const SILENT_FOR: Duration = Duration::from_millis(1500);
/// Slack for the audio pipeline's buffering at each edge.
const EDGE: Duration = Duration::from_millis(300);

#[test]
fn d03_ring_sounds_while_ringing_and_stops_when_another_operator_accepts() {
    if capture::run_as_child(CHILD_ENV, child) {
        return;
    }
    let folder = tempfile::tempdir().expect("a folder for the capture");
    let capture = capture::write_asoundrc(folder.path());
    capture::run_test_child(TEST_NAME, CHILD_ENV, folder.path(), "ringing");

    let timeline =
        std::fs::read_to_string(folder.path().join("timeline")).expect("the child's timeline");
    let marks: Vec<u64> = timeline
        .split_whitespace()
        .map(|mark| mark.parse().expect("milliseconds"))
        .collect();
    let [ring_ms, stop_ms, end_ms] = marks[..] else {
        panic!("unexpected timeline {timeline:?}");
    };
    let wav = Wav::read(&capture);
    let blocks = wav.block_rms(BLOCK);
    let loud = |rms: &f64| *rms > 0.02;
    let first_loud = blocks.iter().position(loud);
    let last_loud = blocks.iter().rposition(loud);
    let (Some(first_loud), Some(last_loud)) = (first_loud, last_loud) else {
        panic!(
            "the capture ({:.1} s) holds no sound at all: the ring never played",
            wav.seconds()
        );
    };
    let block_ms = BLOCK.as_millis() as u64;
    // ALSA's null device takes samples as fast as they come on some machines and in real time
    // on others; only a real-time capture can be lined up with the child's clock.
    let real_time = wav.seconds() < (end_ms as f64 / 1000.0) * 1.5 + 1.0;
    let onset = if real_time {
        (ring_ms / block_ms) as usize
    } else {
        first_loud
    };
    let tone_on = (onset + (EDGE.as_millis() as u64 / block_ms) as usize
        ..onset + (900 / block_ms) as usize)
        .filter_map(|index| blocks.get(index))
        .fold(f64::MAX, |quietest, rms| quietest.min(*rms));
    let silent_tail_ms = (blocks.len() - 1 - last_loud) as u64 * block_ms;
    // After the accept (plus buffering) nothing sounds; the tail must outlast the tone's own
    // one-second pause, or "stopped" could not be told from "between two rings".
    let required_tail_ms = if real_time {
        (end_ms - stop_ms).saturating_sub(EDGE.as_millis() as u64 + block_ms)
    } else {
        3_000
    };
    eprintln!(
        "capture: {:.1} s recorded ({}, format {:?}, {} channels, {} Hz), timeline ring {ring_ms} / stop {stop_ms} / end {end_ms} ms; \
         sound in blocks {first_loud}..={last_loud} of {}, quietest tone block RMS {tone_on:.4}, \
         silent tail {silent_tail_ms} ms",
        wav.seconds(),
        if real_time {
            "real time"
        } else {
            "faster than real time"
        },
        wav.format,
        wav.channels,
        wav.rate,
        blocks.len()
    );
    assert!(
        first_loud > 0,
        "the capture starts silent: nothing rang before the chat arrived"
    );
    assert!(
        (0.05..0.3).contains(&tone_on),
        "the ring is clearly audible, at a moderate volume, while the chat rings (RMS {tone_on})"
    );
    if real_time {
        let stopped_block = ((stop_ms + EDGE.as_millis() as u64) / block_ms) as usize;
        assert!(
            last_loud < stopped_block,
            "sound after the accept (block {last_loud})"
        );
    }
    assert!(
        silent_tail_ms >= required_tail_ms,
        "the ring must stop once Bob accepts: only {silent_tail_ms} ms of silence at the end"
    );
}

/// The child: rings Ann's core for a chat, lets it ring, has Bob accept, stays silent a while.
async fn child(folder: PathBuf) {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let ann = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().join("ann"),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Default,
    })
    .await
    .expect("Ann's core starts");
    // The ringer opens the device during start: sample 0 of the capture is about now.
    let origin = Instant::now();
    assert!(
        !matches!(ann.state().ringer, RingerState::NoDevice { .. }),
        "the ALSA file device must open: {:?}",
        ann.state().ringer
    );
    let bob = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().join("bob"),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("Bob's core starts");
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("Ann signs in");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("Bob signs in");
    for core in [&ann, &bob] {
        core.wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
            .await
            .expect("connected");
    }

    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Nora", "Can you hear me?").await.id;
    ann.wait_until(WAIT, |state| state.ringer == RingerState::Ringing)
        .await
        .expect("Ann's ringer rings");
    let ring = origin.elapsed();
    bob.wait_until(WAIT, |state| state.counters.ringing == 1)
        .await
        .expect("it rings for Bob too");
    // The scenario itself: the chat rings unanswered for a while.
    tokio::time::sleep(RINGING_FOR).await;

    let accepted = bob.accept(chat).await.expect("Bob accepts");
    assert_eq!(accepted.state, ChatState::Active);
    ann.wait_until(WAIT, |state| state.ringer == RingerState::Silent)
        .await
        .expect("Ann's ringer stops when Bob accepts");
    let stop = origin.elapsed();
    tokio::time::sleep(SILENT_FOR).await;
    let end = origin.elapsed();
    ann.shutdown().await;
    bob.shutdown().await;
    std::fs::write(
        folder.join("timeline"),
        format!(
            "{} {} {}",
            ring.as_millis(),
            stop.as_millis(),
            end.as_millis()
        ),
    )
    .expect("write the timeline");
    server.stop().await;
}

const CHIME_CHILD_ENV: &str = "SWITCHBOARD_CHIME_SOUND_CHILD";
const CHIME_TEST_NAME: &str = "d03_a_visitor_message_in_my_chat_plays_one_short_chime";

/// D03: a new visitor message in one of my chats plays the short chime once, not the ring:
/// the capture holds about 0.3 s of sound in all. Sample counts, not wall time, so this holds
/// whether ALSA's null device runs in real time or faster.
#[test]
fn d03_a_visitor_message_in_my_chat_plays_one_short_chime() {
    if capture::run_as_child(CHIME_CHILD_ENV, chime_child) {
        return;
    }
    let folder = tempfile::tempdir().expect("a folder for the capture");
    let capture = capture::write_asoundrc(folder.path());
    capture::run_test_child(CHIME_TEST_NAME, CHIME_CHILD_ENV, folder.path(), "chiming");
    let wav = Wav::read(&capture);
    let block = Duration::from_millis(10);
    let loud_ms = wav
        .block_rms(block)
        .iter()
        .filter(|rms| **rms > 0.02)
        .count() as u128
        * block.as_millis();
    eprintln!("chime capture: {loud_ms} ms of sound");
    assert!(
        (150..=500).contains(&loud_ms),
        "one short chime (about 300 ms), not the ring nor silence: {loud_ms} ms of sound"
    );
}

/// The child: Ann accepts a chat (it rings meanwhile: muted, so the ring adds no sound), then
/// the visitor writes once.
async fn chime_child(_folder: PathBuf) {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let ann = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().join("ann"),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Default,
    })
    .await
    .expect("Ann's core starts");
    assert!(
        !matches!(ann.state().ringer, RingerState::NoDevice { .. }),
        "the ALSA file device must open: {:?}",
        ann.state().ringer
    );
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("Ann signs in");
    ann.set_ringer_muted(true);
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Nora", "Hello?").await.id;
    ann.wait_until(WAIT, |state| state.counters.ringing == 1)
        .await
        .expect("it rings (silently)");
    ann.accept(chat).await.expect("Ann accepts");
    let mut events = ann.subscribe();
    visitor.send("are you there?").await;
    loop {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Ok(switchboard_core::CoreEvent::MessagePosted { message }))
                if message.body == "are you there?" =>
            {
                break;
            }
            Ok(Ok(_)) => {}
            other => panic!("the visitor's message never arrived: {other:?}"),
        }
    }
    // The chime is 0.3 s; give the device time to take it before closing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    ann.shutdown().await;
    server.stop().await;
}

/// The capture's RMS is taken in blocks of this much sample time.
const BLOCK: Duration = Duration::from_millis(100);

const FALLBACK_CHILD_ENV: &str = "SWITCHBOARD_DEVICE_FALLBACK_CHILD";
const FALLBACK_TEST_NAME: &str =
    "d03_a_chosen_device_that_is_gone_falls_back_to_the_default_with_a_note";

/// D03: the operator chose an output device that is no longer there. The core still plays,
/// through the default device (captured here), and the settings get a note saying so; the
/// "test" button plays the chosen cue once (three short beeps for an invitation).
#[test]
fn d03_a_chosen_device_that_is_gone_falls_back_to_the_default_with_a_note() {
    if capture::run_as_child(FALLBACK_CHILD_ENV, fallback_child) {
        return;
    }
    let folder = tempfile::tempdir().expect("a folder for the capture");
    let capture = capture::write_asoundrc(folder.path());
    capture::run_test_child(
        FALLBACK_TEST_NAME,
        FALLBACK_CHILD_ENV,
        folder.path(),
        "device fallback",
    );
    let wav = Wav::read(&capture);
    let block = Duration::from_millis(10);
    let loud_ms = wav
        .block_rms(block)
        .iter()
        .filter(|rms| **rms > 0.02)
        .count() as u128
        * block.as_millis();
    eprintln!("fallback capture: {loud_ms} ms of sound");
    assert!(
        (250..=700).contains(&loud_ms),
        "the tested invitation cue (about 360 ms of beeps) plays through the default device: \
         {loud_ms} ms of sound"
    );
}

async fn fallback_child(_folder: PathBuf) {
    let data = tempfile::tempdir().expect("a data folder");
    let ann_data = data.path().join("ann");
    std::fs::create_dir_all(&ann_data).expect("the data folder");
    let chosen = SoundSettings {
        output_device: Some("alsa:switchboard-unplugged-headset".to_owned()),
        ..SoundSettings::default()
    };
    std::fs::write(
        ann_data.join(SOUND_SETTINGS_FILE),
        serde_json::to_vec(&chosen).expect("settings JSON"),
    )
    .expect("write the sound settings");
    let server = TestServer::start().await;
    let ann = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: ann_data,
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Default,
    })
    .await
    .expect("Ann's core starts");
    assert_eq!(
        ann.state().ringer,
        RingerState::Silent,
        "the default device stands in for the missing one"
    );
    let status = ann.sound_status().await;
    assert_eq!(status.unavailable, None);
    let note = status
        .fallback
        .expect("a note that the chosen device is gone");
    assert!(
        note.contains("switchboard-unplugged-headset") && note.contains("default device"),
        "{note}"
    );
    assert_eq!(
        ann.sound_settings().output_device,
        chosen.output_device,
        "the choice is kept for when the device comes back"
    );
    ann.test_sound(chosen, Sound::Invitation)
        .await
        .expect("the test sound plays");
    // The cue is under half a second; give the device time to take it before closing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    ann.shutdown().await;
    server.stop().await;
}
