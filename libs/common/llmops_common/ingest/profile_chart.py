"""A dataset profile as a PNG: one histogram of token lengths per field, and the cleaning counts."""

from __future__ import annotations

from pathlib import Path

from ..events.dataset_profile import DatasetProfile


def write_profile_png(profile: DatasetProfile, title: str, path: Path) -> Path:
    """Draws the profile's histograms and counts into `path` (PNG); needs the `ingest` extra (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only, also on servers and in CI
    from matplotlib import pyplot as plt

    panels = len(profile.token_lengths) + 1
    figure, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6), constrained_layout=True)
    for axis, lengths in zip(axes, profile.token_lengths, strict=False):
        bins = lengths.histogram
        axis.bar(
            [b.lower for b in bins], [b.count for b in bins], width=[b.upper - b.lower for b in bins], align="edge"
        )
        axis.set_title(f"{lengths.field} tokens (p50 {lengths.p50}, p90 {lengths.p90})")
        axis.set_xlabel(f"tokens ({profile.tokenizer})")
        axis.set_ylabel("examples")
    counts = {
        "exact dups": profile.exact_duplicates_removed,
        "near dups": profile.near_duplicates_removed,
        **{f"rejected: {reason}": n for reason, n in profile.rejects.items() if n},
        **{f"PII: {kind}": n for kind, n in profile.pii_hits.items() if n},
        "erased": profile.examples_erased,
    }
    last = axes[-1]
    last.barh(list(counts), list(counts.values()))
    last.invert_yaxis()
    last.set_title("cleaning")
    last.set_xlabel("records or values")
    figure.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
