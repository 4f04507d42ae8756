//! A privacy team's automation on the admin API: approves every request waiting for
//! approval, tells a person their request needs more time, and unsticks a request
//! waiting on a silo.
//!
//! ```sh
//! transcend emulator --config crates/transcend-hyper/examples/privacy_team.toml &
//! TRANSCEND_API_KEY=privacy-team-key TRANSCEND_API_URL=http://127.0.0.1:4000 \
//!     SOMBRA_URL=http://127.0.0.1:4000 cargo run -p transcend-hyper --example privacy_team
//! ```

use transcend_hyper::admin::{
    RequestDataSiloFilters, RequestFilters, RequestStatus, UpdateRequestDataSiloStatus,
};
use transcend_hyper::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // snippet: admin
    // TRANSCEND_API_KEY; TRANSCEND_API_URL (default https://api.transcend.io, the EU
    // backend; https://api.us.transcend.io for the US); SOMBRA_URL as before.
    let client = Client::from_env()?;

    // Every request waiting for approval, walked by cursor (100 a page, createdAt then
    // id: requests that change while the walk runs are neither skipped nor repeated).
    let filter = RequestFilters::new().status([RequestStatus::Approving]);
    let mut waiting = std::pin::pin!(client.requests(filter));
    while let Some(request) = waiting.try_next().await? {
        match client.approve_request(request.id(), None).await {
            Ok(_) => {}
            Err(e) if e.is_already_done() => {} // "Request must be in an approving state"
            Err(e) => return Err(e.into()),
        }
    }
    // end

    let mut open = std::pin::pin!(client.requests(RequestFilters::new()));
    let Some(request) = open.try_next().await? else {
        return Ok(());
    };
    let id = request.id().to_owned();
    // snippet: admin-unstick
    // Tell a person their request needs more time: daysRemaining grows by 45.
    let template = client.template_by_title("Additional Time Needed").await?;
    client
        .notify_additional_time(&id, 45, template.as_ref())
        .await?;

    // Unstick a request: resolve the part of the silo it waits on.
    let parts: Vec<_> = client
        .request_data_silos(RequestDataSiloFilters::request(&id))
        .try_collect()
        .await?;
    if let Some(part) = parts.first() {
        client
            .change_request_data_silo_status(part.id.inner(), UpdateRequestDataSiloStatus::Resolved)
            .await?;
    }
    // end
    Ok(())
}
