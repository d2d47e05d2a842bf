//! A streamed `text/event-stream` answer, passed on as it arrives with the event carrying the
//! answer edited ([`EventEditor`]).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame};
use l402_server::BoxError;

use super::answer::EventEditor;

pin_project_lite::pin_project! {
    /// The upstream's event stream with its answer edited; trailers pass unchanged.
    pub(crate) struct EditedEvents<B> {
        #[pin]
        inner: B,
        editor: EventEditor,
        finished: bool,
        // Trailers that arrived while held bytes were still to be sent.
        trailers: Option<Frame<Bytes>>,
    }
}

impl<B> EditedEvents<B> {
    pub(crate) fn new(inner: B, editor: EventEditor) -> Self {
        Self {
            inner,
            editor,
            finished: false,
            trailers: None,
        }
    }
}

impl<B> Body for EditedEvents<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        loop {
            if *this.finished {
                return Poll::Ready(this.trailers.take().map(Ok));
            }
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let out = this.editor.push(&data);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(frame) => {
                        // Trailers end the body: send what is held first, then them.
                        let held = this.editor.finish();
                        *this.finished = true;
                        if held.is_empty() {
                            return Poll::Ready(Some(Ok(frame)));
                        }
                        *this.trailers = Some(frame);
                        return Poll::Ready(Some(Ok(Frame::data(held))));
                    }
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
                None => {
                    *this.finished = true;
                    let held = this.editor.finish();
                    return Poll::Ready((!held.is_empty()).then(|| Ok(Frame::data(held))));
                }
            }
        }
    }
}
