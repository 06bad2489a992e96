//! What the server says beside a statement's result: its WARNING messages (`RAISE WARNING` in a
//! migration, a baseline's materialized view left empty), which psql shows and a migration's
//! author meant to be read. The connections' background tasks keep them until the executor takes
//! them after a migration (see `exec`): the driver's `Client` has no room for them, and a
//! connection's messages come on its task, not the query's.
//!
//! They are kept per run: a connection keeps its warnings where the task that opened it was told to
//! ([`kept_apart`], each target of a fleet), else with every other connection's (one run per
//! process, the CLI's and most applications' case).

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::{AsyncMessage, Connection};

type Warnings = Arc<Mutex<Vec<String>>>;

/// The warnings of the connections no run keeps apart.
static SHARED: Mutex<Vec<String>> = Mutex::new(Vec::new());

tokio::task_local! {
    /// The warnings of the connections this task opens (set by [`kept_apart`]).
    static KEPT_APART: Warnings;
}

/// Runs `run` with the warnings of the connections it opens kept to itself: runs going on at once
/// in one process (a fleet's targets) each take their own, none another's.
pub async fn kept_apart<F: Future>(run: F) -> F::Output {
    KEPT_APART.scope(Warnings::default(), run).await
}

/// Runs `connection` in the background, keeping what the server warns of.
pub(crate) fn drive<S, T>(mut connection: Connection<S, T>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kept = KEPT_APART.try_with(Arc::clone).ok();
    tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notice(notice) = message {
                // (A COMMIT or ROLLBACK with no transaction open, which shale's own recovery may
                // send, is no news of a migration.)
                let transaction_state = matches!(notice.code().code(), "25P01" | "25001");
                if notice.severity() == "WARNING" && !transaction_state {
                    let warnings = match &kept {
                        Some(kept) => kept.lock(),
                        None => SHARED.lock(),
                    };
                    if let Ok(mut warnings) = warnings {
                        warnings.push(notice.message().to_string());
                    }
                }
            }
        }
    });
}

/// The warnings the server said since the last call, in order: of this run's connections where it
/// keeps them apart.
pub fn take_warnings() -> Vec<String> {
    let take = |warnings: &Mutex<Vec<String>>| warnings.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default();
    KEPT_APART.try_with(|kept| take(kept)).unwrap_or_else(|_| take(&SHARED))
}
