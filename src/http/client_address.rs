//! The client address of a request (login throttling, logs): the TCP peer, unless the peer is one
//! of `TRUSTED_PROXIES`; then `x-forwarded-for` is read from the right (each proxy appends the
//! address it received the request from) and the first address that is not a trusted proxy is
//! the client. Addresses further left were written by the client and are never believed.
//!
//! An entry that is not an IP address (with or without a port) stops the walk: the client is
//! then the trusted hop that forwarded it. When every hop is trusted, the left-most one is the
//! client. Without `TRUSTED_PROXIES` the header is ignored.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client address of a request from `peer` with `headers`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    from_forwarded_for(peer, &values.join(","), trusted)
}

/// The client behind the trusted `peer`, from the comma-separated `forwarded_for` list.
pub fn from_forwarded_for(peer: IpAddr, forwarded_for: &str, trusted: &[IpNet]) -> IpAddr {
    let mut client = peer;
    for entry in forwarded_for.rsplit(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some(hop) = parse_hop(entry) else {
            return client;
        };
        client = hop;
        if !is_trusted(hop, trusted) {
            return hop;
        }
    }
    client
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&ip))
}

/// `192.0.2.1`, `2001:db8::1`, `192.0.2.1:443` or `[2001:db8::1]:443`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let forwarded = headers(&["198.51.100.9"]);
        assert_eq!(client_address(ip("10.0.0.2"), &forwarded, &[]), ip("10.0.0.2"));
        let trusted = nets(&["10.0.0.1/32"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded, &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_address_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let forwarded = headers(&["1.1.1.1, 198.51.100.9", "10.1.2.3"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded, &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ports_are_dropped_and_garbage_stops_the_walk_at_the_hop_that_forwarded_it() {
        let trusted = nets(&["10.0.0.0/8", "2001:db8::/32"]);
        let peer = ip("10.0.0.2");
        assert_eq!(
            from_forwarded_for(peer, "198.51.100.9:5000", &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(
            from_forwarded_for(peer, "[2001:db9::1]:443", &trusted),
            ip("2001:db9::1")
        );
        assert_eq!(
            from_forwarded_for(peer, "1.1.1.1, unknown, 10.9.9.9", &trusted),
            ip("10.9.9.9")
        );
        assert_eq!(
            from_forwarded_for(peer, "10.3.3.3, 10.9.9.9", &trusted),
            ip("10.3.3.3")
        );
        assert_eq!(
            from_forwarded_for(ip("::ffff:10.0.0.2"), "192.0.2.1", &trusted),
            ip("192.0.2.1")
        );
    }

    fn v4() -> impl Strategy<Value = IpAddr> {
        any::<[u8; 4]>().prop_map(IpAddr::from)
    }

    proptest! {
        #[test]
        fn the_parser_never_panics_and_answers_the_peer_or_a_listed_address(text in ".{0,200}") {
            let peer = ip("10.0.0.2");
            let trusted = nets(&["10.0.0.0/8"]);
            let client = from_forwarded_for(peer, &text, &trusted);
            let listed = text.split(',').filter_map(|e| parse_hop(e.trim())).any(|a| a == client);
            prop_assert!(client == peer || listed);
        }

        #[test]
        fn what_the_client_writes_in_front_never_changes_the_answer(
            spoofed in proptest::collection::vec(v4(), 0..5),
            client in v4().prop_filter("not a proxy", |a| !matches!(a, IpAddr::V4(v) if v.octets()[0] == 10)),
            proxies in proptest::collection::vec(1u8..255, 0..4),
        ) {
            let trusted = nets(&["10.0.0.0/8"]);
            let mut hops: Vec<String> = spoofed.iter().map(ToString::to_string).collect();
            hops.push(client.to_string());
            hops.extend(proxies.iter().map(|p| format!("10.0.0.{p}")));
            let answer = from_forwarded_for(ip("10.0.0.1"), &hops.join(", "), &trusted);
            prop_assert_eq!(answer, client);
        }
    }
}
