//! The mesh's messages through the endpoint: numbered, sealed for their recipient and opened
//! strictly in order (what the numbers and the associated data defend against is in
//! `signaling::payload::Envelope` and `web::room_crypto`).

use super::Mesh;
use crate::mesh::{Input, MeshEvent};
use crate::signaling::payload::{Envelope, SessionId, SignalPayload};

impl Mesh {
    pub(super) async fn on_sealed(&self, from: String, sealed: Vec<u8>) {
        let (keys, my_transport, me) = {
            let inner = self.inner.borrow();
            (
                inner.keys.clone(),
                inner.my_transport.clone().unwrap_or_default(),
                inner.me,
            )
        };
        // Sealed for us, or (a newcomer's first hello) for whoever is on our route.
        let mut opened = None;
        for (recipient, addressed) in [(me, true), (0, false)] {
            if let Ok(plain) = keys.open(&from, &my_transport, recipient, &sealed).await {
                opened = Some((plain, addressed));
                break;
            }
        }
        match opened {
            Some((plain, addressed)) => {
                self.feed_in_order(Input::Signal {
                    from,
                    plain,
                    addressed,
                })
                .await
            }
            None => self.feed(Input::Undecryptable { from }),
        }
    }

    pub(super) fn send_sealed(
        &self,
        to_transport: String,
        to_session: Option<SessionId>,
        payload: SignalPayload,
    ) {
        let seq = {
            let mut inner = self.inner.borrow_mut();
            inner.sealed_count += 1;
            inner.sealed_count
        };
        let mesh = self.clone();
        self.outbox.push(
            (to_transport, to_session, Envelope { seq, payload }),
            move |(to, to_session, envelope)| {
                let mesh = mesh.clone();
                async move { mesh.seal_and_send(to, to_session, envelope).await }
            },
        );
    }

    async fn seal_and_send(&self, to: String, to_session: Option<SessionId>, envelope: Envelope) {
        let (keys, from, signaling) = {
            let inner = self.inner.borrow();
            (
                inner.keys.clone(),
                inner.my_transport.clone(),
                inner.signaling.clone(),
            )
        };
        let (Some(from), Some(signaling)) = (from, signaling) else {
            return;
        };
        match keys
            .seal(&from, &to, to_session.unwrap_or(0), &envelope.encode())
            .await
        {
            Ok(sealed) => {
                signaling.send(&to, &sealed);
            }
            Err(problem) => self.emit(MeshEvent::Problem(problem)),
        }
    }
}
