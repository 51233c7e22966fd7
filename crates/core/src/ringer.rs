//! The ring tone: a dedicated thread owns the audio output (it is not `Send`) and plays a tone
//! synthesised in code while told to. One tone for any number of ringing chats.
//!
//! The output stream is opened once and kept open, so silence is real silence on the device
//! (a recording of the output shows the ring start and stop), and a missing device is found
//! at start, not at the first ring. The operator may pick the output device (D03); when it is
//! gone the default device plays and the settings show a note saying so.
//!
//! The sound system is probed only when needed: at start only the chosen (or default) device is
//! opened, and the device list is read when the settings ask for it. alsa-lib's complaints on
//! the way go to the debug log (`alsa_messages`), not the terminal.

mod alsa_messages;

use std::num::NonZero;
use std::str::FromStr;
use std::sync::mpsc;
use std::thread;

use rodio::Source;
use rodio::buffer::SamplesBuffer;
use rodio::cpal::traits::{DeviceTrait, HostTrait};
use rodio::stream::{DeviceSinkBuilder, MixerDeviceSink};

use self::alsa_messages::AlsaMessages;
use crate::AudioOutput;
use crate::attention::Sound;
use crate::sounds::{OutputDevice, PreparedSounds, SoundUnavailable};

/// Samples per second of the synthesised tone.
const SAMPLE_RATE: u32 = 44_100;
/// The North American ringback pair: recognisable as "a call is waiting" without being harsh.
const TONE_HZ: [f32; 2] = [440.0, 480.0];
/// Peak amplitude (full scale is 1.0): audible without startling.
const AMPLITUDE: f32 = 0.25;
const ON_SECONDS: f32 = 1.0;
const OFF_SECONDS: f32 = 1.0;
/// The chime's two beeps (E6 then A6) and their timing.
const CHIME_HZ: [f32; 2] = [1_318.5, 1_760.0];
const CHIME_BEEP_SECONDS: f32 = 0.12;
const CHIME_GAP_SECONDS: f32 = 0.06;
/// The invitation cue's three beeps (A6, E6, A6): as short as the chime but a different
/// melody, so "a colleague wants me" is told apart from "a visitor wrote" (D03).
const INVITATION_HZ: [f32; 3] = [1_760.0, 1_318.5, 1_760.0];
/// The @mention cue: two beeps on one pitch (E6), a lighter tap than the invitation.
const MENTION_HZ: [f32; 2] = [1_318.5, 1_318.5];
/// The new-visitor cue (B50): one low beep (A5), the least urgent sound of all.
const NEW_VISITOR_HZ: [f32; 1] = [880.0];

enum Command {
    Play(bool),
    /// Play a short alert once, over the loop if it plays.
    Chime(Sound),
    /// Play one sound of these sounds once, as the settings' "test" button asks.
    Test(Sound, Box<PreparedSounds>),
    /// Use these sounds and volume from now on (a playing ring restarts with them).
    Configure(Box<PreparedSounds>),
    /// Play through this device (`None`: the system default) from now on; answers with the
    /// note to show when the chosen device is gone and the default plays instead.
    UseDevice(Option<String>, mpsc::Sender<Result<Option<String>, String>>),
    Stop,
}

/// Handle to the ringer thread.
pub(crate) struct Ringer {
    commands: Option<mpsc::Sender<Command>>,
    /// Why there is no sound, when there is none.
    unavailable: Option<SoundUnavailable>,
    /// Set while the chosen device is missing and the default one plays instead.
    fallback: Option<String>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Ringer {
    /// Opens `device` (an id from [`output_devices`]; `None` for the system default), or the
    /// default when that one is gone.
    pub(crate) fn start(output: AudioOutput, device: Option<String>) -> Ringer {
        let silent = |unavailable| Ringer {
            commands: None,
            unavailable: Some(unavailable),
            fallback: None,
            thread: None,
        };
        if output == AudioOutput::Disabled {
            return silent(SoundUnavailable::Disabled);
        }
        let (commands, receiver) = mpsc::channel();
        let (opened, opened_receiver) = mpsc::channel::<Result<Option<String>, String>>();
        let spawned = thread::Builder::new()
            .name("switchboard-ringer".to_owned())
            .spawn(move || run(receiver, device, opened));
        let thread = match spawned {
            Ok(thread) => thread,
            Err(error) => {
                return silent(SoundUnavailable::NoDevice {
                    reason: format!("the audio thread could not start: {error}"),
                });
            }
        };
        match opened_receiver.recv() {
            Ok(Ok(fallback)) => Ringer {
                commands: Some(commands),
                unavailable: None,
                fallback,
                thread: Some(thread),
            },
            Ok(Err(reason)) => {
                let _ = thread.join();
                silent(SoundUnavailable::NoDevice { reason })
            }
            Err(_) => silent(SoundUnavailable::NoDevice {
                reason: "the audio thread stopped".to_owned(),
            }),
        }
    }

    /// `Some(why)` when no sound can be played.
    pub(crate) fn unavailable(&self) -> Option<&SoundUnavailable> {
        self.unavailable.as_ref()
    }

    /// The note shown while the chosen output device is gone and the default one plays.
    pub(crate) fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    pub(crate) fn set_playing(&self, playing: bool) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(Command::Play(playing));
        }
    }

    /// A short alert (D03), distinct from the ring: a new visitor message in my chats, or an
    /// invitation, transfer or @mention for me. `Sound::Ring` is the loop, not a chime: ignored.
    pub(crate) fn chime(&self, sound: Sound) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(Command::Chime(sound));
        }
    }

    /// Plays `sound` of `sounds` once (one period of the ring), whatever rings meanwhile.
    pub(crate) fn test(&self, sound: Sound, sounds: PreparedSounds) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(Command::Test(sound, Box::new(sounds)));
        }
    }

    pub(crate) fn configure(&self, sounds: PreparedSounds) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(Command::Configure(Box::new(sounds)));
        }
    }

    /// Switches to `device` (`None`: the system default). Blocks while the device opens. When
    /// no device at all opens, the previous one stays and the reason is returned.
    pub(crate) fn use_device(&mut self, device: Option<String>) -> Result<(), String> {
        let Some(commands) = &self.commands else {
            return Ok(());
        };
        let (answer, answered) = mpsc::channel();
        commands
            .send(Command::UseDevice(device, answer))
            .map_err(|_| "the audio thread stopped".to_owned())?;
        let fallback = answered
            .recv()
            .map_err(|_| "the audio thread stopped".to_owned())??;
        self.fallback = fallback;
        Ok(())
    }

    pub(crate) fn stop(&mut self) {
        if let Some(commands) = self.commands.take() {
            let _ = commands.send(Command::Stop);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Ringer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The output devices of the system's audio host (ALSA on Linux), the default one marked.
/// Blocks: the host probes its devices. The probe runs on a thread of its own, so alsa-lib's
/// messages are captured there and the capture ends with it.
pub(crate) fn output_devices() -> Vec<OutputDevice> {
    thread::scope(|scope| {
        thread::Builder::new()
            .name("switchboard-audio-probe".to_owned())
            .spawn_scoped(scope, || {
                let mut messages = AlsaMessages::capture();
                let devices = list_output_devices();
                messages.flush("listing output devices");
                devices
            })
            .ok()
            .and_then(|probe| probe.join().ok())
            .unwrap_or_default()
    })
}

fn list_output_devices() -> Vec<OutputDevice> {
    let host = rodio::cpal::default_host();
    let default = host
        .default_output_device()
        .and_then(|device| device.id().ok());
    let Ok(devices) = host.output_devices() else {
        return Vec::new();
    };
    let mut listed: Vec<OutputDevice> = Vec::new();
    for device in devices {
        let Ok(id) = device.id() else {
            continue;
        };
        let name = device
            .description()
            .map(|description| description.name().to_owned())
            .unwrap_or_else(|_| id.id().to_owned());
        let entry = OutputDevice {
            id: id.to_string(),
            name,
            is_default: default.as_ref() == Some(&id),
        };
        if !listed.iter().any(|known| known.id == entry.id) {
            listed.push(entry);
        }
    }
    listed
}

/// Opens `chosen`, or the default device when it is gone or does not open; the second value
/// is the note saying so.
fn open(chosen: Option<&str>) -> Result<(MixerDeviceSink, Option<String>), String> {
    let mut note = None;
    if let Some(chosen) = chosen {
        let host = rodio::cpal::default_host();
        let device = rodio::cpal::DeviceId::from_str(chosen)
            .ok()
            .and_then(|id| host.device_by_id(&id));
        match device {
            Some(device) => {
                let opened = DeviceSinkBuilder::from_device(device).and_then(|sink| {
                    sink.with_error_callback(stream_error as fn(rodio::cpal::Error))
                        .open_stream()
                });
                match opened {
                    Ok(sink) => return Ok((sink, None)),
                    Err(error) => {
                        note = Some(format!(
                            "The chosen output device ({chosen}) does not open ({error}): \
                             playing through the default device."
                        ));
                    }
                }
            }
            None => {
                note = Some(format!(
                    "The chosen output device ({chosen}) is not connected: playing through \
                     the default device."
                ));
            }
        }
    }
    let sink = DeviceSinkBuilder::from_default_device()
        .and_then(|sink| {
            sink.with_error_callback(stream_error as fn(rodio::cpal::Error))
                .open_sink_or_fallback()
        })
        .or_else(open_sound_card)
        .map_err(|error| format!("no audio output: {error}"))?;
    Ok((sink, note))
}

/// When the default device refuses, the sound cards themselves are tried. Not every ALSA
/// device, as rodio's own search does: that opens the JACK, OSS and PulseAudio plugins too,
/// which on a machine without them print a screenful through libraries whose printing cannot
/// be redirected, and which would not play where the default device does not.
fn open_sound_card(
    refused: rodio::DeviceSinkError,
) -> Result<MixerDeviceSink, rodio::DeviceSinkError> {
    let Ok(devices) = rodio::cpal::default_host().output_devices() else {
        return Err(refused);
    };
    let mut cards: Vec<(u8, rodio::cpal::Device)> = devices
        .filter_map(|device| {
            let rank = sound_card_rank(device.id().ok()?.id())?;
            Some((rank, device))
        })
        .collect();
    cards.sort_by_key(|(rank, _)| *rank);
    cards
        .into_iter()
        .find_map(|(_, device)| {
            DeviceSinkBuilder::from_device(device)
                .and_then(|sink| {
                    sink.with_error_callback(stream_error as fn(rodio::cpal::Error))
                        .open_sink_or_fallback()
                })
                .ok()
        })
        .ok_or(refused)
}

/// The order in which a sound card's devices are tried (`plughw` converts any format, so it
/// goes first); `None` for anything else (plugins, virtual devices).
fn sound_card_rank(pcm: &str) -> Option<u8> {
    if pcm.starts_with("plughw:") {
        Some(0)
    } else if pcm.starts_with("hw:") {
        Some(1)
    } else {
        None
    }
}

/// [`open`], with alsa-lib's messages on the way logged; a failure ends with its last one.
fn open_logged(
    chosen: Option<&str>,
    messages: &mut AlsaMessages,
) -> Result<(MixerDeviceSink, Option<String>), String> {
    let opened = open(chosen);
    let said = messages.flush("opening the audio output");
    opened.map_err(|reason| match alsa_messages::last_message(&said) {
        Some(cause) => format!("{reason} (ALSA: {cause})"),
        None => reason,
    })
}

/// A stream error (an underrun, or ALSA's `pulse` plugin failing a delay query) is passing:
/// the stream goes on. rodio's default prints every one to stderr, thousands an hour through
/// PulseAudio; a debug log keeps them findable without flooding the terminal.
fn stream_error(error: rodio::cpal::Error) {
    tracing::debug!(%error, "audio stream error");
}

/// A player on `sink` looping `tone`.
fn ring_player(sink: &MixerDeviceSink, tone: &SamplesBuffer, volume: f32) -> rodio::Player {
    let player = rodio::Player::connect_new(sink.mixer());
    player.set_volume(volume);
    player.append(tone.clone().repeat_infinite());
    player.play();
    player
}

fn run(
    commands: mpsc::Receiver<Command>,
    device: Option<String>,
    opened: mpsc::Sender<Result<Option<String>, String>>,
) {
    let mut messages = AlsaMessages::capture();
    let mut sink = match open_logged(device.as_deref(), &mut messages) {
        Ok((sink, note)) => {
            let _ = opened.send(Ok(note));
            sink
        }
        Err(reason) => {
            let _ = opened.send(Err(reason));
            return;
        }
    };
    sink.log_on_drop(false);
    let mut sounds = PreparedSounds::built_in();
    let mut player: Option<rodio::Player> = None;
    // Chimes share one player, so a burst of messages queues instead of stacking up.
    let mut chimes = rodio::Player::connect_new(sink.mixer());
    // Tests get their own player: a test is never dropped behind a queue of chimes.
    let mut tests = rodio::Player::connect_new(sink.mixer());
    while let Ok(command) = commands.recv() {
        match command {
            Command::Play(true) => {
                if player.is_none()
                    && let Some(tone) = &sounds.ring
                {
                    player = Some(ring_player(&sink, tone, sounds.volume));
                }
            }
            Command::Configure(prepared) => {
                sounds = *prepared;
                chimes.set_volume(sounds.volume);
                // A ring in progress goes on with the new sound.
                if let Some(old) = player.take() {
                    old.stop();
                    if let Some(tone) = &sounds.ring {
                        player = Some(ring_player(&sink, tone, sounds.volume));
                    }
                }
            }
            Command::UseDevice(device, answer) => {
                match open_logged(device.as_deref(), &mut messages) {
                    Ok((mut new_sink, note)) => {
                        new_sink.log_on_drop(false);
                        let ringing = player.take().map(|old| old.stop()).is_some();
                        chimes.stop();
                        tests.stop();
                        sink = new_sink;
                        chimes = rodio::Player::connect_new(sink.mixer());
                        chimes.set_volume(sounds.volume);
                        tests = rodio::Player::connect_new(sink.mixer());
                        if ringing && let Some(tone) = &sounds.ring {
                            player = Some(ring_player(&sink, tone, sounds.volume));
                        }
                        let _ = answer.send(Ok(note));
                    }
                    Err(reason) => {
                        let _ = answer.send(Err(reason));
                    }
                }
            }
            Command::Play(false) => {
                if let Some(old) = player.take() {
                    old.stop();
                }
            }
            Command::Chime(sound) => {
                // At most one waiting behind the one playing: a burst is one or two chimes.
                if chimes.len() < 2
                    && sound != Sound::Ring
                    && let Some(cue) = sounds.for_sound(sound)
                {
                    chimes.append(cue.clone());
                    chimes.play();
                }
            }
            Command::Test(sound, prepared) => {
                tests.stop();
                tests = rodio::Player::connect_new(sink.mixer());
                tests.set_volume(prepared.volume);
                if let Some(cue) = prepared.for_sound(sound) {
                    tests.append(cue.clone());
                    tests.play();
                }
            }
            Command::Stop => break,
        }
    }
    chimes.stop();
    tests.stop();
    if let Some(old) = player.take() {
        old.stop();
    }
}

/// One period of the ring: the two tones mixed for `ON_SECONDS`, then `OFF_SECONDS` of silence.
/// Short fades at the edges avoid clicks.
pub(crate) fn ring_tone() -> SamplesBuffer {
    let on = (SAMPLE_RATE as f32 * ON_SECONDS) as usize;
    let off = (SAMPLE_RATE as f32 * OFF_SECONDS) as usize;
    let fade = (SAMPLE_RATE / 100) as usize;
    let mut samples = Vec::with_capacity(on + off);
    for index in 0..on {
        let time = index as f32 / SAMPLE_RATE as f32;
        let mixed: f32 = TONE_HZ
            .iter()
            .map(|hz| (std::f32::consts::TAU * hz * time).sin())
            .sum::<f32>()
            / TONE_HZ.len() as f32;
        let edge = index.min(on - 1 - index);
        let envelope = if edge < fade {
            edge as f32 / fade as f32
        } else {
            1.0
        };
        samples.push(mixed * AMPLITUDE * envelope);
    }
    samples.resize(on + off, 0.0);
    SamplesBuffer::new(
        NonZero::new(1).unwrap_or(NonZero::<u16>::MIN),
        NonZero::new(SAMPLE_RATE).unwrap_or(NonZero::<u32>::MIN),
        samples,
    )
}

/// The message chime: two short rising beeps (0.3 s in all), higher than the ring so the ear
/// tells "someone wrote" from "someone is waiting".
pub(crate) fn chime_tone() -> SamplesBuffer {
    beeps(&CHIME_HZ)
}

/// The invitation, transfer and @mention cue: three quick beeps, high-low-high.
pub(crate) fn invitation_tone() -> SamplesBuffer {
    beeps(&INVITATION_HZ)
}

/// The @mention cue: two short taps on one pitch.
pub(crate) fn mention_tone() -> SamplesBuffer {
    beeps(&MENTION_HZ)
}

/// The new-visitor cue (B50): one low beep.
pub(crate) fn new_visitor_tone() -> SamplesBuffer {
    beeps(&NEW_VISITOR_HZ)
}

/// Short sine beeps at these pitches, with gaps between them.
fn beeps(pitches: &[f32]) -> SamplesBuffer {
    let beep = (SAMPLE_RATE as f32 * CHIME_BEEP_SECONDS) as usize;
    let gap = (SAMPLE_RATE as f32 * CHIME_GAP_SECONDS) as usize;
    let fade = (SAMPLE_RATE / 200) as usize;
    let mut samples = Vec::with_capacity(pitches.len() * (beep + gap));
    for (position, hz) in pitches.iter().enumerate() {
        if position > 0 {
            samples.resize(samples.len() + gap, 0.0);
        }
        for index in 0..beep {
            let time = index as f32 / SAMPLE_RATE as f32;
            let edge = index.min(beep - 1 - index);
            let envelope = if edge < fade {
                edge as f32 / fade as f32
            } else {
                1.0
            };
            samples.push((std::f32::consts::TAU * hz * time).sin() * AMPLITUDE * envelope);
        }
    }
    SamplesBuffer::new(
        NonZero::new(1).unwrap_or(NonZero::<u16>::MIN),
        NonZero::new(SAMPLE_RATE).unwrap_or(NonZero::<u32>::MIN),
        samples,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_sounds_for_one_second_then_is_silent_for_one() {
        let samples: Vec<f32> = ring_tone().collect();
        let rate = SAMPLE_RATE as usize;
        assert_eq!(samples.len(), 2 * rate);
        let rms = |part: &[f32]| {
            (part.iter().map(|sample| sample * sample).sum::<f32>() / part.len() as f32).sqrt()
        };
        assert!(rms(&samples[..rate]) > 0.05, "the first second must sound");
        assert_eq!(
            rms(&samples[rate..]),
            0.0,
            "the second second must be silent"
        );
        assert!(samples.iter().all(|sample| sample.abs() <= AMPLITUDE));
    }

    #[test]
    fn d03_the_chime_is_short_and_distinct_from_the_ring() {
        let chime: Vec<f32> = chime_tone().collect();
        let seconds = chime.len() as f32 / SAMPLE_RATE as f32;
        assert!(seconds < 0.5, "a chime is short: {seconds} s");
        assert!(chime.iter().any(|sample| sample.abs() > 0.1), "it sounds");
        // Zero crossings per second estimate the pitch: the chime sits well above the ring.
        let crossings_per_second = |samples: &[f32]| {
            let crossings = samples
                .windows(2)
                .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
                .count();
            crossings as f32 / (samples.len() as f32 / SAMPLE_RATE as f32)
        };
        let ring: Vec<f32> = ring_tone().collect();
        let ring_pitch = crossings_per_second(&ring[..SAMPLE_RATE as usize]);
        let beep = (SAMPLE_RATE as f32 * CHIME_BEEP_SECONDS) as usize;
        let chime_pitch = crossings_per_second(&chime[..beep]);
        assert!(
            chime_pitch > 2.0 * ring_pitch,
            "chime {chime_pitch} vs ring {ring_pitch} crossings/s"
        );
    }

    #[test]
    fn d03_the_invitation_cue_is_short_and_differs_from_the_message_chime() {
        let invitation: Vec<f32> = invitation_tone().collect();
        let chime: Vec<f32> = chime_tone().collect();
        let seconds = invitation.len() as f32 / SAMPLE_RATE as f32;
        assert!(seconds < 0.5, "the cue is short: {seconds} s");
        assert!(
            invitation.iter().any(|sample| sample.abs() > 0.1),
            "it sounds"
        );
        assert!(invitation.len() > chime.len(), "three beeps, not two");
        let beep = (SAMPLE_RATE as f32 * CHIME_BEEP_SECONDS) as usize;
        assert_ne!(
            invitation[..beep],
            chime[..beep],
            "it opens on another pitch than the chime"
        );
    }

    #[test]
    fn d03_only_sound_cards_stand_in_for_a_refusing_default_device() {
        assert_eq!(sound_card_rank("plughw:CARD=PCH,DEV=0"), Some(0));
        assert_eq!(sound_card_rank("hw:CARD=0,DEV=3"), Some(1));
        for plugin in [
            "default",
            "jack",
            "pulse",
            "oss",
            "pipewire",
            "sysdefault:CARD=0",
            "null",
        ] {
            assert_eq!(sound_card_rank(plugin), None, "{plugin} is not tried");
        }
    }

    #[test]
    fn disabled_audio_never_opens_a_device_and_says_it_is_switched_off() {
        let mut ringer = Ringer::start(AudioOutput::Disabled, Some("alsa:nowhere".to_owned()));
        assert_eq!(ringer.unavailable(), Some(&SoundUnavailable::Disabled));
        assert_eq!(ringer.fallback(), None);
        ringer.set_playing(true);
        ringer.chime(Sound::Message);
        ringer.chime(Sound::Invitation);
        ringer.test(Sound::Ring, PreparedSounds::built_in());
        assert_eq!(ringer.use_device(None), Ok(()));
    }

    #[test]
    fn d03_every_event_has_its_own_built_in_cue() {
        let cues: Vec<Vec<f32>> = [
            chime_tone(),
            invitation_tone(),
            mention_tone(),
            new_visitor_tone(),
        ]
        .into_iter()
        .map(|tone| tone.collect())
        .collect();
        for (index, cue) in cues.iter().enumerate() {
            let seconds = cue.len() as f32 / SAMPLE_RATE as f32;
            assert!(seconds < 0.5, "cue {index} is short: {seconds} s");
            assert!(
                cue.iter().any(|sample| sample.abs() > 0.1),
                "cue {index} sounds"
            );
            for (other, different) in cues.iter().enumerate().skip(index + 1) {
                assert_ne!(cue, different, "cues {index} and {other} differ");
            }
        }
    }
}
