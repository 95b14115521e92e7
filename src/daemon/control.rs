//! TEMPORARY stub (replaced by the operator branch).
use std::future::Future;
use std::path::Path;

use super::Event;

pub fn ensure_token(data: &Path) -> std::io::Result<String> {
    let _ = data;
    Ok("stub".into())
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    token: String,
    events: tokio::sync::mpsc::Sender<Event>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _ = (listener, token, events);
    shutdown.await;
    Ok(())
}
