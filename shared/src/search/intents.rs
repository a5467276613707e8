//! Price intents in a query: "laptop under 800", "tv below €500", "phone over 1000", "camera
//! between 1000 and 1500", "cheap headphones". They are taken out of the words and become a
//! price filter (or, for "cheap", a ceiling found among the matching products), which the answer
//! shows back to the shopper as an applied filter they can remove.

use crate::search::text;

/// A price intent, before it is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Price {
    Max(f32),
    Min(f32),
    Range(f32, f32),
    /// "cheap", "budget", "affordable": the cheaper quarter of what matches.
    Cheap,
}

/// An intent and the words it was read from, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub price: Price,
    pub text: String,
}

/// A query with its intents taken out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// The query without the intents' words.
    pub rest: String,
    pub intents: Vec<Intent>,
}

const CURRENCY: &[&str] = &[
    "€", "$", "£", "eur", "euro", "euros", "usd", "dollar", "dollars", "gbp", "pound", "pounds",
    "bucks",
];
const MAX_WORDS: &[&[&str]] = &[
    &["no", "more", "than"],
    &["not", "more", "than"],
    &["less", "than"],
    &["cheaper", "than"],
    &["up", "to"],
    &["at", "most"],
    &["under"],
    &["below"],
    &["max"],
    &["maximum"],
    &["upto"],
    &["budget"],
    &["<"],
    &["<="],
    &["≤"],
];
const MIN_WORDS: &[&[&str]] = &[
    &["more", "than"],
    &["at", "least"],
    &["starting", "at"],
    &["over"],
    &["above"],
    &["min"],
    &["minimum"],
    &[">"],
    &[">="],
    &["≥"],
];
const CHEAP: &[&[&str]] = &[
    &["low", "cost"],
    &["low", "price"],
    &["lowest", "price"],
    &["cheap"],
    &["cheapest"],
    &["budget"],
    &["affordable"],
    &["inexpensive"],
    &["bargain"],
];

/// Splits a whitespace-separated token into comparison signs, currency signs and the rest:
/// `<€500` → `<`, `€`, `500`; `800eur` → `800`, `eur`; `500-800€` → `500`, `-`, `800`, `€`.
fn pieces(token: &str) -> Vec<String> {
    let lower: String = token.to_lowercase();
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    let chars: Vec<char> = lower.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let digit_side = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(char::is_ascii_digit)
        };
        if matches!(c, '€' | '$' | '£' | '≤' | '≥') {
            flush(&mut cur, &mut out);
            out.push(c.to_string());
        } else if matches!(c, '<' | '>') {
            flush(&mut cur, &mut out);
            if chars.get(i + 1) == Some(&'=') {
                cur.push(c);
            } else {
                out.push(c.to_string());
            }
        } else if c == '=' && (cur == "<" || cur == ">") {
            cur.push(c);
            flush(&mut cur, &mut out);
        } else if c == '-' && digit_side(i.checked_sub(1)) && digit_side(Some(i + 1)) {
            flush(&mut cur, &mut out);
            out.push("-".into());
        } else if c.is_alphabetic() && cur.chars().last().is_some_and(|p| p.is_ascii_digit()) {
            // 800eur, 1.5k
            flush(&mut cur, &mut out);
            cur.push(c);
        } else {
            cur.push(c);
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// A price amount: `800`, `1,299`, `1.299`, `12.50`.
fn amount(s: &str) -> Option<f32> {
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut t = s.to_owned();
    // A separator followed by exactly three digits at the end is a thousands separator.
    for sep in [',', '.'] {
        if let Some(at) = t.rfind(sep)
            && t.len() - at == 4
            && t.matches(sep).count() == 1
            && !(sep == '.' && t.contains(','))
        {
            t.remove(at);
        }
    }
    let t = t.replace(',', ".");
    t.parse::<f32>()
        .ok()
        .filter(|v| *v > 0.0 && *v < 10_000_000.0)
}

struct Scan<'a> {
    p: &'a [String],
}

impl Scan<'_> {
    /// The length of the first of `options` at `at`; a word of 4 letters or more may be one
    /// edit off ("undr 800", "bellow 500").
    fn phrase(&self, at: usize, options: &[&[&str]]) -> Option<usize> {
        let same = |a: &str, b: &str| a == b || (a.len() >= 4 && text::within(b, a, 1));
        options
            .iter()
            .find(|o| {
                o.len() + at <= self.p.len() && o.iter().zip(&self.p[at..]).all(|(a, b)| same(a, b))
            })
            .map(|o| o.len())
    }

    fn currency(&self, at: usize) -> usize {
        usize::from(
            self.p
                .get(at)
                .is_some_and(|w| CURRENCY.contains(&w.as_str())),
        )
    }

    /// A price at `at`: optional currency, amount, optional `k`, optional currency; the value
    /// and the pieces read. Refused when a unit follows ("under 13 inch" is a size).
    fn price(&self, at: usize) -> Option<(f32, usize, bool)> {
        let mut i = at + self.currency(at);
        let mut v = amount(self.p.get(i)?)?;
        i += 1;
        if self.p.get(i).is_some_and(|w| w == "k") {
            v *= 1000.0;
            i += 1;
        }
        let cur = self.currency(i);
        let had_currency = cur > 0 || self.currency(at) > 0;
        i += cur;
        if self
            .p
            .get(i)
            .is_some_and(|w| text::unit(w).is_some() && w != "k")
        {
            return None;
        }
        Some((v, i - at, had_currency))
    }
}

/// Takes the price intents out of `q`.
pub fn parse(q: &str) -> Parsed {
    // Pieces, each remembering the whitespace token it came from.
    let mut p: Vec<String> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    let tokens: Vec<&str> = q.split_whitespace().collect();
    for (t, token) in tokens.iter().enumerate() {
        for piece in pieces(token) {
            p.push(piece);
            owner.push(t);
        }
    }
    let scan = Scan { p: &p };
    let mut used = vec![false; p.len()];
    let mut intents = Vec::new();
    let mut i = 0;
    while i < p.len() {
        let found = if p[i] == "between" || p[i] == "from" {
            // between 300 and 500, from 300 to 500
            scan.price(i + 1).and_then(|(lo, n, _)| {
                let j = i + 1 + n;
                let joiner = p
                    .get(j)
                    .is_some_and(|w| w == "and" || w == "to" || w == "-");
                joiner
                    .then(|| scan.price(j + 1))
                    .flatten()
                    .map(|(hi, m, _)| (Price::Range(lo.min(hi), lo.max(hi)), 1 + n + 1 + m))
            })
        } else if let Some(n) = scan.phrase(i, MAX_WORDS)
            && let Some((v, m, _)) = scan.price(i + n)
        {
            Some((Price::Max(v), n + m))
        } else if let Some(n) = scan.phrase(i, MIN_WORDS)
            && let Some((v, m, _)) = scan.price(i + n)
        {
            Some((Price::Min(v), n + m))
        } else if let Some((lo, n, c1)) = scan.price(i)
            && let Some(j) =
                Some(i + n).filter(|&j| p.get(j).is_some_and(|w| w == "-" || w == "to"))
            && let Some((hi, m, c2)) = scan.price(j + 1)
            && (c1 || c2)
        {
            // 300-500€, €300 to €500
            Some((Price::Range(lo.min(hi), lo.max(hi)), n + 1 + m))
        } else {
            scan.phrase(i, CHEAP).map(|n| (Price::Cheap, n))
        };
        match found {
            Some((price, n)) => {
                let mut words: Vec<&str> = Vec::new();
                for k in i..i + n {
                    used[k] = true;
                    let t = tokens[owner[k]];
                    if words.last() != Some(&t) {
                        words.push(t);
                    }
                }
                intents.push(Intent {
                    price,
                    text: words.join(" "),
                });
                i += n;
            }
            None => i += 1,
        }
    }
    // A token is kept when none of its pieces were read as an intent.
    let rest: Vec<&str> = tokens
        .iter()
        .enumerate()
        .filter(|(t, _)| !owner.iter().zip(&used).any(|(o, u)| o == t && *u))
        .map(|x| *x.1)
        .collect();
    Parsed {
        rest: rest.join(" "),
        intents,
    }
}

/// `q` without the words of `intent` (what the shopper asks when they remove that filter).
pub fn without(q: &str, intent: &Intent) -> String {
    let drop: Vec<&str> = intent.text.split_whitespace().collect();
    let tokens: Vec<&str> = q.split_whitespace().collect();
    let at = tokens
        .windows(drop.len().max(1))
        .position(|w| w == drop.as_slice());
    match at {
        Some(at) => tokens[..at]
            .iter()
            .chain(&tokens[at + drop.len()..])
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
        None => q.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(q: &str) -> (String, Price, String) {
        let p = parse(q);
        assert_eq!(p.intents.len(), 1, "{q}: {p:?}");
        (p.rest, p.intents[0].price, p.intents[0].text.clone())
    }

    #[test]
    fn price_words_become_filters() {
        assert_eq!(
            one("laptop under 800"),
            ("laptop".into(), Price::Max(800.0), "under 800".into())
        );
        assert_eq!(one("tv below €500").1, Price::Max(500.0));
        assert_eq!(one("TV below 500€").1, Price::Max(500.0));
        assert_eq!(one("monitor under 300 euros").0, "monitor");
        assert_eq!(one("phone over 1,000").1, Price::Min(1000.0));
        assert_eq!(one("phones <$1.5k").1, Price::Max(1500.0));
        assert_eq!(one("headphones less than 100").1, Price::Max(100.0));
        assert_eq!(
            one("camera between 1000 and 1500"),
            (
                "camera".into(),
                Price::Range(1000.0, 1500.0),
                "between 1000 and 1500".into()
            )
        );
        assert_eq!(one("tv 500-800€").1, Price::Range(500.0, 800.0));
        assert_eq!(
            one("cheap phone"),
            ("phone".into(), Price::Cheap, "cheap".into())
        );
        assert_eq!(one("budget headphones").1, Price::Cheap);
        assert_eq!(one("laptop budget 700").1, Price::Max(700.0));
        assert_eq!(
            one("laptop undr 800").1,
            Price::Max(800.0),
            "a typo in the word"
        );
    }

    #[test]
    fn sizes_model_numbers_and_plain_numbers_are_not_prices() {
        for q in [
            "laptop under 14 inch",
            "65 inch tv",
            "iphone 15 case",
            "kit 24-105mm",
            "rtx 4070",
            "4k tv",
            "usb-c 100w",
        ] {
            let p = parse(q);
            assert!(p.intents.is_empty(), "{q}: {p:?}");
            assert_eq!(p.rest, q);
        }
    }

    #[test]
    fn removing_an_intent_gives_the_query_without_it() {
        let p = parse("sony tv under 1000 euros");
        assert_eq!(p.rest, "sony tv");
        assert_eq!(
            without("sony tv under 1000 euros", &p.intents[0]),
            "sony tv"
        );
    }
}
