use super::*;

const ME: SessionId = 5;
/// Lower than [`ME`]: we are impolite towards it and offer first.
const LOWER: SessionId = 3;
/// Higher than [`ME`]: we are polite towards it and wait for its offer.
const HIGHER: SessionId = 9;
const MY_NAME: &str = "Me";

fn new_links() -> Links {
    Links::new(ME, MY_NAME.into())
}

fn at(ms: i64) -> LocalTime {
    LocalTime::from_micros(ms * 1_000)
}

fn drain(links: &mut Links) -> Vec<Action> {
    std::iter::from_fn(|| links.poll_action()).collect()
}

fn feed(links: &mut Links, now_ms: i64, input: Input) -> Vec<Action> {
    links.handle_input(at(now_ms), input);
    drain(links)
}

/// Sequence numbers for the payloads the tests send: increasing, as every honest page's are.
fn next_seq() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn sealed(payload: SignalPayload) -> Vec<u8> {
    Envelope {
        seq: next_seq(),
        payload,
    }
    .encode()
}

fn signal(links: &mut Links, from: &str, payload: SignalPayload) -> Vec<Action> {
    feed(
        links,
        0,
        Input::Signal {
            from: from.into(),
            plain: sealed(payload),
            addressed: true,
        },
    )
}

/// A peer's hello, without a name (as from a client that predates names in hellos).
fn hello(session: SessionId, reply: bool) -> SignalPayload {
    SignalPayload::Hello {
        session,
        reply,
        name: None,
    }
}

/// Our own hello, which names us.
fn my_hello(reply: bool) -> SignalPayload {
    SignalPayload::Hello {
        session: ME,
        reply,
        name: Some(MY_NAME.into()),
    }
}

/// An SDP from `session`'s page: its certificate's fingerprint begins with the session id
/// (see [`identity`]).
fn sdp_from(session: SessionId) -> String {
    let hex: Vec<String> = session
        .to_be_bytes()
        .iter()
        .chain(&[0u8; 24])
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("v=0\r\na=fingerprint:sha-256 {}\r\n", hex.join(":"))
}

fn offer(session: SessionId) -> SignalPayload {
    SignalPayload::Description {
        session,
        sdp_type: SdpType::Offer,
        sdp: sdp_from(session),
    }
}

fn description(sdp_type: SdpType, sdp: &str) -> Description {
    Description {
        sdp_type,
        sdp: sdp.into(),
    }
}

/// A machine with a created link to `peer`, reached on transport `route`.
fn linked(peer: SessionId, route: &str) -> Links {
    let mut links = new_links();
    signal(&mut links, route, hello(peer, true));
    feed(&mut links, 0, Input::Created(peer));
    links
}

/// A link to `peer` with both channels open and the transport connected.
fn open(peer: SessionId) -> Links {
    let mut links = linked(peer, "t1");
    for channel in [Channel::State, Channel::Clock] {
        feed(
            &mut links,
            0,
            Input::ChannelOpen {
                session: peer,
                channel,
            },
        );
    }
    feed(&mut links, 0, connectivity(peer, Connectivity::Connected));
    assert_eq!(links.link(peer).map(Link::phase), Some(Phase::Open));
    links
}

fn connectivity(session: SessionId, state: Connectivity) -> Input {
    Input::Connectivity { session, state }
}

#[test]
fn joining_greets_everyone_already_there() {
    let mut links = new_links();
    let actions = feed(
        &mut links,
        0,
        Input::SignalingJoined {
            peers: vec!["a".into(), "b".into()],
            relay_configured: false,
        },
    );
    assert_eq!(
        actions,
        vec![
            Action::Emit(MeshEvent::Signaling { outage: None }),
            Action::Send {
                to: "a".into(),
                to_session: None,
                payload: my_hello(false)
            },
            Action::Send {
                to: "b".into(),
                to_session: None,
                payload: my_hello(false)
            },
        ]
    );
}

#[test]
fn a_greeting_creates_the_link_and_is_answered() {
    let mut links = new_links();
    let actions = signal(&mut links, "t1", hello(LOWER, false));
    assert_eq!(
        actions,
        vec![
            Action::CreateLink {
                session: LOWER,
                open_channels: true
            },
            Action::Send {
                to: "t1".into(),
                to_session: Some(LOWER),
                payload: my_hello(true)
            },
        ]
    );
    assert_eq!(links.link(LOWER).map(Link::phase), Some(Phase::Creating));
    assert_eq!(
        feed(&mut links, 0, Input::Created(LOWER)),
        vec![Action::Emit(MeshEvent::Connecting(LOWER))]
    );
    // A second confirmation announces nothing.
    assert_eq!(feed(&mut links, 0, Input::Created(LOWER)), vec![]);
}

#[test]
fn the_impolite_side_offers_and_the_polite_side_answers() {
    // Impolite towards LOWER: channels up front, so the browser asks for negotiation.
    let mut impolite = linked(LOWER, "t1");
    assert_eq!(
        feed(&mut impolite, 0, Input::NegotiationNeeded(LOWER)),
        vec![Action::MakeOffer(LOWER)]
    );
    let made = feed(
        &mut impolite,
        0,
        Input::OfferMade {
            session: LOWER,
            result: Ok(Some(description(SdpType::Offer, "o"))),
        },
    );
    assert_eq!(
        made,
        vec![Action::Send {
            to: "t1".into(),
            to_session: Some(LOWER),
            payload: SignalPayload::Description {
                session: ME,
                sdp_type: SdpType::Offer,
                sdp: "o".into()
            }
        }]
    );

    // Polite towards HIGHER: no channels until its offer, then channels and an answer.
    let mut polite = new_links();
    assert_eq!(
        signal(&mut polite, "t2", hello(HIGHER, true)),
        vec![Action::CreateLink {
            session: HIGHER,
            open_channels: false
        }]
    );
    feed(&mut polite, 0, Input::Created(HIGHER));
    assert_eq!(
        signal(&mut polite, "t2", offer(HIGHER)),
        vec![Action::ApplyRemote {
            session: HIGHER,
            description: description(SdpType::Offer, &sdp_from(9)),
            open_channels: true,
            answer: true
        }]
    );
    let applied = feed(
        &mut polite,
        0,
        Input::RemoteApplied {
            session: HIGHER,
            channels_opened: true,
            result: Ok(Some(description(SdpType::Answer, "a"))),
        },
    );
    assert_eq!(
        applied,
        vec![Action::Send {
            to: "t2".into(),
            to_session: Some(HIGHER),
            payload: SignalPayload::Description {
                session: ME,
                sdp_type: SdpType::Answer,
                sdp: "a".into()
            }
        }]
    );
    // A later offer (an ICE restart) reuses the channels.
    assert!(matches!(
        signal(&mut polite, "t2", offer(HIGHER)).as_slice(),
        [Action::ApplyRemote {
            open_channels: false,
            ..
        }]
    ));
}

#[test]
fn glare_is_resolved_by_politeness() {
    // Both sides offer at once: the impolite side keeps its offer and ignores theirs...
    let mut impolite = linked(LOWER, "t1");
    feed(&mut impolite, 0, Input::NegotiationNeeded(LOWER));
    assert_eq!(signal(&mut impolite, "t1", offer(LOWER)), vec![]);
    // ...and stays quiet about the candidates of the offer it ignored.
    let rejected = Input::CandidateRejected {
        session: LOWER,
        error: "no remote description".into(),
    };
    assert_eq!(feed(&mut impolite, 0, rejected), vec![]);

    // The polite side applies theirs over its own pending one.
    let mut polite = linked(HIGHER, "t2");
    feed(&mut polite, 0, Input::NegotiationNeeded(HIGHER));
    assert!(matches!(
        signal(&mut polite, "t2", offer(HIGHER)).as_slice(),
        [Action::ApplyRemote { answer: true, .. }]
    ));

    // Glare also when the offer was sent and we are waiting for its answer.
    let mut waiting = linked(LOWER, "t1");
    feed(&mut waiting, 0, Input::NegotiationNeeded(LOWER));
    feed(
        &mut waiting,
        0,
        Input::OfferMade {
            session: LOWER,
            result: Ok(Some(description(SdpType::Offer, "o"))),
        },
    );
    let not_stable = Input::SignalingState {
        session: LOWER,
        stable: false,
    };
    feed(&mut waiting, 0, not_stable);
    assert_eq!(signal(&mut waiting, "t1", offer(LOWER)), vec![]);
}

#[test]
fn candidate_errors_are_reported_outside_glare() {
    let mut links = linked(LOWER, "t1");
    let rejected = Input::CandidateRejected {
        session: LOWER,
        error: "adding an ICE candidate: bad".into(),
    };
    assert_eq!(
        feed(&mut links, 0, rejected),
        vec![Action::Emit(MeshEvent::Problem(
            "adding an ICE candidate: bad".into()
        ))]
    );
}

#[test]
fn a_link_that_fails_and_recovers_within_the_grace_is_restored() {
    let mut links = open(LOWER);
    assert_eq!(
        feed(&mut links, 1_000, connectivity(LOWER, Connectivity::Failed)),
        vec![
            Action::RestartIce(LOWER),
            Action::Emit(MeshEvent::Reconnecting(LOWER))
        ]
    );
    assert_eq!(links.poll_timeout(), Some(at(1_000) + RECOVERY_GRACE));
    assert_eq!(
        feed(
            &mut links,
            8_000,
            connectivity(LOWER, Connectivity::Connected)
        ),
        vec![Action::Emit(MeshEvent::Restored(LOWER))]
    );
    assert_eq!(links.poll_timeout(), None);
    assert_eq!(feed(&mut links, 11_000, Input::Timeout), vec![]);
    assert_eq!(links.link(LOWER).map(Link::phase), Some(Phase::Open));
}

#[test]
fn a_link_that_stays_broken_past_the_grace_is_gone() {
    let mut links = open(LOWER);
    assert_eq!(
        feed(
            &mut links,
            1_000,
            connectivity(LOWER, Connectivity::Disconnected)
        ),
        vec![Action::Emit(MeshEvent::Reconnecting(LOWER))]
    );
    // Woken early (another link's timer, a spurious wake-up): not yet.
    assert_eq!(feed(&mut links, 10_999, Input::Timeout), vec![]);
    assert_eq!(
        feed(&mut links, 11_000, Input::Timeout),
        vec![
            Action::CloseLink(LOWER),
            Action::Emit(MeshEvent::Gone(LOWER))
        ]
    );
    assert!(links.link(LOWER).is_none());
    assert_eq!(links.poll_timeout(), None);
}

#[test]
fn closing_the_state_channel_or_the_connection_is_gone_at_once() {
    let mut links = open(LOWER);
    let closed = Input::ChannelClosed {
        session: LOWER,
        channel: Channel::Clock,
    };
    assert_eq!(feed(&mut links, 0, closed), vec![]);
    let closed = Input::ChannelClosed {
        session: LOWER,
        channel: Channel::State,
    };
    assert_eq!(
        feed(&mut links, 0, closed),
        vec![
            Action::CloseLink(LOWER),
            Action::Emit(MeshEvent::Gone(LOWER))
        ]
    );

    let mut links = open(HIGHER);
    assert_eq!(
        feed(&mut links, 0, connectivity(HIGHER, Connectivity::Closed)),
        vec![
            Action::CloseLink(HIGHER),
            Action::Emit(MeshEvent::Gone(HIGHER))
        ]
    );
}

#[test]
fn a_peer_that_reappears_under_a_new_route_keeps_its_link() {
    let mut links = open(LOWER);
    feed(&mut links, 0, Input::RouteLeft("t1".into()));
    // No route: what we would send is dropped, not misrouted.
    let candidate = || Input::LocalCandidate {
        session: LOWER,
        candidate: Candidate {
            candidate: "c".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        },
    };
    assert_eq!(feed(&mut links, 0, candidate()), vec![]);
    // Its endpoint reconnected under a new transport id and greets again: same link, new route.
    assert_eq!(
        signal(&mut links, "t9", hello(LOWER, false)),
        vec![Action::Send {
            to: "t9".into(),
            to_session: Some(LOWER),
            payload: my_hello(true)
        }]
    );
    assert_eq!(links.link(LOWER).map(Link::phase), Some(Phase::Open));
    assert!(matches!(
        feed(&mut links, 0, candidate()).as_slice(),
        [Action::Send { to, payload: SignalPayload::Candidate { session: ME, .. }, .. }] if to == "t9"
    ));
}

#[test]
fn a_leaving_route_only_unroutes_whoever_it_reached() {
    let mut links = linked(LOWER, "t1");
    signal(&mut links, "t2", hello(HIGHER, true));
    feed(&mut links, 0, Input::RouteLeft("t1".into()));
    assert_eq!(links.link(LOWER).and_then(Link::route), None);
    assert_eq!(links.link(HIGHER).and_then(Link::route), Some("t2"));
}

#[test]
fn bad_input_is_dropped_and_counted() {
    let mut links = new_links();
    assert_eq!(
        feed(&mut links, 0, Input::Undecryptable { from: "x".into() }),
        vec![]
    );
    let garbage = Input::Signal {
        from: "x".into(),
        plain: b"{not json".to_vec(),
        addressed: true,
    };
    assert!(matches!(
        feed(&mut links, 0, garbage).as_slice(),
        [Action::Emit(MeshEvent::Problem(p))] if p.starts_with("dropped a signaling payload")
    ));
    let huge = Input::Signal {
        from: "x".into(),
        plain: vec![b' '; crate::signaling::payload::MAX_PAYLOAD_BYTES + 1],
        addressed: true,
    };
    assert_eq!(feed(&mut links, 0, huge).len(), 1);
    // Someone replaying our own hello at us.
    assert_eq!(signal(&mut links, "x", hello(ME, false)), vec![]);
    assert!(links.link(ME).is_none());
    assert_eq!(
        links.counters(),
        MeshCounters {
            undecryptable: 1,
            malformed_payloads: 2,
            own_session: 1,
            bad_names: 0,
            stale: 0,
            forged_sessions: 0,
            over_cap: 0,
            rate_limited: 0,
            replayed: 0,
            unaddressed: 0,
            impersonations: 0,
            route_claims: 0,
        }
    );
}

#[test]
fn a_replayed_message_is_refused_and_a_fresh_one_taken() {
    let mut links = new_links();
    let greeting = sealed(hello(LOWER, false));
    let deliver = |links: &mut Links, plain: &[u8]| {
        feed(
            links,
            0,
            Input::Signal {
                from: "t1".into(),
                plain: plain.to_vec(),
                addressed: true,
            },
        )
    };
    assert!(!deliver(&mut links, &greeting).is_empty());
    // The endpoint delivers the same sealed hello again: nothing happens.
    assert_eq!(deliver(&mut links, &greeting), vec![]);
    assert_eq!(links.counters().replayed, 1);
    // An older message from the same page is refused too, a newer one taken.
    let offer = |seq| {
        Envelope {
            seq,
            payload: SignalPayload::Description {
                session: LOWER,
                sdp_type: SdpType::Offer,
                sdp: sdp_from(LOWER),
            },
        }
        .encode()
    };
    assert_eq!(deliver(&mut links, &offer(1)), vec![]);
    assert_eq!(links.counters().replayed, 2);
    assert!(deliver(&mut links, &offer(next_seq()))
        .iter()
        .any(|a| matches!(a, Action::ApplyRemote { .. })));
}

#[test]
fn a_description_under_another_sessions_name_is_refused() {
    let mut links = linked(LOWER, "t1");
    // Mallory (HIGHER) sends an offer claiming to be LOWER: its certificate is its own.
    let forged = SignalPayload::Description {
        session: LOWER,
        sdp_type: SdpType::Offer,
        sdp: sdp_from(HIGHER),
    };
    assert_eq!(signal(&mut links, "t1", forged), vec![]);
    assert_eq!(links.counters().impersonations, 1);
    assert!(signal(&mut links, "t1", offer(LOWER))
        .iter()
        .any(|a| matches!(a, Action::ApplyRemote { .. })));
}

#[test]
fn a_connected_sessions_route_moves_only_with_proof() {
    let mut links = open(LOWER);
    // A hello under LOWER's name from another endpoint connection renames nobody and is not
    // answered, and what we send LOWER still goes to LOWER's own connection.
    let claimed = SignalPayload::Hello {
        session: LOWER,
        reply: false,
        name: Some("Mallory".into()),
    };
    assert_eq!(signal(&mut links, "t666", claimed), vec![]);
    assert_eq!(links.counters().route_claims, 1);
    assert_eq!(links.link(LOWER).and_then(Link::route), Some("t1"));
    // LOWER's own offer from a new connection (its endpoint reconnected) moves the route.
    signal(&mut links, "t2", offer(LOWER));
    assert_eq!(links.link(LOWER).and_then(Link::route), Some("t2"));
}

#[test]
fn only_a_hello_may_come_unaddressed() {
    let mut links = linked(LOWER, "t1");
    let stray_offer = Input::Signal {
        from: "t1".into(),
        plain: sealed(SignalPayload::Description {
            session: LOWER,
            sdp_type: SdpType::Offer,
            sdp: "o".into(),
        }),
        addressed: false,
    };
    assert_eq!(feed(&mut links, 0, stray_offer), vec![]);
    assert_eq!(links.counters().unaddressed, 1);
    // A newcomer's first hello does not know us yet, and is answered, addressed to it.
    let greeting = Input::Signal {
        from: "t2".into(),
        plain: sealed(hello(HIGHER, false)),
        addressed: false,
    };
    assert!(feed(&mut links, 0, greeting).contains(&Action::Send {
        to: "t2".into(),
        to_session: Some(HIGHER),
        payload: my_hello(true),
    }));
}

#[test]
fn remembered_sessions_are_bounded() {
    let mut links = new_links();
    for session in 0..(MAX_REMEMBERED_SESSIONS as u64 + 10) {
        assert!(links.accept_seq(1_000 + session, 5));
    }
    assert_eq!(links.last_seq.len(), MAX_REMEMBERED_SESSIONS);
    // The newest are still remembered.
    assert!(!links.accept_seq(1_000 + MAX_REMEMBERED_SESSIONS as u64 + 9, 5));
}

#[test]
fn reports_about_links_that_are_gone_are_dropped_and_counted() {
    let mut links = new_links();
    let late = [
        Input::Created(LOWER),
        Input::NegotiationNeeded(LOWER),
        Input::OfferMade {
            session: LOWER,
            result: Ok(Some(description(SdpType::Offer, "o"))),
        },
        Input::RemoteApplied {
            session: LOWER,
            channels_opened: true,
            result: Err("late".into()),
        },
        Input::CandidateRejected {
            session: LOWER,
            error: "late".into(),
        },
        Input::SignalingState {
            session: LOWER,
            stable: true,
        },
        Input::ChannelOpen {
            session: LOWER,
            channel: Channel::State,
        },
        Input::ChannelClosed {
            session: LOWER,
            channel: Channel::State,
        },
        connectivity(LOWER, Connectivity::Failed),
    ];
    let count = late.len() as u32;
    for input in late {
        assert_eq!(feed(&mut links, 0, input), vec![]);
    }
    assert_eq!(links.counters().stale, count);
    assert_eq!(feed(&mut links, 0, Input::Timeout), vec![]);
}

#[test]
fn a_link_that_could_not_be_created_is_forgotten() {
    let mut links = new_links();
    signal(&mut links, "t1", hello(LOWER, true));
    let failed = Input::CreationFailed {
        session: LOWER,
        error: "creating a peer connection: bad ICE server".into(),
    };
    assert_eq!(
        feed(&mut links, 0, failed),
        vec![Action::Emit(MeshEvent::Problem(
            "creating a peer connection: bad ICE server".into()
        ))]
    );
    assert!(links.link(LOWER).is_none());
    // The next message from that session tries again.
    assert!(matches!(
        signal(&mut links, "t1", hello(LOWER, true)).as_slice(),
        [Action::CreateLink { session: LOWER, .. }]
    ));
}

#[test]
fn failed_negotiation_steps_are_reported_and_clear_the_offer() {
    let mut links = linked(LOWER, "t1");
    feed(&mut links, 0, Input::NegotiationNeeded(LOWER));
    let failed = Input::OfferMade {
        session: LOWER,
        result: Err("making an offer: boom".into()),
    };
    assert_eq!(
        feed(&mut links, 0, failed),
        vec![Action::Emit(MeshEvent::Problem(
            "making an offer: boom".into()
        ))]
    );
    // No offer under way any more: their offer is not glare, even for the impolite side.
    assert!(matches!(
        signal(&mut links, "t1", offer(LOWER)).as_slice(),
        [Action::ApplyRemote { .. }]
    ));
}

#[test]
fn leaving_forgets_every_link_silently() {
    let mut links = open(LOWER);
    feed(&mut links, 0, connectivity(LOWER, Connectivity::Failed));
    links.leave();
    assert!(links.link(LOWER).is_none());
    assert_eq!(links.poll_timeout(), None);
    assert_eq!(drain(&mut links), vec![]);
}

#[test]
fn a_hello_introduces_its_sender_by_name_and_a_bad_name_is_counted() {
    let mut links = new_links();
    let named = SignalPayload::Hello {
        session: LOWER,
        reply: true,
        name: Some("Ada".into()),
    };
    assert!(
        signal(&mut links, "t1", named).contains(&Action::Emit(MeshEvent::Introduced {
            session: LOWER,
            name: "Ada".into()
        }))
    );
    // A name is introduced as it reads: no invisible or direction-changing characters.
    let sneaky = SignalPayload::Hello {
        session: 11,
        reply: true,
        name: Some("\u{202E}A\u{200B}da".into()),
    };
    assert!(
        signal(&mut links, "t4", sneaky).contains(&Action::Emit(MeshEvent::Introduced {
            session: 11,
            name: "Ada".into()
        }))
    );
    let blank = SignalPayload::Hello {
        session: HIGHER,
        reply: true,
        name: Some(" \u{200B}\u{3164} ".into()),
    };
    let actions = signal(&mut links, "t2", blank);
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::Emit(MeshEvent::Introduced { .. }))));
    // The hello itself still counts: the link is made.
    assert!(links.link(HIGHER).is_some());
    assert_eq!(links.counters().bad_names, 1);
    // A rename reaches the next hello.
    feed(&mut links, 0, Input::Renamed("Grace".into()));
    let actions = signal(&mut links, "t3", hello(7, false));
    assert!(actions.contains(&Action::Send {
        to: "t3".into(),
        to_session: Some(7),
        payload: SignalPayload::Hello {
            session: ME,
            reply: true,
            name: Some("Grace".into())
        }
    }));
}

#[test]
fn a_link_that_never_opens_is_unreachable_with_the_reason_and_retries() {
    let mut links = new_links();
    feed(
        &mut links,
        0,
        Input::SignalingJoined {
            peers: vec![],
            relay_configured: true,
        },
    );
    signal(&mut links, "t1", hello(LOWER, true));
    feed(&mut links, 0, Input::Created(LOWER));
    let host = Candidate {
        candidate: "candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    };
    feed(
        &mut links,
        0,
        Input::LocalCandidate {
            session: LOWER,
            candidate: host,
        },
    );
    assert_eq!(
        feed(&mut links, 1_000, connectivity(LOWER, Connectivity::Failed)),
        vec![Action::Emit(MeshEvent::Unreachable {
            session: LOWER,
            why: Unreachable::RelayUnreachable
        })]
    );
    // Kept, and tried again later with an ICE restart; never announced as gone meanwhile.
    let retry_at = links.poll_timeout().expect("a retry is scheduled");
    assert_eq!(retry_at, at(1_000) + UNREACHABLE_RETRY);
    links.handle_input(retry_at, Input::Timeout);
    assert_eq!(drain(&mut links), vec![Action::RestartIce(LOWER)]);
    // Their endpoint transport leaves: they left the room, so the row goes.
    assert_eq!(
        feed(&mut links, 20_000, Input::RouteLeft("t1".into())),
        vec![
            Action::CloseLink(LOWER),
            Action::Emit(MeshEvent::Gone(LOWER))
        ]
    );
}

#[test]
fn without_a_relay_the_reason_is_that_none_is_configured() {
    let mut links = linked(LOWER, "t1");
    assert_eq!(
        feed(&mut links, 0, connectivity(LOWER, Connectivity::Failed)),
        vec![Action::Emit(MeshEvent::Unreachable {
            session: LOWER,
            why: Unreachable::NoRelay
        })]
    );
}

fn creates(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::CreateLink { .. }))
        .count()
}

#[test]
fn one_endpoint_connection_speaks_for_one_session_only() {
    let mut links = linked(LOWER, "rogue");
    // Forged hellos for made-up sessions from the same connection open nothing.
    for session in 100..200 {
        assert_eq!(signal(&mut links, "rogue", hello(session, false)), vec![]);
    }
    assert_eq!(links.counters().forged_sessions, 100);
    assert!(links.link(100).is_none());
    // Everyone else still gets in, and the first session keeps its link.
    assert_eq!(creates(&signal(&mut links, "t2", hello(HIGHER, false))), 1);
    assert!(links.link(LOWER).is_some());
}

#[test]
fn a_flood_of_hellos_is_answered_at_the_hello_rate_only() {
    let mut links = new_links();
    let answers = (0..1_000)
        .flat_map(|_| signal(&mut links, "t1", hello(LOWER, false)))
        .filter(|a| matches!(a, Action::Send { .. }))
        .count();
    assert_eq!(answers, 5);
    assert_eq!(links.counters().rate_limited, 995);
}

#[test]
fn links_are_capped() {
    let mut links = new_links();
    for n in 0..MAX_LINKS as u64 {
        let route = format!("t{n}");
        assert_eq!(
            creates(&signal(&mut links, &route, hello(100 + n, true))),
            1
        );
    }
    assert_eq!(signal(&mut links, "one-too-many", hello(99, true)), vec![]);
    assert_eq!(links.counters().over_cap, 1);
    assert!(links.link(99).is_none());
}

#[test]
fn a_peer_that_never_answers_is_closed_shown_and_listed_until_it_leaves() {
    let mut links = linked(LOWER, "t1");
    assert_eq!(links.poll_timeout(), Some(at(0) + CONNECT_TIMEOUT));
    assert_eq!(
        feed(&mut links, 20_000, Input::Timeout),
        vec![
            Action::CloseLink(LOWER),
            Action::Emit(MeshEvent::Unreachable {
                session: LOWER,
                why: Unreachable::NoAnswer
            })
        ]
    );
    assert!(links.link(LOWER).is_none());
    assert_eq!(links.poll_timeout(), None);
    // Whatever else they send has no link to go to; and their connection still speaks for them.
    assert_eq!(signal(&mut links, "t1", offer(LOWER)), vec![]);
    assert_eq!(links.counters().stale, 1);
    assert_eq!(signal(&mut links, "t1", hello(77, true)), vec![]);
    assert_eq!(links.counters().forged_sessions, 1);
    // A hello starts over (they rejoined the endpoint).
    assert_eq!(creates(&signal(&mut links, "t1", hello(LOWER, false))), 1);
    feed(&mut links, 20_000, Input::Created(LOWER));
    feed(&mut links, 40_000, Input::Timeout);
    // Their connection leaves: they are gone.
    assert_eq!(
        feed(&mut links, 41_000, Input::RouteLeft("t1".into())),
        vec![Action::Emit(MeshEvent::Gone(LOWER))]
    );
    assert_eq!(
        creates(&signal(&mut links, "t2", offer(LOWER))),
        1,
        "a new link"
    );
}

#[test]
fn who_did_not_answer_and_left_while_we_were_away_is_gone_on_rejoining() {
    let mut links = linked(LOWER, "t1");
    feed(&mut links, 20_000, Input::Timeout);
    let rejoined = |peers: Vec<String>| Input::SignalingJoined {
        peers,
        relay_configured: false,
    };
    let actions = feed(&mut links, 30_000, rejoined(vec!["t1".into()]));
    assert!(!actions.contains(&Action::Emit(MeshEvent::Gone(LOWER))));
    let actions = feed(&mut links, 31_000, rejoined(vec!["t2".into()]));
    assert!(actions.contains(&Action::Emit(MeshEvent::Gone(LOWER))));
}

#[test]
fn a_peer_that_answered_but_is_not_reached_in_time_is_unreachable() {
    let mut links = linked(LOWER, "t1");
    signal(
        &mut links,
        "t1",
        SignalPayload::Description {
            session: LOWER,
            sdp_type: SdpType::Answer,
            sdp: sdp_from(LOWER),
        },
    );
    assert_eq!(
        feed(&mut links, 20_000, Input::Timeout),
        vec![Action::Emit(MeshEvent::Unreachable {
            session: LOWER,
            why: Unreachable::NoRelay
        })]
    );
    assert!(links.link(LOWER).is_some_and(Link::is_unreachable));
}
