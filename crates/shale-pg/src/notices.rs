//! What the server says beside a statement's result: its WARNING messages (`RAISE WARNING` in a
//! migration, a baseline's materialized view left empty), which psql shows and a migration's
//! author meant to be read. The connections' background tasks keep them here, in the order they
//! came, until the executor takes them after a migration (see `exec`): the driver's `Client` has
//! no room for them, and a connection's messages come on its task, not the query's.

use std::sync::Mutex;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::{AsyncMessage, Connection};

/// The WARNING messages said since they were last taken, across connections.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Runs `connection` in the background, keeping what the server warns of.
pub(crate) fn drive<S, T>(mut connection: Connection<S, T>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notice(notice) = message {
                // (A COMMIT or ROLLBACK with no transaction open, which shale's own recovery may
                // send, is no news of a migration.)
                let transaction_state = matches!(notice.code().code(), "25P01" | "25001");
                if notice.severity() == "WARNING" && !transaction_state {
                    if let Ok(mut warnings) = WARNINGS.lock() {
                        warnings.push(notice.message().to_string());
                    }
                }
            }
        }
    });
}

/// The warnings the server said since the last call, in order.
pub fn take_warnings() -> Vec<String> {
    WARNINGS.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default()
}
