//! Whether a video link that arrived from another member may be loaded here.
//!
//! Anyone with the room link can share a video, and every viewer's browser then fetches it. A
//! link into a private network (`http://192.168.1.1/…`, `localhost`, a `.local` printer) would
//! make every viewer's browser probe their own home network, and the failures they report back
//! would tell the sender what is there. So every viewer checks every link on arrival, whoever
//! sent it: https, or this page's own origin; never a loopback or private-network host unless
//! the page itself is served from one of the same kind (a party on a LAN may play from the LAN;
//! a page on this computer from this computer, not from its network).
//!
//! The scheme and host given here are the browser's normalised ones (`URL.protocol` without
//! its colon, `URL.hostname`): `http://2130706433/` or `http://0x7f.1/` arrive as `127.0.0.1`,
//! IPv6 addresses arrive bracketed, lower-case and compressed (`[::ffff:c0a8:101]`), so the
//! small readers below need only that form. (std's address parsers would cost about 3 KB of the
//! download for forms that never arrive.)

/// Where a link points, or where the page is served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
}

/// Why a link was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not https, and not this page's own origin.
    Scheme(String),
    /// A private, loopback or link-local host, from a page that is not on one.
    PrivateHost(String),
}

impl Refusal {
    /// What the viewer reads on their stage (and what they report to the others, instead of
    /// whatever their browser would have said about the host).
    pub fn message(&self) -> String {
        match self {
            Refusal::Scheme(scheme) => format!(
                "This video was not loaded: only https:// links, or links to this site, are \
                 played for the room (this one is {scheme}:)."
            ),
            Refusal::PrivateHost(host) => format!(
                "This video was not loaded: its link points into a private network ({host}), \
                 which a room may not make everyone's browser visit."
            ),
        }
    }
}

/// Whether `link`, shared in a room, may be loaded by a page served from `page`.
pub fn check(link: Origin, page: Origin) -> Result<(), Refusal> {
    let same_origin =
        link.scheme.eq_ignore_ascii_case(page.scheme) && link.host.eq_ignore_ascii_case(page.host);
    if same_origin {
        return Ok(());
    }
    if !link.scheme.eq_ignore_ascii_case("https") {
        return Err(Refusal::Scheme(link.scheme.to_ascii_lowercase()));
    }
    let reach = host_reach(link.host);
    if reach != Reach::Public && reach != host_reach(page.host) {
        return Err(Refusal::PrivateHost(link.host.to_ascii_lowercase()));
    }
    Ok(())
}

/// How far a host is from the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// This computer.
    Loopback,
    /// The viewer's own network: private, link-local and carrier-grade NAT addresses, and
    /// names only a local network resolves.
    Local,
    Public,
}

/// Where `host` (a URL's normalised hostname) is: loopback names and addresses, local ones
/// (IPv4 and IPv6, bracketed or not; `.local`, `.internal`, a name without a dot), or public.
pub fn host_reach(host: &str) -> Reach {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(octets) = dotted_quad(&host) {
        return v4_reach(octets);
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6_reach(v6);
    }
    const LOCAL_SUFFIXES: &[&str] = &[".local", ".internal", ".lan", ".home.arpa"];
    if host == "localhost" || host.ends_with(".localhost") {
        Reach::Loopback
    } else if host.is_empty()
        || !host.contains('.')
        || LOCAL_SUFFIXES.iter().any(|suffix| host.ends_with(suffix))
    {
        Reach::Local
    } else {
        Reach::Public
    }
}

fn v4_reach([a, b, c, d]: [u8; 4]) -> Reach {
    match (a, b) {
        (127, _) | (0, _) => Reach::Loopback,
        // Private (RFC 1918), link-local, carrier-grade NAT (someone else's network, never a
        // video host), and the broadcast address.
        (10, _) | (192, 168) | (169, 254) => Reach::Local,
        (172, 16..=31) | (100, 64..=127) => Reach::Local,
        (255, 255) if c == 255 && d == 255 => Reach::Local,
        _ => Reach::Public,
    }
}

/// An IPv6 address as browsers write it (no brackets): loopback and unspecified, unique local
/// (fc00::/7) and link-local (fe80::/10), IPv4-mapped by its IPv4 address.
fn v6_reach(address: &str) -> Reach {
    if address == "::1" || address == "::" {
        return Reach::Loopback;
    }
    if let Some(mapped) = address.strip_prefix("::ffff:") {
        let octets = dotted_quad(mapped).or_else(|| {
            let (high, low) = mapped.split_once(':')?;
            let [a, b] = u16::from_str_radix(high, 16).ok()?.to_be_bytes();
            let [c, d] = u16::from_str_radix(low, 16).ok()?.to_be_bytes();
            Some([a, b, c, d])
        });
        return octets.map_or(Reach::Public, v4_reach);
    }
    let first = address.split(':').next().unwrap_or_default();
    match u16::from_str_radix(first, 16) {
        Ok(group) if group & 0xfe00 == 0xfc00 || group & 0xffc0 == 0xfe80 => Reach::Local,
        _ => Reach::Public,
    }
}

/// `a.b.c.d` with four decimal octets, as browsers write IPv4 hosts.
fn dotted_quad(host: &str) -> Option<[u8; 4]> {
    let mut parts = host.split('.');
    let mut octets = [0u8; 4];
    for octet in &mut octets {
        *octet = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(octets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin<'a>(scheme: &'a str, host: &'a str) -> Origin<'a> {
        Origin { scheme, host }
    }

    const PUBLIC_PAGE: Origin<'static> = Origin {
        scheme: "https",
        host: "insieme.example",
    };

    #[test]
    fn https_links_to_public_hosts_and_the_pages_own_origin_load() {
        for host in ["cdn.example.org", "93.184.216.34", "[2606:4700::1111]"] {
            assert_eq!(check(origin("https", host), PUBLIC_PAGE), Ok(()), "{host}");
        }
        assert_eq!(check(PUBLIC_PAGE, PUBLIC_PAGE), Ok(()));
        // A LAN party served over plain http plays its own files.
        let lan = origin("http", "192.168.1.20");
        assert_eq!(check(lan, lan), Ok(()));
    }

    #[test]
    fn links_into_private_networks_are_refused_from_a_public_page() {
        let private = [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "[::1]",
            "[fd00::1]",
            "[fe80::1]",
            "[::ffff:192.168.1.1]",
            "[::ffff:c0a8:101]",
            "255.255.255.255",
            "localhost",
            "printer.local",
            "app.localhost",
            "router",
            "nas.home.arpa",
            "LOCALHOST.",
        ];
        for host in private {
            assert_eq!(
                check(origin("https", host), PUBLIC_PAGE),
                Err(Refusal::PrivateHost(host.to_ascii_lowercase())),
                "{host}"
            );
        }
    }

    #[test]
    fn plain_http_is_refused_unless_same_origin() {
        assert_eq!(
            check(origin("http", "cdn.example.org"), PUBLIC_PAGE),
            Err(Refusal::Scheme("http".into()))
        );
        for scheme in ["file", "data", "blob", "javascript", "FTP"] {
            let refused = check(origin(scheme, "cdn.example.org"), PUBLIC_PAGE);
            assert_eq!(refused, Err(Refusal::Scheme(scheme.to_ascii_lowercase())));
        }
    }

    #[test]
    fn a_page_may_load_from_hosts_as_near_as_itself_and_no_nearer() {
        let lan_page = origin("https", "192.168.1.20");
        assert_eq!(check(origin("https", "192.168.1.30"), lan_page), Ok(()));
        assert_eq!(
            check(origin("https", "127.0.0.1"), lan_page),
            Err(Refusal::PrivateHost("127.0.0.1".into()))
        );
        let dev_page = origin("http", "127.0.0.1");
        assert_eq!(check(origin("https", "localhost"), dev_page), Ok(()));
        // A page on this computer does not make its viewers probe their networks.
        assert_eq!(
            check(origin("https", "10.213.0.77"), dev_page),
            Err(Refusal::PrivateHost("10.213.0.77".into()))
        );
    }

    #[test]
    fn refusals_say_what_happened_without_the_browsers_words() {
        let private = Refusal::PrivateHost("192.168.1.1".into()).message();
        assert!(private.contains("192.168.1.1") && private.contains("not loaded"));
        assert!(Refusal::Scheme("http".into())
            .message()
            .contains("https://"));
    }
}
