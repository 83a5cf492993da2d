//! Home networks behind NAT routers, built from network namespaces, for the connectivity tests.
//!
//! The namespace the suite runs in (xtask's private one) plays the internet: it holds the
//! servers (app, endpoint, coturn) on one address and forwards between the routers. Each home
//! is two namespaces: a router, whose `wan` faces the internet and which masquerades the home
//! (nftables), and the home, whose only route leads through it. Nothing here can leave the
//! machine: the internet namespace has no link outside.
//!
//! ```text
//!   home a ── lan ── router a ── wan ─┐
//!                                     internet (servers on 10.K.0.1, forwarding)
//!   home b ── lan ── router b ── wan ─┘
//! ```
//!
//! The test reaches a home's chromedriver over a separate management link that carries no
//! default route: Chromium gathers host candidates only on the default route's interface, so
//! the management link never becomes a path between peers (and the internet does not forward
//! to it).

use anyhow::{bail, Context, Result};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU8, Ordering};

/// What a home's router lets through, and how it maps ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nat {
    /// Endpoint-independent mapping (Linux keeps the source port): STUN finds a mapping that
    /// the other side can reach once both have sent, as most home routers allow.
    Ordinary,
    /// A new random port for every destination (`masquerade random,fully-random`): the port STUN
    /// saw is not the one a peer would need, so only a relay works.
    Symmetric,
    /// Symmetric, and UDP may not leave at all (a strict office or hotel network): only TURN over
    /// TCP works.
    SymmetricUdpBlocked,
}

/// Each world takes the next index; it picks the world's addresses and names, so tests can
/// build worlds side by side.
static NEXT_WORLD: AtomicU8 = AtomicU8::new(0);

/// The internet side of one test's world: its server address and the homes attached to it.
pub struct Internet {
    index: u8,
    /// Where the servers of this world listen.
    pub server_ip: Ipv4Addr,
    homes: Vec<Home>,
}

/// One home: the namespace its browsers run in, behind its router.
#[derive(Clone, Debug)]
pub struct Home {
    pub netns: String,
    router_netns: String,
    /// The home's end of the management link (where its chromedrivers listen).
    pub management_ip: Ipv4Addr,
    /// The internet's end of it (the only client those chromedrivers let in).
    pub test_ip: Ipv4Addr,
}

/// Whether this process may build worlds: root, inside xtask's private network (whose veth
/// `insieme0` marks it), never in the machine's own network, whose forwarding and addresses a
/// world changes.
pub fn available() -> bool {
    cfg!(target_os = "linux")
        // Not /sys/class/net: sysfs shows the namespace it was mounted in, not ours.
        && std::process::Command::new("ip")
            .args(["link", "show", "insieme0"])
            .output()
            .is_ok_and(|out| out.status.success())
        && std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

impl Internet {
    /// Takes this namespace as the internet of a new world: forwarding on, and the world's
    /// server address on `lo`.
    pub fn new() -> Result<Self> {
        if !available() {
            bail!(
                "the NAT tests build network namespaces: run them as root through \
                 `cargo xtask test`, which gives them a private network"
            );
        }
        let index = NEXT_WORLD.fetch_add(1, Ordering::SeqCst);
        anyhow::ensure!(index < 100, "too many worlds in one run");
        let server_ip = Ipv4Addr::new(10, 120 + index, 0, 1);
        sh(&format!(
            "sysctl -qw net.ipv4.ip_forward=1; ip addr add {server_ip}/32 dev lo"
        ))?;
        Ok(Self {
            index,
            server_ip,
            homes: Vec::new(),
        })
    }

    /// Builds home `slot` (0 or 1) behind a router of this kind.
    pub fn add_home(&mut self, slot: u8, nat: Nat) -> Result<Home> {
        anyhow::ensure!(slot < 2, "a world has two homes");
        let (k, n) = (120 + self.index, slot + 1);
        // Unique across processes: named namespaces live in /run/netns, shared by the machine.
        let tag = format!("ins{}w{}h{n}", std::process::id(), self.index);
        let (home, router) = (tag.clone(), format!("{tag}r"));
        // Interface names in this namespace (at most 15 bytes), unique per world and home.
        let (wan_here, mgmt_here) = (format!("w{k}h{n}"), format!("m{k}h{n}"));
        let wan_ip = format!("10.{k}.{n}.2");
        let wan_gateway = format!("10.{k}.{n}.1");
        let lan_router = format!("10.{k}.1{n}.1");
        let lan_home = format!("10.{k}.1{n}.2");
        let management_ip = Ipv4Addr::new(192, 168, k, 4 * n + 2);
        let test_ip = Ipv4Addr::new(192, 168, k, 4 * n + 1);
        let masquerade = match nat {
            Nat::Ordinary => "masquerade",
            Nat::Symmetric | Nat::SymmetricUdpBlocked => "masquerade random,fully-random",
        };
        let block_udp = match nat {
            Nat::SymmetricUdpBlocked => r#"oifname "wan" meta l4proto udp drop"#,
            _ => "",
        };
        // Inbound packets that start nothing are dropped, as home routers do; without the input
        // rule, an early check from the peer leaves a conntrack entry on the router's own
        // address that makes the next mapping pick another port (an ordinary NAT turning
        // symmetric).
        let rules = format!(
            r#"table ip nat {{
                 chain postrouting {{ type nat hook postrouting priority srcnat; oifname "wan" {masquerade}; }}
               }}
               table inet filter {{
                 chain input {{ type filter hook input priority filter; iifname "wan" ct state new drop; }}
                 chain forward {{ type filter hook forward priority filter;
                   iifname "wan" ct state new drop;
                   {block_udp}
                 }}
               }}"#
        );
        sh(&format!(
            "set -e
             ip netns add {router}; ip netns add {home}
             ip -n {router} link set lo up; ip -n {home} link set lo up
             ip link add {wan_here} type veth peer name wan netns {router}
             ip addr add {wan_gateway}/24 dev {wan_here}; ip link set {wan_here} up
             ip -n {router} addr add {wan_ip}/24 dev wan; ip -n {router} link set wan up
             ip -n {router} route add default via {wan_gateway}
             ip -n {router} link add lan type veth peer name lan netns {home}
             ip -n {router} addr add {lan_router}/24 dev lan; ip -n {router} link set lan up
             ip -n {home} addr add {lan_home}/24 dev lan; ip -n {home} link set lan up
             ip -n {home} route add default via {lan_router}
             ip netns exec {router} sysctl -qw net.ipv4.ip_forward=1
             ip link add {mgmt_here} type veth peer name mgmt netns {home}
             ip addr add {test_ip}/30 dev {mgmt_here}; ip link set {mgmt_here} up
             ip -n {home} addr add {management_ip}/30 dev mgmt; ip -n {home} link set mgmt up
             ip netns exec {router} nft -f - <<'RULES'
{rules}
RULES"
        ))
        .with_context(|| format!("building home {n} behind a {nat:?} router"))?;
        // Never forward to or from a management link: it is the test's, not the network's.
        sh(&format!(
            "nft add table inet insieme_mgmt 2>/dev/null || true
             nft 'add chain inet insieme_mgmt forward {{ type filter hook forward priority filter; }}'
             nft add rule inet insieme_mgmt forward iifname {mgmt_here} drop
             nft add rule inet insieme_mgmt forward oifname {mgmt_here} drop"
        ))?;
        let built = Home {
            netns: home,
            router_netns: router,
            management_ip,
            test_ip,
        };
        self.homes.push(built.clone());
        Ok(built)
    }
}

impl Home {
    /// Where a browser of this home runs, for [`super::Browser::launch_at`]. The app is served
    /// over plain http from `origin`, which Chromium must treat as secure for WebCrypto (a
    /// real deployment serves https).
    pub fn place(&self, origin: &str) -> super::browser::Place {
        super::browser::Place {
            netns: Some(self.netns.clone()),
            driver_host: Some((IpAddr::V4(self.management_ip), IpAddr::V4(self.test_ip))),
            extra_flags: vec![format!(
                "--unsafely-treat-insecure-origin-as-secure={origin}"
            )],
            ..Default::default()
        }
    }
}

impl Drop for Internet {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veths with one end in it, so their ends here go too.
        for home in &self.homes {
            let _ = sh(&format!(
                "ip netns pids {0} | xargs -r kill -9; ip netns del {0}; ip netns del {1}",
                home.netns, home.router_netns
            ));
        }
        let _ = sh(&format!("ip addr del {}/32 dev lo", self.server_ip));
    }
}

/// Runs a shell script, failing with its output.
fn sh(script: &str) -> Result<()> {
    let output = std::process::Command::new("sh")
        .args(["-c", script])
        .output()
        .context("running sh")?;
    if !output.status.success() {
        bail!(
            "{script}\nfailed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
