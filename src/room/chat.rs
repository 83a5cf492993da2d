//! The room's chat: a bounded log of lines with who said them and when.

use std::collections::VecDeque;

/// Lines kept; older ones scroll away so a long party cannot grow memory without bound.
pub const MAX_LINES: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct ChatLine {
    pub author: String,
    pub text: String,
    /// Wall-clock time it was received (or sent, for our own), ms since the Unix epoch.
    pub at_ms: f64,
    pub mine: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatLog {
    lines: VecDeque<ChatLine>,
    /// The number the next line gets: lines are numbered from 0 in the order they came.
    next_seq: u64,
}

impl ChatLog {
    pub fn push(&mut self, line: ChatLine) {
        if self.lines.len() == MAX_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
        self.next_seq += 1;
    }

    /// The numbers of the lines kept, oldest first. A line keeps its number as older ones
    /// scroll away: the interface's key, so a new line adds one row instead of redrawing all.
    pub fn seqs(&self) -> std::ops::Range<u64> {
        self.first_seq()..self.next_seq
    }

    /// The line numbered `seq`, if it is still kept.
    pub fn get(&self, seq: u64) -> Option<&ChatLine> {
        let index = seq.checked_sub(self.first_seq())?;
        self.lines.get(usize::try_from(index).ok()?)
    }

    fn first_seq(&self) -> u64 {
        self.next_seq - self.lines.len() as u64
    }

    pub fn lines(&self) -> impl Iterator<Item = &ChatLine> {
        self.lines.iter()
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// What the person typed, ready to send, or `None` if there is nothing to send.
pub fn prepare_outgoing(typed: &str) -> Option<String> {
    let text = typed.trim();
    (!text.is_empty()).then(|| text.chars().take(super::wire::MAX_CHAT_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize) -> ChatLine {
        ChatLine {
            author: "Ada".into(),
            text: n.to_string(),
            at_ms: n as f64,
            mine: false,
        }
    }

    #[test]
    fn keeps_the_latest_lines_only() {
        let mut log = ChatLog::default();
        for n in 0..MAX_LINES + 3 {
            log.push(line(n));
        }
        assert_eq!(log.len(), MAX_LINES);
        assert_eq!(log.lines().next().unwrap().text, "3");
    }

    #[test]
    fn lines_keep_their_numbers_as_older_ones_scroll_away() {
        let mut log = ChatLog::default();
        assert_eq!(log.seqs(), 0..0);
        assert_eq!(log.get(0), None);
        for n in 0..MAX_LINES + 3 {
            log.push(line(n));
        }
        let seqs = log.seqs();
        assert_eq!(seqs, 3..MAX_LINES as u64 + 3);
        for seq in seqs {
            assert_eq!(log.get(seq).unwrap().text, seq.to_string());
        }
        assert_eq!(log.get(2), None);
        assert_eq!(log.get(MAX_LINES as u64 + 3), None);
        assert_eq!(log.get(u64::MAX), None);
    }

    #[test]
    fn outgoing_text_is_trimmed_and_bounded() {
        assert_eq!(prepare_outgoing("  hi  "), Some("hi".into()));
        assert_eq!(prepare_outgoing("   "), None);
        assert_eq!(
            prepare_outgoing(&"x".repeat(5000)).unwrap().len(),
            super::super::wire::MAX_CHAT_CHARS
        );
    }
}
