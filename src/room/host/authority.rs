//! The rules: who the host is, whether the room is in host mode, who is a co-host, and so who
//! may control. Fed only statements whose signature the caller has checked (with the signer's
//! key id it computed), and judges what each statement may say.
//!
//! Every rule is independent of the order statements arrive in: the host of each term is fixed
//! by the chain of handovers from the link's host, a statement is judged by the host of *its*
//! term (one whose term is not known yet waits for the handover), and the mode and each grant
//! are last-writer-wins registers ordered by (term, seq). So pages that hear the same
//! statements in any order, with repeats, agree (the property tests in `tests.rs`).

use super::key::KeyId;
use super::record::{Signed, Statement};
use crate::signaling::payload::SessionId;
use crate::sync::Versioned;
use std::collections::BTreeMap;

/// Statements waiting for the handover that makes their signer the host of their term. A
/// handover that never comes leaves them here until newer ones push them out (the oldest
/// goes, counted). A newcomer's whole log fits many times over (about 150 bytes each).
pub const MAX_PENDING: usize = 256;
/// How far past the last known term a statement may be to wait rather than be refused.
pub const MAX_TERMS_AHEAD: u32 = 8;
/// Members whose keys are remembered (far above a room's size; a rogue can only announce
/// its own session's key, so this bounds only honest churn).
pub const MAX_KEYS: usize = 256;
/// Handovers a room may go through: every newcomer receives the whole chain.
pub const MAX_TERMS: usize = 64;

/// What an accepted statement means for the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// The host, the mode, a grant or a member's key changed: redraw.
    Changed,
    /// Already known, or older than what is known (a repeat or a replay): nothing to do.
    Unchanged,
    /// Kept until the handover that makes its signer the host of its term arrives.
    Waiting,
    /// A playback state a controller vouches for: it may enter the register.
    State(Versioned),
    /// The SHA-256 of a queue piece a controller vouches for: the piece may be merged.
    Queue(Vec<u8>),
}

/// Why a statement with a good signature was still refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A host's statement signed by a key that is not the host of its term (a false claim).
    NotHost,
    /// A state or queue piece signed by a key that is neither the host nor a co-host.
    NotController,
    /// A member announcing a key for another session than its own.
    NotItsSession,
    /// A second, different handover of a term (only a host that contradicts itself).
    Contradicts,
    /// A term too far ahead, a term chain too long, or too many members.
    OutOfBounds,
}

/// What was refused or ignored, for the page's count of dropped messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Signatures that did not verify, or keys and signatures of the wrong shape.
    pub forged: u32,
    /// Statements refused by the rules (false host claims, states from non-controllers...).
    pub refused: u32,
    /// Repeats and replays of statements already superseded (harmless, counted).
    pub stale: u32,
    /// States and queue pieces without a valid signature while in host mode.
    pub unsigned: u32,
}

impl HostStats {
    pub fn dropped(&self) -> u32 {
        self.forged
            .saturating_add(self.refused)
            .saturating_add(self.unsigned)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grant {
    order: (u32, u64),
    session: SessionId,
    granted: bool,
}

/// One room's host, mode and grants, as this page knows them.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The host of each term, from the link's host (term 0: the key id the link names, and
    /// the signatures' domain) along the chain of handovers.
    hosts: Vec<KeyId>,
    /// Host controls, with the (term, seq) that set them.
    mode: Option<((u32, u64), bool)>,
    grants: BTreeMap<KeyId, Grant>,
    /// Each member's announced key.
    keys: BTreeMap<SessionId, KeyId>,
    pending: Vec<(SessionId, KeyId, Signed)>,
    /// The links a valid mode statement came over (for [`Authority::mode_settled`]).
    mode_heard_from: Vec<SessionId>,
    /// What this page accepted (only the latest of each register), in the order it was
    /// accepted: replayed to each newcomer, in that order every statement in it is valid.
    log: Vec<Signed>,
    stats: HostStats,
}

impl Authority {
    /// The authority of a room whose link names `room` as its host.
    pub fn new(room: KeyId) -> Authority {
        Authority {
            hosts: vec![room],
            mode: None,
            grants: BTreeMap::new(),
            keys: BTreeMap::new(),
            pending: Vec::new(),
            mode_heard_from: Vec::new(),
            log: Vec::new(),
            stats: HostStats::default(),
        }
    }

    /// The link's host key id (the domain of every signature in this room).
    pub fn room(&self) -> KeyId {
        self.hosts[0]
    }

    /// The current host's key.
    pub fn host(&self) -> KeyId {
        *self.hosts.last().expect("the link's host is always there")
    }

    /// The current term (handovers so far).
    pub fn term(&self) -> u32 {
        (self.hosts.len() - 1) as u32
    }

    /// The session the current host announced its key from, if it did.
    pub fn host_session(&self) -> Option<SessionId> {
        let host = self.host();
        self.keys
            .iter()
            .find(|(_, key)| **key == host)
            .map(|(session, _)| *session)
    }

    /// Whether Host controls are on, or `None` before any mode statement was heard.
    pub fn mode(&self) -> Option<bool> {
        self.mode.map(|(_, on)| on)
    }

    /// Whether a page that waits for the room's mode may stop waiting: the host's or a
    /// co-host's own link has sent it a mode statement. They know the latest mode (so what this
    /// page holds now is at least as new); anyone else may relay an old one, since every signed
    /// statement can be replayed ("no Host controls" from before the host switched them on).
    pub fn mode_settled(&self) -> bool {
        self.mode.is_some()
            && self.mode_heard_from.iter().any(|session| {
                self.key_of(*session)
                    .is_some_and(|key| self.key_may_control(key))
            })
    }

    /// Whether Host controls are on.
    pub fn host_mode(&self) -> bool {
        self.mode.is_some_and(|(_, on)| on)
    }

    /// Whether the holder of `key` is the host or a co-host.
    pub fn key_may_control(&self, key: KeyId) -> bool {
        key == self.host() || self.grants.get(&key).is_some_and(|g| g.granted)
    }

    /// Whether `session` may play, pause, seek, load, edit the queue, start a ready check or
    /// press Start anyway: anyone outside host mode; in host mode the host and co-hosts.
    pub fn may_control(&self, session: SessionId) -> bool {
        !self.host_mode()
            || self
                .key_of(session)
                .is_some_and(|k| self.key_may_control(k))
    }

    /// Whether `session` is a co-host (granted, and not the host).
    pub fn is_cohost(&self, session: SessionId) -> bool {
        self.key_of(session)
            .is_some_and(|k| k != self.host() && self.key_may_control(k))
    }

    pub fn key_of(&self, session: SessionId) -> Option<KeyId> {
        self.keys.get(&session).copied()
    }

    /// A `seq` for a new statement by the host signed at wall time `wall_ms`: after every
    /// one of this term it has seen (wall time keeps it growing across the host's reloads).
    pub fn next_seq(&self, wall_ms: u64) -> u64 {
        let seen = self
            .mode
            .iter()
            .map(|(order, _)| *order)
            .chain(self.grants.values().map(|g| g.order))
            .filter(|(term, _)| *term == self.term())
            .map(|(_, seq)| seq + 1)
            .max()
            .unwrap_or(0);
        seen.max(wall_ms)
    }

    /// Statements to send a newcomer (in this order), so it knows what this page knows.
    pub fn log(&self) -> &[Signed] {
        &self.log
    }

    pub fn stats(&self) -> HostStats {
        self.stats
    }

    /// A signature did not verify (or had the wrong shape): counted.
    pub fn count_forged(&mut self) {
        self.stats.forged = self.stats.forged.saturating_add(1);
    }

    /// A state or queue piece arrived without a valid signature in host mode: counted.
    pub fn count_unsigned(&mut self) {
        self.stats.unsigned = self.stats.unsigned.saturating_add(1);
    }

    /// `session` left: its key is forgotten (its grant, which names the key, stays).
    pub fn forget(&mut self, session: SessionId) {
        if self.keys.remove(&session).is_some() {
            self.log.retain(
                |s| !matches!(s.statement, Statement::KeyOf { session: s2 } if s2 == session),
            );
        }
    }

    /// A statement from `from`'s link whose signature by the key `signer` the caller has
    /// verified.
    pub fn accept(
        &mut self,
        from: SessionId,
        signer: KeyId,
        signed: Signed,
    ) -> Result<Accepted, Refused> {
        let is_mode = matches!(signed.statement, Statement::Mode { .. });
        let result = self.judge(from, signer, signed);
        let valid = matches!(result, Ok(Accepted::Changed | Accepted::Unchanged));
        if is_mode
            && valid
            && !self.mode_heard_from.contains(&from)
            && self.mode_heard_from.len() < MAX_KEYS
        {
            self.mode_heard_from.push(from);
        }
        match &result {
            Err(_) => self.stats.refused = self.stats.refused.saturating_add(1),
            Ok(Accepted::Unchanged) => self.stats.stale = self.stats.stale.saturating_add(1),
            Ok(_) => {}
        }
        if matches!(result, Ok(Accepted::Changed)) {
            self.retry_pending();
        }
        result
    }

    fn judge(
        &mut self,
        from: SessionId,
        signer: KeyId,
        signed: Signed,
    ) -> Result<Accepted, Refused> {
        if let Some(term) = host_term(&signed.statement) {
            match self.hosts.get(term as usize) {
                Some(host) if *host != signer => return Err(Refused::NotHost),
                Some(_) => {}
                None if term > self.term() + MAX_TERMS_AHEAD => return Err(Refused::OutOfBounds),
                None => {
                    if self.pending.len() == MAX_PENDING {
                        self.pending.remove(0);
                        self.stats.refused = self.stats.refused.saturating_add(1);
                    }
                    self.pending.push((from, signer, signed));
                    return Ok(Accepted::Waiting);
                }
            }
        }
        match &signed.statement {
            &Statement::KeyOf { session } => {
                if session != from {
                    return Err(Refused::NotItsSession);
                }
                if self.keys.get(&session) == Some(&signer) {
                    return Ok(Accepted::Unchanged);
                }
                if !self.keys.contains_key(&session) && self.keys.len() >= MAX_KEYS {
                    return Err(Refused::OutOfBounds);
                }
                self.keys.insert(session, signer);
            }
            &Statement::Mode { on, term, seq } => {
                if self.mode.is_some_and(|(order, _)| order >= (term, seq)) {
                    return Ok(Accepted::Unchanged);
                }
                self.mode = Some(((term, seq), on));
            }
            &Statement::Grant {
                key,
                session,
                granted,
                term,
                seq,
            } => {
                if self
                    .grants
                    .get(&key)
                    .is_some_and(|g| g.order >= (term, seq))
                {
                    return Ok(Accepted::Unchanged);
                }
                if !self.grants.contains_key(&key) && self.grants.len() >= MAX_KEYS {
                    return Err(Refused::OutOfBounds);
                }
                let grant = Grant {
                    order: (term, seq),
                    session,
                    granted,
                };
                self.grants.insert(key, grant);
            }
            &Statement::Handover { to, term, .. } => match self.hosts.get(term as usize + 1) {
                Some(next) if *next == to => return Ok(Accepted::Unchanged),
                Some(_) => return Err(Refused::Contradicts),
                None if self.hosts.len() >= MAX_TERMS => return Err(Refused::OutOfBounds),
                None => self.hosts.push(to),
            },
            Statement::State(state) if self.key_may_control(signer) => {
                return Ok(Accepted::State(state.clone()))
            }
            Statement::Queue(piece) if self.key_may_control(signer) => {
                return Ok(Accepted::Queue(piece.clone()))
            }
            Statement::State(_) | Statement::Queue(_) => return Err(Refused::NotController),
        }
        // The register changed: the statement that changed it replaces its predecessor in
        // the log, as it came (its signature covers it, so it is passed on untouched).
        self.record(signed);
        Ok(Accepted::Changed)
    }

    /// Keeps `signed` in the log in place of the earlier statement of the same register.
    fn record(&mut self, signed: Signed) {
        let slot = register_of(&signed.statement);
        if slot.is_some() {
            self.log.retain(|s| register_of(&s.statement) != slot);
        }
        self.log.push(signed);
    }

    /// Tries again what waited for a handover.
    fn retry_pending(&mut self) {
        let waiting = std::mem::take(&mut self.pending);
        for (from, signer, signed) in waiting {
            // Each retry either applies, waits again, or is refused and counted.
            let _ = self.accept(from, signer, signed);
        }
    }
}

/// The term of a statement only the host may make.
fn host_term(statement: &Statement) -> Option<u32> {
    match statement {
        Statement::Mode { term, .. }
        | Statement::Grant { term, .. }
        | Statement::Handover { term, .. } => Some(*term),
        _ => None,
    }
}

/// Which register a logged statement writes (statements of one register replace each other).
#[derive(PartialEq, Eq, Clone, Copy)]
enum Register {
    Key(SessionId),
    Mode,
    Grant(KeyId),
    Handover(u32),
}

fn register_of(statement: &Statement) -> Option<Register> {
    match statement {
        Statement::KeyOf { session } => Some(Register::Key(*session)),
        Statement::Mode { .. } => Some(Register::Mode),
        Statement::Grant { key, .. } => Some(Register::Grant(*key)),
        Statement::Handover { term, .. } => Some(Register::Handover(*term)),
        Statement::State(_) | Statement::Queue(_) => None,
    }
}
