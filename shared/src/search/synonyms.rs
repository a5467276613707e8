//! Search synonyms: groups of interchangeable words ("tv" = "television"), configured by the shop
//! (`config/synonyms.json` in the lake, read by the trainer) and shipped inside the search index,
//! so a query word also matches its synonyms at a slightly lower weight.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::search::text;

/// Most groups a configuration may hold.
pub const MAX_GROUPS: usize = 2_000;
/// Most words in one group.
pub const MAX_GROUP_WORDS: usize = 20;

/// The built-in groups for an electronics shop, used when the lake has no configuration.
pub const ELECTRONICS: &[&[&str]] = &[
    &["tv", "television", "televisions"],
    &["laptop", "notebook", "laptops", "notebooks"],
    &["phone", "smartphone", "cellphone", "mobile"],
    &["headphones", "headphone", "headset"],
    &["earbuds", "earphones", "earphone"],
    &["fridge", "refrigerator"],
    &["monitor", "display"],
    &["vacuum", "hoover"],
    &["pc", "computer", "desktop"],
    &["cam", "camera"],
    &["speaker", "speakers", "soundbar"],
    &["watch", "smartwatch"],
];

/// The configuration file's shape: `{"synonyms": [["tv", "television"], …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynonymsConfig {
    pub synonyms: Vec<Vec<String>>,
}

/// Why a synonyms configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynonymsError {
    #[error("synonyms[{group}] must list between 2 and {MAX_GROUP_WORDS} words")]
    GroupSize { group: usize },
    #[error("synonyms[{group}]: `{word}` must be one word (letters and digits)")]
    NotOneWord { group: usize, word: String },
    #[error("at most {MAX_GROUPS} synonym groups are allowed")]
    TooMany,
}

/// Word → its synonyms (normalised as query words are).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Synonyms {
    map: BTreeMap<String, Vec<String>>,
}

impl Synonyms {
    /// Checks and normalises groups: each word must be one search term; a word in several groups
    /// gets the union.
    pub fn from_groups<S: AsRef<str>>(groups: &[Vec<S>]) -> Result<Self, SynonymsError> {
        if groups.len() > MAX_GROUPS {
            return Err(SynonymsError::TooMany);
        }
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (g, group) in groups.iter().enumerate() {
            if !(2..=MAX_GROUP_WORDS).contains(&group.len()) {
                return Err(SynonymsError::GroupSize { group: g });
            }
            let mut words = Vec::with_capacity(group.len());
            for w in group {
                match text::query_terms(w.as_ref()).as_slice() {
                    [one] => words.push(one.clone()),
                    _ => {
                        return Err(SynonymsError::NotOneWord {
                            group: g,
                            word: w.as_ref().to_owned(),
                        });
                    }
                }
            }
            for w in &words {
                let entry = map.entry(w.clone()).or_default();
                entry.extend(words.iter().filter(|o| *o != w).cloned());
                entry.sort_unstable();
                entry.dedup();
            }
        }
        Ok(Self { map })
    }

    /// The built-in electronics groups.
    pub fn electronics() -> Self {
        let groups: Vec<Vec<&str>> = ELECTRONICS.iter().map(|g| g.to_vec()).collect();
        Self::from_groups(&groups).unwrap_or_default()
    }

    /// Parses a configuration file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let config: SynonymsConfig = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        Self::from_groups(&config.synonyms).map_err(|e| e.to_string())
    }

    /// Synonyms of a (normalised) word.
    pub fn of(&self, word: &str) -> &[String] {
        self.map.get(word).map_or(&[], Vec::as_slice)
    }

    /// Every word with synonyms and its synonyms, sorted.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.map.iter()
    }

    /// Builds from entries as [`Self::entries`] yields them (the index codec).
    pub(crate) fn from_entries(map: BTreeMap<String, Vec<String>>) -> Self {
        Self { map }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_symmetric_normalised_and_checked() {
        let s = Synonyms::from_groups(&[vec!["TV", "Télévision"], vec!["tv", "telly"]]).unwrap();
        assert_eq!(s.of("tv"), ["television", "telly"]);
        assert_eq!(s.of("television"), ["tv"]);
        assert!(s.of("radio").is_empty());
        assert_eq!(
            Synonyms::from_groups(&[vec!["tv"]]),
            Err(SynonymsError::GroupSize { group: 0 })
        );
        assert_eq!(
            Synonyms::from_groups(&[vec!["ssd", "solid state"]]),
            Err(SynonymsError::NotOneWord {
                group: 0,
                word: "solid state".into()
            })
        );
        assert!(Synonyms::from_json(br#"{"synonyms":[["a","b"]],"x":1}"#).is_err());
        assert!(
            Synonyms::electronics()
                .of("laptop")
                .contains(&"notebook".to_owned())
        );
    }
}
