//! The operator's sound settings (D03): volume and, per event, the built-in tone, silence, or
//! their own WAV/OGG/MP3/FLAC file. A device preference, not an account one: kept as a small
//! JSON file in the cache folder, so it survives sign-out (which empties the cache database).

use std::fs::File;
use std::io::BufReader;
use std::num::NonZero;
use std::path::Path;

use rodio::Source;
use rodio::buffer::SamplesBuffer;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::CoreError;
use crate::attention::Sound;

/// The settings file inside the cache folder.
pub const SOUND_SETTINGS_FILE: &str = "sound-settings.json";
/// A custom sound is cut after this long: a ring is a loop, a chime a short cue.
const LONGEST_SOUND_SECONDS: u32 = 30;

/// Which sound an event plays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SoundChoice {
    /// The tone synthesised by the app.
    BuiltIn,
    /// No sound for this event (visual alerts only).
    Off,
    /// The operator's own file: WAV, OGG (Vorbis), MP3 or FLAC.
    File { path: String },
}

fn built_in() -> SoundChoice {
    SoundChoice::BuiltIn
}

fn off() -> SoundChoice {
    SoundChoice::Off
}

/// The operator's sound settings. Fields added later default when a settings file written by
/// an older version lacks them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SoundSettings {
    /// 0 to 100 percent of the sound's own level.
    pub volume: u8,
    /// The loop while requests ring.
    pub ring: SoundChoice,
    /// The short cue for a new visitor message in my chats.
    pub message: SoundChoice,
    /// A colleague invites me into a chat or transfers one to me (B22, B23).
    #[serde(default = "built_in")]
    pub invitation: SoundChoice,
    /// A colleague's note mentions me (B26).
    #[serde(default = "built_in")]
    pub mention: SoundChoice,
    /// A new visitor on the site (B50): off unless the operator wants it.
    #[serde(default = "off")]
    pub new_visitor: SoundChoice,
    /// The output device's id (from [`SoundStatus::devices`]); `None`: the system default.
    #[serde(default)]
    pub output_device: Option<String>,
}

impl Default for SoundSettings {
    fn default() -> Self {
        SoundSettings {
            volume: 80,
            ring: SoundChoice::BuiltIn,
            message: SoundChoice::BuiltIn,
            invitation: SoundChoice::BuiltIn,
            mention: SoundChoice::BuiltIn,
            new_visitor: SoundChoice::Off,
            output_device: None,
        }
    }
}

/// Why no sound can play.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SoundUnavailable {
    /// Sound is switched off for this app (`SWITCHBOARD_AUDIO=off`): no device is opened.
    Disabled,
    /// No output device opens (none present, or the sound system refuses).
    NoDevice { reason: String },
}

/// An output device the operator can choose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OutputDevice {
    /// Stable id to store in [`SoundSettings::output_device`], e.g. `alsa:default`.
    pub id: String,
    /// What the sound system calls it.
    pub name: String,
    pub is_default: bool,
}

/// What the sound settings show besides the settings themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SoundStatus {
    /// `None` while sound works.
    pub unavailable: Option<SoundUnavailable>,
    /// The output devices to choose from (none while sound is unavailable).
    pub devices: Vec<OutputDevice>,
    /// Set while the chosen device is gone and the default device plays instead.
    pub fallback: Option<String>,
}

/// The sounds ready to play, as the ringer thread uses them.
#[derive(Clone)]
pub(crate) struct PreparedSounds {
    /// `None`: silent.
    pub ring: Option<SamplesBuffer>,
    pub chime: Option<SamplesBuffer>,
    pub invitation: Option<SamplesBuffer>,
    pub mention: Option<SamplesBuffer>,
    pub new_visitor: Option<SamplesBuffer>,
    /// Linear gain, 0.0 to 1.0.
    pub volume: f32,
}

impl PreparedSounds {
    /// Decodes the chosen files; a file that cannot be played is an error naming it.
    pub(crate) fn prepare(settings: &SoundSettings) -> Result<PreparedSounds, CoreError> {
        if settings.volume > 100 {
            return Err(CoreError::InvalidSetting(format!(
                "The volume must be between 0 and 100, not {}.",
                settings.volume
            )));
        }
        Ok(PreparedSounds {
            ring: prepare_choice(&settings.ring, crate::ringer::ring_tone)?,
            chime: prepare_choice(&settings.message, crate::ringer::chime_tone)?,
            invitation: prepare_choice(&settings.invitation, crate::ringer::invitation_tone)?,
            mention: prepare_choice(&settings.mention, crate::ringer::mention_tone)?,
            new_visitor: prepare_choice(&settings.new_visitor, crate::ringer::new_visitor_tone)?,
            volume: f32::from(settings.volume) / 100.0,
        })
    }

    /// Every event's built-in sound (the new visitor's too), at full volume.
    pub(crate) fn built_in() -> PreparedSounds {
        PreparedSounds {
            ring: Some(crate::ringer::ring_tone()),
            chime: Some(crate::ringer::chime_tone()),
            invitation: Some(crate::ringer::invitation_tone()),
            mention: Some(crate::ringer::mention_tone()),
            new_visitor: Some(crate::ringer::new_visitor_tone()),
            volume: 1.0,
        }
    }

    /// The sound an event plays; `None` when it is off.
    pub(crate) fn for_sound(&self, sound: Sound) -> Option<&SamplesBuffer> {
        match sound {
            Sound::Ring => self.ring.as_ref(),
            Sound::Message => self.chime.as_ref(),
            Sound::Invitation => self.invitation.as_ref(),
            Sound::Mention => self.mention.as_ref(),
            Sound::NewVisitor => self.new_visitor.as_ref(),
        }
    }
}

fn prepare_choice(
    choice: &SoundChoice,
    built_in: fn() -> SamplesBuffer,
) -> Result<Option<SamplesBuffer>, CoreError> {
    match choice {
        SoundChoice::BuiltIn => Ok(Some(built_in())),
        SoundChoice::Off => Ok(None),
        SoundChoice::File { path } => decode(Path::new(path)).map(Some),
    }
}

/// Reads a sound file into memory (at most [`LONGEST_SOUND_SECONDS`]), so playing it later
/// cannot fail on a file that moved.
pub(crate) fn decode(path: &Path) -> Result<SamplesBuffer, CoreError> {
    let unusable = |reason: String| {
        CoreError::InvalidSetting(format!("{} cannot be played: {reason}", path.display()))
    };
    let file = File::open(path).map_err(|error| unusable(error.to_string()))?;
    let decoder =
        rodio::Decoder::new(BufReader::new(file)).map_err(|error| unusable(error.to_string()))?;
    let channels = decoder.channels();
    let rate = decoder.sample_rate();
    let limit = usize::try_from(LONGEST_SOUND_SECONDS * rate.get() * u32::from(channels.get()))
        .unwrap_or(usize::MAX);
    let samples: Vec<f32> = decoder.take(limit).collect();
    if samples.is_empty() {
        return Err(unusable("it holds no sound".to_owned()));
    }
    Ok(SamplesBuffer::new(
        NonZero::new(channels.get()).unwrap_or(NonZero::<u16>::MIN),
        rate,
        samples,
    ))
}

/// The stored settings; the defaults when there are none or they cannot be read.
pub(crate) fn load(data_dir: &Path) -> SoundSettings {
    std::fs::read(data_dir.join(SOUND_SETTINGS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Stores the settings: written aside, then renamed over, so a crash never leaves half a file.
pub(crate) fn save(data_dir: &Path, settings: &SoundSettings) -> Result<(), CoreError> {
    let json = serde_json::to_vec_pretty(settings)
        .map_err(|error| CoreError::Protocol(error.to_string()))?;
    let target = data_dir.join(SOUND_SETTINGS_FILE);
    let staged = data_dir.join(format!("{SOUND_SETTINGS_FILE}.new"));
    std::fs::write(&staged, json)?;
    std::fs::rename(&staged, &target)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mono 16-bit PCM WAV of `samples`.
    fn wav(samples: &[i16], rate: u32) -> Vec<u8> {
        let data_bytes = u32::try_from(samples.len() * 2).expect("small");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"RIFF");
        bytes.extend_from_slice(&(36 + data_bytes).to_le_bytes());
        bytes.extend_from_slice(b"WAVEfmt ");
        bytes.extend_from_slice(&16u32.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&rate.to_le_bytes());
        bytes.extend_from_slice(&(rate * 2).to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&16u16.to_le_bytes());
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&data_bytes.to_le_bytes());
        for sample in samples {
            bytes.extend_from_slice(&sample.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn d03_an_own_wav_file_is_decoded_for_the_ring() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("bell.wav");
        let samples: Vec<i16> = (0..8_000)
            .map(|index| if index % 20 < 10 { 8_000 } else { -8_000 })
            .collect();
        std::fs::write(&path, wav(&samples, 8_000)).expect("write the WAV");
        let settings = SoundSettings {
            volume: 40,
            ring: SoundChoice::File {
                path: path.display().to_string(),
            },
            message: SoundChoice::Off,
            mention: SoundChoice::File {
                path: path.display().to_string(),
            },
            ..SoundSettings::default()
        };
        let prepared = PreparedSounds::prepare(&settings).expect("a playable file");
        let ring = prepared.ring.clone().expect("the file rings");
        assert_eq!(ring.sample_rate().get(), 8_000);
        assert_eq!(ring.count(), 8_000, "one second of the file");
        assert!(prepared.chime.is_none(), "the message sound is off");
        assert_eq!(
            prepared
                .for_sound(Sound::Mention)
                .map(|mention| mention.clone().count()),
            Some(8_000),
            "the mention plays the file too"
        );
        assert!(
            prepared.for_sound(Sound::NewVisitor).is_none(),
            "B50: the new-visitor sound is off by default"
        );
        assert!(prepared.for_sound(Sound::Invitation).is_some());
        assert!((prepared.volume - 0.4).abs() < f32::EPSILON);
    }

    #[test]
    fn d03_a_file_that_is_not_sound_is_refused_with_its_name() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("notes.txt");
        std::fs::write(&path, "not a sound").expect("write");
        let settings = SoundSettings {
            ring: SoundChoice::File {
                path: path.display().to_string(),
            },
            ..SoundSettings::default()
        };
        let Err(CoreError::InvalidSetting(reason)) = PreparedSounds::prepare(&settings) else {
            panic!("a text file must be refused");
        };
        assert!(reason.contains("notes.txt"), "{reason}");
        let missing = SoundSettings {
            message: SoundChoice::File {
                path: folder.path().join("gone.ogg").display().to_string(),
            },
            ..SoundSettings::default()
        };
        assert!(PreparedSounds::prepare(&missing).is_err());
        let loud = SoundSettings {
            volume: 101,
            ..SoundSettings::default()
        };
        assert!(PreparedSounds::prepare(&loud).is_err());
    }

    #[test]
    fn d03_settings_survive_a_restart_and_garbage_falls_back_to_defaults() {
        let folder = tempfile::tempdir().expect("a folder");
        assert_eq!(load(folder.path()), SoundSettings::default());
        let chosen = SoundSettings {
            volume: 25,
            ring: SoundChoice::Off,
            message: SoundChoice::BuiltIn,
            new_visitor: SoundChoice::BuiltIn,
            output_device: Some("alsa:front:CARD=USB,DEV=0".to_owned()),
            ..SoundSettings::default()
        };
        save(folder.path(), &chosen).expect("save");
        assert_eq!(load(folder.path()), chosen);
        // A file from before per-event sounds and devices: the new fields take their defaults.
        std::fs::write(
            folder.path().join(SOUND_SETTINGS_FILE),
            r#"{"volume": 30, "ring": {"type": "off"}, "message": {"type": "builtIn"}}"#,
        )
        .expect("write");
        assert_eq!(
            load(folder.path()),
            SoundSettings {
                volume: 30,
                ring: SoundChoice::Off,
                ..SoundSettings::default()
            }
        );
        std::fs::write(folder.path().join(SOUND_SETTINGS_FILE), "{broken").expect("write");
        assert_eq!(load(folder.path()), SoundSettings::default());
    }
}
