//! Address prefixes for the configured SIP trunks (`"10.0.0.2"`, `"10.1.0.0/16"`,
//! `"2001:db8::/32"`): the carrier's addresses that deliver citizens' calls and so must never
//! be blocked or limited like an unknown source. Plain data; parsing only.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One address or CIDR prefix. IPv4-mapped IPv6 sources match the IPv4 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

/// Why a prefix does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Not an IP address.
    #[error("{0:?} is not an IP address or CIDR prefix (e.g. \"10.0.0.2\" or \"10.0.0.0/8\")")]
    Address(String),
    /// The length after `/` is too long for the family.
    #[error("{0:?}: prefix length must be at most 32 for IPv4, 128 for IPv6")]
    Length(String),
}

impl IpPrefix {
    /// Whether `ip` lies inside this prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(p) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(p) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Whether any of `prefixes` contains `ip`.
pub fn any_contains(prefixes: &[IpPrefix], ip: IpAddr) -> bool {
    prefixes.iter().any(|p| p.contains(ip))
}

impl FromStr for IpPrefix {
    type Err = PrefixError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| PrefixError::Address(s.to_owned()))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| PrefixError::Length(s.to_owned()))?,
        };
        Ok(IpPrefix { addr, len })
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl<'de> serde::Deserialize<'de> for IpPrefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpPrefix {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn addresses_and_prefixes_match_what_they_cover() {
        assert!(p("127.0.0.2").contains(ip("127.0.0.2")));
        assert!(!p("127.0.0.2").contains(ip("127.0.0.1")));
        assert!(p("10.0.0.0/8").contains(ip("10.200.1.1")));
        assert!(!p("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(p("0.0.0.0/0").contains(ip("192.0.2.1")));
        assert!(
            p("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")),
            "mapped IPv6"
        );
        assert!(p("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!p("2001:db8::/32").contains(ip("10.0.0.1")));
        assert_eq!(p("10.0.0.0/8").to_string(), "10.0.0.0/8");
    }

    #[test]
    fn bad_prefixes_are_refused_with_a_hint() {
        assert!(matches!(
            "carrier".parse::<IpPrefix>(),
            Err(PrefixError::Address(_))
        ));
        assert!(matches!(
            "10.0.0.0/33".parse::<IpPrefix>(),
            Err(PrefixError::Length(_))
        ));
        assert!(matches!(
            "10.0.0.0/x".parse::<IpPrefix>(),
            Err(PrefixError::Length(_))
        ));
    }
}
