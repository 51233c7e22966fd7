//! Starting and stopping a server: open the database, seed the demo when asked, bind, serve.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use switchboard_protocol::OperatorId;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::credentials;
use crate::http::{self, AppState};
use crate::hub::{Hub, SharedHub, TokenLifetimes};
use crate::routing::Graces;
use crate::storage::{self, StoreError};

/// The server failed to start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("could not open the database {path}")]
    Database {
        path: std::path::PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("could not listen on {address}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("storage failure")]
    Store(#[from] StoreError),
    #[error("the server stopped unexpectedly")]
    Serve(#[source] std::io::Error),
    #[error("the server task failed")]
    Task(#[source] tokio::task::JoinError),
    #[error("could not resume routing: {0}")]
    Routing(switchboard_protocol::ApiError),
}

/// A running server.
pub struct Server {
    address: SocketAddr,
    hub: SharedHub,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
    timers: JoinHandle<()>,
}

/// How long stopping waits for connections to finish before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Server {
    /// Opens the database (migrating it), seeds the demo when `config.demo`, binds and starts
    /// serving in the background.
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        let database_path = config.database.clone();
        let demo = config.demo;
        let attachments_folder =
            crate::attachments::AttachmentStore::beside(&config.database, 0).folder;
        let database = tokio::task::spawn_blocking(move || {
            let mut database = storage::open(&database_path)?;
            if demo {
                storage::seed_demo(&mut database)?;
            }
            // Before serving, so no upload is between its file and its row.
            match crate::attachments::sweep_orphans(&database, &attachments_folder) {
                Ok(0) => {}
                Ok(swept) => tracing::info!(swept, "removed attachment files without a message"),
                Err(error) => tracing::warn!(error = ?error, "could not sweep attachment files"),
            }
            Ok::<_, StoreError>(database)
        })
        .await
        .map_err(ServerError::Task)?
        .map_err(|source| ServerError::Database {
            path: config.database.clone(),
            source,
        })?;
        let lifetimes = TokenLifetimes {
            operator_days: config.operator_token_days,
            visitor_days: config.visitor_token_days,
        };
        let graces = Graces {
            operator_ms: config.operator_grace_seconds.max(0) * 1000,
            visitor_ms: config.visitor_grace_seconds.max(0) * 1000,
        };
        let hub = tokio::task::spawn_blocking(move || Hub::new(database, lifetimes, graces))
            .await
            .map_err(ServerError::Task)?
            .map_err(ServerError::Routing)?;
        let mut hub = hub;
        hub.set_unread_escalation_ms(config.unread_escalation_seconds.max(1) * 1000);
        hub.set_invitation_timeout_ms(config.invitation_timeout_seconds.max(1) * 1000);
        hub.set_country_header(config.country_header.clone());
        hub.set_visitor_leave_grace_ms(config.visitor_leave_grace_ms);
        let checkpoints = match hub.defer_checkpoints() {
            Ok(()) => Some(config.database.clone()),
            Err(error) => {
                tracing::warn!(error = ?error, "commits keep checkpointing the WAL");
                None
            }
        };
        let hub = SharedHub::new(hub);
        let timers = tokio::spawn(run_timers(hub.clone()));
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| ServerError::Bind {
                    address: config.bind,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| ServerError::Bind {
            address: config.bind,
            source,
        })?;
        let (shutdown, shutdown_signal) = watch::channel(false);
        let state = AppState {
            hub: hub.clone(),
            widget_dir: config.widget_dir.clone().map(Arc::new),
            shutdown: shutdown_signal.clone(),
            mail: config.mail_transport().map(Arc::new),
            attachments: Arc::new(crate::attachments::AttachmentStore::beside(
                &config.database,
                config.attachment_max_bytes,
            )),
        };
        if let Some(path) = checkpoints {
            tokio::spawn(run_checkpoints(path, shutdown_signal.clone()));
        }
        tokio::spawn(close_inactive_chats(
            hub.clone(),
            config.visitor_inactivity_seconds.max(1) * 1000,
            shutdown_signal.clone(),
        ));
        if config.visitor_retention_days > 0 {
            tokio::spawn(prune_visitors(
                hub.clone(),
                config.visitor_retention_days,
                shutdown_signal.clone(),
            ));
        }
        let app = http::router(state);
        let mut signal = shutdown_signal;
        let task = tokio::spawn(async move {
            // Events are small frames written one after another: with Nagle's algorithm on, a
            // frame can wait for the peer's delayed ACK (40 ms on Linux) behind the one before.
            let listener = listener.tap_io(|stream| {
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, "could not set TCP_NODELAY on a connection");
                }
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|stopping| *stopping).await;
                })
                .await
        });
        tracing::info!(%address, "listening");
        Ok(Server {
            address,
            hub,
            shutdown,
            task,
            timers,
        })
    }

    /// Closes every live WebSocket session without stopping the server; clients reconnect.
    pub fn drop_connections(&self) {
        self.hub.lock().drop_connections();
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Adds an operator as a member of the live chat with `embed_key` (hashes the password with
    /// argon2, about 50 ms).
    pub fn create_operator(
        &self,
        email: &str,
        name: &str,
        password: &str,
        embed_key: &str,
    ) -> Result<OperatorId, StoreError> {
        let hash = credentials::hash_password(password)?;
        let mut hub = self.hub.lock();
        let live_chat = hub.live_chat_by_embed_key(embed_key)?.ok_or_else(|| {
            StoreError::Invalid(format!("no live chat has the embed key {embed_key:?}"))
        })?;
        hub.create_operator(email, name, &hash, live_chat)
    }

    /// Runs visitor retention (B50) as of `now`, batch after batch until nothing more is due,
    /// as the hourly task does; returns how many visitors went. For tests and tools with their
    /// own clock.
    pub fn prune_visitors(
        &self,
        now: switchboard_protocol::Timestamp,
        retention_days: i64,
    ) -> Result<usize, StoreError> {
        let Some(cutoff) = crate::retention::cutoff(now, retention_days) else {
            return Ok(0);
        };
        let mut deleted = 0;
        loop {
            let batch = self
                .hub
                .lock()
                .prune_visitors(cutoff, crate::retention::BATCH)?;
            deleted += batch.deleted;
            if !batch.more {
                return Ok(deleted);
            }
        }
    }

    /// Stops accepting connections, closes the WebSocket sessions and waits for the server to
    /// finish.
    pub async fn stop(self) {
        // Timers stop first: their deadlines are stored and resume at the next start (B08).
        self.timers.abort();
        let _ = self.shutdown.send(true);
        let mut task = self.task;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "server stopped with an error"),
            Ok(Err(error)) => tracing::warn!(%error, "server task failed"),
            Err(_) => {
                tracing::warn!("server did not stop in time; cutting its connections");
                task.abort();
            }
        }
    }

    /// Serves until `signal` completes, then stops; or returns early if serving fails.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), ServerError> {
        let timers = self.timers.abort_handle();
        let _stop_timers = AbortOnDrop(timers);
        tokio::select! {
            () = signal => {
                self.stop().await;
                Ok(())
            }
            result = &mut self.task => match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(ServerError::Serve(error)),
                Err(error) => Err(ServerError::Task(error)),
            },
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The routing runtime: sleeps until the router's next deadline (or until a change may have
/// moved it), then lets the router fire what is due. Deadlines live in the database, so a
/// restart picks them up again.
/// B25: ends chats whose visitor closed the page. Checked at a tenth of the timeout (at most
/// every 10 s), so a chat ends between 1 and 1.1 timeouts after the visitor left.
/// Checkpoints the WAL every second on a connection of its own, so commits (under the hub lock)
/// never copy and sync pages themselves (issue 3).
async fn run_checkpoints(path: std::path::PathBuf, mut stop: watch::Receiver<bool>) {
    let opened = tokio::task::spawn_blocking(move || rusqlite::Connection::open(path)).await;
    let mut connection = match opened {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot open the database to checkpoint it");
            return;
        }
        Err(_) => return,
    };
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        let checkpointed = tokio::task::spawn_blocking(move || {
            if let Err(error) = storage::checkpoint(&connection) {
                tracing::warn!(error = ?error, "WAL checkpoint failed");
            }
            connection
        })
        .await;
        match checkpointed {
            Ok(back) => connection = back,
            Err(_) => return,
        }
    }
}

/// How often expired visitors are looked for (B50), besides once at start.
const RETENTION_PERIOD: Duration = Duration::from_secs(60 * 60);

/// B50: deletes visitors without chat, customer record or recent activity, hourly and once at
/// start. Each batch is its own short transaction under the hub lock, and the lock is released
/// between batches so chats and connections go on meanwhile.
async fn prune_visitors(hub: SharedHub, retention_days: i64, mut stop: watch::Receiver<bool>) {
    loop {
        let mut deleted = 0;
        loop {
            if *stop.borrow() {
                return;
            }
            let Some(cutoff) = crate::retention::cutoff(storage::now(), retention_days) else {
                return;
            };
            let hub = hub.clone();
            let batch = tokio::task::spawn_blocking(move || {
                hub.lock().prune_visitors(cutoff, crate::retention::BATCH)
            })
            .await;
            match batch {
                Ok(Ok(batch)) => {
                    deleted += batch.deleted;
                    if !batch.more {
                        break;
                    }
                }
                Ok(Err(error)) => {
                    tracing::error!(%error, "failed to prune expired visitors");
                    break;
                }
                Err(_) => return,
            }
            tokio::task::yield_now().await;
        }
        if deleted > 0 {
            tracing::info!(deleted, retention_days, "pruned expired visitors");
        }
        tokio::select! {
            _ = stop.wait_for(|stopping| *stopping) => return,
            () = tokio::time::sleep(RETENTION_PERIOD) => {}
        }
    }
}

async fn close_inactive_chats(hub: SharedHub, timeout_ms: i64, mut stop: watch::Receiver<bool>) {
    let period = Duration::from_millis((timeout_ms / 10).clamp(50, 10_000) as u64);
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopping| *stopping) => return,
            () = tokio::time::sleep(period) => {}
        }
        let hub = hub.clone();
        match tokio::task::spawn_blocking(move || hub.lock().close_inactive_chats(timeout_ms)).await
        {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "failed to end inactive chats"),
            Err(_) => return,
        }
    }
}

async fn run_timers(hub: SharedHub) {
    let changed = hub.timers();
    loop {
        let next = {
            let hub = hub.clone();
            match tokio::task::spawn_blocking(move || hub.lock().next_deadline()).await {
                Ok(next) => next,
                Err(_) => return,
            }
        };
        let due = async {
            match next {
                Some(deadline) => {
                    let wait = (deadline.0 - storage::now().0).max(0) as u64;
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = changed.notified() => {}
            () = due => {
                let hub = hub.clone();
                let fired = tokio::task::spawn_blocking(move || hub.lock().expire_timers()).await;
                match fired {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::error!(%error, "routing timers failed"),
                    Err(_) => return,
                }
            }
        }
    }
}
