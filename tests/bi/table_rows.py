"""Every Parquet table under a lake's tables/ as sorted rows, for comparing two lakes row for row
(tests/tests/e2e/cluster.rs: the embedded engine's tables against the Ballista cluster's).
Floats are rounded to 9 significant digits (a distributed sum adds in another order); the columns
named after --ignore (run times) are left out. Prints JSON {table: [row, ...]}.

usage: table_rows.py <lake dir> [--ignore col,col]
"""
import json
import os
import sys

import duckdb

lake = sys.argv[1]
ignore = set(sys.argv[3].split(",")) if len(sys.argv) > 3 and sys.argv[2] == "--ignore" else set()
db = duckdb.connect()
db.execute("SET TimeZone = 'UTC'")


def value(v):
    if isinstance(v, float):
        return float(f"{v:.9g}")
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    if v is None or isinstance(v, (int, str, bool)):
        return v
    return str(v)


out = {}
root = os.path.join(lake, "tables")
for dirpath, dirnames, filenames in sorted(os.walk(root)):
    dirnames.sort()
    if not any(f.endswith(".parquet") for f in filenames):
        continue
    # a table is the directory above its dt=… partitions, or the directory of its files
    table = dirpath
    while os.path.basename(table).startswith("dt="):
        table = os.path.dirname(table)
    name = os.path.relpath(table, root)
    if name in out:
        continue
    hive = any(d.startswith("dt=") for d in os.listdir(table))
    files = f"{table}/**/*.parquet" if hive else f"{table}/*.parquet"
    source = f"read_parquet('{files}', hive_partitioning = {str(hive).lower()}, union_by_name = true)"
    # times as text (no timezone module needed, and compared exactly)
    columns = [
        f'CAST("{n}" AS VARCHAR) AS "{n}"' if t.startswith(("TIMESTAMP", "DATE", "TIME")) else f'"{n}"'
        for n, t, *_ in db.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    ]
    cur = db.execute(f"SELECT {', '.join(columns)} FROM {source}")
    names = [d[0] for d in cur.description]
    rows = [
        {n: value(v) for n, v in zip(names, r) if n not in ignore}
        for r in cur.fetchall()
    ]
    out[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
print(json.dumps(out, sort_keys=True, default=str))
