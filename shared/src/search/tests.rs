//! Behaviour of the search engine as a whole: index, ranking, intents, suggestions.

use std::collections::HashMap;

use crate::artifact::{ItemRecord, Model, ModelData, NONE};
use crate::search::answer;
use crate::search::index::{Doc, Learned, SearchIndex};
use crate::search::query::SearchQuery;
use crate::search::rank::Found;
use crate::search::spec::{Facet, SearchFilter, Sort};
use crate::search::synonyms::Synonyms;

fn catalog() -> Model {
    let item = |id: &str, title: &str, category: u32, brand: u32, price: f32| ItemRecord {
        id: id.into(),
        title: title.into(),
        category,
        brand,
        price,
        in_stock: price < 2000.0,
        ..ItemRecord::default()
    };
    let items = vec![
        item("s24", "Samsung Galaxy S24 Ultra 256GB", 0, 0, 1299.0),
        item("a15", "Samsung Galaxy A15", 0, 0, 199.0),
        item("tv65", "Samsung 65QN90C Neo QLED TV", 1, 0, 2199.0),
        item("mba", "Apple MacBook Air 13 M3", 2, 1, 1199.0),
        item("mbp", "Apple MacBook Pro 14", 2, 1, 2499.0),
        item("xm5", "Sony WH-1000XM5 Headphones", 3, 2, 349.0),
        item(
            "rtx",
            "ASUS Dual GeForce RTX 4070 graphics card",
            4,
            3,
            599.0,
        ),
        item(
            "rtx80",
            "ASUS TUF GeForce RTX 4080 graphics card",
            4,
            3,
            1099.0,
        ),
        item("case", "Phone case for Galaxy S24", 0, NONE, 19.0),
    ];
    let n = items.len();
    let data = ModelData {
        version: "search-test".into(),
        items,
        categories: vec![
            "electronics.smartphone".into(),
            "electronics.video.tv".into(),
            "computers.notebook".into(),
            "electronics.audio.headphone".into(),
            "computers.components.videocards".into(),
        ],
        brands: vec![
            "samsung".into(),
            "apple".into(),
            "sony".into(),
            "asus".into(),
        ],
        popularity: (0..n).map(|i| (n - i) as f32).collect(),
        popular: (0..n as u32).collect(),
        category_popular: vec![Vec::new(); 5],
        co_view: vec![Vec::new(); n],
        co_buy: vec![Vec::new(); n],
        ..ModelData::default()
    };
    Model::load(data.encode().unwrap()).unwrap()
}

fn ids(m: &Model, f: &Found) -> Vec<String> {
    f.hits.iter().map(|h| m.item_id(h.0).to_owned()).collect()
}

fn ask(q: &str, f: &SearchFilter, facets: &[Facet], sort: Sort, k: usize) -> SearchQuery {
    SearchQuery {
        q: q.into(),
        filter: f.clone(),
        sort,
        facets: facets.to_vec(),
        page: 1,
        k,
        user_id: None,
        anonymous_id: None,
        user_token: None,
        session: None,
        intents: true,
    }
}

fn search(m: &Model, ix: &SearchIndex, q: &str, f: &SearchFilter) -> Vec<String> {
    ids(
        m,
        &ix.search(m, &ask(q, f, &[], Sort::Relevance, 10).spec(), None),
    )
}

#[test]
fn typos_prefixes_and_model_numbers() {
    let m = catalog();
    let ix = SearchIndex::build(&m);
    let none = SearchFilter::default();
    let mut galaxies = search(&m, &ix, "samsng galaxy", &none)[..2].to_vec();
    galaxies.sort();
    assert_eq!(galaxies, ["a15", "s24"]);
    assert_eq!(search(&m, &ix, "macbok air", &none)[0], "mba");
    assert_eq!(search(&m, &ix, "65QN90C", &none)[0], "tv65");
    assert_eq!(
        search(&m, &ix, "rtx 4070", &none)[0],
        "rtx",
        "4070 never matches 4080: the 4080 only comes after, matching fewer words"
    );
    assert_eq!(search(&m, &ix, "wh-1000xm5", &none)[0], "xm5");
    assert_eq!(
        search(&m, &ix, "headph", &none),
        ["xm5"],
        "the last word is a prefix"
    );
    assert!(search(&m, &ix, "4090", &none).is_empty());
    assert_eq!(
        ix.did_you_mean("samsnugg galaxi").as_deref(),
        Some("samsung galaxy"),
        "two edits in an 8-letter word are past the typo budget, not past did-you-mean"
    );
    assert_eq!(
        ix.did_you_mean("samsnug galaxy"),
        None,
        "the typo already finds them: nothing to suggest"
    );
    assert_eq!(ix.did_you_mean("galaxy"), None);
    assert_eq!(ix.complete("samsung gal", 3), ["samsung galaxy"]);
}

/// Issue 20's last zero-result queries: "graphics crad under 500" (a swap in a 4-letter word had
/// no typo budget) and "batteris" (a misspelled plural the stemmer cannot strip).
#[test]
fn regression_a_swap_in_a_short_word_and_a_misspelled_plural_still_match() {
    let m = catalog();
    let ix = SearchIndex::build(&m);
    let none = SearchFilter::default();
    let mut cards = search(&m, &ix, "crad", &none);
    cards.sort();
    assert_eq!(cards, ["rtx", "rtx80"]);
    let mut galaxies = search(&m, &ix, "galaxis", &none);
    galaxies.sort();
    assert_eq!(galaxies, ["a15", "case", "s24"]);
    assert!(
        search(&m, &ix, "cdar", &none).is_empty(),
        "two swaps are not one"
    );
}

#[test]
fn filters_never_leak_and_facets_are_disjunctive() {
    let m = catalog();
    let ix = SearchIndex::build(&m);
    let f = SearchFilter {
        brands: vec!["Samsung".into()],
        max_price: Some(1500.0),
        ..SearchFilter::default()
    };
    let found = ix.search(
        &m,
        &ask("", &f, &[Facet::Brand, Facet::Category], Sort::PriceAsc, 20).spec(),
        None,
    );
    let got = ids(&m, &found);
    assert_eq!(found.total, got.len());
    for id in &got {
        let i = m.item_index(id).unwrap();
        assert_eq!(m.item_brand(i), "samsung");
        assert!(m.item_price(i) <= 1500.0);
    }
    // Brand counts ignore the brand filter but keep the price filter: brute force agrees.
    let brute = |brand: &str| {
        (0..m.n_items() as u32)
            .filter(|&i| m.item_brand(i) == brand && m.item_price(i) <= 1500.0)
            .count()
    };
    let brands: HashMap<String, usize> = found.facets[0].1.iter().cloned().collect();
    for b in ["samsung", "apple", "sony", "asus"] {
        assert_eq!(brands.get(b).copied().unwrap_or(0), brute(b), "{b}");
    }
    let cats: HashMap<String, usize> = found.facets[1].1.iter().cloned().collect();
    assert_eq!(cats.get("electronics.smartphone"), Some(&2));
    assert_eq!(
        cats.get("computers.notebook"),
        None,
        "brand filter applies to categories"
    );
    let prices: Vec<f32> = found.hits.iter().map(|h| m.item_price(h.0)).collect();
    assert!(prices.is_sorted(), "{prices:?}");
    let c = SearchFilter {
        category: Some("computers".into()),
        ..SearchFilter::default()
    };
    assert_eq!(search(&m, &ix, "", &c).len(), 4);
}

#[test]
fn synonyms_ratings_newest_and_past_queries() {
    let mut data = crate::artifact::tests::fixture();
    for (i, it) in data.items.iter_mut().enumerate() {
        it.rating = (i != 2).then_some(3.0 + i as f32 * 0.5);
        it.created_at = 1_000 * (5 - i as i64);
    }
    let m = Model::load(data.encode().unwrap()).unwrap();
    let ix = SearchIndex::from_docs(
        (0..m.n_items() as u32).map(|i| Doc {
            title: m.item_title(i),
            brand: m.item_brand(i),
            category: m.item_category_name(i),
            attributes: if i == 2 { vec!["Bluetooth"] } else { vec![] },
            fits: vec![],
        }),
        Synonyms::from_groups(&[vec!["notebook", "laptop"]]).unwrap(),
        vec![("ultrabook 14".into(), 9), ("usb cable".into(), 4)],
    );
    let none = SearchFilter::default();
    // "notebook" is in no title: the synonym finds the laptops.
    let mut got = ids(
        &m,
        &ix.search(
            &m,
            &ask("notebook", &none, &[], Sort::Relevance, 10).spec(),
            None,
        ),
    );
    got.sort();
    assert_eq!(got, ["laptop-1", "laptop-2"]);
    assert_eq!(
        search(&m, &ix, "bluetooth", &none),
        ["mouse-1"],
        "attributes are searched"
    );
    let rated = SearchFilter {
        rating_min: Some(4.0),
        ..SearchFilter::default()
    };
    let found = ix.search(
        &m,
        &ask("", &rated, &[Facet::Brand], Sort::Newest, 10).spec(),
        None,
    );
    assert_eq!(
        ids(&m, &found),
        ["cable-1", "phone-1"],
        "rated ≥ 4, newest first"
    );
    assert_eq!(found.facets[0].1, [("acme".to_owned(), 1)]);
    assert_eq!(
        ix.complete("u", 3),
        ["ultrabook 14", "usb cable", "ultrabook"]
    );
    assert_eq!(ix.complete("usb c", 1), ["usb cable"]);
}

#[test]
fn a_shoppers_taste_lifts_what_they_like() {
    let m = Model::load(crate::artifact::tests::fixture_v2().encode().unwrap()).unwrap();
    let ix = SearchIndex::build(&m);
    let browse = ask("", &SearchFilter::default(), &[], Sort::Relevance, 5);
    assert_eq!(
        ids(&m, &ix.search(&m, &browse.spec(), None))[0],
        "mouse-1",
        "most popular"
    );
    let history = [crate::personal::Interaction {
        idx: m.item_index("laptop-1").unwrap(),
        weight: 1.0,
    }];
    let blend = crate::personal::Blend::of(&m);
    let taste = crate::personal::taste(&m, &history, &blend).unwrap();
    let top = ids(&m, &ix.search(&m, &browse.spec(), Some(&taste)));
    assert!(top[0].starts_with("laptop"), "{top:?}");
}

/// id, title, category, brand, price, attributes.
type Row<'a> = (&'a str, &'a str, u32, u32, f32, Vec<&'a str>);

fn shop() -> (Model, SearchIndex) {
    let item = |id: &str, title: &str, category: u32, brand: u32, price: f32| ItemRecord {
        id: id.into(),
        title: title.into(),
        category,
        brand,
        price,
        in_stock: true,
        ..ItemRecord::default()
    };
    // (id, title, category, brand, price, attributes)
    let rows: Vec<Row> = vec![
        (
            "xm5",
            "Sony WH-1000XM5 Black",
            0,
            0,
            349.0,
            vec!["Over-ear", "Wireless Bluetooth", "Active Noise Cancelling"],
        ),
        (
            "hd560",
            "Sennheiser HD 560S Black",
            0,
            1,
            179.0,
            vec!["Over-ear Open-back", "Wired"],
        ),
        (
            "buds",
            "Sony WF-1000XM4 White",
            0,
            0,
            229.0,
            vec![
                "True Wireless Earbuds In-ear",
                "Wireless Bluetooth",
                "Active Noise Cancelling",
            ],
        ),
        (
            "oled65",
            "LG OLED C3 65\"",
            1,
            2,
            1999.0,
            vec!["65\"", "OLED", "4K UHD"],
        ),
        (
            "oled55",
            "LG OLED C3 55\"",
            1,
            2,
            1399.0,
            vec!["55\"", "OLED", "4K UHD"],
        ),
        (
            "tcl65",
            "TCL P745 65\"",
            1,
            3,
            599.0,
            vec!["65\"", "LED", "4K UHD"],
        ),
        (
            "gpu1",
            "ASUS RTX 4070 Dual OC 12GB",
            2,
            4,
            599.0,
            vec!["NVIDIA GeForce RTX 4070", "12GB"],
        ),
        (
            "gpu2",
            "MSI RTX 4060 Ventus 2X 8GB",
            2,
            5,
            299.0,
            vec!["NVIDIA GeForce RTX 4060", "8GB"],
        ),
        (
            "ip15",
            "Apple iPhone 15 128GB",
            3,
            6,
            899.0,
            vec!["128GB", "5G"],
        ),
        (
            "s24",
            "Samsung Galaxy S24 256GB",
            3,
            7,
            999.0,
            vec!["256GB", "5G"],
        ),
        (
            "a54",
            "Samsung Galaxy A54 128GB",
            3,
            7,
            349.0,
            vec!["128GB", "5G"],
        ),
        (
            "case15",
            "Spigen Ultra Hybrid Case for Apple iPhone 15 Clear",
            4,
            8,
            19.0,
            vec!["Apple iPhone 15", "Clear"],
        ),
        (
            "case24",
            "Spigen Tough Armor Case for Samsung Galaxy S24 Black",
            4,
            8,
            25.0,
            vec!["Samsung Galaxy S24", "Black"],
        ),
        (
            "hdd",
            "Seagate BarraCuda 2TB",
            5,
            9,
            69.0,
            vec!["Internal Hard Drive HDD", "2TB"],
        ),
        (
            "ssd",
            "Samsung 990 Pro 1TB",
            5,
            7,
            129.0,
            vec!["Internal NVMe SSD", "1TB"],
        ),
        (
            "nb1",
            "Lenovo IdeaPad 5 16GB/512GB",
            6,
            10,
            749.0,
            vec!["16GB", "512GB SSD"],
        ),
        (
            "nb2",
            "Apple MacBook Air M2 8GB/256GB",
            6,
            6,
            1199.0,
            vec!["8GB", "256GB SSD"],
        ),
        (
            "nb3",
            "Dell XPS 13 9315 32GB/1TB",
            6,
            11,
            1699.0,
            vec!["32GB", "1TB SSD"],
        ),
    ];
    let items: Vec<ItemRecord> = rows.iter().map(|r| item(r.0, r.1, r.2, r.3, r.4)).collect();
    let n = items.len();
    let categories: Vec<String> = [
        "electronics.audio.headphone",
        "electronics.video.tv",
        "computers.components.videocards",
        "electronics.smartphone",
        "electronics.accessories.case",
        "computers.components.storage",
        "computers.notebook",
    ]
    .map(str::to_owned)
    .to_vec();
    let brands: Vec<String> = [
        "sony",
        "sennheiser",
        "lg",
        "tcl",
        "asus",
        "msi",
        "apple",
        "samsung",
        "spigen",
        "seagate",
        "lenovo",
        "dell",
    ]
    .map(str::to_owned)
    .to_vec();
    let data = ModelData {
        version: "shop".into(),
        items,
        categories: categories.clone(),
        brands: brands.clone(),
        popularity: (0..n).map(|i| (n - i) as f32).collect(),
        popular: (0..n as u32).collect(),
        category_popular: vec![Vec::new(); categories.len()],
        co_view: vec![Vec::new(); n],
        co_buy: vec![Vec::new(); n],
        ..ModelData::default()
    };
    let model = Model::load(data.encode().unwrap()).unwrap();
    let ix = SearchIndex::from_docs(
        rows.iter().map(|r| Doc {
            title: r.1,
            brand: &brands[r.3 as usize],
            category: &categories[r.2 as usize],
            attributes: r.5.clone(),
            fits: Vec::new(),
        }),
        Synonyms::electronics(),
        Vec::new(),
    );
    (model, ix)
}

fn answer(m: &Model, ix: &SearchIndex, q: &str) -> answer::Answer {
    answer::search(
        ix,
        m,
        &ask(q, &SearchFilter::default(), &[], Sort::Relevance, 10),
        None,
    )
}

fn top(m: &Model, ix: &SearchIndex, q: &str) -> Vec<String> {
    answer(m, ix, q).items.into_iter().map(|h| h.id).collect()
}

fn first_two(got: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = got.iter().take(2).map(String::as_str).collect();
    v.sort_unstable();
    v
}

#[test]
fn shoppers_words_find_categories_attributes_and_sizes() {
    let (m, ix) = shop();
    for q in [
        "wireless headphones",
        "noise cancelling headphones",
        "anc headphones",
        "bluetooth headphone",
    ] {
        assert_eq!(first_two(&top(&m, &ix, q)), ["buds", "xm5"], "{q}");
    }
    for q in ["gpu", "graphics cards", "video card", "graphics card"] {
        assert_eq!(first_two(&top(&m, &ix, q)), ["gpu1", "gpu2"], "{q}");
    }
    for q in ["65 inch tv", "65\" tv", "tv 65in", "65-inch television"] {
        assert_eq!(first_two(&top(&m, &ix, q)), ["oled65", "tcl65"], "{q}");
    }
    assert_eq!(
        top(&m, &ix, "4k tv").len(),
        3,
        "every tv is 4K; nothing else is a tv"
    );
    assert_eq!(top(&m, &ix, "hard drive")[0], "hdd");
    assert_eq!(top(&m, &ix, "1tb ssd")[0], "ssd");
    assert_eq!(top(&m, &ix, "laptop 32gb")[0], "nb3");
    assert_eq!(top(&m, &ix, "notebooks")[..3].len(), 3);
}

#[test]
fn accessories_for_a_product_rank_above_the_product() {
    let (m, ix) = shop();
    assert_eq!(top(&m, &ix, "iphone 15 case")[0], "case15");
    assert_eq!(top(&m, &ix, "samsung phone case")[0], "case24");
    assert_eq!(top(&m, &ix, "case for galaxy s24")[0], "case24");
    assert_eq!(first_two(&top(&m, &ix, "samsung phone")), ["a54", "s24"]);
}

#[test]
fn no_dead_ends_and_words_matched_rank_first() {
    let (m, ix) = shop();
    let a = answer(&m, &ix, "sony wireless speaker");
    assert_eq!(
        a.relaxed.map(|r| (r.required, r.of)),
        Some((1, 3)),
        "no speaker in the shop"
    );
    let ids: Vec<String> = a.items.iter().map(|h| h.id.clone()).collect();
    assert_eq!(first_two(&ids), ["buds", "xm5"], "two words matched first");
    assert_eq!(
        answer(&m, &ix, "zzzz qqqq").total,
        0,
        "nothing matches any word"
    );
    let full = answer::search(
        &ix,
        &m,
        &ask("sony", &SearchFilter::default(), &[], Sort::Relevance, 2),
        None,
    );
    assert_eq!(full.relaxed, None);
}

#[test]
fn price_words_become_removable_filters() {
    let (m, ix) = shop();
    let a = answer(&m, &ix, "laptop under 800");
    assert_eq!(top(&m, &ix, "laptop under 800"), ["nb1"]);
    assert_eq!(a.intents.len(), 1);
    assert_eq!(a.intents[0].max_price, Some(800.0));
    assert_eq!(a.intents[0].without, "laptop");
    let mut off = ask(
        "laptop under 800",
        &SearchFilter::default(),
        &[],
        Sort::Relevance,
        10,
    );
    off.intents = false;
    assert!(answer::search(&ix, &m, &off, None).intents.is_empty());
    let cheap = answer(&m, &ix, "cheap phone");
    assert_eq!(cheap.items[0].id, "a54", "{:?}", cheap.items);
    let ceiling = cheap.intents[0].max_price.unwrap();
    assert!(cheap.items.iter().all(|h| h.price <= ceiling));
    let explicit = SearchFilter {
        max_price: Some(2000.0),
        ..SearchFilter::default()
    };
    let a = answer::search(
        &ix,
        &m,
        &ask("laptop under 800", &explicit, &[], Sort::Relevance, 10),
        None,
    );
    assert!(a.intents.is_empty(), "the shopper's own price filter wins");
}

#[test]
fn did_you_mean_only_when_it_clearly_finds_more() {
    let (m, ix) = shop();
    let a = answer(&m, &ix, "headphnoes");
    assert!(
        a.total > 0 && a.did_you_mean.is_none(),
        "typo tolerance found them"
    );
    assert_eq!(
        ix.did_you_mean("noise cancelling mouse"),
        None,
        "never a mix that matches nothing"
    );
    assert_eq!(
        ix.did_you_mean("seagatte barracuda"),
        None,
        "one edit: typo tolerance finds it"
    );
    assert_eq!(
        ix.did_you_mean("seegatt barracuda").as_deref(),
        Some("seagate barracuda")
    );
}

#[test]
fn learned_boosts_move_the_chosen_product_up_for_that_query_only() {
    let (m, ix) = shop();
    let before = top(&m, &ix, "samsung");
    let other = top(&m, &ix, "galaxy 128gb");
    let chosen = m.item_index("ssd").unwrap();
    assert_ne!(before[0], "ssd");
    let ix = ix.with_learned(vec![
        (
            crate::search::index::query_key("samsung"),
            Learned {
                category: None,
                boosts: vec![(chosen, 255)],
            },
        ),
        (
            "pixel".into(),
            Learned {
                category: Some("electronics.smartphone".into()),
                boosts: vec![],
            },
        ),
    ]);
    assert_eq!(top(&m, &ix, "samsung")[0], "ssd");
    assert_eq!(
        top(&m, &ix, "galaxy 128gb"),
        other,
        "another query is not moved"
    );
    assert_eq!(
        top(&m, &ix, "pixel").len(),
        3,
        "a learned category stands for a query that matches nothing"
    );
}
