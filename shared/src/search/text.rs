//! Search text handling, the same for products and queries: normalisation (lowercase, accent
//! folding), tokenisation that keeps electronics model numbers whole ("65QN90C", "WH-1000XM5" →
//! `wh1000xm5`) while also indexing their letter and digit runs (`wh`, `1000`, `xm`, `5`),
//! numbers with units written one way (`65"`, "65 inch", "65-inch" → `65in`; "1 TB" → `1tb`),
//! plural and simple inflection stripping ("headphones" → `headphone`, "batteries" → `battery`),
//! the query words that carry no meaning (stopwords), and bounded edit distance for typo
//! tolerance (1 edit from 5 characters, 2 from 9, none on anything with a digit).

/// Folds common Latin accents to their base letter.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        'ß' => 's',
        c => c,
    }
}

/// Lowercased, accent-folded words: runs of letters and digits, with `-`, `.` and `/` inside a
/// word kept as joiners (so "WH-1000XM5" stays one word).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().flat_map(char::to_lowercase).map(fold).peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let joiner = matches!(c, '-' | '.' | '/')
            && !cur.is_empty()
            && next.is_some_and(char::is_alphanumeric);
        // `65"`, `65''` and `65″` are inches.
        let inch_mark = matches!(c, '"' | '″' | '\'')
            && cur.ends_with(|d: char| d.is_ascii_digit())
            && (c != '\'' || next == Some('\''));
        if inch_mark {
            cur.push_str("in");
            out.push(std::mem::take(&mut cur));
        } else if c.is_alphanumeric() || joiner {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits at letter/digit boundaries and joiners: `65qn90c` → `65`, `qn`, `90`, `c`.
fn runs(word: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut digit: Option<bool> = None;
    for c in word.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            digit = None;
            continue;
        }
        let d = c.is_ascii_digit();
        if digit.is_some_and(|p| p != d) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        digit = Some(d);
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a term is (part of) a model number or a number: matched exactly, never by typo.
pub fn is_exact_only(term: &str) -> bool {
    term.chars().any(|c| c.is_ascii_digit())
}

/// Units a number may carry, each alias with the unit's one spelling.
const UNITS: &[(&str, &str)] = &[
    ("in", "in"),
    ("inch", "in"),
    ("inches", "in"),
    ("zoll", "in"),
    ("tb", "tb"),
    ("terabyte", "tb"),
    ("terabytes", "tb"),
    ("gb", "gb"),
    ("gigabyte", "gb"),
    ("gigabytes", "gb"),
    ("mb", "mb"),
    ("mm", "mm"),
    ("cm", "cm"),
    ("m", "m"),
    ("meter", "m"),
    ("meters", "m"),
    ("metre", "m"),
    ("metres", "m"),
    ("w", "w"),
    ("watt", "w"),
    ("watts", "w"),
    ("hz", "hz"),
    ("hertz", "hz"),
    ("mah", "mah"),
    ("mp", "mp"),
    ("megapixel", "mp"),
    ("megapixels", "mp"),
    ("k", "k"),
    ("rpm", "rpm"),
];

/// The one spelling of a unit alias.
pub fn unit(alias: &str) -> Option<&'static str> {
    UNITS.iter().find(|(a, _)| *a == alias).map(|u| u.1)
}

/// Whether a word is a number (digits, with `.` or `,` inside).
fn is_number(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_digit())
        && w.ends_with(|c: char| c.is_ascii_digit())
        && w.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

/// A word that is a number and a unit ("65inch", "1tb", "65-inch") in its one spelling.
fn with_unit(w: &str) -> Option<String> {
    let split = w.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
    let (number, rest) = w.split_at(split);
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    (is_number(number) && !number.is_empty()).then_some(())?;
    unit(rest).map(|u| format!("{number}{u}"))
}

/// Words irregular enough to keep as they are.
const KEEP: &[&str] = &[
    "series", "species", "news", "lens", "glass", "pass", "plus", "bus", "status", "canvas",
    "always", "mars", "kits", "its", "this", "his", "does", "yes", "ios", "macos", "windows",
];

/// Plural and simple inflection stripping for words of letters: "headphones" → `headphone`,
/// "batteries" → `battery`, "boxes" → `box`, "switches" → `switch`; short words, words with
/// digits and a few irregular words are left alone. The same on both sides, so only
/// suggestions ever show a stem.
pub fn stem(w: &str) -> String {
    stem_owned(w.to_owned())
}

/// [`stem`] in place.
fn stem_owned(mut w: String) -> String {
    let n = w.len();
    if n < 4 || !w.chars().all(char::is_alphabetic) || KEEP.contains(&w.as_str()) {
        return w;
    }
    if let Some(base) = w.strip_suffix("ies")
        && n > 4
        && !base.ends_with(['e', 'a'])
    {
        w.truncate(n - 3);
        w.push('y');
        return w;
    }
    for es in ["ches", "shes", "sses", "xes", "zes"] {
        if w.ends_with(es) {
            w.truncate(n - 2);
            return w;
        }
    }
    if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.truncate(n - 1);
    }
    w
}

/// A text's words in their searched form: lowercased, accents folded, punctuation inside words
/// removed, a number followed by a unit joined into one word (`65 inch` → `65in`), plurals
/// stemmed. Products and queries both go through this.
pub fn analyse(s: &str) -> Vec<String> {
    let mut raw = words(s);
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if is_number(&raw[i])
            && let Some(u) = raw.get(i + 1).and_then(|n| unit(n))
        {
            out.push(format!("{}{u}", joined(&raw[i])));
            i += 2;
            continue;
        }
        let w = std::mem::take(&mut raw[i]);
        if w.contains('/') {
            // "16GB/512GB": two sizes.
            let sizes: Vec<String> = w.split('/').filter_map(with_unit).collect();
            if sizes.len() == w.split('/').count() {
                out.extend(sizes.iter().map(|x| joined(x)));
                i += 1;
                continue;
            }
        }
        let word = with_unit(&w).unwrap_or(w);
        let word = if word.chars().all(char::is_alphanumeric) {
            word
        } else {
            joined(&word)
        };
        out.push(stem_owned(word));
        i += 1;
    }
    out.retain(|w| !w.is_empty());
    out
}

/// A word without its joiners.
fn joined(w: &str) -> String {
    w.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The terms indexed for a text: each analysed word and, for words that mix letters and digits
/// or contain joiners, their runs too. Order kept, duplicates allowed.
pub fn terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let raw = words(s);
    let analysed = analyse(s);
    out.extend(analysed.iter().cloned());
    for w in raw {
        let parts = runs(&w);
        if parts.len() > 1 {
            out.extend(parts);
        }
    }
    out
}

/// The words of a query as typed, joined (as [`terms`] joins them), without stemming: what
/// suggestions and past queries are keyed on.
pub fn query_terms(q: &str) -> Vec<String> {
    words(q).into_iter().map(|w| joined(&w)).collect()
}

/// Query words that narrow nothing: left out when they are not part of a known phrase.
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "the",
    "for",
    "with",
    "of",
    "to",
    "in",
    "on",
    "my",
    "me",
    "i",
    "new",
    "buy",
    "best",
    "good",
    "top",
    "some",
    "any",
    "that",
    "fit",
    "fits",
    "compatible",
    "which",
    "who",
    "what",
    "by",
];

/// Whether a (analysed) query word narrows nothing.
pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// Edits a query term may be away from an indexed term.
pub fn max_edits(term: &str) -> usize {
    let n = term.chars().count();
    if is_exact_only(term) {
        0
    } else if n >= 9 {
        2
    } else if n >= 5 {
        1
    } else {
        0
    }
}

/// Length of the words that get no edit but one swap of adjacent letters ("crad" → `card`,
/// "mosue" has a budget of its own): the commonest slip of a fast typist, and at four letters
/// rarely another word of a shop's vocabulary. Tried only when the word itself is unknown.
pub const SWAP_ONLY_LEN: usize = 4;

/// The words one adjacent swap away from a word of [`SWAP_ONLY_LEN`] letters (none for other
/// words, words with digits or words that are one letter repeated).
pub fn swaps(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() != SWAP_ONLY_LEN || is_exact_only(word) {
        return Vec::new();
    }
    let mut out: Vec<String> = (0..chars.len() - 1)
        .filter(|&i| chars[i] != chars[i + 1])
        .map(|i| {
            let mut c = chars.clone();
            c.swap(i, i + 1);
            c.into_iter().collect()
        })
        .collect();
    out.dedup();
    out
}

/// A word ending in `is`, which [`stem`] leaves alone ("batteris", where "batteries" →
/// `battery`), may be a misspelled plural: the word without its `s`, to look for typos of that
/// too.
pub fn misspelled_plural(word: &str) -> Option<&str> {
    let base = word.strip_suffix('s')?;
    (word.ends_with("is")
        && base.chars().count() >= 5
        && word.chars().all(char::is_alphabetic)
        && !KEEP.contains(&word))
    .then_some(base)
}

/// Whether the query word `q` may be a typo of the indexed word `v`: within its edit budget,
/// one swap for a short word, or a misspelled plural within the budget of its base.
pub fn typo_of(q: &str, v: &str) -> bool {
    within(q, v, max_edits(q))
        || one_swap(q, v)
        || misspelled_plural(q).is_some_and(|b| within(b, v, max_edits(b)))
}

/// Whether `v` is one of [`swaps`] of `q`, without building them.
fn one_swap(q: &str, v: &str) -> bool {
    if q.len() != v.len() || q.chars().count() != SWAP_ONLY_LEN || is_exact_only(q) {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (q.chars().collect(), v.chars().collect());
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    matches!(diff[..], [i, j] if j == i + 1 && a[i] == b[j] && a[j] == b[i])
}

/// Words up to this many characters are compared without allocating.
const SHORT: usize = 48;

/// Copies the characters of `s` into `buf`, or `None` when they do not fit.
fn chars_into(s: &str, buf: &mut [char; SHORT]) -> Option<usize> {
    let mut n = 0;
    for c in s.chars() {
        *buf.get_mut(n)? = c;
        n += 1;
    }
    Some(n)
}

/// Whether `a` and `b` are at most `k` edits apart (insert, delete, substitute, swap of two
/// neighbours), computed on a band of width `2k + 1`. Called for many candidate words per
/// query, so short words are compared on the stack.
pub fn within(a: &str, b: &str, k: usize) -> bool {
    let (mut sa, mut sb) = (['\0'; SHORT], ['\0'; SHORT]);
    let (long_a, long_b): (Vec<char>, Vec<char>);
    let a: &[char] = match chars_into(a, &mut sa) {
        Some(n) => &sa[..n],
        None => {
            long_a = a.chars().collect();
            &long_a
        }
    };
    let b: &[char] = match chars_into(b, &mut sb) {
        Some(n) => &sb[..n],
        None => {
            long_b = b.chars().collect();
            &long_b
        }
    };
    within_chars(a, b, k)
}

fn within_chars(a: &[char], b: &[char], k: usize) -> bool {
    if a.len().abs_diff(b.len()) > k {
        return false;
    }
    if k == 0 {
        return a == b;
    }
    let (n, m) = (a.len(), b.len());
    let big = k + 1;
    let w = m + 1;
    // Three rows (two back, previous, current), rotated.
    let mut stack = [0usize; 3 * (SHORT + 1)];
    let mut heap: Vec<usize>;
    let rows: &mut [usize] = if w <= SHORT + 1 {
        &mut stack[..3 * w]
    } else {
        heap = vec![0; 3 * w];
        &mut heap
    };
    let (mut prev2, mut prev, mut cur) = (0, w, 2 * w);
    for j in 0..w {
        rows[prev2 + j] = big;
        rows[prev + j] = j.min(big);
    }
    for i in 1..=n {
        rows[cur..cur + w].fill(big);
        rows[cur] = i.min(big);
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(m);
        let mut best = rows[cur];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[prev + j] + 1)
                .min(rows[cur + j - 1] + 1)
                .min(rows[prev + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[prev2 + j - 2] + 1);
            }
            rows[cur + j] = v.min(big);
            best = best.min(rows[cur + j]);
        }
        if best > k {
            return false;
        }
        (prev2, prev, cur) = (prev, cur, prev2);
    }
    rows[prev + m] <= k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_numbers_stay_whole_and_split_into_runs() {
        assert_eq!(
            terms("Samsung 65QN90C Neo QLED"),
            ["samsung", "65qn90c", "neo", "qled", "65", "qn", "90", "c"]
        );
        assert_eq!(
            terms("Sony WH-1000XM5"),
            ["sony", "wh1000xm5", "wh", "1000", "xm", "5"]
        );
        assert_eq!(
            terms("Crème brûlée, 2.5 kg"),
            ["creme", "brulee", "25", "kg", "2", "5"]
        );
        assert_eq!(query_terms("RTX-4070 laptops"), ["rtx4070", "laptops"]);
    }

    #[test]
    fn numbers_with_units_are_written_one_way() {
        for q in [
            "65\" tv",
            "65 inch tv",
            "65-inch TV",
            "65in tv",
            "65'' tv",
            "65 inches tv",
        ] {
            assert_eq!(analyse(q), ["65in", "tv"], "{q}");
        }
        assert_eq!(analyse("1 TB ssd"), ["1tb", "ssd"]);
        assert_eq!(analyse("2TB"), ["2tb"]);
        assert_eq!(analyse("6.1\" screen"), ["61in", "screen"]);
        assert_eq!(analyse("144 Hz"), ["144hz"]);
        assert_eq!(analyse("4k tv"), ["4k", "tv"]);
        assert_eq!(analyse("16GB/512GB"), ["16gb", "512gb"]);
        assert_eq!(
            analyse("iphone 15 case"),
            ["iphone", "15", "case"],
            "15 has no unit"
        );
        assert_eq!(
            terms("LG OLED C3 65\""),
            ["lg", "oled", "c3", "65in", "c", "3", "65", "in"]
        );
    }

    #[test]
    fn plurals_and_inflections_share_a_stem() {
        for (a, b) in [
            ("headphones", "headphone"),
            ("batteries", "battery"),
            ("boxes", "box"),
            ("switches", "switch"),
            ("cases", "case"),
            ("cables", "cable"),
            ("series", "series"),
            ("glass", "glass"),
            ("tvs", "tvs"),
            ("ssds", "ssd"),
        ] {
            assert_eq!(stem(a), b, "{a}");
        }
        assert_eq!(analyse("Wireless Headphones"), ["wireless", "headphone"]);
        assert!(is_stopword("for") && !is_stopword("case"));
    }

    #[test]
    fn typo_budget_depends_on_length_and_digits() {
        assert_eq!(max_edits("ipad"), 0);
        assert_eq!(max_edits("galaxy"), 1);
        assert_eq!(max_edits("headphones"), 2);
        assert_eq!(max_edits("a2890"), 0);
        assert!(within("samsng", "samsung", 1));
        assert!(within("macbok", "macbook", 1));
        assert!(within("galxay", "galaxy", 1), "a swap is one edit");
        assert!(!within("galaxy", "gala", 1));
        assert!(within("headphnoes", "headphones", 2));
        assert!(!within("4070", "4080", 0));
        assert!(within("same", "same", 0));
    }

    #[test]
    fn short_words_allow_a_swap_and_misspelled_plurals_their_base() {
        assert_eq!(swaps("crad"), ["rcad", "card", "crda"]);
        assert!(swaps("card1").is_empty() && swaps("cards").is_empty() && swaps("4k0t").is_empty());
        assert_eq!(swaps("sees"), ["eses", "sese"]);
        assert!(typo_of("crad", "card") && !typo_of("crad", "cord"));
        for (q, v) in [("crad", "card"), ("oeld", "oled"), ("hmdi", "hdmi")] {
            assert!(one_swap(q, v) && swaps(q).contains(&v.to_owned()), "{q}");
        }
        assert!(
            !one_swap("card", "card") && !one_swap("crad", "dacr") && !one_swap("cards", "crads")
        );
        assert_eq!(misspelled_plural("batteris"), Some("batteri"));
        assert!(typo_of("batteris", "battery"));
        assert_eq!(misspelled_plural("headphones"), None, "stemmed already");
        assert_eq!(misspelled_plural("wireless"), None);
        assert_eq!(misspelled_plural("this"), None);
        assert!(!typo_of("analysis", "anal"));
    }
}
