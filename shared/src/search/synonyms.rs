//! Search synonyms: groups of interchangeable words and phrases ("tv" = "television",
//! "graphics card" = "gpu" = "videocards", "noise cancelling" = "anc"), configured by the shop
//! (`config/synonyms.json` in the lake, read by the trainer) or built in, and shipped inside the
//! search index. Each group is one *concept*: a product whose title, brand, category or
//! attributes contain any of the group's phrases is indexed under the concept's term, and a query
//! phrase from the group asks for that term, so multi-word synonyms match without positions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::search::text;

/// Most groups a configuration may hold.
pub const MAX_GROUPS: usize = 2_000;
/// Most phrases in one group.
pub const MAX_GROUP_WORDS: usize = 20;
/// Most words in one phrase.
pub const MAX_PHRASE_WORDS: usize = 4;
/// Concept terms start with this (query words never do: they are letters and digits).
pub const CONCEPT: char = '~';

/// The built-in groups for an electronics shop, used when the lake has no configuration:
/// category names and their common names, attribute values and how shoppers write them.
pub const ELECTRONICS: &[&[&str]] = &[
    &["tv", "tvs", "television", "telly", "smart tv"],
    &["laptop", "notebook"],
    &[
        "phone",
        "smartphone",
        "cellphone",
        "mobile",
        "mobile phone",
        "cell phone",
    ],
    &["headphone", "headset", "head phones"],
    &["earbud", "earphone", "ear buds", "in ear", "true wireless"],
    &["fridge", "refrigerator"],
    &["monitor", "computer monitor", "pc monitor", "display"],
    &["vacuum", "hoover"],
    &["pc", "desktop", "desktop computer"],
    &["camera", "cam", "digital camera"],
    &["speaker", "loudspeaker"],
    &["soundbar", "sound bar"],
    &["smartwatch", "smart watch", "watch"],
    &[
        "videocard",
        "video card",
        "graphics card",
        "graphic card",
        "gpu",
        "graphics adapter",
    ],
    &["hdd", "hard drive", "hard disk", "harddrive", "hard disc"],
    &["ssd", "solid state drive", "solid state"],
    &[
        "anc",
        "noise cancelling",
        "noise canceling",
        "noise cancellation",
        "active noise cancelling",
    ],
    &["wireless", "cordless"],
    &["wifi", "wlan"],
    &["usbc", "usb c", "type c", "usb type c"],
    &["4k", "uhd", "ultra hd", "2160p", "4k uhd"],
    &["qhd", "1440p", "wqhd", "2k"],
    &["full hd", "fhd", "1080p"],
    &[
        "case",
        "cover",
        "phone case",
        "phone cover",
        "protective case",
    ],
    &["charger", "charging", "power adapter", "wall charger"],
    &["cable", "cord"],
    &["battery", "batteries"],
    &["ink", "printer ink", "ink cartridge", "cartridge"],
    &["bag", "laptop bag", "shoulder bag", "messenger bag"],
    &["backpack", "laptop backpack", "rucksack"],
    &[
        "coffee machine",
        "coffee maker",
        "espresso machine",
        "coffee_machine",
    ],
    &["mouse", "mice"],
    &["gaming", "gamer"],
    &["mechanical", "mech"],
    &["waterproof", "water resistant", "water proof"],
];

/// Words that name a category without being its name: a query whose last such word is "ssd"
/// asks for the storage category first, though an SSD is no synonym of a hard drive. (Category
/// word → the words and phrases that also name it.)
pub const CATEGORY_NAMES: &[(&str, &[&str])] = &[
    ("storage", &["ssd", "hdd", "hard drive", "nvme", "drive"]),
    ("headphone", &["earbud", "earphone", "headset", "airpod"]),
    ("speaker", &["soundbar"]),
    ("bag", &["backpack", "sleeve"]),
    ("photo", &["camera", "mirrorless", "dslr"]),
    ("videocard", &["graphics card", "gpu"]),
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
    #[error("synonyms[{group}] must list between 2 and {MAX_GROUP_WORDS} phrases")]
    GroupSize { group: usize },
    #[error(
        "synonyms[{group}]: `{word}` must be 1 to {MAX_PHRASE_WORDS} words of letters and digits"
    )]
    NotAPhrase { group: usize, word: String },
    #[error("at most {MAX_GROUPS} synonym groups are allowed")]
    TooMany,
}

/// Synonym groups as concepts: each phrase (analysed words) → its concept term.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Synonyms {
    /// Analysed phrases of each group, the group's first phrase first.
    groups: Vec<Vec<Vec<String>>>,
    /// First word of a phrase → (phrase, group), longest phrases first.
    by_first: BTreeMap<String, Vec<(Vec<String>, usize)>>,
    /// Every word of every phrase, sorted: words a typo may be corrected to.
    words: Vec<String>,
}

impl Synonyms {
    /// Checks and analyses groups (each phrase as products and queries are analysed); a phrase in
    /// several groups belongs to each.
    pub fn from_groups<S: AsRef<str>>(groups: &[Vec<S>]) -> Result<Self, SynonymsError> {
        if groups.len() > MAX_GROUPS {
            return Err(SynonymsError::TooMany);
        }
        let mut out = Vec::with_capacity(groups.len());
        for (g, group) in groups.iter().enumerate() {
            if !(2..=MAX_GROUP_WORDS).contains(&group.len()) {
                return Err(SynonymsError::GroupSize { group: g });
            }
            let mut phrases: Vec<Vec<String>> = Vec::with_capacity(group.len());
            for w in group {
                let words = text::analyse(&w.as_ref().replace('_', " "));
                if words.is_empty() || words.len() > MAX_PHRASE_WORDS {
                    return Err(SynonymsError::NotAPhrase {
                        group: g,
                        word: w.as_ref().to_owned(),
                    });
                }
                if !phrases.contains(&words) {
                    phrases.push(words);
                }
            }
            out.push(phrases);
        }
        Ok(Self::from_analysed(out))
    }

    /// From groups already analysed (the index codec).
    pub(crate) fn from_analysed(groups: Vec<Vec<Vec<String>>>) -> Self {
        let mut by_first: BTreeMap<String, Vec<(Vec<String>, usize)>> = BTreeMap::new();
        for (g, phrases) in groups.iter().enumerate() {
            for p in phrases {
                if let Some(first) = p.first() {
                    by_first
                        .entry(first.clone())
                        .or_default()
                        .push((p.clone(), g));
                }
            }
        }
        for list in by_first.values_mut() {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        }
        let mut words: Vec<String> = groups.iter().flatten().flatten().cloned().collect();
        words.sort_unstable();
        words.dedup();
        Self {
            groups,
            by_first,
            words,
        }
    }

    /// Every word of every phrase, sorted.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether `word` is a word of some phrase.
    pub fn knows(&self, word: &str) -> bool {
        self.words
            .binary_search_by(|w| w.as_str().cmp(word))
            .is_ok()
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

    /// The concept term of group `g`: `~` and its first phrase's words joined by `_`.
    pub fn concept(&self, g: usize) -> String {
        let mut out = String::from(CONCEPT);
        if let Some(first) = self.groups.get(g).and_then(|p| p.first()) {
            out.push_str(&first.join("_"));
        }
        out
    }

    /// Every phrase of the groups in `words` (analysed), each occurrence with its concept.
    pub fn phrases_in(&self, words: &[String]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            for (phrase, g) in self.by_first.get(w).into_iter().flatten() {
                if words[i..].starts_with(phrase) {
                    out.push((i, phrase.len(), *g));
                }
            }
        }
        out
    }

    /// The longest phrase of any group starting at `words[at]`: its length and groups.
    pub fn longest_at(&self, words: &[String], at: usize) -> Option<(usize, Vec<usize>)> {
        let list = self.by_first.get(words.get(at)?)?;
        let (phrase, _) = list.iter().find(|(p, _)| words[at..].starts_with(p))?;
        let len = phrase.len();
        let groups = list
            .iter()
            .filter(|(p, _)| p.len() == len && words[at..].starts_with(p))
            .map(|x| x.1)
            .collect();
        Some((len, groups))
    }

    /// Groups whose one-word phrases include `word`.
    pub fn groups_of_word(&self, word: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_first
            .get(word)
            .into_iter()
            .flatten()
            .filter(|(p, _)| p.len() == 1)
            .map(|x| x.1)
    }

    /// The analysed groups (the index codec).
    pub(crate) fn groups(&self) -> &[Vec<Vec<String>>] {
        &self.groups
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        text::analyse(s)
    }

    #[test]
    fn groups_are_phrases_analysed_and_checked() {
        let s =
            Synonyms::from_groups(&[vec!["TV", "Télévisions"], vec!["hard drive", "HDD"]]).unwrap();
        assert_eq!(s.concept(0), "~tv");
        assert_eq!(s.concept(1), "~hard_drive");
        assert_eq!(s.groups_of_word("television").collect::<Vec<_>>(), [0]);
        assert_eq!(
            s.phrases_in(&words("WD Red Plus internal hard drives")),
            [(4, 2, 1)]
        );
        assert_eq!(
            s.longest_at(&words("hard drive 2tb"), 0),
            Some((2, vec![1]))
        );
        assert_eq!(s.longest_at(&words("hard candy"), 0), None);
        assert_eq!(
            Synonyms::from_groups(&[vec!["tv"]]),
            Err(SynonymsError::GroupSize { group: 0 })
        );
        assert!(matches!(
            Synonyms::from_groups(&[vec!["ssd", "a b c d e"]]),
            Err(SynonymsError::NotAPhrase { .. })
        ));
        assert!(Synonyms::from_json(br#"{"synonyms":[["a","b"]],"x":1}"#).is_err());
        let e = Synonyms::electronics();
        assert_eq!(e.len(), ELECTRONICS.len(), "every built-in group is valid");
        let laptop = e.groups_of_word("notebook").next().unwrap();
        assert_eq!(e.concept(laptop), "~laptop");
    }
}
