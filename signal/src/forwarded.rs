//! Who a client is when it comes through a proxy: behind nginx every TCP connection is from
//! nginx, so the per-IP limits would count every browser as one. Only when the TCP peer is a
//! trusted proxy (`--trusted-proxy CIDR`) is `X-Forwarded-For` read, and then only its
//! right-most address that is not itself a trusted proxy: every proxy appends the address it
//! was connected from, so the entries to the right of the client's are the proxies' own, and
//! the ones to its left are whatever the client claimed (anyone can send the header).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// A block of addresses, `10.0.0.0/8` or `fd00::/8`; a bare address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the block. An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, as a
    /// dual-stack listener reports IPv4 peers) counts as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u128::from(u32::from(ip)), self.prefix, 32) == u128::from(u32::from(net))
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(ip), self.prefix, 128) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// `value` with only its first `prefix` of `bits` bits kept.
fn mask(value: u128, prefix: u8, bits: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let host_bits = u32::from(bits - prefix);
    (value >> host_bits) << host_bits
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| {
            format!("`{text}`: not an address or a block like 10.0.0.0/8 or fd00::/8")
        })?;
        let address = address.to_canonical();
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {bits}"))?,
        };
        let network = match address {
            IpAddr::V4(v4) => {
                let kept = mask(u128::from(u32::from(v4)), prefix, 32);
                IpAddr::from((kept as u32).to_be_bytes())
            }
            IpAddr::V6(v6) => IpAddr::from(mask(u128::from(v6), prefix, 128).to_be_bytes()),
        };
        if network != address {
            return Err(format!(
                "`{text}` has bits set beyond its prefix; did you mean {network}/{prefix}?"
            ));
        }
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Whether `ip` is in one of the `trusted` blocks.
pub fn is_trusted(trusted: &[Cidr], ip: IpAddr) -> bool {
    trusted.iter().any(|block| block.contains(ip))
}

/// The client's address for a request that reached us from `peer`: `peer` itself unless it
/// is a trusted proxy; then the right-most `X-Forwarded-For` address that is not a trusted
/// proxy (several headers count as one list, in order). If every address is trusted, or one
/// cannot be read before an untrusted one is found, the last trusted address read stands: it
/// is the farthest hop known to be honest.
pub fn client_ip(trusted: &[Cidr], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if !is_trusted(trusted, peer) {
        return peer;
    }
    let mut client = peer;
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
    for entry in entries {
        let Some(ip) = parse_entry(entry) else {
            return client;
        };
        client = ip;
        if !is_trusted(trusted, ip) {
            return ip;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`), as some proxies write it.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(block.contains(ip("::ffff:10.1.0.9")), "IPv4 as IPv6");
        assert!(!block.contains(ip("2001:db8::1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(one.to_string(), "127.0.0.1/32");
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12:3456::1")) && !v6.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in [
            "10.1.0.1/16",
            "10.0.0.0/33",
            "fd00::/129",
            "nonsense",
            "10.0.0.0/x",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let trusted = cidrs(&["127.0.0.1", "10.0.0.0/8"]);
        let forged = headers(&["203.0.113.7"]);
        assert_eq!(
            client_ip(&trusted, ip("198.51.100.2"), &forged),
            ip("198.51.100.2"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_ip(&trusted, ip("127.0.0.1"), &forged),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_ip(&trusted, ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1"),
            "no header: the proxy itself"
        );
    }

    #[test]
    fn the_right_most_untrusted_address_wins_over_what_the_client_claims() {
        let trusted = cidrs(&["127.0.0.1", "10.0.0.0/8"]);
        // The client claimed 192.0.2.1; our proxies appended the real one and their own.
        let chain = headers(&["192.0.2.1, 203.0.113.7, 10.0.0.5"]);
        assert_eq!(
            client_ip(&trusted, ip("127.0.0.1"), &chain),
            ip("203.0.113.7")
        );
        // Several headers are one list, in order.
        let split = headers(&["192.0.2.1", "203.0.113.7", "10.0.0.5"]);
        assert_eq!(
            client_ip(&trusted, ip("127.0.0.1"), &split),
            ip("203.0.113.7")
        );
        // Ports and brackets as some proxies write them.
        let ported = headers(&["[2001:db8::9]:4711, 10.0.0.5:80"]);
        assert_eq!(
            client_ip(&trusted, ip("127.0.0.1"), &ported),
            ip("2001:db8::9")
        );
        // Garbage where the client's address should be: the last honest hop stands.
        let garbage = headers(&["203.0.113.7, unknown, 10.0.0.5"]);
        assert_eq!(
            client_ip(&trusted, ip("127.0.0.1"), &garbage),
            ip("10.0.0.5")
        );
        // All trusted: the farthest one.
        let internal = headers(&["10.9.9.9, 10.0.0.5"]);
        assert_eq!(
            client_ip(&trusted, ip("127.0.0.1"), &internal),
            ip("10.9.9.9")
        );
    }
}
