//! A generated customer base with known duplicates, to measure matching: each person has one to
//! three records across shop, CRM and newsletter, written with the mistakes real exports have
//! (typos, first and last swapped, missing emails, email case and spaces, phone formats, street
//! abbreviations, spaced postcodes), next to hard negatives (the same common name in another
//! postcode; family members sharing surname and postcode). [`pair_metrics`] scores a matching
//! against the truth over record pairs.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::records::SourceRecord;

const FIRST: [&str; 64] = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hannah",
    "Jonas",
    "Julia",
    "Jürgen",
    "Karl",
    "Lena",
    "Leon",
    "Lukas",
    "Marie",
    "Max",
    "Mia",
    "Noah",
    "Paul",
    "Sophie",
    "Tim",
    "Zoë",
    "Elias",
    "Finn",
    "Emil",
    "Ida",
    "Lina",
    "Ella",
    "Mila",
    "Theo",
    "Anton",
    "Oskar",
    "Luisa",
    "Frieda",
    "Henry",
    "Jakob",
    "Matteo",
    "Nele",
    "Paula",
    "Rafael",
    "Sarah",
    "Tobias",
    "Ute",
    "Vera",
    "Walter",
    "Xaver",
    "Yvonne",
    "Olivia",
    "James",
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Jack",
    "Grace",
    "Charlie",
    "Lily",
    "Thomas",
    "Chloé",
    "René",
    "Agnieszka",
];
const LAST: [&str; 64] = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Schmitz",
    "Krause",
    "Meier",
    "Lehmann",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Vogel",
    "Friedrich",
    "Keller",
    "Günther",
    "Frank",
    "Berger",
    "Winkler",
    "Roth",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Kowalski",
    "Nowak",
];
const STREETS: [&str; 12] = [
    "Hauptstraße",
    "Bahnhofstraße",
    "Gartenstraße",
    "Schulstraße",
    "Dorfstraße",
    "Bergstraße",
    "Lindenstraße",
    "Kirchstraße",
    "Waldstraße",
    "Ringstraße",
    "Mühlenweg",
    "Am Markt",
];
const DOMAINS: [&str; 6] = [
    "gmail.com",
    "web.de",
    "gmx.de",
    "outlook.com",
    "t-online.de",
    "example.org",
];

/// Pairwise scores of a matching against the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairMetrics {
    pub precision: f64,
    pub recall: f64,
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Precision and recall over record pairs (counted by grouping, not pair by pair).
pub fn pair_metrics(cluster_of: &[usize], truth: &[usize]) -> PairMetrics {
    let mut predicted: HashMap<usize, u64> = HashMap::new();
    let mut actual: HashMap<usize, u64> = HashMap::new();
    let mut both: HashMap<(usize, usize), u64> = HashMap::new();
    for (&c, &t) in cluster_of.iter().zip(truth) {
        *predicted.entry(c).or_default() += 1;
        *actual.entry(t).or_default() += 1;
        *both.entry((c, t)).or_default() += 1;
    }
    let predicted_pairs: u64 = predicted.values().map(|&n| pairs(n)).sum();
    let true_pairs: u64 = actual.values().map(|&n| pairs(n)).sum();
    let correct_pairs: u64 = both.values().map(|&n| pairs(n)).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    PairMetrics {
        precision: ratio(correct_pairs, predicted_pairs),
        recall: ratio(correct_pairs, true_pairs),
        true_pairs,
        predicted_pairs,
        correct_pairs,
    }
}

struct Person {
    first: String,
    last: String,
    email: String,
    phone: String,
    street: String,
    postcode: String,
    city: String,
}

fn typo(rng: &mut StdRng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 4 {
        return s.to_owned();
    }
    let i = rng.random_range(1..c.len() - 1);
    match rng.random_range(0..3) {
        0 => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        _ => c[i] = *['e', 'a', 'n', 'r', 'i'].choose(rng).unwrap_or(&'e'),
    }
    c.into_iter().collect()
}

fn ascii_local(s: &str) -> String {
    super::normalize::fold(s).replace(' ', "")
}

/// Generates `persons` people's records; returns them with each record's true person.
pub fn generate(persons: usize, seed: u64) -> (Vec<SourceRecord>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut people: Vec<Person> = Vec::with_capacity(persons);
    for p in 0..persons {
        let hard = p > 0 && rng.random_bool(0.08);
        let (last, postcode, street, city) = if hard && rng.random_bool(0.5) {
            // A family member: same surname, postcode and street, own first name and contacts.
            let prev = &people[rng.random_range(0..p)];
            (
                prev.last.clone(),
                prev.postcode.clone(),
                prev.street.clone(),
                prev.city.clone(),
            )
        } else {
            let pc = format!("{:05}", rng.random_range(1_000..99_999));
            let street = format!(
                "{} {}",
                STREETS.choose(&mut rng).unwrap_or(&STREETS[0]),
                rng.random_range(1..120)
            );
            let last = if hard {
                // The same common name as someone else, elsewhere.
                people[rng.random_range(0..p)].last.clone()
            } else {
                (*LAST.choose(&mut rng).unwrap_or(&LAST[0])).to_owned()
            };
            (
                last,
                pc,
                street,
                format!("City{}", rng.random_range(1..400)),
            )
        };
        let first = (*FIRST.choose(&mut rng).unwrap_or(&FIRST[0])).to_owned();
        let email = format!(
            "{}.{}{}@{}",
            ascii_local(&first),
            ascii_local(&last),
            rng.random_range(1..10_000),
            DOMAINS.choose(&mut rng).unwrap_or(&DOMAINS[0])
        );
        let phone = format!(
            "1{:02}{:07}",
            rng.random_range(50..80),
            rng.random_range(0..10_000_000)
        );
        people.push(Person {
            first,
            last,
            email,
            phone,
            street,
            postcode,
            city,
        });
    }
    let mut records = Vec::new();
    let mut truth = Vec::new();
    for (p, person) in people.iter().enumerate() {
        let copies = match rng.random_range(0..10) {
            0..=3 => 1,
            4..=7 => 2,
            _ => 3,
        };
        let mut sources = vec!["shop", "crm", "newsletter"];
        for k in 0..copies {
            let source = sources.remove(rng.random_range(0..sources.len()));
            let first_copy = k == 0;
            let mut r = SourceRecord {
                source: source.into(),
                source_id: format!("{source}-{p}-{k}"),
                updated_at: 1_700_000_000_000 + rng.random_range(0..10_000_000_000),
                person: crate::customers::records::Person {
                    country: Some("DE".into()),
                    ..Default::default()
                },
                ..SourceRecord::default()
            };
            let (mut first, mut last) = (person.first.clone(), person.last.clone());
            if !first_copy && rng.random_bool(0.2) {
                last = typo(&mut rng, &last);
            }
            if !first_copy && rng.random_bool(0.1) {
                first = typo(&mut rng, &first);
            }
            if !first_copy && rng.random_bool(0.1) {
                std::mem::swap(&mut first, &mut last);
            }
            // Shop accounts are keyed by email; CRM rows and later copies often lack one.
            r.person.email = (first_copy || source == "shop" || rng.random_bool(0.7)).then(|| {
                if rng.random_bool(0.3) {
                    format!("  {} ", person.email.to_uppercase())
                } else {
                    person.email.clone()
                }
            });
            r.person.first_name = Some(first);
            if source == "newsletter" {
                // Sign-ups: an email, often a first name, rarely more.
                if r.person.email.is_none() {
                    r.person.email = Some(person.email.clone());
                }
                records.push(r);
                truth.push(p);
                continue;
            }
            r.person.last_name = Some(last);
            r.person.phone = rng.random_bool(0.7).then(|| match rng.random_range(0..3) {
                0 => format!("+49 {} {}", &person.phone[..3], &person.phone[3..]),
                1 => format!("0{} {}", &person.phone[..3], &person.phone[3..]),
                _ => format!("0049-{}-{}", &person.phone[..3], &person.phone[3..]),
            });
            r.person.address1 = Some(if rng.random_bool(0.3) {
                person.street.replace("straße", "str.")
            } else {
                person.street.clone()
            });
            r.person.city = Some(person.city.clone());
            r.person.postcode = Some(if rng.random_bool(0.2) {
                format!("{} {}", &person.postcode[..2], &person.postcode[2..])
            } else {
                person.postcode.clone()
            });
            if source == "shop" {
                r.user_id = Some(format!("{}", 100_000 + p));
            }
            records.push(r);
            truth.push(p);
        }
    }
    (records, truth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::matching::{MatchParams, match_records};

    #[test]
    fn pair_metrics_count_pairs() {
        let m = pair_metrics(&[0, 0, 0, 1], &[0, 0, 1, 1]);
        assert_eq!(
            (m.predicted_pairs, m.true_pairs, m.correct_pairs),
            (3, 2, 1)
        );
        assert!((m.precision - 1.0 / 3.0).abs() < 1e-12 && (m.recall - 0.5).abs() < 1e-12);
    }

    #[test]
    fn the_generator_has_real_duplicates_and_hard_negatives() {
        let (records, truth) = generate(2_000, 3);
        let people = truth.iter().max().unwrap() + 1;
        assert_eq!(people, 2_000);
        assert!(records.len() > 3_000, "{}", records.len());
        let no_email = records.iter().filter(|r| r.person.email.is_none()).count();
        assert!(no_email > 100, "{no_email}");
    }

    #[test]
    fn matching_meets_the_precision_and_recall_goal() {
        let (records, truth) = generate(5_000, 7);
        let p = MatchParams::default().check().unwrap();
        let started = std::time::Instant::now();
        let m = match_records(&records, &p);
        let scores = pair_metrics(&m.cluster_of, &truth);
        eprintln!(
            "{} records of 5000 people: precision {:.4}, recall {:.4} ({} true pairs, {} predicted) in {:?}",
            records.len(),
            scores.precision,
            scores.recall,
            scores.true_pairs,
            scores.predicted_pairs,
            started.elapsed()
        );
        assert!(scores.precision >= 0.98, "{scores:?}");
        assert!(scores.recall >= 0.95, "{scores:?}");
    }
}

#[cfg(test)]
mod scale {
    use super::*;
    use crate::customers::matching::{MatchParams, match_records};

    /// `cargo test --release -p trainer --lib cdi::synth::scale -- --ignored --nocapture`
    #[test]
    #[ignore = "benchmark: 50,000 people"]
    fn matching_at_scale() {
        let (records, truth) = generate(50_000, 11);
        for t in [0.88, 0.92, 0.95] {
            let p = MatchParams {
                fuzzy_threshold: t,
                ..MatchParams::default()
            }
            .check()
            .unwrap();
            let started = std::time::Instant::now();
            let m = match_records(&records, &p);
            let s = pair_metrics(&m.cluster_of, &truth);
            eprintln!(
                "threshold {t}: {} records, precision {:.4}, recall {:.4} in {:.2?}",
                records.len(),
                s.precision,
                s.recall,
                started.elapsed()
            );
        }
    }
}
