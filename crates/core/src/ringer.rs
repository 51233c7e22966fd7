//! The ring tone: a dedicated thread owns the audio output (it is not `Send`) and plays a tone
//! synthesised in code while told to. One tone for any number of ringing chats.
//!
//! The output stream is opened once and kept open, so silence is real silence on the device
//! (a recording of the output shows the ring start and stop), and a missing device is found
//! at start, not at the first ring.

use std::num::NonZero;
use std::sync::mpsc;
use std::thread;

use rodio::Source;
use rodio::buffer::SamplesBuffer;

use crate::AudioOutput;
use crate::attention::Sound;
use crate::sounds::PreparedSounds;

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

enum Command {
    Play(bool),
    /// Play a short alert once, over the loop if it plays.
    Chime(Sound),
    /// Use these sounds and volume from now on (a playing ring restarts with them).
    Configure(Box<PreparedSounds>),
    Stop,
}

/// Handle to the ringer thread.
pub(crate) struct Ringer {
    commands: Option<mpsc::Sender<Command>>,
    /// Why there is no sound, when there is none.
    no_device: Option<String>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Ringer {
    pub(crate) fn start(output: AudioOutput) -> Ringer {
        if output == AudioOutput::Disabled {
            return Ringer {
                commands: None,
                no_device: Some("audio disabled".to_owned()),
                thread: None,
            };
        }
        let (commands, receiver) = mpsc::channel();
        let (opened, opened_receiver) = mpsc::channel::<Result<(), String>>();
        let spawned = thread::Builder::new()
            .name("switchboard-ringer".to_owned())
            .spawn(move || run(receiver, opened));
        let thread = match spawned {
            Ok(thread) => thread,
            Err(error) => {
                return Ringer {
                    commands: None,
                    no_device: Some(format!("the audio thread could not start: {error}")),
                    thread: None,
                };
            }
        };
        match opened_receiver.recv() {
            Ok(Ok(())) => Ringer {
                commands: Some(commands),
                no_device: None,
                thread: Some(thread),
            },
            Ok(Err(reason)) => {
                let _ = thread.join();
                Ringer {
                    commands: None,
                    no_device: Some(reason),
                    thread: None,
                }
            }
            Err(_) => Ringer {
                commands: None,
                no_device: Some("the audio thread stopped".to_owned()),
                thread: None,
            },
        }
    }

    /// `Some(reason)` when no sound can be played.
    pub(crate) fn no_device(&self) -> Option<&str> {
        self.no_device.as_deref()
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

    pub(crate) fn configure(&self, sounds: PreparedSounds) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(Command::Configure(Box::new(sounds)));
        }
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

fn run(commands: mpsc::Receiver<Command>, opened: mpsc::Sender<Result<(), String>>) {
    let mut sink = match rodio::DeviceSinkBuilder::open_default_sink() {
        Ok(sink) => sink,
        Err(error) => {
            let _ = opened.send(Err(format!("no audio output: {error}")));
            return;
        }
    };
    sink.log_on_drop(false);
    let _ = opened.send(Ok(()));
    let mut sounds = PreparedSounds {
        ring: Some(ring_tone()),
        chime: Some(chime_tone()),
        volume: 1.0,
    };
    // Not a setting yet: the invitation cue is always the built-in one.
    let invitation = invitation_tone();
    let mut player: Option<rodio::Player> = None;
    // Chimes share one player, so a burst of messages queues instead of stacking up.
    let chimes = rodio::Player::connect_new(sink.mixer());
    while let Ok(command) = commands.recv() {
        match command {
            Command::Play(true) => {
                if player.is_none()
                    && let Some(tone) = &sounds.ring
                {
                    let new_player = rodio::Player::connect_new(sink.mixer());
                    new_player.set_volume(sounds.volume);
                    new_player.append(tone.clone().repeat_infinite());
                    new_player.play();
                    player = Some(new_player);
                }
            }
            Command::Configure(prepared) => {
                sounds = *prepared;
                chimes.set_volume(sounds.volume);
                // A ring in progress goes on with the new sound.
                if let Some(old) = player.take() {
                    old.stop();
                    if let Some(tone) = &sounds.ring {
                        let new_player = rodio::Player::connect_new(sink.mixer());
                        new_player.set_volume(sounds.volume);
                        new_player.append(tone.clone().repeat_infinite());
                        new_player.play();
                        player = Some(new_player);
                    }
                }
            }
            Command::Play(false) => {
                if let Some(old) = player.take() {
                    old.stop();
                }
            }
            Command::Chime(sound) => {
                let cue = match sound {
                    Sound::Message => sounds.chime.as_ref(),
                    Sound::Invitation | Sound::Mention => Some(&invitation),
                    Sound::Ring => None,
                };
                // At most one waiting behind the one playing: a burst is one or two chimes.
                if chimes.len() < 2
                    && let Some(cue) = cue
                {
                    chimes.append(cue.clone());
                    chimes.play();
                }
            }
            Command::Stop => break,
        }
    }
    chimes.stop();
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
    fn disabled_audio_never_opens_a_device() {
        let ringer = Ringer::start(AudioOutput::Disabled);
        assert_eq!(ringer.no_device(), Some("audio disabled"));
        ringer.set_playing(true);
        ringer.chime(Sound::Message);
        ringer.chime(Sound::Invitation);
    }
}
