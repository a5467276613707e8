"""Paired latency: each round asks the first URL (the floor), then every other URL, on one
keep-alive connection per URL, so machine drift hits all of them alike. Prints each URL's p50, p90
and p50 above the first. Usage: python3 bench/paired.py ROUNDS FLOOR_URL URL... (GET only)."""
import http.client
import statistics
import sys
import time
import urllib.parse

rounds, urls = int(sys.argv[1]), sys.argv[2:]
conns = []
for u in urls:
    p = urllib.parse.urlsplit(u)
    conns.append((http.client.HTTPConnection(p.hostname, p.port), p.path + ("?" + p.query if p.query else "")))
times = [[] for _ in urls]
for r in range(rounds + 20):  # the first 20 rounds warm up
    for i, (c, path) in enumerate(conns):
        s = time.perf_counter()
        c.request("GET", path)
        c.getresponse().read()
        if r >= 20:
            times[i].append((time.perf_counter() - s) * 1000)
floor = statistics.median(times[0])
for u, t in zip(urls, times):
    t.sort()
    p50 = statistics.median(t)
    print(f"p50 {p50:6.2f} ms  p90 {t[int(len(t) * 0.9)]:6.2f} ms  above floor {p50 - floor:+5.2f} ms  {u}")
