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

/// Samples per second of the synthesised tone.
const SAMPLE_RATE: u32 = 44_100;
/// The North American ringback pair: recognisable as "a call is waiting" without being harsh.
const TONE_HZ: [f32; 2] = [440.0, 480.0];
/// Peak amplitude (full scale is 1.0): audible without startling.
const AMPLITUDE: f32 = 0.25;
const ON_SECONDS: f32 = 1.0;
const OFF_SECONDS: f32 = 1.0;

enum Command {
    Play(bool),
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
    let tone = ring_tone();
    let mut player: Option<rodio::Player> = None;
    while let Ok(command) = commands.recv() {
        match command {
            Command::Play(true) => {
                if player.is_none() {
                    let new_player = rodio::Player::connect_new(sink.mixer());
                    new_player.append(tone.clone().repeat_infinite());
                    new_player.play();
                    player = Some(new_player);
                }
            }
            Command::Play(false) => {
                if let Some(old) = player.take() {
                    old.stop();
                }
            }
            Command::Stop => break,
        }
    }
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
    fn disabled_audio_never_opens_a_device() {
        let ringer = Ringer::start(AudioOutput::Disabled);
        assert_eq!(ringer.no_device(), Some("audio disabled"));
        ringer.set_playing(true);
    }
}
