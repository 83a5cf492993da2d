//! What a key press means where the keyboard focus is, as one rule for the whole page (pure;
//! `web::keyboard` reads the focused element):
//!
//! - whether the person is typing, so that a shortcut's key (a reaction's digit, the call's
//!   push-to-talk letter) is text and not a shortcut: [`Focused::typing`];
//! - whether the focused control does something with a key itself, so that the stage's
//!   Space and arrow shortcuts leave it alone: [`Focused::handles`];
//! - where a key moves the focus in a row of tabs (the WAI-ARIA tabs pattern):
//!   [`tab_for_key`].

/// The focused element, as far as keys go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Focused {
    /// Its tag name, in any case (the DOM gives HTML's in upper case).
    pub tag: String,
    /// For an `<input>`, its `type` as the DOM reports it (lower case, `"text"` by default).
    pub input_type: String,
    /// Whether it is `contenteditable` text.
    pub editable: bool,
    /// Its ARIA `role`, if any (a `"tab"` uses the arrows).
    pub role: String,
}

/// The `<input>` types that take no typed text: clicked, toggled or slid.
const NOT_TEXT_INPUTS: [&str; 10] = [
    "button", "checkbox", "color", "file", "hidden", "image", "radio", "range", "reset", "submit",
];

impl Focused {
    fn is(&self, tag: &str) -> bool {
        self.tag.eq_ignore_ascii_case(tag)
    }

    fn input_of(&self, types: &[&str]) -> bool {
        self.is("INPUT") && types.contains(&self.input_type.as_str())
    }

    /// Whether a printable key here is text: editable text, a text area, a select (a letter
    /// picks an option), or an input that takes text (every type but those clicked, toggled
    /// or slid; a date or a number takes digits).
    pub fn typing(&self) -> bool {
        self.editable
            || self.is("TEXTAREA")
            || self.is("SELECT")
            || (self.is("INPUT") && !NOT_TEXT_INPUTS.contains(&self.input_type.as_str()))
    }

    /// Whether this element does something with `key` (a `KeyboardEvent.key`) itself: every
    /// key where the person types; Space and Enter press buttons, links, summaries and
    /// toggles; the arrows slide a range and move between radio buttons and between tabs (the
    /// tabs pattern: Home and End too).
    pub fn handles(&self, key: &str) -> bool {
        if self.typing() {
            return true;
        }
        match key {
            " " | "Spacebar" | "Enter" => {
                self.is("BUTTON")
                    || self.is("A")
                    || self.is("SUMMARY")
                    || self.input_of(&NOT_TEXT_INPUTS)
            }
            "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End" => {
                self.input_of(&["range", "radio"]) || self.role == "tab"
            }
            _ => false,
        }
    }
}

/// In a row of `count` tabs with the focus on tab `current`, the tab `key` moves to: the
/// next or previous with the Right and Left arrows (wrapping round), the first with Home, the
/// last with End; `None` for any other key (it is not the tabs').
pub fn tab_for_key(key: &str, current: usize, count: usize) -> Option<usize> {
    if count == 0 {
        return None;
    }
    let current = current.min(count - 1);
    match key {
        "ArrowRight" => Some((current + 1) % count),
        "ArrowLeft" => Some((current + count - 1) % count),
        "Home" => Some(0),
        "End" => Some(count - 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(tag: &str) -> Focused {
        Focused {
            tag: tag.into(),
            ..Focused::default()
        }
    }

    fn input(kind: &str) -> Focused {
        Focused {
            tag: "INPUT".into(),
            input_type: kind.into(),
            ..Focused::default()
        }
    }

    #[test]
    fn typing_is_where_a_printable_key_is_text() {
        for typing in [
            input("text"),
            input("search"),
            input("url"),
            input("number"),
            input("date"),
            input("password"),
            el("TEXTAREA"),
            el("textarea"),
            el("SELECT"),
            Focused {
                editable: true,
                ..el("DIV")
            },
        ] {
            assert!(typing.typing(), "{typing:?}");
        }
        for not in [
            input("checkbox"),
            input("radio"),
            input("range"),
            input("button"),
            input("submit"),
            input("color"),
            input("file"),
            el("BUTTON"),
            el("A"),
            el("DIV"),
            el("BODY"),
            el("VIDEO"),
        ] {
            assert!(!not.typing(), "{not:?}");
        }
    }

    #[test]
    fn controls_keep_the_keys_they_use() {
        // Where the person types, every key is theirs.
        for key in [" ", "ArrowLeft", "1", "t"] {
            assert!(input("text").handles(key));
            assert!(el("SELECT").handles(key));
        }
        // Space presses what can be pressed; arrows do not move it.
        for pressed in [el("BUTTON"), el("a"), el("SUMMARY"), input("checkbox")] {
            assert!(pressed.handles(" "), "{pressed:?}");
            assert!(pressed.handles("Enter"), "{pressed:?}");
            assert!(!pressed.handles("ArrowRight"), "{pressed:?}");
            assert!(!pressed.handles("1"), "{pressed:?}");
        }
        // A slider and radio buttons take the arrows.
        for slid in [input("range"), input("radio")] {
            assert!(slid.handles("ArrowLeft"), "{slid:?}");
            assert!(slid.handles("ArrowRight"), "{slid:?}");
            assert!(!slid.handles("3"), "{slid:?}");
        }
        // A tab takes the arrows, Home and End (the tabs pattern), and Space as a button.
        let tab = Focused {
            role: "tab".into(),
            ..el("BUTTON")
        };
        for key in ["ArrowLeft", "ArrowRight", "Home", "End", " "] {
            assert!(tab.handles(key), "{key:?}");
        }
        assert!(!tab.typing());
        assert!(!el("BUTTON").handles("ArrowRight"));
        // The page itself, or a video, keeps nothing.
        for free in [el("BODY"), el("VIDEO"), el("DIV")] {
            for key in [" ", "ArrowLeft", "ArrowRight", "1"] {
                assert!(!free.handles(key), "{free:?} {key:?}");
            }
        }
    }

    #[test]
    fn arrows_move_round_the_tabs_and_home_and_end_go_to_the_ends() {
        assert_eq!(tab_for_key("ArrowRight", 0, 2), Some(1));
        assert_eq!(tab_for_key("ArrowRight", 1, 2), Some(0));
        assert_eq!(tab_for_key("ArrowLeft", 0, 2), Some(1));
        assert_eq!(tab_for_key("ArrowLeft", 1, 2), Some(0));
        assert_eq!(tab_for_key("ArrowLeft", 0, 3), Some(2));
        assert_eq!(tab_for_key("ArrowRight", 1, 3), Some(2));
        assert_eq!(tab_for_key("Home", 2, 3), Some(0));
        assert_eq!(tab_for_key("End", 0, 3), Some(2));
        assert_eq!(tab_for_key("ArrowRight", 0, 1), Some(0));
        // Not the tabs' keys: Up and Down scroll the page, Tab leaves the row.
        for other in ["ArrowUp", "ArrowDown", "Tab", "Enter", " ", "a"] {
            assert_eq!(tab_for_key(other, 0, 2), None, "{other:?}");
        }
        assert_eq!(tab_for_key("ArrowRight", 0, 0), None);
        // A current index past the end counts as the last tab.
        assert_eq!(tab_for_key("ArrowRight", 9, 2), Some(0));
    }
}
