"""Example datasets for a first try, from the tables that scikit-learn ships (no download).

Each is written once as a CSV under FILE_CACHE_DIR/examples/ with readable class names and a
named target column, then stored for the user like any upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    loader: str
    target: str
    what: str

    @property
    def filename(self) -> str:
        return f"{self.slug}.csv"


EXAMPLES = (
    Example("iris", "Iris flowers", "load_iris", "species", "150 rows · classify 3 species"),
    Example(
        "breast-cancer",
        "Breast cancer",
        "load_breast_cancer",
        "diagnosis",
        "569 rows · 30 measurements · benign or malignant",
    ),
    Example("wine", "Wine cultivars", "load_wine", "cultivar", "178 rows · classify 3 cultivars"),
    Example(
        "diabetes",
        "Diabetes progression",
        "load_diabetes",
        "progression",
        "442 rows · regression on a disease score",
    ),
)
BY_SLUG = {example.slug: example for example in EXAMPLES}


def example_csv(example: Example) -> Path:
    """The example as a CSV file on disk, written on first use."""
    from sklearn import datasets

    # A source to store a dataset from, not a stored file: beside the workers' cache.
    path = Path(settings.FILE_CACHE_DIR) / "examples" / example.filename
    if path.exists():
        return path
    bunch = getattr(datasets, example.loader)(as_frame=True)
    frame = bunch.frame.rename(columns={"target": example.target})
    names = getattr(bunch, "target_names", None)
    if names is not None and example.loader != "load_diabetes":
        frame[example.target] = [str(names[i]) for i in frame[example.target]]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    frame.to_csv(partial, index=False)
    partial.replace(path)  # readers never see half a file
    return path
