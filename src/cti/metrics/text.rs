//! The Prometheus text exposition format (version 0.0.4), both ways: a writer that cannot
//! emit a sample before its family's `# TYPE` or the same series twice, and a strict reader
//! that tests use to check what `/metrics` serves (families typed, series unique, histogram
//! buckets cumulative with `+Inf` = `_count`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "counter" => Some(Kind::Counter),
            "gauge" => Some(Kind::Gauge),
            "histogram" => Some(Kind::Histogram),
            _ => None,
        }
    }
}

/// Builds one exposition. Families are written in call order; a second `family` with a
/// name already used, or a sample outside its family, is a programming error caught by the
/// unit tests (the writer skips it rather than emit an invalid document).
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
    current: Option<(String, Kind)>,
    families: BTreeSet<String>,
    series: BTreeSet<String>,
}

impl Writer {
    /// Starts a family: `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        if !self.families.insert(name.to_string()) {
            debug_assert!(false, "metric family {name} written twice");
            self.current = None;
            return;
        }
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
        self.current = Some((name.to_string(), kind));
    }

    /// One sample of the current family: `suffix` is `""`, or `_bucket`/`_sum`/`_count`
    /// for a histogram.
    pub fn sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: f64) {
        let Some((family, _)) = &self.current else {
            debug_assert!(false, "sample outside a family");
            return;
        };
        let mut line = format!("{family}{suffix}");
        if !labels.is_empty() {
            line.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(line, "{k}=\"{v}\"");
            }
            line.push('}');
        }
        if !self.series.insert(line.clone()) {
            debug_assert!(false, "series {line} written twice");
            return;
        }
        let _ = writeln!(self.out, "{line} {}", number(value));
    }

    /// A sample of an integer count.
    pub fn count(&mut self, labels: &[(&str, &str)], value: u64) {
        self.sample("", labels, value as f64);
    }

    /// The whole document.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Go-style float text: integers without a fraction, `+Inf`/`-Inf`/`NaN` spelled as
/// Prometheus reads them.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// A sample's labels, sorted by name.
pub type Labels = Vec<(String, String)>;

/// One parsed sample: metric name (with suffix) and sorted labels.
pub type SeriesKey = (String, Labels);

/// A document read back: each family's type, and every sample's value.
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    pub families: BTreeMap<String, Kind>,
    pub samples: BTreeMap<SeriesKey, f64>,
}

impl Parsed {
    /// The value of `name` with exactly these labels (in any order).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut l: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        l.sort();
        self.samples.get(&(name.to_string(), l)).copied()
    }

    /// The sum of every sample of `name` (over all label values).
    pub fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|(_, v)| v)
            .sum()
    }
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Splits `name{a="x",b="y"} value` into its parts; label values unescaped.
fn parse_sample(line: &str) -> Result<(String, Labels, f64), String> {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return Err(format!("no value: {line}")),
    };
    let mut labels = Vec::new();
    let mut rest = rest;
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '}' {
                end = Some(i);
                break;
            }
            let key_start = i;
            let mut key_end = i;
            let mut c = c;
            while c != '=' {
                match chars.next() {
                    Some((j, d)) => {
                        key_end = j;
                        c = d;
                    }
                    None => return Err(format!("bad labels: {line}")),
                }
            }
            let key = body[key_start..key_end].to_string();
            if !valid_name(&key) || chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("bad label name or quote: {line}"));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) if c == '\\' || c == '"' => value.push(c),
                        _ => return Err(format!("bad escape: {line}")),
                    },
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("unterminated label value: {line}")),
                }
            }
            labels.push((key, value));
            if chars.peek().map(|(_, c)| *c) == Some(',') {
                chars.next();
            }
        }
        let end = end.ok_or_else(|| format!("unterminated labels: {line}"))?;
        rest = &body[end + 1..];
    }
    if !valid_name(name) {
        return Err(format!("bad metric name: {line}"));
    }
    let value = rest.trim();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|_| format!("bad value: {line}"))?,
    };
    Ok((name.to_string(), labels, value))
}

/// Reads a document strictly: every sample belongs to a family declared by `# TYPE`
/// (counters end in `_total`; histogram samples are `_bucket`/`_sum`/`_count`), no family
/// is declared twice, no series appears twice, and each histogram's buckets are
/// cumulative and end in `+Inf` equal to `_count`.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let mut p = Parsed::default();
    let mut helped = BTreeSet::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            if !valid_name(name) || !helped.insert(name.to_string()) {
                return Err(format!("bad or repeated HELP: {line}"));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
            let kind = Kind::parse(kind).ok_or_else(|| format!("unknown type: {line}"))?;
            if !valid_name(name) || p.families.insert(name.to_string(), kind).is_some() {
                return Err(format!("bad or repeated TYPE: {line}"));
            }
            if kind == Kind::Counter && !name.ends_with("_total") {
                return Err(format!("counter without _total: {line}"));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, mut labels, value) = parse_sample(line)?;
        let family = [("_bucket"), ("_sum"), ("_count")]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| p.families.get(*f) == Some(&Kind::Histogram))
            })
            .unwrap_or(&name);
        if !p.families.contains_key(family) {
            return Err(format!("sample without a TYPE: {line}"));
        }
        labels.sort();
        if p.samples.insert((name.clone(), labels), value).is_some() {
            return Err(format!("duplicate series: {line}"));
        }
    }
    check_histograms(&p)?;
    Ok(p)
}

fn check_histograms(p: &Parsed) -> Result<(), String> {
    for (name, kind) in &p.families {
        if *kind != Kind::Histogram {
            continue;
        }
        // Group buckets by their other labels.
        let mut groups: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for ((n, labels), v) in &p.samples {
            if *n != format!("{name}_bucket") {
                continue;
            }
            let le = labels
                .iter()
                .find(|(k, _)| k == "le")
                .ok_or_else(|| format!("{name}: bucket without le"))?;
            let le: f64 = match le.1.as_str() {
                "+Inf" => f64::INFINITY,
                s => s.parse().map_err(|_| format!("{name}: bad le {s}"))?,
            };
            let rest: Vec<_> = labels.iter().filter(|(k, _)| k != "le").cloned().collect();
            groups.entry(rest).or_default().push((le, *v));
        }
        if groups.is_empty() {
            return Err(format!("{name}: histogram without buckets"));
        }
        for (labels, mut buckets) in groups {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
                return Err(format!("{name}: buckets are not cumulative"));
            }
            let inf = buckets.last().filter(|b| b.0.is_infinite()).map(|b| b.1);
            let count = p.samples.get(&(format!("{name}_count"), labels.clone()));
            if inf.is_none() || inf != count.copied() {
                return Err(format!("{name}: +Inf bucket must equal _count"));
            }
            if !p.samples.contains_key(&(format!("{name}_sum"), labels)) {
                return Err(format!("{name}: no _sum"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_escapes_and_the_reader_reads_it_back() {
        let mut w = Writer::default();
        w.family("x_total", Kind::Counter, "Things.");
        w.count(&[("queue", "a\"b\\c\nd")], 3);
        w.family("h", Kind::Histogram, "Latency.");
        w.sample("_bucket", &[("le", "0.1")], 1.0);
        w.sample("_bucket", &[("le", "+Inf")], 2.0);
        w.sample("_sum", &[], 0.5);
        w.sample("_count", &[], 2.0);
        let p = parse(&w.finish()).unwrap();
        assert_eq!(p.get("x_total", &[("queue", "a\"b\\c\nd")]), Some(3.0));
        assert_eq!(p.get("h_count", &[]), Some(2.0));
    }

    #[test]
    fn the_reader_refuses_what_prometheus_would() {
        for (text, why) in [
            ("x 1\n", "no TYPE"),
            ("# TYPE x_total counter\nx_total 1\nx_total 2\n", "duplicate"),
            ("# TYPE x counter\nx 1\n", "counter without _total"),
            ("# TYPE x gauge\n# TYPE x gauge\n", "TYPE twice"),
            ("# TYPE x gauge\nx{a=\"1} 2\n", "unterminated"),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                "not cumulative",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
                "count mismatch",
            ),
        ] {
            assert!(parse(text).is_err(), "accepted ({why}): {text}");
        }
    }

    #[test]
    fn numbers_are_spelled_as_prometheus_reads_them() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::INFINITY), "+Inf");
    }
}
