"""Peer benchmark: the Python `implicit` library (ALS and BPR) on a sequences file, with the
leave-last-out, full-ranking protocol Vitrine's `trainer evaluate --sequences` uses.

Usage: python implicit_beauty.py SEQUENCES_FILE [--factors 128] [--iterations 15]
Prints one JSON object per model: {"model", "ndcg@10", "recall@10", "hr@20", "mrr@10", "fit_seconds"}.
"""
import argparse
import json
import time

import numpy as np
import scipy.sparse as sp


def load(path):
    seqs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                seqs.append([int(x) for x in parts[1:]])
    return seqs


def evaluate(ids, test):
    ndcg = recall = hr20 = mrr = 0.0
    for row, target in zip(ids, test):
        row = list(row)
        if target in row[:10]:
            r = row.index(target)
            ndcg += 1.0 / np.log2(r + 2)
            recall += 1.0
            mrr += 1.0 / (r + 1)
        if target in row[:20]:
            hr20 += 1.0
    n = len(test)
    return {"ndcg@10": ndcg / n, "recall@10": recall / n, "hr@20": hr20 / n, "mrr@10": mrr / n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sequences")
    ap.add_argument("--factors", type=int, default=128)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--bpr-iterations", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking

    seqs = load(args.sequences)
    n_items = max(max(s) for s in seqs) + 1
    rows, cols = [], []
    for u, s in enumerate(seqs):
        for i in s[:-1]:
            rows.append(u)
            cols.append(i)
    train = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(seqs), n_items))
    train.sum_duplicates()
    test = [s[-1] for s in seqs]
    users = np.arange(len(seqs))

    models = [
        ("implicit-als", AlternatingLeastSquares(factors=args.factors, regularization=0.1, alpha=40.0,
                                                 iterations=args.iterations, use_cg=True, random_state=42,
                                                 num_threads=args.threads, calculate_training_loss=False)),
        ("implicit-bpr", BayesianPersonalizedRanking(factors=args.factors, iterations=args.bpr_iterations,
                                                     random_state=42, num_threads=args.threads)),
    ]
    for name, model in models:
        t = time.perf_counter()
        model.fit(train, show_progress=False)
        fit = time.perf_counter() - t
        ids, _ = model.recommend(users, train, N=20, filter_already_liked_items=True)
        out = {"model": name, **evaluate(ids, test), "fit_seconds": fit,
               "factors": args.factors, "iterations": args.iterations if name.endswith("als") else args.bpr_iterations}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
