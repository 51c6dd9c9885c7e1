#!/usr/bin/env python3
"""The README's headline table from a `qscale backtest --out DIR` results.csv.

Usage: scripts/headline.py DIR/results.csv
Per trace: qscale's x oracle and violation seconds; each baseline's textbook
row; and its best swept setting (the row named `baseline@setting` that the
report puts beside it): "N x (`setting`)" when it has no more violation
seconds than qscale, else "none; least S s at N x (`setting`)".
"""
import csv
import sys


def main(path):
    rows = list(csv.DictReader(open(path)))
    traces = []
    for r in rows:
        if r["trace"] not in traces:
            traces.append(r["trace"])
    print("| trace | qscale x oracle | qscale viol s | KEDA+HPA textbook: x, viol s "
          "| cheapest KEDA at ≤ qscale's viol | AWS TT textbook: x, viol s "
          "| cheapest AWS at ≤ qscale's viol |")
    print("| --- | ---: | ---: | ---: | --- | ---: | --- |")
    for t in traces:
        of = {r["policy"]: r for r in rows if r["trace"] == t}
        q = of["qscale"]
        viol = int(q["slo_violation_s"])
        cells = [t, f"{float(q['x_oracle']):.2f}", f"{viol:,}"]
        for base in ("keda-hpa", "aws-target-tracking"):
            b = of[base]
            cells.append(f"{float(b['x_oracle']):.2f}x, {int(b['slo_violation_s']):,}")
            best = next((r for p, r in of.items() if p.startswith(base + "@")), None)
            if best is None:
                cells.append("-")
                continue
            setting = best["policy"].split("@", 1)[1]
            x = float(best["x_oracle"])
            v = int(best["slo_violation_s"])
            if v <= viol:
                cells.append(f"{x:.2f}x (`{setting}`)")
            else:
                cells.append(f"none; least {v:,} s at {x:.2f}x (`{setting}`)")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
