//! Why the camera or microphone could not be used, as a person understands it, and what to do.

/// Longest browser detail kept in [`MediaProblem::Other`]: a sentence, not a stack trace.
const MAX_DETAIL_CHARS: usize = 200;

/// A camera or microphone that could not be used.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaProblem {
    /// Permission refused, by the person or by the browser's policy.
    Denied,
    /// No camera or microphone there, or none that fits the constraints.
    NoDevice,
    /// The device is there but another application holds it.
    Busy,
    /// A device in use went away during the call (its track ended).
    Unplugged,
    /// The page is not a secure context, so the browser offers no camera at all.
    Insecure,
    /// Anything else, with the browser's words.
    Other(String),
}

impl MediaProblem {
    /// From a `getUserMedia` rejection's `DOMException` name and message (current names and
    /// the older ones Chromium and Firefox used).
    pub fn from_dom_error(name: &str, message: &str) -> MediaProblem {
        match name {
            "NotAllowedError" | "PermissionDeniedError" | "SecurityError" => MediaProblem::Denied,
            "NotFoundError"
            | "DevicesNotFoundError"
            | "OverconstrainedError"
            | "ConstraintNotSatisfiedError" => MediaProblem::NoDevice,
            "NotReadableError" | "TrackStartError" | "AbortError" => MediaProblem::Busy,
            _ => {
                let detail = if message.trim().is_empty() {
                    name
                } else {
                    message
                };
                let bounded: String = detail.trim().chars().take(MAX_DETAIL_CHARS).collect();
                MediaProblem::Other(bounded.trim_end().to_owned())
            }
        }
    }

    /// A stable code (the message's `data-problem`).
    pub fn code(&self) -> &'static str {
        match self {
            MediaProblem::Denied => "denied",
            MediaProblem::NoDevice => "no-device",
            MediaProblem::Busy => "busy",
            MediaProblem::Unplugged => "unplugged",
            MediaProblem::Insecure => "insecure",
            MediaProblem::Other(_) => "other",
        }
    }

    /// What happened and what to do, in one or two sentences.
    pub fn message(&self) -> String {
        let text = match self {
            MediaProblem::Denied => {
                "Your browser blocked the camera and microphone. Allow them for \
                this site (the camera icon in the address bar), then press Try again."
            }
            MediaProblem::NoDevice => {
                "No camera or microphone was found. Plug one in and press Try \
                again, or join with audio only if only the camera is missing."
            }
            MediaProblem::Busy => {
                "Another app is using your camera or microphone. Close it, then \
                press Try again."
            }
            MediaProblem::Unplugged => {
                "Your camera or microphone was disconnected. Plug it back in \
                and press Try again."
            }
            MediaProblem::Insecure => {
                "The camera and microphone only work on a secure page. Open \
                this party over https (or on localhost), then press Try again."
            }
            MediaProblem::Other(detail) if !detail.is_empty() => {
                return format!(
                    "The camera and microphone could not be started ({detail}). Press Try again."
                )
            }
            MediaProblem::Other(_) => {
                "The camera and microphone could not be started. Press Try again."
            }
        };
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MediaProblem::*;

    #[test]
    fn browser_errors_become_what_a_person_understands_and_says_what_to_do() {
        let cases = [
            ("NotAllowedError", Denied),
            ("SecurityError", Denied),
            ("NotFoundError", NoDevice),
            ("OverconstrainedError", NoDevice),
            ("DevicesNotFoundError", NoDevice),
            ("NotReadableError", Busy),
            ("TrackStartError", Busy),
            ("AbortError", Busy),
        ];
        for (name, problem) in cases {
            assert_eq!(MediaProblem::from_dom_error(name, "ignored"), problem);
        }
        let other = |name, message| MediaProblem::from_dom_error(name, message);
        assert_eq!(
            other("TypeError", " bad constraints \n"),
            Other("bad constraints".into())
        );
        assert_eq!(other("WeirdError", " "), Other("WeirdError".into()));
        let long = other("X", &"é".repeat(1000));
        assert_eq!(long, Other("é".repeat(MAX_DETAIL_CHARS)));

        let all = [
            Denied,
            NoDevice,
            Busy,
            Unplugged,
            Insecure,
            long,
            Other(String::new()),
        ];
        let codes = all.clone().map(|p| p.code());
        assert_eq!(
            codes[..6],
            [
                "denied",
                "no-device",
                "busy",
                "unplugged",
                "insecure",
                "other"
            ]
        );
        for problem in &all {
            assert!(problem.message().contains("ress Try again"), "{problem:?}");
        }
        assert!(Denied.message().contains("address bar"));
        assert!(Insecure.message().contains("https"));
        assert!(all[5].message().contains("(éé"));
        assert!(!all[6].message().contains('('));
    }
}
