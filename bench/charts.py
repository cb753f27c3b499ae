"""PNG charts of a pipeline benchmark report (matplotlib, no display needed)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

STAGE_STYLE = {
    "accepted": ("ingest accepted", "tab:blue"),
    "parsed": ("parsed", "tab:orange"),
    "indexed": ("indexed (searchable)", "tab:green"),
    "archived": ("archived", "tab:purple"),
}


def _median_run(report: dict[str, Any], workers: int) -> dict[str, Any] | None:
    """The chart data of the run whose end-to-end rate is the median for ``workers``."""
    entries = [c for c in report.get("charts", []) if c["workers"] == workers]
    if not entries:
        return None

    def rate(entry: dict[str, Any]) -> float:
        run = report["runs"][entry["run"] - 1]["pipeline"].get(str(workers), {})
        return float(run.get("throughput", {}).get("lines_per_s") or 0)

    ordered = sorted(entries, key=rate)
    return ordered[(len(ordered) - 1) // 2]


def draw(report: dict[str, Any], prefix: Path) -> list[Path]:
    """Write the charts next to the JSON; their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for workers in report["settings"]["workers"]:
        entry = _median_run(report, workers)
        if entry is None:
            continue
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
        for stage, (label, colour) in STAGE_STYLE.items():
            points = entry["stages"].get(stage, [])
            if points:
                top.plot([p[0] for p in points], [p[1] for p in points], label=label, color=colour)
        start, end = entry["window"]
        for axis in (top, bottom):
            axis.axvspan(start, end, color="grey", alpha=0.12, label=None)
        top.set_ylabel("lines/s (1 s buckets)")
        top.set_title(
            f"pipeline, {workers} worker(s) per stage, run {entry['run']} "
            "(median run); grey: steady window"
        )
        top.legend(loc="upper right", fontsize=8)
        for queue, points in entry["queues"].items():
            bottom.plot([p[0] for p in points], [p[1] for p in points], label=queue)
        bottom.set_ylabel("waiting jobs (LLEN)")
        bottom.set_xlabel("seconds since the load started")
        bottom.legend(loc="upper right", fontsize=8)
        figure.tight_layout()
        path = prefix.with_name(f"{prefix.name}-throughput-w{workers}.png")
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)

    figure, axis = plt.subplots(figsize=(9, 5.5))
    for workers in report["settings"]["workers"]:
        for fraction in report["settings"]["loads"]:
            name = f"{int(fraction * 100)}%"
            pooled = sorted(
                v
                for run in report["runs"]
                for v in run["pipeline"]
                .get(str(workers), {})
                .get("latency", {})
                .get(name, {})
                .get("latencies_s", [])
            )
            if not pooled:
                continue
            shares = [(i + 1) / len(pooled) for i in range(len(pooled))]
            axis.step(
                pooled,
                shares,
                where="post",
                label=f"{workers} worker(s), {name} load "
                f"(n={len(pooled)}, median {statistics.median(pooled):.2f}s)",
            )
    axis.axvline(2.0, color="red", linestyle=":", label="target p99 at 50%: 2 s")
    axis.set_xlabel("seconds from the 200 to every line of the batch searchable")
    axis.set_ylabel("share of batches")
    axis.set_title("latency CDF, pooled over the runs")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    path = prefix.with_name(f"{prefix.name}-latency.png")
    figure.savefig(path, dpi=100)
    plt.close(figure)
    written.append(path)
    return written
