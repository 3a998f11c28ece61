#!/usr/bin/env python3
"""Python's `mt-940` package (WoLpH) on the MT940 bench files (issue 3).

Usage: benches/mt940_python.py [FILE...] (default: the files
`cargo bench --bench mt940_parse` writes to target/bench-data). Installs
`mt-940` into target/python-mt940 when it is not importable. Prints, per
file: bytes, transactions read, median seconds of RUNS runs (default 3,
env MT940_RUNS) and MB/s (10^6 bytes, as well as MiB/s).
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "target", "python-mt940")


def load():
    try:
        import mt940  # noqa: F401
    except ImportError:
        if not os.path.isdir(os.path.join(TARGET, "mt940")):
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                            "--target", TARGET, "mt-940==5.1.1"], check=True)
        sys.path.insert(0, TARGET)
    import mt940
    return mt940


def main():
    mt940 = load()
    files = sys.argv[1:] or [os.path.join(ROOT, "target", "bench-data", f"mt940-{n}mb.sta")
                             for n in (1, 10, 100)]
    runs = int(os.environ.get("MT940_RUNS", "3"))
    for path in files:
        if not os.path.exists(path):
            print(f"{path}: missing (run cargo bench --bench mt940_parse first)")
            continue
        text = open(path, "rb").read().decode("ascii")
        times, count = [], 0
        for _ in range(runs):
            start = time.perf_counter()
            transactions = mt940.models.Transactions()
            transactions.parse(text)
            times.append(time.perf_counter() - start)
            count = len(transactions.transactions)
        median = statistics.median(times)
        print(f"{os.path.basename(path)}: {len(text)} bytes, {count} transactions, "
              f"median {median:.3f} s of {runs}, {len(text) / median / 1e6:.2f} MB/s "
              f"({len(text) / median / 2**20:.2f} MiB/s), mt-940 {mt940.__version__}")


if __name__ == "__main__":
    main()
