//! Survivorship: one golden record per person. Each field comes from the highest-priority source
//! that has it; among records of equal priority, the most recent non-empty value wins (ties by
//! source id, so the result never depends on input order). Marketing consent is the exception:
//! the most recent statement wins whatever its source, because consent is whatever the person
//! said last.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::matching::{Matching, ValidMatchParams};
use super::normalize::Normalized;
use super::records::{Person, SourceRecord};

/// One person.
#[derive(Debug, Clone, PartialEq)]
pub struct Golden {
    /// `g_` + 16 hex digits of the person's smallest (source, source id): stable while that
    /// record stays theirs.
    pub golden_id: String,
    pub person: Person,
    /// Shop ids (sorted, unique).
    pub user_ids: Vec<String>,
    pub accepts_marketing: Option<bool>,
    pub sources: Vec<String>,
    pub updated_at: i64,
    /// Record indices.
    pub members: Vec<usize>,
}

/// The stable id of a person whose smallest record is (`source`, `source_id`).
pub fn golden_id(source: &str, source_id: &str) -> String {
    let digest = Sha256::digest(format!("{source}\u{1f}{source_id}").as_bytes());
    format!("g_{}", hex::encode(&digest[..8]))
}

/// Merges each person's records.
pub fn merge(records: &[SourceRecord], m: &Matching, params: &ValidMatchParams) -> Vec<Golden> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); m.n_clusters];
    for (i, &c) in m.cluster_of.iter().enumerate() {
        members[c].push(i);
    }
    let mut out: Vec<Golden> = members
        .into_iter()
        .filter(|ms| !ms.is_empty())
        .map(|ms| person(records, &m.normalized, ms, params))
        .collect();
    out.sort_by(|a, b| a.golden_id.cmp(&b.golden_id));
    out
}

fn person(
    records: &[SourceRecord],
    norm: &[Normalized],
    mut ms: Vec<usize>,
    params: &ValidMatchParams,
) -> Golden {
    // Best first: priority, then newest, then source id.
    ms.sort_by(|&a, &b| {
        let (ra, rb) = (&records[a], &records[b]);
        params
            .rank(&ra.source)
            .cmp(&params.rank(&rb.source))
            .then(rb.updated_at.cmp(&ra.updated_at))
            .then(ra.source_id.cmp(&rb.source_id))
    });
    let pick = |f: &dyn Fn(&Normalized) -> Option<String>| ms.iter().find_map(|&i| f(&norm[i]));
    let first = ms
        .iter()
        .map(|&i| (&records[i].source, &records[i].source_id))
        .min();
    let consent = ms
        .iter()
        .filter_map(|&i| {
            records[i]
                .accepts_marketing
                .map(|c| (records[i].updated_at, c))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, c)| c);
    let user_ids: BTreeSet<String> = ms
        .iter()
        .filter_map(|&i| records[i].user_id.clone())
        .filter(|u| !u.trim().is_empty())
        .collect();
    let sources: BTreeSet<String> = ms.iter().map(|&i| records[i].source.clone()).collect();
    // Name and address travel together: take both parts from the same record.
    let named = ms
        .iter()
        .find(|&&i| norm[i].person.last_name.is_some())
        .copied();
    let addressed = ms
        .iter()
        .find(|&&i| norm[i].person.address1.is_some() || norm[i].person.postcode.is_some())
        .copied();
    let mut members = ms.clone();
    members.sort_unstable();
    Golden {
        golden_id: first.map_or_else(String::new, |(s, id)| golden_id(s, id)),
        person: Person {
            email: pick(&|n| n.person.email.clone()),
            phone: pick(&|n| n.person.phone.clone()),
            first_name: named
                .and_then(|i| norm[i].person.first_name.clone())
                .or_else(|| pick(&|n| n.person.first_name.clone())),
            last_name: named.and_then(|i| norm[i].person.last_name.clone()),
            address1: addressed.and_then(|i| norm[i].person.address1.clone()),
            city: addressed
                .and_then(|i| norm[i].person.city.clone())
                .or_else(|| pick(&|n| n.person.city.clone())),
            postcode: addressed.and_then(|i| norm[i].person.postcode.clone()),
            country: addressed
                .and_then(|i| norm[i].person.country.clone())
                .or_else(|| pick(&|n| n.person.country.clone())),
        },
        user_ids: user_ids.into_iter().collect(),
        accepts_marketing: consent,
        sources: sources.into_iter().collect(),
        updated_at: ms.iter().map(|&i| records[i].updated_at).max().unwrap_or(0),
        members,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::matching::{MatchParams, match_records};

    fn rec(source: &str, id: &str, at: i64) -> SourceRecord {
        SourceRecord {
            source: source.into(),
            source_id: id.into(),
            person: Person {
                email: Some("jo@x.de".into()),
                ..Default::default()
            },
            updated_at: at,
            ..SourceRecord::default()
        }
    }

    #[test]
    fn priority_then_recency_and_latest_consent() {
        let mut shop = rec("shop", "7", 100);
        shop.person.phone = Some("0151 2345678".into());
        shop.person.first_name = Some("jonas".into());
        shop.person.last_name = Some("keller".into());
        shop.accepts_marketing = Some(false);
        shop.user_id = Some("7".into());
        let mut old_crm = rec("crm", "c-1", 50);
        old_crm.person.phone = Some("0171 0000000".into());
        old_crm.person.city = Some("berlin".into());
        let mut new_crm = rec("crm", "c-2", 300);
        new_crm.person.city = Some("münchen".into());
        new_crm.person.postcode = Some("80331".into());
        let mut news = rec("newsletter", "n-1", 500);
        news.accepts_marketing = Some(true);
        let records = vec![news, old_crm, shop, new_crm];
        let p = MatchParams::default().check().unwrap();
        let m = match_records(&records, &p);
        let g = merge(&records, &m, &p);
        assert_eq!(g.len(), 1);
        let g = &g[0];
        assert_eq!(
            g.person.phone.as_deref(),
            Some("+491512345678"),
            "shop beats crm"
        );
        assert_eq!(
            g.person.city.as_deref(),
            Some("München"),
            "newest crm record with an address"
        );
        assert_eq!(g.person.postcode.as_deref(), Some("80331"));
        assert_eq!(
            (
                g.person.first_name.as_deref(),
                g.person.last_name.as_deref()
            ),
            (Some("Jonas"), Some("Keller"))
        );
        assert_eq!(g.accepts_marketing, Some(true), "latest consent wins");
        assert_eq!(g.user_ids, ["7"]);
        assert_eq!(g.sources, ["crm", "newsletter", "shop"]);
        assert_eq!(g.updated_at, 500);
        assert_eq!(g.golden_id, golden_id("crm", "c-1"));
        // Input order does not matter.
        let mut reversed = records.clone();
        reversed.reverse();
        let m2 = match_records(&reversed, &p);
        let g2 = merge(&reversed, &m2, &p);
        assert_eq!(
            (g2[0].golden_id.as_str(), g2[0].person.city.as_deref()),
            (g.golden_id.as_str(), Some("München"))
        );
    }
}
