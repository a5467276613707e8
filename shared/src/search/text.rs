//! Search text handling: normalisation (lowercase, accent folding), tokenisation that keeps
//! electronics model numbers whole ("65QN90C", "WH-1000XM5" → `wh1000xm5`) while also indexing
//! their letter and digit runs (`wh`, `1000`, `xm`, `5`), and bounded edit distance for typo
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
    let chars: Vec<char> = s.chars().flat_map(char::to_lowercase).map(fold).collect();
    for (i, &c) in chars.iter().enumerate() {
        let joiner = matches!(c, '-' | '.' | '/')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || joiner {
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

/// The terms indexed for a text: each word joined (punctuation removed), and, for words that mix
/// letters and digits or contain joiners, their runs too. Order kept, duplicates allowed.
pub fn terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in words(s) {
        let joined: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
        let parts = runs(&w);
        out.push(joined);
        if parts.len() > 1 {
            out.extend(parts);
        }
    }
    out
}

/// The terms of a query: its words joined (as [`terms`] joins them), without the runs, so
/// "rtx 4070" asks for `rtx` and `4070` and "rtx4070" asks for the model number itself.
pub fn query_terms(q: &str) -> Vec<String> {
    words(q)
        .into_iter()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect())
        .collect()
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

/// Whether `a` and `b` are at most `k` edits apart (insert, delete, substitute, swap of two
/// neighbours), computed on a band of width `2k + 1`.
pub fn within(a: &str, b: &str, k: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > k {
        return false;
    }
    if k == 0 {
        return a == b;
    }
    let (n, m) = (a.len(), b.len());
    let big = k + 1;
    let mut prev2 = vec![big; m + 1];
    let mut prev: Vec<usize> = (0..=m).map(|j| j.min(big)).collect();
    for i in 1..=n {
        let mut cur = vec![big; m + 1];
        cur[0] = i.min(big);
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(m);
        let mut best = cur[0];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v.min(big);
            best = best.min(cur[j]);
        }
        if best > k {
            return false;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[m] <= k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_numbers_stay_whole_and_split_into_runs() {
        assert_eq!(
            terms("Samsung 65QN90C Neo QLED"),
            ["samsung", "65qn90c", "65", "qn", "90", "c", "neo", "qled"]
        );
        assert_eq!(
            terms("Sony WH-1000XM5"),
            ["sony", "wh1000xm5", "wh", "1000", "xm", "5"]
        );
        assert_eq!(
            terms("Crème brûlée, 2.5 kg"),
            ["creme", "brulee", "25", "2", "5", "kg"]
        );
        assert_eq!(query_terms("RTX-4070 laptop"), ["rtx4070", "laptop"]);
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
}
