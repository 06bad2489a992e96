//! The textbook backend's start-up, on shale: "Migrations run automatically when the backend starts."
//! Migrates with the embedded migrations (same lock, checksums and history as the CLI), refuses to
//! start if that fails, then serves `GET /health` with the applied version.
//!
//! Environment: `NEON_DATABASE_URL` (as in the original project) or `DATABASE_URL`, and `PORT`.

use axum::{routing::get, Json, Router};
use shale::{ConnectionSettings, Migrator, UpRequest};

static MIGRATIONS: shale::EmbeddedMigrations = shale::embedded_migrations!("migrations");

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let version = match migrate().await {
        Ok(version) => version,
        Err(error) => {
            eprintln!("refusing to start: {error}");
            std::process::exit(1);
        }
    };
    eprintln!("database at version {}", version.as_deref().unwrap_or("none"));
    let app = Router::new().route(
        "/health",
        get(move || {
            let version = version.clone();
            async move { Json(serde_json::json!({ "status": "healthy", "version": version })) }
        }),
    );
    let port = std::env::var("PORT").unwrap_or_else(|_| "8000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.expect("binding the port");
    eprintln!("listening on {}", listener.local_addr().expect("a bound address"));
    axum::serve(listener, app).await.expect("serving");
}

async fn migrate() -> Result<Option<String>, shale::Error> {
    let var = if std::env::var_os("NEON_DATABASE_URL").is_some() { "NEON_DATABASE_URL" } else { "DATABASE_URL" };
    let connection = ConnectionSettings::from_env_url(var)?;
    let migrator = Migrator::embedded(&MIGRATIONS, connection)?;
    let report = migrator.up(&UpRequest::default(), &mut |_| {}).await?;
    Ok(report.current_version)
}
