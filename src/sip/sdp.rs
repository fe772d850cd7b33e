//! SDP (RFC 4566) session descriptions and the audio offer/answer of RFC 3264, as far as
//! the engine needs them: G.711 μ-law (PCMU, pt 0), A-law (PCMA, pt 8) and
//! telephone-event (RFC 4733) on one audio stream. Owns SDP text ↔ types and the codec
//! choice; it must not touch sockets or RTP.
//!
//! Unknown lines and attributes are kept so a description survives a parse/encode round
//! trip; malformed ones are typed errors, never panics.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// What is wrong with a description, or with an offer/answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not UTF-8.
    #[error("SDP is not UTF-8")]
    NotUtf8,
    /// A line is malformed.
    #[error("SDP line {line}: {detail}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        detail: &'static str,
    },
    /// A mandatory line (`v=`, `o=`, `s=`) is missing.
    #[error("SDP has no {0}= line")]
    Missing(char),
    /// No usable audio stream, or none with PCMU/PCMA (the engine answers 488).
    #[error("no common codec")]
    NoCommonCodec,
    /// The audio stream has no connection address.
    #[error("no connection address for the audio stream")]
    NoConnection,
}

/// Stream direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly` (the peer puts us on hold).
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    fn parse(s: &str) -> Option<Direction> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The answer's direction for an offered one (RFC 3264 §6.1).
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }
}

/// `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Username (`-` when none).
    pub username: String,
    /// Session id.
    pub session_id: u64,
    /// Session version; increment on every change (re-INVITE).
    pub session_version: u64,
    /// Unicast address of the originator.
    pub address: IpAddr,
}

/// `a=rtpmap:<pt> <name>/<rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub pt: u8,
    /// Encoding name as written (`PCMU`, `telephone-event`).
    pub encoding: String,
    /// Clock rate.
    pub clock_rate: u32,
    /// Channels, if written.
    pub channels: Option<u8>,
}

/// Any other attribute, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Name (before `:`).
    pub name: String,
    /// Value (after `:`), if any.
    pub value: Option<String>,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, …
    pub kind: String,
    /// Port; 0 means the stream is rejected or disabled.
    pub port: u16,
    /// Transport protocol (`RTP/AVP`).
    pub proto: String,
    /// Format list (payload type numbers for RTP), in preference order.
    pub formats: Vec<String>,
    /// Media-level `c=`.
    pub connection: Option<IpAddr>,
    /// `a=rtpmap` lines.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:<pt> <params>` lines.
    pub fmtps: Vec<(u8, String)>,
    /// `a=ptime`.
    pub ptime: Option<u32>,
    /// Direction attribute, if written.
    pub direction: Option<Direction>,
    /// Other attributes.
    pub attributes: Vec<Attribute>,
    /// Other lines (`b=`, `i=`, `k=`), as (letter, value).
    pub other: Vec<(char, String)>,
}

/// The largest RTP payload type (a 7-bit field).
const MAX_PAYLOAD_TYPE: u8 = 127;

impl Media {
    /// The encoding name and clock rate for a payload type: from rtpmap, else the static
    /// table for 0 and 8.
    pub fn encoding(&self, pt: u8) -> Option<(&str, u32)> {
        if let Some(m) = self.rtpmaps.iter().find(|m| m.pt == pt) {
            return Some((&m.encoding, m.clock_rate));
        }
        match pt {
            0 => Some(("PCMU", 8000)),
            8 => Some(("PCMA", 8000)),
            _ => None,
        }
    }

    /// The formats that can be RTP payload types. The header's field has 7 bits (RFC 3550
    /// §5.1): a larger number would go out masked as another type and never match what the
    /// phone sends, so it is never chosen (a check of the `sdp` fuzz target).
    fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse().ok())
            .filter(|pt| *pt <= MAX_PAYLOAD_TYPE)
    }
}

/// A session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=`.
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<IpAddr>,
    /// `t=` start and stop (0 0 for a permanent session).
    pub timing: (u64, u64),
    /// Session-level direction.
    pub direction: Option<Direction>,
    /// Other session-level attributes.
    pub attributes: Vec<Attribute>,
    /// Other session-level lines.
    pub other: Vec<(char, String)>,
    /// Media sections in order.
    pub media: Vec<Media>,
}

fn line_err(line: usize, detail: &'static str) -> SdpError {
    SdpError::Line { line, detail }
}

fn parse_conn(v: &str, n: usize) -> Result<IpAddr, SdpError> {
    let mut it = v.split(' ');
    let (Some("IN"), Some(_), Some(addr)) = (it.next(), it.next(), it.next()) else {
        return Err(line_err(n, "c= must be IN <addrtype> <address>"));
    };
    // Multicast addresses may carry /ttl/count.
    let addr = addr.split('/').next().unwrap_or("");
    addr.parse()
        .map_err(|_| line_err(n, "connection address is not an IP address"))
}

fn parse_attr(v: &str) -> Attribute {
    match v.split_once(':') {
        Some((n, val)) => Attribute {
            name: n.to_owned(),
            value: Some(val.to_owned()),
        },
        None => Attribute {
            name: v.to_owned(),
            value: None,
        },
    }
}

impl SessionDescription {
    /// Parses a description (CRLF or LF line ends).
    pub fn parse(bytes: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(bytes).map_err(|_| SdpError::NotUtf8)?;
        let mut origin = None;
        let mut session_name = None;
        let mut sd = SessionDescription {
            origin: Origin {
                username: String::new(),
                session_id: 0,
                session_version: 0,
                address: IpAddr::from([0, 0, 0, 0]),
            },
            session_name: String::new(),
            connection: None,
            timing: (0, 0),
            direction: None,
            attributes: Vec::new(),
            other: Vec::new(),
            media: Vec::new(),
        };
        let mut seen_v = false;
        for (i, raw) in text.split('\n').enumerate() {
            let n = i + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.is_empty() {
                continue;
            }
            let b = line.as_bytes();
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                return Err(line_err(n, "not a <type>=<value> line"));
            }
            let (t, v) = (b[0] as char, &line[2..]);
            if !seen_v {
                if t != 'v' || v != "0" {
                    return Err(line_err(n, "the first line must be v=0"));
                }
                seen_v = true;
                continue;
            }
            match (t, sd.media.last_mut()) {
                ('o', None) => {
                    let f: Vec<&str> = v.split(' ').collect();
                    let [user, id, ver, "IN", _, addr] = f.as_slice() else {
                        return Err(line_err(n, "bad o= line"));
                    };
                    origin = Some(Origin {
                        username: (*user).to_owned(),
                        session_id: id.parse().map_err(|_| line_err(n, "bad session id"))?,
                        session_version: ver
                            .parse()
                            .map_err(|_| line_err(n, "bad session version"))?,
                        address: addr
                            .parse()
                            .map_err(|_| line_err(n, "origin address is not an IP address"))?,
                    });
                }
                ('s', None) => session_name = Some(v.to_owned()),
                ('c', None) => sd.connection = Some(parse_conn(v, n)?),
                ('t', None) => {
                    let (a, b) = v.split_once(' ').ok_or(line_err(n, "bad t= line"))?;
                    sd.timing = (
                        a.parse().map_err(|_| line_err(n, "bad start time"))?,
                        b.parse().map_err(|_| line_err(n, "bad stop time"))?,
                    );
                }
                ('m', _) => {
                    let mut it = v.split(' ');
                    let (Some(kind), Some(port), Some(proto)) = (it.next(), it.next(), it.next())
                    else {
                        return Err(line_err(n, "bad m= line"));
                    };
                    let port = port.split('/').next().unwrap_or("");
                    sd.media.push(Media {
                        kind: kind.to_owned(),
                        port: port.parse().map_err(|_| line_err(n, "bad media port"))?,
                        proto: proto.to_owned(),
                        formats: it.filter(|f| !f.is_empty()).map(str::to_owned).collect(),
                        connection: None,
                        rtpmaps: Vec::new(),
                        fmtps: Vec::new(),
                        ptime: None,
                        direction: None,
                        attributes: Vec::new(),
                        other: Vec::new(),
                    });
                }
                ('c', Some(m)) => m.connection = Some(parse_conn(v, n)?),
                ('a', Some(m)) => media_attr(m, v, n)?,
                ('a', None) => match Direction::parse(v) {
                    Some(d) => sd.direction = Some(d),
                    None => sd.attributes.push(parse_attr(v)),
                },
                (t, Some(m)) => m.other.push((t, v.to_owned())),
                (t, None) => sd.other.push((t, v.to_owned())),
            }
        }
        if !seen_v {
            return Err(SdpError::Missing('v'));
        }
        sd.origin = origin.ok_or(SdpError::Missing('o'))?;
        sd.session_name = session_name.ok_or(SdpError::Missing('s'))?;
        Ok(sd)
    }

    /// The SDP text (CRLF line ends).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

fn parse_rtpmap(val: &str) -> Option<RtpMap> {
    let (pt, rest) = val.split_once(' ')?;
    let mut parts = rest.split('/');
    let encoding = parts.next().filter(|e| !e.is_empty())?.to_owned();
    let clock_rate = parts.next()?.parse().ok()?;
    let channels = match parts.next() {
        Some(c) => Some(c.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(RtpMap {
        pt: pt.parse().ok()?,
        encoding,
        clock_rate,
        channels,
    })
}

fn media_attr(m: &mut Media, v: &str, n: usize) -> Result<(), SdpError> {
    if let Some(d) = Direction::parse(v) {
        m.direction = Some(d);
        return Ok(());
    }
    let a = parse_attr(v);
    match (a.name.as_str(), a.value.as_deref()) {
        ("rtpmap", Some(val)) => match parse_rtpmap(val) {
            Some(r) => m.rtpmaps.push(r),
            // Real offers carry sloppy rtpmaps for codecs we never use (RFC 4475's bodies
            // have `a=rtpmap:31 LPC`); keep them verbatim rather than refuse the call.
            None => m.attributes.push(a),
        },
        ("fmtp", Some(val)) => {
            let (pt, params) = val.split_once(' ').ok_or(line_err(n, "bad fmtp"))?;
            let pt = pt
                .parse()
                .map_err(|_| line_err(n, "bad fmtp payload type"))?;
            m.fmtps.push((pt, params.to_owned()));
        }
        ("ptime", Some(val)) => {
            m.ptime = Some(val.trim().parse().map_err(|_| line_err(n, "bad ptime"))?);
        }
        _ => m.attributes.push(a),
    }
    Ok(())
}

fn ip_line(f: &mut fmt::Formatter<'_>, ip: &IpAddr) -> fmt::Result {
    let kind = if ip.is_ipv4() { "IP4" } else { "IP6" };
    write!(f, "IN {kind} {ip}\r\n")
}

fn attr_line(f: &mut fmt::Formatter<'_>, a: &Attribute) -> fmt::Result {
    match &a.value {
        Some(v) => write!(f, "a={}:{v}\r\n", a.name),
        None => write!(f, "a={}\r\n", a.name),
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        f.write_str("v=0\r\n")?;
        write!(
            f,
            "o={} {} {} ",
            o.username, o.session_id, o.session_version
        )?;
        ip_line(f, &o.address)?;
        write!(f, "s={}\r\n", self.session_name)?;
        if let Some(c) = &self.connection {
            f.write_str("c=")?;
            ip_line(f, c)?;
        }
        write!(f, "t={} {}\r\n", self.timing.0, self.timing.1)?;
        for (t, v) in &self.other {
            write!(f, "{t}={v}\r\n")?;
        }
        if let Some(d) = self.direction {
            write!(f, "a={}\r\n", d.as_str())?;
        }
        for a in &self.attributes {
            attr_line(f, a)?;
        }
        for m in &self.media {
            write!(f, "m={} {} {}", m.kind, m.port, m.proto)?;
            for fmt_ in &m.formats {
                write!(f, " {fmt_}")?;
            }
            f.write_str("\r\n")?;
            for (t, v) in &m.other {
                write!(f, "{t}={v}\r\n")?;
            }
            if let Some(c) = &m.connection {
                f.write_str("c=")?;
                ip_line(f, c)?;
            }
            for r in &m.rtpmaps {
                write!(f, "a=rtpmap:{} {}/{}", r.pt, r.encoding, r.clock_rate)?;
                if let Some(c) = r.channels {
                    write!(f, "/{c}")?;
                }
                f.write_str("\r\n")?;
            }
            for (pt, p) in &m.fmtps {
                write!(f, "a=fmtp:{pt} {p}\r\n")?;
            }
            if let Some(p) = m.ptime {
                write!(f, "a=ptime:{p}\r\n")?;
            }
            if let Some(d) = m.direction {
                write!(f, "a={}\r\n", d.as_str())?;
            }
            for a in &m.attributes {
                attr_line(f, a)?;
            }
        }
        Ok(())
    }
}

/// The G.711 codecs the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// μ-law.
    Pcmu,
    /// A-law.
    Pcma,
}

impl Codec {
    fn from_encoding(name: &str, rate: u32) -> Option<Codec> {
        match rate {
            8000 if name.eq_ignore_ascii_case("PCMU") => Some(Codec::Pcmu),
            8000 if name.eq_ignore_ascii_case("PCMA") => Some(Codec::Pcma),
            _ => None,
        }
    }
}

/// The outcome of offer/answer for the audio stream: what to send and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The codec.
    pub codec: Codec,
    /// Its payload type.
    pub codec_pt: u8,
    /// telephone-event payload type, if both sides have it.
    pub telephone_event_pt: Option<u8>,
    /// Where the peer wants RTP.
    pub remote_rtp: SocketAddr,
    /// Our direction (`SendOnly` when we answered the peer's `recvonly`, …).
    pub direction: Direction,
}

/// Our side of a session: address, RTP port and the `o=` id/version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    /// Our media address.
    pub ip: IpAddr,
    /// Our RTP port.
    pub port: u16,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` version (bump for every new description in a dialog).
    pub session_version: u64,
}

/// The telephone-event payload type we offer.
pub const TELEPHONE_EVENT_PT: u8 = 101;

fn skeleton(local: &Local, media: Vec<Media>) -> SessionDescription {
    SessionDescription {
        origin: Origin {
            username: "-".to_owned(),
            session_id: local.session_id,
            session_version: local.session_version,
            address: local.ip,
        },
        session_name: "hotline".to_owned(),
        connection: Some(local.ip),
        timing: (0, 0),
        direction: None,
        attributes: Vec::new(),
        other: Vec::new(),
        media,
    }
}

fn audio(port: u16, codecs: &[(u8, Codec)], te: Option<u8>, dir: Direction) -> Media {
    let mut m = Media {
        kind: "audio".to_owned(),
        port,
        proto: "RTP/AVP".to_owned(),
        formats: Vec::new(),
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: Some(20),
        direction: Some(dir),
        attributes: Vec::new(),
        other: Vec::new(),
    };
    for (pt, c) in codecs {
        m.formats.push(pt.to_string());
        let name = match c {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        };
        m.rtpmaps.push(RtpMap {
            pt: *pt,
            encoding: name.to_owned(),
            clock_rate: 8000,
            channels: None,
        });
    }
    if let Some(te) = te {
        m.formats.push(te.to_string());
        m.rtpmaps.push(RtpMap {
            pt: te,
            encoding: "telephone-event".to_owned(),
            clock_rate: 8000,
            channels: None,
        });
        m.fmtps.push((te, "0-16".to_owned()));
    }
    m
}

/// Our offer, for an INVITE we send or one that arrived without SDP: PCMU, PCMA and
/// telephone-event/8000 on pt 101, ptime 20, sendrecv.
pub fn offer(local: &Local) -> SessionDescription {
    let m = audio(
        local.port,
        &[(0, Codec::Pcmu), (8, Codec::Pcma)],
        Some(TELEPHONE_EVENT_PT),
        Direction::SendRecv,
    );
    skeleton(local, vec![m])
}

fn is_rtp_avp(m: &Media) -> bool {
    m.proto.eq_ignore_ascii_case("RTP/AVP")
}

/// The first codec and the telephone-event pt of an audio section, in its order.
fn pick(m: &Media) -> Option<(u8, Codec, Option<u8>)> {
    let codec = m.payload_types().find_map(|pt| {
        let (name, rate) = m.encoding(pt)?;
        Codec::from_encoding(name, rate).map(|c| (pt, c))
    })?;
    let te = m.payload_types().find(|pt| {
        m.encoding(*pt)
            .is_some_and(|(n, r)| n.eq_ignore_ascii_case("telephone-event") && r == 8000)
    });
    Some((codec.0, codec.1, te))
}

fn remote(sd: &SessionDescription, m: &Media) -> Result<SocketAddr, SdpError> {
    let ip = m
        .connection
        .or(sd.connection)
        .ok_or(SdpError::NoConnection)?;
    Ok(SocketAddr::new(ip, m.port))
}

fn direction_of(sd: &SessionDescription, m: &Media) -> Direction {
    m.direction.or(sd.direction).unwrap_or(Direction::SendRecv)
}

/// Answers an offer (RFC 3264 §6): the first RTP/AVP audio stream with a codec we speak is
/// accepted with the caller's most preferred one (plus their telephone-event pt), every
/// other stream is rejected with port 0, the direction mirrors theirs.
pub fn answer(
    offer: &SessionDescription,
    local: &Local,
) -> Result<(SessionDescription, Negotiated), SdpError> {
    let mut chosen = None;
    let mut media = Vec::with_capacity(offer.media.len());
    for m in &offer.media {
        if chosen.is_none() && m.kind == "audio" && m.port != 0 && is_rtp_avp(m) {
            if let Some((pt, codec, te)) = pick(m) {
                let dir = direction_of(offer, m).reversed();
                let mut ours = audio(local.port, &[(pt, codec)], te, dir);
                if let Some(te) = te {
                    if let Some((_, p)) = m.fmtps.iter().find(|(p, _)| *p == te) {
                        ours.fmtps = vec![(te, p.clone())];
                    }
                }
                media.push(ours);
                chosen = Some(Negotiated {
                    codec,
                    codec_pt: pt,
                    telephone_event_pt: te,
                    remote_rtp: remote(offer, m)?,
                    direction: dir,
                });
                continue;
            }
        }
        media.push(Media {
            kind: m.kind.clone(),
            port: 0,
            proto: m.proto.clone(),
            formats: m.formats.clone(),
            connection: None,
            rtpmaps: Vec::new(),
            fmtps: Vec::new(),
            ptime: None,
            direction: None,
            attributes: Vec::new(),
            other: Vec::new(),
        });
    }
    let negotiated = chosen.ok_or(SdpError::NoCommonCodec)?;
    Ok((skeleton(local, media), negotiated))
}

/// Reads the result of our offer from the peer's answer.
pub fn negotiated(answer: &SessionDescription) -> Result<Negotiated, SdpError> {
    let m = answer
        .media
        .iter()
        .find(|m| m.kind == "audio" && m.port != 0 && is_rtp_avp(m))
        .ok_or(SdpError::NoCommonCodec)?;
    let (pt, codec, te) = pick(m).ok_or(SdpError::NoCommonCodec)?;
    // Their answer states their direction; ours is the mirror image.
    let dir = direction_of(answer, m).reversed();
    Ok(Negotiated {
        codec,
        codec_pt: pt,
        telephone_event_pt: te,
        remote_rtp: remote(answer, m)?,
        direction: dir,
    })
}
