#!/usr/bin/python3
"""Render bench/circuit_methods' JSON as docs/CIRCUITS.md's table and faithfulness figure.

    circuit_methods_report.py RESULT.json [--png FILE.png]

Prints the markdown table (one row per method) and, with --png, draws the faithfulness of the
top k heads by |score| against k, one panel per task, one line per method.
"""
import argparse
import json


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def heads(names):
    return ", ".join("L%s H%s" % tuple(n.split(".")) for n in names)


def table(r):
    a, b = list(r["tasks"])
    lines = [
        "| method | %s circuit | %s circuit | shared (expected by chance) | Jaccard | "
        "hypergeometric p | Spearman %s vs %s | Spearman vs activation patching (%s / %s) | "
        "faithfulness of the circuit (%s / %s) |" % (a, b, a, b, a, b, a, b),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, o in enumerate(r["overlap"]):
        ma, mb = r["tasks"][a][i], r["tasks"][b][i]
        lines.append(
            "| %s | %d: %s | %d: %s | %d (%.2f) | %s | %s | %s | %s / %s | %.2f / %.2f |"
            % (o["method"], o["size_a"], heads(ma["circuit"]), o["size_b"],
               heads(mb["circuit"]), o["intersection"], o["expected_intersection"],
               fmt(o["jaccard"], ".2f"), fmt(o["hypergeometric_p"], ".2g"),
               fmt(o["spearman_between_tasks"], ".2f"),
               fmt(ma["spearman_abs_vs_activation_patching"], ".2f"),
               fmt(mb["spearman_abs_vs_activation_patching"], ".2f"),
               ma["circuit_faithfulness"], mb["circuit_faithfulness"]))
    return "\n".join(lines)


def curve_table(r):
    tasks = list(r["tasks"])
    ks = [p["heads"] for p in r["tasks"][tasks[0]][0]["faithfulness_top_k"]]
    lines = ["| task, method | " + " | ".join(str(k) for k in ks) + " |",
             "|---|" + "---|" * len(ks)]
    for t in tasks:
        for m in r["tasks"][t]:
            lines.append("| %s, %s | " % (t, m["method"]) + " | ".join(
                "%.2f" % p["faithfulness"] for p in m["faithfulness_top_k"]) + " |")
    return "\n".join(lines)


def draw(r, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    tasks = list(r["tasks"])
    fig, axes = plt.subplots(1, len(tasks), figsize=(7.5, 2.8), sharey=True)
    for ax, t in zip(axes, tasks):
        for m in r["tasks"][t]:
            pts = m["faithfulness_top_k"]
            ax.plot([p["heads"] for p in pts], [p["faithfulness"] for p in pts], marker="o",
                    markersize=3, linewidth=1.2, label=m["method"])
        ax.set_title(t, fontsize=9)
        ax.set_xlabel("top k heads by |score| kept", fontsize=8)
        ax.axhline(1.0, color="gray", linewidth=0.5)
        ax.axhline(0.0, color="gray", linewidth=0.5)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("faithfulness", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle("%s: circuits of heads, other heads' outputs corrupted (%d pairs)"
                 % (r["model"], r["pairs"]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result")
    parser.add_argument("--png")
    args = parser.parse_args()
    with open(args.result) as f:
        r = json.load(f)
    print(table(r))
    print()
    print(curve_table(r))
    if args.png:
        draw(r, args.png)


if __name__ == "__main__":
    main()
