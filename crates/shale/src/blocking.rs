//! A blocking wrapper for applications without an async runtime.

use shale_core::Target;

use crate::{Error, Event, RunReport, StatusReport, UpRequest};

/// [`crate::Migrator`] driven on its own single-threaded runtime.
pub struct Migrator {
    inner: crate::Migrator,
    runtime: tokio::runtime::Runtime,
}

impl Migrator {
    pub fn new(inner: crate::Migrator) -> Result<Migrator, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start a runtime for the blocking migrator: {e}")))?;
        Ok(Migrator { inner, runtime })
    }

    pub fn up(&self, request: &UpRequest) -> Result<RunReport, Error> {
        self.runtime.block_on(self.inner.up(request, &mut |_: Event| {}))
    }

    pub fn up_with(&self, request: &UpRequest, on_event: &mut (dyn FnMut(Event) + Send)) -> Result<RunReport, Error> {
        self.runtime.block_on(self.inner.up(request, on_event))
    }

    pub fn down(&self, target: &Target) -> Result<RunReport, Error> {
        self.runtime.block_on(self.inner.down(target, &mut |_: Event| {}))
    }

    pub fn status(&self) -> Result<StatusReport, Error> {
        self.runtime.block_on(self.inner.status())
    }
}
