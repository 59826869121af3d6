"""Training curves as one PNG, drawn offline from the dvclive TSV files of a run (`dvc plots` renders HTML that
loads Vega from a CDN: blank without a network)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..io.atomic import atomic_open

CURVES_PNG = "curves.png"
_PANELS = (("train", "loss", "training loss"), ("train", "learning_rate", "learning rate"),
           ("eval", "f1", "validation F1 (micro and per entity)"), ("eval", "loss", "validation loss"))


def _series(tsv: Path) -> tuple[list[float], list[float]]:
    with open(tsv, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))[1:]
    return [float(r[0]) for r in rows], [float(r[1]) for r in rows]


def write_curves(live_dir: str | Path) -> Path | None:
    """Draw `<live_dir>/curves.png` (x = optimizer step); None when the run logged nothing."""
    live_dir = Path(live_dir)
    root = live_dir / "plots" / "metrics"
    if not (root / "train" / "loss.tsv").is_file():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), dpi=100)
    for ax, (group, name, title) in zip(axes.flat, _PANELS, strict=True):
        files = [root / group / f"{name}.tsv"]
        if name == "f1":  # micro, then f1_<Type> of every type the run has, in file-name order
            files += sorted((root / group).glob("f1_*.tsv"))
        for tsv in (f for f in files if f.is_file()):
            xs, ys = _series(tsv)
            ax.plot(xs, ys, marker="o" if group == "eval" else None, markersize=3,
                    label="micro" if tsv.stem == "f1" else tsv.stem.removeprefix("f1_"))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if name == "f1" and len(files) > 1:
            ax.set_ylim(0, 1)
            ax.legend(fontsize=8)
    fig.tight_layout()
    png = live_dir / CURVES_PNG
    with atomic_open(png, "wb") as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)
    return png
