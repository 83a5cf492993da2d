//! A video link someone pasted: checked before anyone's player is asked to load it, so a typo
//! gets a clear message here instead of an error on every screen.

use std::fmt;

/// Sites whose links are pages with a player, not media files: the `<video>` element cannot play
/// them, and saying so beats a vague load error.
const PAGE_HOSTS: &[&str] = &[
    "youtube.com",
    "youtu.be",
    "vimeo.com",
    "dailymotion.com",
    "twitch.tv",
];

/// A link that can be shared: `http(s)://host/...`, or relative to the page (same server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoUrl(String);

/// Why a link was refused, worded for the person who pasted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoUrlProblem {
    Empty,
    HasSpaces,
    /// A scheme other than http(s): `file:`, `blob:`, `data:` only work on one machine.
    Scheme(String),
    NoHost,
    /// A page on a video site, not a file.
    Page(String),
}

impl fmt::Display for VideoUrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VideoUrlProblem::Empty => {
                write!(f, "Paste the link to a video file (mp4, webm or ogg).")
            }
            VideoUrlProblem::HasSpaces => write!(
                f,
                "A link cannot contain spaces: check that it was copied whole."
            ),
            VideoUrlProblem::Scheme(scheme) => write!(
                f,
                "Only http:// and https:// links can be shared; a {scheme}: link works on one computer only."
            ),
            VideoUrlProblem::NoHost => write!(f, "That link has no server name after the //."),
            VideoUrlProblem::Page(host) => write!(
                f,
                "That is a page on {host}, not a video file: paste a direct link to an mp4, webm or ogg file."
            ),
        }
    }
}

impl VideoUrl {
    pub fn parse(input: &str) -> Result<VideoUrl, VideoUrlProblem> {
        let url = input.trim();
        if url.is_empty() {
            return Err(VideoUrlProblem::Empty);
        }
        if url.chars().any(char::is_whitespace) {
            return Err(VideoUrlProblem::HasSpaces);
        }
        let after_scheme = match scheme_of(url) {
            None => return Ok(VideoUrl(url.to_string())),
            Some(scheme) if scheme.eq_ignore_ascii_case("http") => &url[5..],
            Some(scheme) if scheme.eq_ignore_ascii_case("https") => &url[6..],
            Some(scheme) => return Err(VideoUrlProblem::Scheme(scheme.to_ascii_lowercase())),
        };
        let host = after_scheme
            .strip_prefix("//")
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .unwrap_or("");
        // Credentials and port are not part of the name.
        let host = host.rsplit('@').next().unwrap_or("");
        let name = host.split(':').next().unwrap_or("").to_ascii_lowercase();
        if name.is_empty() {
            return Err(VideoUrlProblem::NoHost);
        }
        if let Some(site) = PAGE_HOSTS
            .iter()
            .find(|site| name == **site || name.ends_with(&format!(".{site}")))
        {
            return Err(VideoUrlProblem::Page(site.to_string()));
        }
        Ok(VideoUrl(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The scheme of an absolute URL (`http` in `http://…`); `None` for a relative one.
fn scheme_of(url: &str) -> Option<&str> {
    let end = url.find(':')?;
    let scheme = &url[..end];
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}
