//! alsa-lib writes every failed device open straight to stderr ("ALSA lib pcm.c:…(snd_pcm_open…)
//! Unknown PCM default"): on a machine without a sound card that is a screenful at every start
//! and every settings visit, although the failure itself is an expected state the settings show.
//! alsa-lib also has a per-thread error handler, which the alsa crate (the one cpal drives)
//! installs without `unsafe` on our side; these messages go to the debug log through it, and the
//! last one can explain a failure.
//!
//! Only the thread that installed the capture is covered: the stream's own playback thread,
//! started by cpal, still prints, so errors while playing stay visible.

#[cfg(target_os = "linux")]
mod linux {
    use std::cell::RefCell;
    use std::rc::Rc;

    /// alsa-lib's messages on this thread, collected since the last [`AlsaMessages::flush`].
    pub(crate) struct AlsaMessages {
        buffer: Option<Rc<RefCell<alsa::Output>>>,
    }

    impl AlsaMessages {
        /// Routes alsa-lib's messages on the calling thread into a buffer from now on. Should
        /// alsa-lib refuse the buffer, its messages keep going to stderr, as before.
        pub(crate) fn capture() -> AlsaMessages {
            AlsaMessages {
                buffer: alsa::Output::local_error_handler().ok(),
            }
        }

        /// Logs what alsa-lib said since the last call (debug: expected on machines without
        /// sound) and returns it, one message a line; the buffer starts over.
        pub(crate) fn flush(&mut self, context: &str) -> String {
            let Some(buffer) = &self.buffer else {
                return String::new();
            };
            let text = buffer.borrow().to_string();
            // A fresh buffer replaces the old one, which alsa-lib no longer writes to.
            self.buffer = alsa::Output::local_error_handler().ok();
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                tracing::debug!(target: "alsa", context, "{line}");
            }
            text
        }
    }
}

#[cfg(target_os = "linux")]
pub(crate) use linux::AlsaMessages;

/// Elsewhere cpal does not go through alsa-lib: nothing to capture.
#[cfg(not(target_os = "linux"))]
pub(crate) struct AlsaMessages;

#[cfg(not(target_os = "linux"))]
impl AlsaMessages {
    pub(crate) fn capture() -> AlsaMessages {
        AlsaMessages
    }

    pub(crate) fn flush(&mut self, _context: &str) -> String {
        String::new()
    }
}

/// The last thing alsa-lib said, as a short cause to put after a failure.
pub(crate) fn last_message(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|line| !line.is_empty())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn d03_alsa_messages_are_captured_instead_of_printed() {
        let mut messages = AlsaMessages::capture();
        let opened = alsa::pcm::PCM::new(
            "switchboard-no-such-device",
            alsa::Direction::Playback,
            true,
        );
        assert!(opened.is_err(), "no such device");
        let text = messages.flush("test");
        assert!(
            text.contains("switchboard-no-such-device"),
            "alsa-lib's complaint reached the buffer, not stderr: {text:?}"
        );
        assert_eq!(messages.flush("test"), "", "a flush starts the buffer over");
    }

    #[test]
    fn the_last_message_explains_a_failure() {
        assert_eq!(
            last_message(
                "snd_func_refer: error evaluating name\nsnd_pcm_open_noupdate: Unknown PCM default\n\n"
            ),
            Some("snd_pcm_open_noupdate: Unknown PCM default")
        );
        assert_eq!(last_message(""), None);
    }
}
