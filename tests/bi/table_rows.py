"""Compares the tables a job wrote in two lakes row for row (tests/tests/e2e/cluster.rs and
bench/cluster.sh: the embedded engine's tables against the Ballista cluster's). Every table under
tables/ except the inputs (events, products; with --inputs yes those too), in DuckDB: both sides
sorted the same way, then row by row, doubles equal within 1e-9 relative (a distributed sum adds in another order), everything
else exactly; the columns named after --ignore (run times) are left out. Prints JSON
{table: {"rows": n, "differing": m}}.

usage: table_rows.py <lake dir> --compare <other lake dir> [--ignore col,col] [--inputs yes]
"""
import json
import os
import sys

import duckdb

lake = sys.argv[1]
args = sys.argv[2:]
ignore = set()
other = None
inputs = False
while args:
    flag, val, args = args[0], args[1], args[2:]
    if flag == "--ignore":
        ignore = set(val.split(","))
    elif flag == "--compare":
        other = val
    elif flag == "--inputs":
        inputs = val == "yes"
    else:
        sys.exit(f"unknown option {flag}")
db = duckdb.connect()
db.execute("SET TimeZone = 'UTC'")


def tables(root):
    """(name, files pattern, hive) of every table under root/tables."""
    found = {}
    base = os.path.join(root, "tables")
    for dirpath, dirnames, filenames in sorted(os.walk(base)):
        dirnames.sort()
        if not any(f.endswith(".parquet") for f in filenames):
            continue
        # a table is the directory above its dt=… partitions, or the directory of its files
        table = dirpath
        while os.path.basename(table).startswith("dt="):
            table = os.path.dirname(table)
        name = os.path.relpath(table, base)
        if name in found:
            continue
        hive = any(d.startswith("dt=") for d in os.listdir(table))
        found[name] = (f"{table}/**/*.parquet" if hive else f"{table}/*.parquet", hive)
    return found


def source(files, hive):
    return f"read_parquet('{files}', hive_partitioning = {str(hive).lower()}, union_by_name = true)"


if other is None:
    sys.exit(__doc__)
a, b = tables(lake), tables(other)
result = {}
for name in sorted(set(a) | set(b)):
    if name in ("events", "products") and not inputs:
        continue  # the inputs, not what a job wrote
    if name not in a or name not in b:
        result[name] = {"rows": None, "differing": None, "missing_in": lake if name not in a else other}
        continue
    sa, sb = source(*a[name]), source(*b[name])
    cols = [
        (n, t) for n, t, *_ in db.execute(f"DESCRIBE SELECT * FROM {sa}").fetchall() if n not in ignore
    ]
    doubles = [n for n, t in cols if t in ("DOUBLE", "FLOAT")]
    others = [n for n, t in cols if t not in ("DOUBLE", "FLOAT")]
    # both sides in one order (the other columns first: they are the keys), then row by row:
    # doubles equal within 1e-9 relative (a distributed sum adds in another order), the
    # rest exactly
    order = ", ".join([f'"{n}"' for n in others] + [f'round("{n}", 6)' for n in doubles]) or "1"
    sel = ", ".join(f'"{n}"' for n, _ in cols)
    numbered = lambda src: f"SELECT {sel}, row_number() OVER (ORDER BY {order}) AS rn__ FROM {src}"
    same = " AND ".join(
        [f'x."{n}" IS NOT DISTINCT FROM y."{n}"' for n in others]
        + [
            f'((x."{n}" IS NULL AND y."{n}" IS NULL) OR abs(x."{n}" - y."{n}") <= '
            f'1e-9 * greatest(abs(x."{n}"), abs(y."{n}"), 1))'
            for n in doubles
        ]
    ) or "TRUE"
    n = db.execute(f"SELECT count(*) FROM {sa}").fetchone()[0]
    diff = db.execute(
        f"SELECT count(*) FROM ({numbered(sa)}) x FULL JOIN ({numbered(sb)}) y USING (rn__)"
        f" WHERE NOT coalesce({same}, FALSE)"
    ).fetchone()[0]
    result[name] = {"rows": n, "differing": diff}
print(json.dumps(result, sort_keys=True))
