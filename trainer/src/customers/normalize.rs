//! Normalisation: the same person written differently by two sources must compare equal.
//! Emails are trimmed and lower-cased, phones become E.164, names get a display form (title
//! case) and a matching key (lower case, accents folded, letters only), postcodes lose spaces.

use super::records::{Person, SourceRecord};

/// A record's fields in comparable form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Normalized {
    /// Email lower-cased; phone E.164 (`+4915112345678`); names and city in title case;
    /// postcode upper case without spaces; country upper-case ISO 3166-1 alpha-2.
    pub person: Person,
    /// `first last` for matching: lower case, accents folded, letters and single spaces only.
    pub name_key: String,
    /// The same with first and last swapped.
    pub swapped_key: String,
}

fn clean(s: Option<&str>) -> Option<String> {
    let t = s?.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

/// Trimmed, lower-cased, and shaped like an address (one `@`, a dot in the domain, no spaces).
pub fn email(s: Option<&str>) -> Option<String> {
    let e = s?.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.contains('@')
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && b.len() >= 2)
        && !e.contains(char::is_whitespace);
    ok.then_some(e)
}

/// The country calling code for an ISO country.
fn calling_code(country: &str) -> Option<&'static str> {
    Some(match country {
        "DE" => "49",
        "AT" => "43",
        "CH" => "41",
        "FR" => "33",
        "GB" | "UK" => "44",
        "NL" => "31",
        "BE" => "32",
        "IT" => "39",
        "ES" => "34",
        "PL" => "48",
        "DK" => "45",
        "SE" => "46",
        "US" | "CA" => "1",
        _ => return None,
    })
}

/// E.164 from the usual ways of writing a number (`+49 151 …`, `0049-151-…`, `0151 …`,
/// `(030) …`); numbers without a country code take `country`'s.
pub fn phone(s: Option<&str>, country: &str) -> Option<String> {
    let without_trunk = s?.trim().replace("(0)", "");
    let raw = without_trunk.as_str();
    let plus = raw.starts_with('+');
    if raw.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let full = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let code = calling_code(country)?;
        if code == "1" {
            match digits.len() {
                10 => format!("1{digits}"),
                11 if digits.starts_with('1') => digits,
                _ => return None,
            }
        } else {
            format!("{code}{}", digits.strip_prefix('0').unwrap_or(&digits))
        }
    };
    (8..=15).contains(&full.len()).then(|| format!("+{full}"))
}

/// Folds accents and `ß` so `Müller`, `Muller` and `MUELLER`-less spellings compare; keeps
/// letters and spaces only.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.to_lowercase().chars() {
        let f: &str = match c {
            'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' => "a",
            'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' => "o",
            'ü' | 'ù' | 'ú' | 'û' => "u",
            'é' | 'è' | 'ê' | 'ë' | 'ē' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ç' | 'č' | 'ć' => "c",
            'ñ' | 'ń' => "n",
            'š' | 'ś' => "s",
            'ž' | 'ź' | 'ż' => "z",
            'ł' => "l",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            c if c.is_alphabetic() => {
                out.push(c);
                continue;
            }
            _ => " ",
        };
        out.push_str(f);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Title case per word and per hyphen / apostrophe part (`anna-lena o'neil` → `Anna-Lena O'Neil`).
pub fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c.is_whitespace() || c == '-' || c == '\'';
    }
    out
}

/// Street names in one spelling: `Hauptstraße 1`, `Hauptstr. 1` and `hauptstrasse 1` agree.
pub fn address_key(s: &str) -> String {
    let folded = fold(&s.replace("str.", "strasse ").replace("Str.", "strasse "));
    folded
        .split(' ')
        .map(|w| match w {
            "street" | "st" => "st".to_owned(),
            "avenue" | "ave" => "ave".to_owned(),
            "road" | "rd" => "rd".to_owned(),
            w => w
                .strip_suffix("strasse")
                .map_or_else(|| w.to_owned(), |stem| format!("{stem}st")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Normalises one record (`default_country` for phones without a code and records without a
/// country).
pub fn normalize(r: &SourceRecord, default_country: &str) -> Normalized {
    let country = clean(r.person.country.as_deref()).map(|c| c.to_uppercase());
    let first = clean(r.person.first_name.as_deref()).map(|n| title(&n));
    let last = clean(r.person.last_name.as_deref()).map(|n| title(&n));
    let key = |a: &Option<String>, b: &Option<String>| {
        fold(&format!(
            "{} {}",
            a.as_deref().unwrap_or_default(),
            b.as_deref().unwrap_or_default()
        ))
    };
    Normalized {
        name_key: key(&first, &last),
        swapped_key: key(&last, &first),
        person: Person {
            email: email(r.person.email.as_deref()),
            phone: phone(
                r.person.phone.as_deref(),
                country.as_deref().unwrap_or(default_country),
            ),
            first_name: first,
            last_name: last,
            address1: clean(r.person.address1.as_deref()),
            city: clean(r.person.city.as_deref()).map(|c| title(&c)),
            postcode: clean(r.person.postcode.as_deref())
                .map(|p| p.replace(' ', "").to_uppercase()),
            country,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phones() {
        assert_eq!(
            email(Some(" Jo.Doe@Example.COM ")).as_deref(),
            Some("jo.doe@example.com")
        );
        assert_eq!(email(Some("no-at.example.com")), None);
        assert_eq!(email(Some("a@b")), None);
        for p in [
            "+49 151 2345678",
            "0151 2345678",
            "0049-151-2345678",
            "(0151) 234 56 78",
            "+49 (0)151 2345678",
        ] {
            assert_eq!(
                phone(Some(p), "DE").as_deref(),
                Some("+491512345678"),
                "{p}"
            );
        }
        assert_eq!(
            phone(Some("0151 2345678"), "DE").as_deref(),
            Some("+491512345678")
        );
        assert_eq!(
            phone(Some("(212) 555-0100"), "US").as_deref(),
            Some("+12125550100")
        );
        assert_eq!(phone(Some("12"), "DE"), None);
        assert_eq!(phone(Some("call me"), "DE"), None);
    }

    #[test]
    fn names_and_addresses() {
        assert_eq!(fold("Jürgen  Müller-Groß"), "jurgen muller gross");
        assert_eq!(title("anna-lena o'neil"), "Anna-Lena O'Neil");
        assert_eq!(address_key("Hauptstraße 1"), address_key("Hauptstr. 1"));
        assert_eq!(address_key("Fifth Avenue"), "fifth ave");
        let n = normalize(
            &SourceRecord {
                person: Person {
                    first_name: Some(" zoë ".into()),
                    last_name: Some("MÜLLER".into()),
                    postcode: Some("sw1a 1aa".into()),
                    ..Default::default()
                },
                ..SourceRecord::default()
            },
            "DE",
        );
        assert_eq!(
            (
                n.person.first_name.as_deref(),
                n.person.last_name.as_deref()
            ),
            (Some("Zoë"), Some("Müller"))
        );
        assert_eq!(
            (n.name_key.as_str(), n.swapped_key.as_str()),
            ("zoe muller", "muller zoe")
        );
        assert_eq!(n.person.postcode.as_deref(), Some("SW1A1AA"));
    }
}
