//! Network change where the OS tells us (D02): a new address (another Wi-Fi, a VPN coming up,
//! a cable plugged in) or a lost one makes the link reconnect and catch up at once, instead of
//! waiting up to 45 s for the heartbeat to declare the old socket dead.
//!
//! The OS part is thin: `if-watch` (netlink on Linux, SystemConfiguration on macOS, IP Helper
//! on Windows) turned into a stream of [`NetworkChange`]. What counts as a change is decided by
//! [`AddressBook`], and [`follow`] nudges the link for each one; tests feed their own stream
//! through [`crate::Core::follow_network_changes`].

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Weak;
use std::time::Duration;

use futures_util::{Stream, StreamExt};

use crate::{Inner, lock};

/// How long after the watcher starts its reports are the addresses the machine already has:
/// the OS lists them as "added" first, and that is not a change.
#[cfg_attr(not(feature = "os-network-watch"), allow(dead_code))]
const INITIAL_LISTING: Duration = Duration::from_secs(2);

/// One address change the OS reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetworkChange {
    /// The machine gained this address.
    Up(IpAddr),
    /// The machine lost this address.
    Down(IpAddr),
}

/// The machine's addresses as reported so far; says which reports change them.
pub(crate) struct AddressBook {
    known: HashSet<IpAddr>,
    /// Until then, reports only fill the book (the OS's initial listing).
    listing_until: Option<tokio::time::Instant>,
}

impl AddressBook {
    pub(crate) fn new(listing_until: Option<tokio::time::Instant>) -> AddressBook {
        AddressBook {
            known: HashSet::new(),
            listing_until,
        }
    }

    /// Records a report; true when it is a change the link should react to. Loopback
    /// addresses carry no traffic to the server, and a repeated report changes nothing.
    pub(crate) fn record(&mut self, change: NetworkChange, at: tokio::time::Instant) -> bool {
        let changed = match change {
            NetworkChange::Up(address) => !address.is_loopback() && self.known.insert(address),
            NetworkChange::Down(address) => !address.is_loopback() && self.known.remove(&address),
        };
        let listing = self.listing_until.is_some_and(|until| at < until);
        changed && !listing
    }
}

/// Nudges the link for every change in `changes` until the stream ends or the core is gone.
pub(crate) async fn follow<S>(inner: Weak<Inner>, changes: S, mut book: AddressBook)
where
    S: Stream<Item = NetworkChange> + Send,
{
    let mut changes = std::pin::pin!(changes);
    while let Some(change) = changes.next().await {
        if !book.record(change, tokio::time::Instant::now()) {
            continue;
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        tracing::info!(?change, "the network changed; reconnecting");
        inner.network_changed();
    }
}

impl Inner {
    /// The network changed: a running link reconnects now and catches up. Without a session
    /// there is no link to tell, and nothing is kept for the next one (it connects anyway).
    pub(crate) fn network_changed(&self) {
        if lock(&self.link).is_some() {
            self.nudge.notify_one();
        }
    }
}

/// The OS's address changes, or `None` where they cannot be watched (logged, not fatal: the
/// heartbeat still finds a dead link).
#[cfg(feature = "os-network-watch")]
pub(crate) fn os_changes() -> Option<impl Stream<Item = NetworkChange> + Send + 'static> {
    let watcher = match if_watch::tokio::IfWatcher::new() {
        Ok(watcher) => watcher,
        Err(error) => {
            tracing::warn!(%error, "cannot watch the network; relying on the heartbeat");
            return None;
        }
    };
    // After an error the watcher only repeats it (its socket is gone): stop there.
    let changes = watcher
        .take_while(|event| {
            if let Err(error) = event {
                tracing::warn!(%error, "stopped watching the network; relying on the heartbeat");
            }
            std::future::ready(event.is_ok())
        })
        .filter_map(|event| {
            std::future::ready(match event {
                Ok(if_watch::IfEvent::Up(network)) => Some(NetworkChange::Up(network.addr())),
                Ok(if_watch::IfEvent::Down(network)) => Some(NetworkChange::Down(network.addr())),
                Err(_) => None,
            })
        });
    Some(changes)
}

/// A book for the OS watcher started now: its first reports are the initial listing.
#[cfg(feature = "os-network-watch")]
pub(crate) fn os_address_book() -> AddressBook {
    AddressBook::new(Some(tokio::time::Instant::now() + INITIAL_LISTING))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 1, 20));
    const CAFE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));

    #[test]
    fn d02_the_initial_listing_and_repeats_are_not_changes_new_and_lost_addresses_are() {
        let start = tokio::time::Instant::now();
        let mut book = AddressBook::new(Some(start + INITIAL_LISTING));
        // What the machine already had when the watcher started.
        assert!(!book.record(NetworkChange::Up(HOME), start));
        assert!(!book.record(
            NetworkChange::Up(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
            start
        ));
        let later = start + INITIAL_LISTING + Duration::from_secs(1);
        assert!(!book.record(NetworkChange::Up(HOME), later), "a repeat");
        assert!(
            !book.record(
                NetworkChange::Up(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
                later
            ),
            "loopback carries no traffic to the server"
        );
        // Moving from home to the café: the old address goes, a new one comes.
        assert!(book.record(NetworkChange::Down(HOME), later));
        assert!(!book.record(NetworkChange::Down(HOME), later), "a repeat");
        assert!(book.record(NetworkChange::Up(CAFE), later));
        // Without an initial listing (an injected source), the first report counts.
        let mut injected = AddressBook::new(None);
        assert!(injected.record(NetworkChange::Up(CAFE), start));
    }

    /// The thin OS part works here: netlink lists the addresses the machine has (loopback at
    /// least) as its first reports, which `os_address_book` then takes as the initial listing.
    #[cfg(all(feature = "os-network-watch", target_os = "linux"))]
    #[tokio::test]
    async fn the_os_watcher_first_lists_the_machines_addresses() {
        let changes = os_changes().expect("netlink can be watched");
        let mut changes = std::pin::pin!(changes);
        let first = tokio::time::timeout(Duration::from_secs(20), changes.next())
            .await
            .expect("the listing comes in time");
        assert!(matches!(first, Some(NetworkChange::Up(_))), "{first:?}");
    }
}
