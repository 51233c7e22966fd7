//! The tray icon (D04): idle / ringing / muted / offline at a glance, the counters, and a menu to
//! accept or mute ringing requests, mute all ringing, set availability, open the console and quit.
//!
//! [`TrayView`] is the pure part (what to show for a core state); [`Tray`] puts it on screen and
//! turns menu clicks into core calls.

use std::sync::Mutex;

use switchboard_core::protocol::Timestamp;

use switchboard_core::protocol::{Availability, ChatId};
use switchboard_core::{ConnectionState, Core, CoreEvent, CoreState, Counters};
use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu,
};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};

const TRAY_ID: &str = "switchboard";
const MUTE_RINGING: &str = "mute-ringing";
const MUTE_ALL_REQUESTS: &str = "mute-all-requests";
/// How often a ringing tray alternates its icon and updates the "12 s" in its labels.
const ANIMATION_PERIOD: std::time::Duration = std::time::Duration::from_millis(1000);
const OPEN: &str = "open";
const QUIT: &str = "quit";
const STATUS: &str = "status";
const AVAILABILITY_PREFIX: &str = "availability:";
const ACCEPT_PREFIX: &str = "accept:";
const MUTE_CHAT_PREFIX: &str = "mute-chat:";

const AVAILABILITIES: [(Availability, &str); 3] = [
    (Availability::Online, "Online"),
    (Availability::Away, "Away"),
    (Availability::Offline, "Offline"),
];

/// Which icon the tray shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appearance {
    Idle,
    Ringing,
    Muted,
    Offline,
}

/// A chat ringing for this operator, as the tray menu lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingingChat {
    pub id: ChatId,
    pub label: String,
}

/// What the tray shows, derived from core state and kept current from core events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrayView {
    pub connection: ConnectionState,
    pub counters: Counters,
    pub ringer_muted: bool,
    pub availability: Availability,
    pub ringing: Vec<RingingChat>,
}

impl TrayView {
    pub fn from_state(state: &CoreState) -> TrayView {
        let mut view = TrayView {
            connection: state.connection.clone(),
            counters: state.counters,
            ringer_muted: state.ringer_muted,
            availability: state.availability,
            ringing: Vec::new(),
        };
        view.set_chats(&state.chats);
        view
    }

    /// Folds one core event in.
    pub fn apply(&mut self, event: &CoreEvent) {
        match event {
            CoreEvent::Connection { state } => self.connection = state.clone(),
            CoreEvent::Chats { chats, counters } => {
                self.counters = *counters;
                self.set_chats(chats);
            }
            CoreEvent::Ringer { muted, .. } => self.ringer_muted = *muted,
            CoreEvent::Availability { availability } => self.availability = *availability,
            // Messages, session, outbox and sync progress do not change what the tray shows.
            _ => {}
        }
    }

    fn set_chats(&mut self, chats: &[switchboard_core::ConsoleChat]) {
        self.ringing = chats
            .iter()
            .filter(|chat| chat.ringing)
            .map(|chat| RingingChat {
                id: chat.summary.id,
                label: ringing_label(&chat.summary.visitor.name, &chat.summary.subject),
            })
            .collect();
    }

    /// Disconnected beats everything (nothing shown can be trusted to be current); a ring beats
    /// the muted look because muting silences the sound only and the request still needs someone.
    /// Away (do-not-disturb) or set offline shows the muted look too: nothing will ring.
    pub fn appearance(&self) -> Appearance {
        if self.connection != ConnectionState::Connected {
            Appearance::Offline
        } else if self.counters.ringing > 0 {
            Appearance::Ringing
        } else if self.ringer_muted || self.availability != Availability::Online {
            Appearance::Muted
        } else {
            Appearance::Idle
        }
    }

    /// The short text next to the icon where the tray host shows one (the Linux tray ignores
    /// tooltips): how many requests ring, or nothing.
    pub fn badge(&self) -> String {
        if self.connection == ConnectionState::Connected && self.counters.ringing > 0 {
            self.counters.ringing.to_string()
        } else {
            String::new()
        }
    }

    /// e.g. "Switchboard — 2 ringing, 1 needing you".
    pub fn tooltip(&self) -> String {
        format!("Switchboard — {}", self.summary())
    }

    /// The counters and state in words, e.g. "2 ringing, 1 needing you, ringing muted".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        match &self.connection {
            ConnectionState::Connected => {}
            ConnectionState::SignedOut => parts.push("signed out".to_owned()),
            ConnectionState::UpgradeRequired => parts.push("update required".to_owned()),
            ConnectionState::Connecting => parts.push("connecting".to_owned()),
            ConnectionState::Offline | ConnectionState::Reconnecting { .. } => {
                parts.push("offline".to_owned());
            }
        }
        // `blue` and `red` are the console header's badges (B41), computed once in the core.
        let counts = [
            (self.counters.ringing, "ringing"),
            (self.counters.blue, "unassigned"),
            (self.counters.red, "needing you"),
        ];
        for (count, what) in counts {
            if count > 0 {
                parts.push(format!("{count} {what}"));
            }
        }
        if self.ringer_muted {
            parts.push("ringing muted".to_owned());
        }
        if self.connection == ConnectionState::Connected {
            match self.availability {
                Availability::Online => {}
                Availability::Away => parts.push("away (do not disturb)".to_owned()),
                Availability::Offline => parts.push("set to offline".to_owned()),
            }
        }
        if parts.is_empty() {
            "nothing waiting".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Visitor names and questions are hostile text: keep menu labels short and on one line.
fn ringing_label(name: &str, subject: &str) -> String {
    let clean = |text: &str, limit: usize| {
        let flat: String = text
            .chars()
            .map(|character| {
                if character.is_control() {
                    ' '
                } else {
                    character
                }
            })
            .collect();
        let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() > limit {
            let mut short: String = flat.chars().take(limit).collect();
            short.push('…');
            short
        } else {
            flat
        }
    };
    let name = clean(name, 32);
    let subject = clean(subject, 40);
    match (name.is_empty(), subject.is_empty()) {
        (true, _) => "Visitor".to_owned(),
        (false, true) => name,
        (false, false) => format!("{name}: {subject}"),
    }
}

/// "Waiting 12 s": how long the visitor has been waiting. It is an item of the request's
/// submenu because tray hosts (dbusmenu) do not pick up a submenu's own label changes.
fn waiting_label(since: Option<Timestamp>, now: Timestamp) -> String {
    match since {
        Some(since) => {
            let seconds = (now.0 - since.0).max(0) / 1000;
            format!("Waiting {}", elapsed(seconds))
        }
        None => "Waiting".to_owned(),
    }
}

/// "12 s", "3 min 05 s".
fn elapsed(seconds: i64) -> String {
    if seconds < 60 {
        format!("{seconds} s")
    } else {
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    }
}

fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(millis)
}

struct Icons {
    idle: Image<'static>,
    ringing: Image<'static>,
    muted: Image<'static>,
    offline: Image<'static>,
}

impl Icons {
    fn load() -> tauri::Result<Icons> {
        Ok(Icons {
            idle: Image::from_bytes(include_bytes!("../../icons/tray.png"))?,
            ringing: Image::from_bytes(include_bytes!("../../icons/tray-ringing.png"))?,
            muted: Image::from_bytes(include_bytes!("../../icons/tray-muted.png"))?,
            offline: Image::from_bytes(include_bytes!("../../icons/tray-offline.png"))?,
        })
    }

    fn for_appearance(&self, appearance: Appearance) -> Image<'static> {
        match appearance {
            Appearance::Idle => self.idle.clone(),
            Appearance::Ringing => self.ringing.clone(),
            Appearance::Muted => self.muted.clone(),
            Appearance::Offline => self.offline.clone(),
        }
    }
}

/// The menu items that change with state.
struct MenuItems {
    status: MenuItem<Wry>,
    mute: CheckMenuItem<Wry>,
    availability: Vec<(Availability, CheckMenuItem<Wry>)>,
    /// The ringing requests the current menu lists; the menu is rebuilt when they change.
    ringing: Vec<RingingChat>,
    /// Their "Waiting 12 s" items, in the same order.
    ringing_waits: Vec<MenuItem<Wry>>,
}

struct Shown {
    view: TrayView,
    items: MenuItems,
    appearance: Appearance,
    /// While ringing the icon alternates; this is the phase shown.
    blink: bool,
}

/// The tray icon on screen, managed as app state.
pub struct Tray {
    icon: TrayIcon<Wry>,
    icons: Icons,
    shown: Mutex<Shown>,
}

impl Tray {
    /// Creates the tray icon. Fails where there is no tray host (e.g. no D-Bus session on Linux);
    /// the app then runs without one.
    pub fn create(app: &AppHandle<Wry>, state: &CoreState) -> tauri::Result<Tray> {
        let icons = Icons::load()?;
        let view = TrayView::from_state(state);
        let (menu, items) = build_menu(app, &view)?;
        let appearance = view.appearance();
        let icon = TrayIconBuilder::with_id(TRAY_ID)
            .icon(icons.for_appearance(appearance))
            .tooltip(view.tooltip())
            .title(view.badge())
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(on_menu_event)
            .build(app)?;
        Ok(Tray {
            icon,
            icons,
            shown: Mutex::new(Shown {
                view,
                items,
                appearance,
                blink: false,
            }),
        })
    }

    /// Alternates the ringing icon and counts the waiting seconds in the menu (D04, B02).
    pub fn start_animation(&self, app: &AppHandle<Wry>) {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let mut ticks = tokio::time::interval(ANIMATION_PERIOD);
            loop {
                ticks.tick().await;
                let (Some(tray), Some(core)) = (app.try_state::<Tray>(), app.try_state::<Core>())
                else {
                    return;
                };
                if let Err(error) = tray.tick(&core.ringing_requests()) {
                    tracing::debug!(%error, "could not animate the tray");
                }
            }
        });
    }

    fn tick(&self, requests: &[switchboard_core::RingingRequest]) -> tauri::Result<()> {
        let mut shown = self
            .shown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if shown.appearance != Appearance::Ringing {
            return Ok(());
        }
        shown.blink = !shown.blink;
        let icon = if shown.blink {
            &self.icons.idle
        } else {
            &self.icons.ringing
        };
        self.icon.set_icon(Some(icon.clone()))?;
        let now = now();
        for (chat, wait) in shown.items.ringing.iter().zip(&shown.items.ringing_waits) {
            let since = requests
                .iter()
                .find(|request| request.chat == chat.id)
                .map(|request| request.since);
            wait.set_text(waiting_label(since, now))?;
        }
        Ok(())
    }

    /// Brings icon, tooltip and menu up to date with one core event.
    pub fn apply(&self, app: &AppHandle<Wry>, event: &CoreEvent) {
        let mut shown = self
            .shown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut view = shown.view.clone();
        view.apply(event);
        if view == shown.view {
            return;
        }
        if let Err(error) = self.show(app, &mut shown, view) {
            tracing::warn!(%error, "could not update the tray");
        }
    }

    fn show(&self, app: &AppHandle<Wry>, shown: &mut Shown, view: TrayView) -> tauri::Result<()> {
        let appearance = view.appearance();
        if appearance != shown.appearance {
            self.icon
                .set_icon(Some(self.icons.for_appearance(appearance)))?;
            shown.appearance = appearance;
            shown.blink = false;
        }
        self.icon.set_tooltip(Some(view.tooltip()))?;
        self.icon.set_title(Some(view.badge()))?;
        if view.ringing != shown.items.ringing {
            let (menu, items) = build_menu(app, &view)?;
            self.icon.set_menu(Some(menu))?;
            shown.items = items;
        } else {
            sync_items(&shown.items, &view)?;
        }
        shown.view = view;
        Ok(())
    }

    /// Puts the checks back to what the core says (after a click the core refused).
    fn resync(&self) {
        let shown = self
            .shown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = sync_items(&shown.items, &shown.view) {
            tracing::warn!(%error, "could not update the tray menu");
        }
    }
}

fn sync_items(items: &MenuItems, view: &TrayView) -> tauri::Result<()> {
    items.status.set_text(view.summary())?;
    items.mute.set_checked(view.ringer_muted)?;
    for (availability, item) in &items.availability {
        item.set_checked(*availability == view.availability)?;
    }
    Ok(())
}

fn build_menu(app: &AppHandle<Wry>, view: &TrayView) -> tauri::Result<(Menu<Wry>, MenuItems)> {
    let status = MenuItem::with_id(app, STATUS, view.summary(), false, None::<&str>)?;
    let mut ringing_waits = Vec::new();
    let ringing_menus = view
        .ringing
        .iter()
        .map(|chat| {
            let wait = MenuItem::new(app, waiting_label(None, now()), false, None::<&str>)?;
            let accept = MenuItem::with_id(
                app,
                format!("{ACCEPT_PREFIX}{}", chat.id),
                "Accept",
                true,
                None::<&str>,
            )?;
            let mute = MenuItem::with_id(
                app,
                format!("{MUTE_CHAT_PREFIX}{}", chat.id),
                "Mute this request",
                true,
                None::<&str>,
            )?;
            let submenu = Submenu::with_items(
                app,
                format!("Ringing: {}", chat.label),
                true,
                &[&wait, &accept, &mute],
            );
            ringing_waits.push(wait);
            submenu
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let mute = CheckMenuItem::with_id(
        app,
        MUTE_RINGING,
        "Mute ringing",
        true,
        view.ringer_muted,
        None::<&str>,
    )?;
    let availability = AVAILABILITIES
        .iter()
        .map(|(availability, label)| {
            CheckMenuItem::with_id(
                app,
                format!("{AVAILABILITY_PREFIX}{}", availability_id(*availability)),
                label,
                true,
                *availability == view.availability,
                None::<&str>,
            )
            .map(|item| (*availability, item))
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let availability_items: Vec<&dyn IsMenuItem<Wry>> = availability
        .iter()
        .map(|(_, item)| item as &dyn IsMenuItem<Wry>)
        .collect();
    let availability_menu = Submenu::with_items(app, "Availability", true, &availability_items)?;
    let mute_all = MenuItem::with_id(
        app,
        MUTE_ALL_REQUESTS,
        "Mute all ringing requests",
        !view.ringing.is_empty(),
        None::<&str>,
    )?;
    let open = MenuItem::with_id(app, OPEN, "Open Switchboard", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?;
    let first_separator = PredefinedMenuItem::separator(app)?;
    let second_separator = PredefinedMenuItem::separator(app)?;

    let mut entries: Vec<&dyn IsMenuItem<Wry>> = vec![&status, &first_separator];
    entries.extend(
        ringing_menus
            .iter()
            .map(|menu| menu as &dyn IsMenuItem<Wry>),
    );
    entries.extend([
        &mute_all as &dyn IsMenuItem<Wry>,
        &mute,
        &availability_menu,
        &second_separator,
        &open,
        &quit,
    ]);
    let menu = Menu::with_items(app, &entries)?;
    Ok((
        menu,
        MenuItems {
            status,
            mute,
            availability,
            ringing: view.ringing.clone(),
            ringing_waits,
        },
    ))
}

fn availability_id(availability: Availability) -> &'static str {
    match availability {
        Availability::Online => "online",
        Availability::Away => "away",
        Availability::Offline => "offline",
    }
}

fn on_menu_event(app: &AppHandle<Wry>, event: MenuEvent) {
    let id = event.id().as_ref();
    let core = app.state::<Core>().inner().clone();
    match id {
        OPEN => crate::show_main_window(app),
        MUTE_ALL_REQUESTS => {
            // Server-side, one by one: each moves to my Awaiting list (B02).
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                for request in core.ringing_requests() {
                    let outcome = core.mute(request.chat).await;
                    report(&app, "mute a request", outcome);
                }
            });
        }
        QUIT => crate::request_quit(app),
        MUTE_RINGING => {
            // The check item has already flipped itself; the core's Ringer event confirms it.
            let muted = app
                .try_state::<Tray>()
                .and_then(|tray| {
                    let shown = tray.shown.lock().ok()?;
                    Some(!shown.view.ringer_muted)
                })
                .unwrap_or(true);
            // The core reports the switch back as a Ringer event, even when nothing rings.
            core.set_ringer_muted(muted);
        }
        _ => {
            if let Some(name) = id.strip_prefix(AVAILABILITY_PREFIX) {
                let Some((availability, _)) = AVAILABILITIES
                    .iter()
                    .find(|(availability, _)| availability_id(*availability) == name)
                else {
                    return;
                };
                let availability = *availability;
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let outcome = core.set_availability(availability).await;
                    report(&app, "set availability", outcome);
                });
            } else if let Some(chat) = chat_id(id, ACCEPT_PREFIX) {
                let app = app.clone();
                crate::show_main_window(&app);
                tauri::async_runtime::spawn(async move {
                    let outcome = core.accept(chat).await.map(drop);
                    report(&app, "accept the chat", outcome);
                });
            } else if let Some(chat) = chat_id(id, MUTE_CHAT_PREFIX) {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let outcome = core.mute(chat).await;
                    report(&app, "mute the request", outcome);
                });
            }
        }
    }
}

fn chat_id(id: &str, prefix: &str) -> Option<ChatId> {
    id.strip_prefix(prefix)?.parse().ok().map(ChatId)
}

/// A refused click must not leave a check mark saying something that did not happen.
fn report(app: &AppHandle<Wry>, what: &str, outcome: Result<(), switchboard_core::CoreError>) {
    if let Err(error) = outcome {
        tracing::warn!(%error, "the tray could not {what}");
        if let Some(tray) = app.try_state::<Tray>() {
            tray.resync();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connected() -> TrayView {
        TrayView {
            connection: ConnectionState::Connected,
            counters: Counters::default(),
            ringer_muted: false,
            availability: Availability::Online,
            ringing: Vec::new(),
        }
    }

    #[test]
    fn d04_tray_shows_idle_ringing_muted_and_offline() {
        let mut view = connected();
        assert_eq!(view.appearance(), Appearance::Idle);
        assert_eq!(view.tooltip(), "Switchboard — nothing waiting");

        view.apply(&CoreEvent::Chats {
            chats: Vec::new(),
            counters: Counters {
                ringing: 2,
                unread: 1,
                red: 1,
                ..Counters::default()
            },
        });
        assert_eq!(view.appearance(), Appearance::Ringing);
        assert_eq!(view.tooltip(), "Switchboard — 2 ringing, 1 needing you");

        view.apply(&CoreEvent::Ringer {
            state: switchboard_core::RingerState::Muted,
            muted: true,
        });
        assert_eq!(
            view.appearance(),
            Appearance::Ringing,
            "a muted ring is still shown: muting silences the sound only"
        );
        view.apply(&CoreEvent::Chats {
            chats: Vec::new(),
            counters: Counters::default(),
        });
        assert_eq!(view.appearance(), Appearance::Muted);
        assert_eq!(view.tooltip(), "Switchboard — ringing muted");

        view.apply(&CoreEvent::Connection {
            state: ConnectionState::Offline,
        });
        assert_eq!(view.appearance(), Appearance::Offline);
        assert!(view.tooltip().contains("offline"), "{}", view.tooltip());
    }

    #[test]
    fn d04_availability_follows_the_core() {
        let mut view = connected();
        view.apply(&CoreEvent::Availability {
            availability: Availability::Away,
        });
        assert_eq!(view.availability, Availability::Away);
    }

    #[test]
    fn d04_do_not_disturb_looks_muted_and_the_badge_counts_ringing_requests() {
        let mut view = connected();
        assert_eq!(view.badge(), "");
        view.apply(&CoreEvent::Availability {
            availability: Availability::Away,
        });
        assert_eq!(view.appearance(), Appearance::Muted);
        assert_eq!(view.tooltip(), "Switchboard — away (do not disturb)");
        view.apply(&CoreEvent::Availability {
            availability: Availability::Offline,
        });
        assert_eq!(view.appearance(), Appearance::Muted);
        assert!(
            view.tooltip().contains("set to offline"),
            "{}",
            view.tooltip()
        );
        view.apply(&CoreEvent::Availability {
            availability: Availability::Online,
        });
        view.apply(&CoreEvent::Chats {
            chats: Vec::new(),
            counters: Counters {
                ringing: 3,
                ..Counters::default()
            },
        });
        assert_eq!(view.appearance(), Appearance::Ringing);
        assert_eq!(view.badge(), "3");
        view.apply(&CoreEvent::Connection {
            state: ConnectionState::Offline,
        });
        assert_eq!(view.badge(), "", "an offline count cannot be trusted");
    }

    #[test]
    fn hostile_visitor_text_becomes_a_short_single_line_label() {
        let label = ringing_label("Eve\n\u{1b}[31mEvil", &"x".repeat(200));
        assert!(!label.chars().any(char::is_control), "{label:?}");
        assert!(label.starts_with("Eve [31mEvil: "), "{label:?}");
        assert!(label.chars().count() <= 32 + 2 + 41, "{label:?}");
        assert_eq!(ringing_label("  ", "question"), "Visitor");
    }

    #[test]
    fn b02_ringing_requests_count_the_waiting_time() {
        assert_eq!(
            waiting_label(Some(Timestamp(1_000)), Timestamp(13_400)),
            "Waiting 12 s"
        );
        assert_eq!(
            waiting_label(Some(Timestamp(0)), Timestamp(185_000)),
            "Waiting 3 min 05 s"
        );
        assert_eq!(waiting_label(None, Timestamp(5)), "Waiting");
        assert_eq!(
            waiting_label(Some(Timestamp(9_000)), Timestamp(1_000)),
            "Waiting 0 s",
            "a clock step back shows zero, not a negative wait"
        );
    }

    #[test]
    fn menu_ids_carry_the_chat_id() {
        assert_eq!(chat_id("accept:42", ACCEPT_PREFIX), Some(ChatId(42)));
        assert_eq!(chat_id("accept:nope", ACCEPT_PREFIX), None);
        assert_eq!(chat_id("quit", ACCEPT_PREFIX), None);
    }
}
