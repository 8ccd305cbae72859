//! Who is asking: the client's address, from the socket, or from `X-Forwarded-For` when the
//! socket's peer is a proxy that `server.trusted_proxies` names. Anyone can send the header, so
//! it is believed only as far back as the chain of trusted proxies reaches.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::Deserialize;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

/// An address or a CIDR range (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    base: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an IP address or a CIDR range such as 10.0.0.0/8")]
pub struct BadIpRange(String);

impl FromStr for IpRange {
    type Err = BadIpRange;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadIpRange(s.to_owned());
        let (address, prefix) = match s.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (s.trim(), None),
        };
        let base = IpAddr::from_str(address).map_err(|_| bad())?.to_canonical();
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpRange { base, prefix })
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip.to_canonical()) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => same_prefix(&base.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(base), IpAddr::V6(ip)) => same_prefix(&base.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[whole] & mask == b[whole] & mask
}

/// The client's address. Without trusted proxies it is `peer`. When `peer` is trusted, the
/// `X-Forwarded-For` hops are read from the right (the nearest proxy's view) and the first one
/// that is not itself a trusted proxy is the client; an unreadable hop stops the walk there.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    for hop in hops.into_iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

/// A hop as proxies write it: `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    IpAddr::from_str(hop)
        .ok()
        .or_else(|| SocketAddr::from_str(hop).ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The requesting client's address, as [`client_ip`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Served without connection info (a router called directly): one shared "unknown" bucket.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| peer.ip());
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.settings.server.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn ranges(list: &[&str]) -> Vec<IpRange> {
        list.iter().map(|r| r.parse().expect("a range")).collect()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        headers
    }

    #[test]
    fn ranges_parse_and_match() {
        let r: IpRange = "10.0.0.0/8".parse().expect("range");
        assert!(r.contains(ip("10.200.1.2")));
        assert!(!r.contains(ip("11.0.0.1")));
        assert!(
            r.contains(ip("::ffff:10.1.1.1")),
            "IPv4-mapped addresses are IPv4"
        );
        let r: IpRange = "172.16.0.0/12".parse().expect("range");
        assert!(r.contains(ip("172.31.255.255")));
        assert!(!r.contains(ip("172.32.0.0")));
        let r: IpRange = "fd00::/8".parse().expect("range");
        assert!(r.contains(ip("fd12::1")));
        assert!(!r.contains(ip("fe80::1")));
        let r: IpRange = "127.0.0.1".parse().expect("single address");
        assert!(r.contains(ip("127.0.0.1")) && !r.contains(ip("127.0.0.2")));
        assert!(
            "0.0.0.0/0"
                .parse::<IpRange>()
                .expect("all")
                .contains(ip("8.8.8.8"))
        );
        for bad in ["", "10.0.0.0/33", "::/129", "localhost", "10.0.0/8", "10.0.0.0/x"] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn the_header_counts_only_behind_a_trusted_proxy() {
        let trusted = ranges(&["10.0.0.0/8"]);
        let spoofed = forwarded(&["203.0.113.9"]);
        // No trusted proxies: the header is ignored, whoever sends it.
        assert_eq!(client_ip(ip("198.51.100.7"), &spoofed, &[]), ip("198.51.100.7"));
        // A peer that is not a trusted proxy cannot name another client.
        assert_eq!(
            client_ip(ip("198.51.100.7"), &spoofed, &trusted),
            ip("198.51.100.7")
        );
        // From a trusted proxy, the nearest untrusted hop is the client.
        assert_eq!(client_ip(ip("10.0.0.2"), &spoofed, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_hop() {
        let trusted = ranges(&["10.0.0.0/8", "fd00::/8"]);
        // The client forged a first hop; the proxies appended the real one and each other.
        let chain = forwarded(&["1.1.1.1, 203.0.113.9", "10.0.0.5"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &chain, &trusted), ip("203.0.113.9"));
        // Ports and brackets as some proxies write them.
        let ported = forwarded(&["[2001:db8::1]:4711, 10.0.0.5:80"]);
        assert_eq!(client_ip(ip("fd00::2"), &ported, &trusted), ip("2001:db8::1"));
        // Garbage stops the walk at the last hop we could trust.
        let garbage = forwarded(&["203.0.113.9, not-an-ip, 10.0.0.5"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &garbage, &trusted), ip("10.0.0.5"));
        // Every hop trusted: the leftmost is the best we know.
        let internal = forwarded(&["10.0.0.9, 10.0.0.5"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &internal, &trusted), ip("10.0.0.9"));
        // No header at all: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
    }
}
