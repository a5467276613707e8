"""Privacy check: reads every file under the given roots (lake dirs, artifacts) the way a reader
would (Parquet through DuckDB with every cell as text; everything else as bytes, gzip/zstd left
as stored) and reports each needle (a fixture's raw emails and phone numbers) found anywhere.
Prints JSON: {"files": n, "parquet": n, "hits": [{"file", "needle"}]}.

usage: pii_scan.py <needles.json> <root> [<root> ...]
"""
import json
import os
import sys

import duckdb

needles = [n.lower() for n in json.load(open(sys.argv[1]))]
db = duckdb.connect()
hits, files, parquet = [], 0, 0


def check(path, text):
    text = text.lower()
    for n in needles:
        if n in text:
            hits.append({"file": path, "needle": n})


for root in sys.argv[2:]:
    paths = [root] if os.path.isfile(root) else [
        os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    for path in sorted(paths):
        files += 1
        if path.endswith(".parquet"):
            parquet += 1
            # Every cell as text (timestamps too: no Python time-zone objects needed).
            rel = db.execute("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet(?)", [path])
            for row in rel.fetchall():
                check(path, " ".join("" if v is None else str(v) for v in row))
        else:
            with open(path, "rb") as f:
                check(path, f.read().decode("utf-8", "replace"))

print(json.dumps({"files": files, "parquet": parquet, "hits": hits}))
