//! The session token's home between runs: the OS keychain, or process memory for tests.
//!
//! Keychain calls block (D-Bus round trips, possibly an unlock prompt), so callers run them on
//! a blocking thread. A failing keychain is reported, never papered over with a plaintext file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::CredentialStore;
use crate::sensitive::Sensitive;

/// Why the keychain could not be used, in words for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeychainFailure(pub String);

pub(crate) enum SecretStore {
    Os {
        service: String,
        store: Result<Arc<keyring_core::CredentialStore>, KeychainFailure>,
    },
    /// Shared by every core of the process, like a keychain is shared by every run of the app,
    /// so a test can restart a core and see the session restored.
    Memory(&'static Mutex<HashMap<String, Sensitive<String>>>),
}

static MEMORY_STORE: std::sync::LazyLock<Mutex<HashMap<String, Sensitive<String>>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashMap::new()));

impl SecretStore {
    /// Opens the configured store. An OS keychain that cannot be opened is remembered as the
    /// failure, so every later call reports the same reason.
    pub(crate) fn open(config: &CredentialStore) -> SecretStore {
        match config {
            CredentialStore::Memory => SecretStore::Memory(&MEMORY_STORE),
            CredentialStore::Os { service } => SecretStore::Os {
                service: service.clone(),
                store: open_os_store(),
            },
        }
    }

    pub(crate) fn load(&self, user: &str) -> Result<Option<Sensitive<String>>, KeychainFailure> {
        match self {
            SecretStore::Memory(entries) => Ok(lock(entries).get(user).cloned()),
            SecretStore::Os { service, store } => {
                let entry = store
                    .clone()?
                    .build(service, user, None)
                    .map_err(describe)?;
                match entry.get_password() {
                    Ok(token) => Ok(Some(Sensitive::new(token))),
                    Err(keyring_core::Error::NoEntry) => Ok(None),
                    Err(error) => Err(describe(error)),
                }
            }
        }
    }

    pub(crate) fn save(
        &self,
        user: &str,
        token: &Sensitive<String>,
    ) -> Result<(), KeychainFailure> {
        match self {
            SecretStore::Memory(entries) => {
                lock(entries).insert(user.to_owned(), token.clone());
                Ok(())
            }
            SecretStore::Os { service, store } => {
                let entry = store
                    .clone()?
                    .build(service, user, None)
                    .map_err(describe)?;
                entry.set_password(token.expose()).map_err(describe)
            }
        }
    }

    pub(crate) fn delete(&self, user: &str) -> Result<(), KeychainFailure> {
        match self {
            SecretStore::Memory(entries) => {
                lock(entries).remove(user);
                Ok(())
            }
            SecretStore::Os { service, store } => {
                let entry = store
                    .clone()?
                    .build(service, user, None)
                    .map_err(describe)?;
                match entry.delete_credential() {
                    Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                    Err(error) => Err(describe(error)),
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding this lock cannot leave the map half-updated, so poisoning is moot.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn describe(error: keyring_core::Error) -> KeychainFailure {
    KeychainFailure(format!("the OS keychain is unavailable: {error}"))
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn open_os_store() -> Result<Arc<keyring_core::CredentialStore>, KeychainFailure> {
    let store: Arc<keyring_core::CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().map_err(describe)?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn open_os_store() -> Result<Arc<keyring_core::CredentialStore>, KeychainFailure> {
    let store: Arc<keyring_core::CredentialStore> =
        apple_native_keyring_store::keychain::Store::new().map_err(describe)?;
    Ok(store)
}

#[cfg(target_os = "windows")]
fn open_os_store() -> Result<Arc<keyring_core::CredentialStore>, KeychainFailure> {
    let store: Arc<keyring_core::CredentialStore> =
        windows_native_keyring_store::Store::new().map_err(describe)?;
    Ok(store)
}

#[cfg(any(
    target_os = "ios",
    target_os = "android",
    not(any(unix, target_os = "windows"))
))]
fn open_os_store() -> Result<Arc<keyring_core::CredentialStore>, KeychainFailure> {
    Err(KeychainFailure(
        "no OS keychain is supported on this platform".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trips_and_deletes() {
        let store = SecretStore::open(&CredentialStore::Memory);
        let user = "http://memory-store-test.invalid";
        assert_eq!(store.load(user), Ok(None));
        store
            .save(user, &Sensitive::new("secret".to_owned()))
            .unwrap();
        assert_eq!(
            store.load(user).unwrap().map(Sensitive::into_inner),
            Some("secret".to_owned())
        );
        store.delete(user).unwrap();
        assert_eq!(store.load(user), Ok(None));
    }
}
