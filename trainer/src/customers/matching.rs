//! Matching: which source records are the same person.
//!
//! Deterministic rules first — the same normalised email, the same E.164 phone, the same shop
//! customer id — then a fuzzy rule inside each (country, postcode) block: the names' Jaro-Winkler
//! similarity (also with first and last swapped) at or above the threshold. The fuzzy rule is
//! refused on conflicting evidence — both persons are known by emails and share none, or by
//! phones and share none — because a household shares a surname and a postcode but not an inbox
//! (checked per person, so a chain of fuzzy joins cannot bridge two different inboxes).
//! Records join through union-find; each record's lineage is the edge that first brought it into
//! its person (a spanning tree from the person's first record), so it names one rule and score.

use std::collections::BTreeMap;

use super::normalize::{Normalized, normalize};
use super::records::SourceRecord;

/// Refused matching parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CdiError {
    #[error("fuzzy threshold must be within (0, 1], got {0}")]
    Threshold(f64),
    #[error("source priority must name at least one source, each once: {0:?}")]
    Priority(Vec<String>),
    #[error("default country must be an ISO 3166-1 alpha-2 code, got `{0}`")]
    Country(String),
}

/// Matching and survivorship parameters (unchecked).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchParams {
    /// Jaro-Winkler similarity of names (same postcode) at or above which records join.
    pub fuzzy_threshold: f64,
    /// Sources, highest priority first (survivorship).
    pub source_priority: Vec<String>,
    /// Country for phones without a country code.
    pub default_country: String,
}

impl Default for MatchParams {
    fn default() -> Self {
        Self {
            fuzzy_threshold: 0.92,
            source_priority: vec!["shop".into(), "crm".into(), "newsletter".into()],
            default_country: "DE".into(),
        }
    }
}

/// Checked parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidMatchParams(MatchParams);

impl std::ops::Deref for ValidMatchParams {
    type Target = MatchParams;
    fn deref(&self) -> &MatchParams {
        &self.0
    }
}

impl MatchParams {
    /// Checks the parameters.
    pub fn check(self) -> Result<ValidMatchParams, CdiError> {
        if !(self.fuzzy_threshold > 0.0 && self.fuzzy_threshold <= 1.0) {
            return Err(CdiError::Threshold(self.fuzzy_threshold));
        }
        let mut names = self.source_priority.clone();
        names.sort();
        names.dedup();
        if names.is_empty()
            || names.len() != self.source_priority.len()
            || names.iter().any(|n| n.trim().is_empty())
        {
            return Err(CdiError::Priority(self.source_priority));
        }
        let c = &self.default_country;
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(CdiError::Country(c.clone()));
        }
        let mut p = self;
        p.default_country = p.default_country.to_uppercase();
        Ok(ValidMatchParams(p))
    }
}

impl ValidMatchParams {
    /// Rank of a source (lower is better; unknown sources after all listed ones).
    pub fn rank(&self, source: &str) -> usize {
        self.source_priority
            .iter()
            .position(|s| s == source)
            .unwrap_or(self.source_priority.len())
    }
}

/// The rule that joined a record to its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchRule {
    /// The person's first record.
    Seed,
    Email,
    Phone,
    UserId,
    Fuzzy,
}

impl MatchRule {
    /// The lineage table's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::Seed => "seed",
            MatchRule::Email => "email",
            MatchRule::Phone => "phone",
            MatchRule::UserId => "user_id",
            MatchRule::Fuzzy => "fuzzy",
        }
    }
}

/// One record's lineage.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub record: usize,
    pub rule: MatchRule,
    pub score: f64,
}

/// The outcome of matching.
#[derive(Debug, Clone)]
pub struct Matching {
    pub normalized: Vec<Normalized>,
    /// Per record, its person (0..n_clusters, numbered by first record).
    pub cluster_of: Vec<usize>,
    pub n_clusters: usize,
    pub links: Vec<Link>,
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    /// Joins the sets of `a` and `b`; whether they were apart.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.0[hi] = lo;
        true
    }
}

/// Both persons are known by some value and they share none.
fn conflict(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && !b.is_empty() && !a.iter().any(|x| b.contains(x))
}

/// Name similarity of two records (the better of straight and swapped order).
pub fn name_similarity(a: &Normalized, b: &Normalized) -> f64 {
    if a.name_key.is_empty() || b.name_key.is_empty() {
        return 0.0;
    }
    strsim::jaro_winkler(&a.name_key, &b.name_key)
        .max(strsim::jaro_winkler(&a.name_key, &b.swapped_key))
}

/// Matches records into persons.
pub fn match_records(records: &[SourceRecord], params: &ValidMatchParams) -> Matching {
    let normalized: Vec<Normalized> = records
        .iter()
        .map(|r| normalize(r, &params.default_country))
        .collect();
    let n = records.len();
    let mut uf = UnionFind((0..n).collect());
    // What each person (by root) is known by, to refuse fuzzy joins on conflicting evidence.
    let mut emails: Vec<Vec<String>> = normalized
        .iter()
        .map(|r| r.person.email.iter().cloned().collect())
        .collect();
    let mut phones: Vec<Vec<String>> = normalized
        .iter()
        .map(|r| r.person.phone.iter().cloned().collect())
        .collect();
    // Spanning-tree edges: (a, b, rule, score) that joined two persons.
    let mut tree: Vec<(usize, usize, MatchRule, f64)> = Vec::new();
    let mut join = |uf: &mut UnionFind, a: usize, b: usize, rule: MatchRule, score: f64| {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            return;
        }
        if rule == MatchRule::Fuzzy
            && (conflict(&emails[ra], &emails[rb]) || conflict(&phones[ra], &phones[rb]))
        {
            return;
        }
        uf.union(ra, rb);
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        let moved = std::mem::take(&mut emails[hi]);
        emails[lo].extend(moved);
        let moved = std::mem::take(&mut phones[hi]);
        phones[lo].extend(moved);
        tree.push((a, b, rule, score));
    };

    let deterministic = |key: &dyn Fn(usize) -> Option<String>| {
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for i in 0..n {
            if let Some(k) = key(i) {
                groups.entry(k).or_default().push(i);
            }
        }
        groups
    };
    let by_email = deterministic(&|i| normalized[i].person.email.clone());
    let by_phone = deterministic(&|i| normalized[i].person.phone.clone());
    let by_user = deterministic(&|i| {
        records[i]
            .user_id
            .as_ref()
            .filter(|u| !u.trim().is_empty())
            .cloned()
    });
    for (groups, rule) in [
        (by_email, MatchRule::Email),
        (by_phone, MatchRule::Phone),
        (by_user, MatchRule::UserId),
    ] {
        for members in groups.values() {
            for w in members.windows(2) {
                join(&mut uf, w[0], w[1], rule, 1.0);
            }
        }
    }

    let mut blocks: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, r) in normalized.iter().enumerate() {
        if let Some(pc) = &r.person.postcode
            && !r.name_key.is_empty()
        {
            let country = r
                .person
                .country
                .clone()
                .unwrap_or_else(|| params.default_country.clone());
            blocks.entry((country, pc.clone())).or_default().push(i);
        }
    }
    for members in blocks.values() {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                let score = name_similarity(&normalized[a], &normalized[b]);
                if score >= params.fuzzy_threshold {
                    join(&mut uf, a, b, MatchRule::Fuzzy, score);
                }
            }
        }
    }
    // Persons numbered by their first record; lineage by walking the tree from it.
    let mut cluster_of = vec![usize::MAX; n];
    let mut n_clusters = 0;
    for i in 0..n {
        let root = uf.find(i);
        if cluster_of[root] == usize::MAX {
            cluster_of[root] = n_clusters;
            n_clusters += 1;
        }
        cluster_of[i] = cluster_of[root];
    }
    let mut adjacent: Vec<Vec<(usize, MatchRule, f64)>> = vec![Vec::new(); n];
    for &(a, b, rule, score) in &tree {
        adjacent[a].push((b, rule, score));
        adjacent[b].push((a, rule, score));
    }
    let mut link: Vec<Option<Link>> = vec![None; n];
    for start in 0..n {
        if link[start].is_some() {
            continue;
        }
        link[start] = Some(Link {
            record: start,
            rule: MatchRule::Seed,
            score: 1.0,
        });
        let mut stack = vec![start];
        while let Some(at) = stack.pop() {
            for &(next, rule, score) in &adjacent[at] {
                if link[next].is_none() {
                    link[next] = Some(Link {
                        record: next,
                        rule,
                        score,
                    });
                    stack.push(next);
                }
            }
        }
    }
    Matching {
        normalized,
        cluster_of,
        n_clusters,
        links: link.into_iter().flatten().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        id: &str,
        email: Option<&str>,
        phone: Option<&str>,
        first: &str,
        last: &str,
        pc: &str,
    ) -> SourceRecord {
        SourceRecord {
            source: "crm".into(),
            source_id: id.into(),
            person: crate::customers::records::Person {
                email: email.map(String::from),
                phone: phone.map(String::from),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                postcode: Some(pc.into()),
                ..Default::default()
            },
            ..SourceRecord::default()
        }
    }

    fn params() -> ValidMatchParams {
        MatchParams::default().check().unwrap()
    }

    #[test]
    fn parameters_are_checked() {
        let bad = |f: fn(&mut MatchParams)| {
            let mut p = MatchParams::default();
            f(&mut p);
            p.check().is_err()
        };
        assert!(bad(|p| p.fuzzy_threshold = 0.0));
        assert!(bad(|p| p.fuzzy_threshold = 1.5));
        assert!(bad(|p| p.source_priority = vec![]));
        assert!(bad(|p| p.source_priority = vec!["crm".into(), "crm".into()]));
        assert!(bad(|p| p.default_country = "DEU".into()));
        assert_eq!(params().rank("crm"), 1);
        assert_eq!(params().rank("other"), 3);
    }

    #[test]
    fn deterministic_and_fuzzy_rules() {
        let records = vec![
            rec("1", Some("jo@x.de"), None, "Jonas", "Keller", "80331"),
            rec("2", Some(" JO@X.DE "), None, "J", "K", "10115"),
            rec("3", None, Some("+49 171 5550000"), "Mia", "Wolf", "50667"),
            rec("4", None, Some("0171 5550000"), "Mia", "Wolf", "50667"),
            rec("5", None, None, "Keller", "Jonas", "80331"),
            rec("6", None, None, "Jonas", "Kellr", "80331"),
            rec("7", None, None, "Jonas", "Keller", "20095"),
            rec("8", Some("ben@x.de"), None, "Ben", "Keller", "80331"),
            rec("9", Some("other@x.de"), None, "Jonas", "Keller", "80331"),
        ];
        let m = match_records(&records, &params());
        let c = &m.cluster_of;
        assert_eq!(c[0], c[1], "email, case and spaces");
        assert_eq!(c[2], c[3], "phone formats");
        assert_eq!(c[0], c[4], "swapped names");
        assert_eq!(c[0], c[5], "typo");
        assert_ne!(c[0], c[6], "same name elsewhere");
        assert_ne!(c[0], c[7], "family member");
        assert_ne!(c[0], c[8], "conflicting emails");
        let rules: Vec<&str> = m.links.iter().map(|l| l.rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "seed", "email", "seed", "phone", "fuzzy", "fuzzy", "seed", "seed", "seed"
            ]
        );
        assert!(m.links[5].score >= 0.92 && m.links[5].score < 1.0);
    }
}
