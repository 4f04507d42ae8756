//! The client over another HTTP library: ureq (blocking) instead of hyper. Retries,
//! timeouts and tracing are the client's, whatever sends the bytes.
//!
//! `cargo run -p transcend-hyper --example ureq_transport -- http://127.0.0.1:4000 da13`

use bytes::Bytes;
use http::{Request, Response};
use transcend_hyper::{Body, Client};

/// Sends one request with ureq on the blocking pool; error statuses come back as
/// responses so the client can read them.
pub async fn ureq_send(
    agent: ureq::Agent,
    request: Request<Body>,
) -> Result<Response<Bytes>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect_bytes().await?;
    let request = Request::from_parts(parts, body.to_vec());
    tokio::task::spawn_blocking(move || {
        let response = agent.run(request).map_err(std::io::Error::other)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body.read_to_vec().map_err(std::io::Error::other)?;
        Ok(Response::from_parts(parts, Bytes::from(bytes)))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// An agent that hands back error statuses instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A client that sends through ureq.
pub fn ureq_client(base_url: &str, api_key: &str) -> Result<Client, transcend_hyper::Error> {
    let agent = agent();
    Client::builder()
        .api_key(api_key)
        .base_url(base_url)
        .transport(move |request| ureq_send(agent.clone(), request))
        .build()
}

#[allow(dead_code)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(base_url), Some(id)) = (args.next(), args.next()) else {
        eprintln!("usage: ureq_transport <base url> <request id>");
        std::process::exit(2);
    };
    let api_key = std::env::var("TRANSCEND_API_KEY").unwrap_or_else(|_| "test-key".into());
    let status = ureq_client(&base_url, &api_key)?.get_dsr(&id).await?;
    println!("{} is {}", status.id, status.status);
    Ok(())
}
