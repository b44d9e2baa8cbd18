//! Request bodies for the upstream: fully buffered, or streamed through a channel.

use crate::upstream::{BoxError, UpBody};
use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

pub type BodySender = mpsc::Sender<Result<Bytes, BoxError>>;

pub fn full_body(bytes: Bytes) -> UpBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A body fed by the connection task while hyper sends it.
pub fn channel_body() -> (UpBody, BodySender) {
    let (tx, rx) = mpsc::channel(4);
    (ChannelBody { rx }.boxed(), tx)
}

struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, BoxError>>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}
