//! What a search is asked: the ranking inputs of [`super::index::SearchIndex::search`] (words,
//! filters, order, facets, page window). The HTTP parameters ([`super::query`]) are parsed into
//! these; the index never sees a request.

/// Facets a search can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Brand,
    Category,
    /// Fixed price bands (`0-50`, `50-100`, … `2000+`).
    Price,
}

impl Facet {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "brand" => Facet::Brand,
            "category" => Facet::Category,
            "price" => Facet::Price,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Facet::Brand => "brand",
            Facet::Category => "category",
            Facet::Price => "price",
        }
    }
}

/// The filters of a search, by field, so facets can leave their own out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFilter {
    /// A category and its sub-categories.
    pub category: Option<String>,
    /// Any of these brands (case-insensitive).
    pub brands: Vec<String>,
    pub min_price: Option<f32>,
    pub max_price: Option<f32>,
    pub in_stock: bool,
    /// Only products rated at least this (unrated products are left out).
    pub rating_min: Option<f32>,
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Popularity,
    /// Most recently listed first.
    Newest,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "relevance" => Sort::Relevance,
            "price_asc" => Sort::PriceAsc,
            "price_desc" => Sort::PriceDesc,
            "popularity" => Sort::Popularity,
            "newest" => Sort::Newest,
            _ => return None,
        })
    }
}

/// One search to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search<'a> {
    /// The words as typed (empty: browse).
    pub q: &'a str,
    pub filter: &'a SearchFilter,
    pub sort: Sort,
    pub facets: &'a [Facet],
    /// Results wanted.
    pub k: usize,
    /// Results skipped before them.
    pub offset: usize,
    /// A "cheap" intent: a price ceiling at the cheaper quarter of what matches.
    pub cheap: bool,
}
