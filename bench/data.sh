# Sourced by the benchmarks that read public data: where the data directory is, and what to do
# when a file is missing. The repository's tests never need any of it.
data=${VITRINE_DATA:-$root/../shared/data}

# need FILE...: stops with where to get each missing file publicly.
need() {
  local missing=0 f
  for f in "$@"; do
    [ -s "$data/$f" ] && continue
    missing=1
    echo "missing: $data/$f" >&2
    case "$f" in
      amazon-beauty.txt)
        echo "  Amazon reviews, Beauty 5-core, as user item sequences: data/Beauty.txt of" \
          "https://github.com/salesforce/ICLRec (McAuley et al.; research use)" >&2 ;;
      yoochoose-clicks-100k-*)
        echo "  RecSys Challenge 2015 (YooChoose) clicks, 100k sample: data/rsc15/prepared/ of" \
          "https://github.com/rn5l/session-rec (tab-separated SessionId ItemId Time)" >&2 ;;
      retailrocket-sessions-*)
        echo "  RetailRocket e-commerce dataset (https://www.kaggle.com/datasets/retailrocket/ecommerce-dataset)," \
          "SR-GNN-style sessions: the retail_rocket pickles of https://github.com/RecoHut-Datasets/retail_rocket" \
          "(branch v1), unrolled to 'SessionId ItemId Time' (Time = position)" >&2 ;;
      rees46-sample.csv)
        echo "  REES46 'eCommerce behavior data from multi category store' (Kaggle), first 4,999 rows;" \
          "a copy is in tests/fixtures/" >&2 ;;
    esac
  done
  if [ "$missing" = 1 ]; then
    echo "set VITRINE_DATA to the folder holding these files (default ../shared/data)" >&2
    exit 2
  fi
}
