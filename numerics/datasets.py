"""Real data sets that ship inside registry packages (nothing is downloaded at run time).

* :func:`load_digits` -- scikit-learn's bundled 8x8 handwritten digits
  (1797 images, 10 classes, 64 features).
* :func:`load_first_names` -- a text data set: the first-name dictionary of
  Joerg Michael (``nam_dict.txt``, GNU FDL 1.2) that ships inside the
  ``gender-guesser`` package from PyPI.  Each name is labelled female (0) or
  male (1); names marked unisex or "mostly" one gender are left out.  The
  names are turned into features by hashing their character 1- to 3-grams
  (scikit-learn's :class:`~sklearn.feature_extraction.text.HashingVectorizer`,
  which needs no fitting, so nothing leaks from the test split).

Both return a :class:`Split` with a stratified train/test split from a seed,
features standardised with the training statistics only, in the requested
float dtype, and integer labels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._validation import check_int, check_open_unit

__all__ = ["Split", "load_digits", "load_first_names", "first_names_raw"]


@dataclass(frozen=True)
class Split:
    """A train/test split of a classification data set.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (n_train, d), (n_test, d)
    y_train, y_test : ndarray of int64
    n_classes : int
    name : str
    info : dict
        Provenance (package, file, preprocessing).
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str
    info: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        return (
            f"<Split {self.name}: train {self.X_train.shape}, test {self.X_test.shape}, "
            f"{self.n_classes} classes, dtype {self.X_train.dtype}>"
        )


def _check_float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got dtype={dtype!r}")
    return dt


def _split(X, y, *, test_size, seed, dtype, standardize, name, info) -> Split:
    from sklearn.model_selection import train_test_split

    test_size = check_open_unit("test_size", test_size)
    seed = check_int("seed", seed, minimum=0)
    dt = _check_float_dtype(dtype)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    X_tr = np.asarray(X_tr, dtype=np.float64)
    X_te = np.asarray(X_te, dtype=np.float64)
    if standardize:
        mu = X_tr.mean(axis=0)
        sd = X_tr.std(axis=0)
        sd[sd == 0] = 1.0  # constant features (e.g. always-blank pixels) stay zero
        X_tr = (X_tr - mu) / sd
        X_te = (X_te - mu) / sd
    return Split(
        X_train=np.ascontiguousarray(X_tr, dtype=dt),
        X_test=np.ascontiguousarray(X_te, dtype=dt),
        y_train=np.asarray(y_tr, dtype=np.int64),
        y_test=np.asarray(y_te, dtype=np.int64),
        n_classes=int(np.max(y)) + 1,
        name=name,
        info=dict(info, test_size=test_size, seed=seed, standardized=bool(standardize)),
    )


def load_digits(*, test_size: float = 0.25, seed=0, dtype=np.float32, standardize: bool = True) -> Split:
    """scikit-learn's bundled digits (8x8 images, 10 classes), split and standardised.

    Parameters
    ----------
    test_size : float in (0, 1), default 0.25
    seed : int, default 0
        Seed of the stratified split.
    dtype : float32 or float64, default float32
    standardize : bool, default True
        Centre and scale each pixel by the training mean and standard deviation.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    d = _sk_load_digits()
    info = {"source": "sklearn.datasets.load_digits (bundled with scikit-learn)", "n_samples": int(d.data.shape[0])}
    return _split(d.data, d.target, test_size=test_size, seed=seed, dtype=dtype, standardize=standardize,
                  name="digits", info=info)


def _nam_dict_path() -> Path:
    try:
        import gender_guesser
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "load_first_names needs the 'gender-guesser' package (a declared dependency of numerics; "
            "install the project with `pip install -e .`)"
        ) from exc
    path = Path(gender_guesser.__file__).resolve().parent / "data" / "nam_dict.txt"
    if not path.is_file():  # pragma: no cover
        raise FileNotFoundError(f"gender-guesser is installed but its data file is missing: {path}")
    return path


def first_names_raw() -> tuple[list[str], np.ndarray]:
    """The distinct first names marked plainly female (``F``) or male (``M``), and labels (0 = F, 1 = M).

    Lines of ``nam_dict.txt`` hold a gender code in columns 1-2, the name in
    columns 4-29 and a sort marker in column 30; lines with ``+`` there are
    duplicate spellings with expanded umlauts and are skipped, as the file's
    header advises.  A name listed with both codes (case-insensitively) is
    dropped as ambiguous.
    """
    path = _nam_dict_path()
    labels: dict[str, int] = {}
    conflicted: set[str] = set()
    with open(path, encoding="utf-8", errors="strict") as fh:
        for line in fh:
            if line.startswith("#") or len(line) < 31:
                continue
            code = line[:2].strip()
            if code not in ("M", "F") or line[29] == "+":
                continue
            name = line[3:29].strip().lower()
            if not name:
                continue
            lab = 1 if code == "M" else 0
            if name in labels and labels[name] != lab:
                conflicted.add(name)
            labels[name] = lab
    names = sorted(k for k in labels if k not in conflicted)
    y = np.fromiter((labels[k] for k in names), dtype=np.int64, count=len(names))
    return names, y


def load_first_names(*, n_features: int = 1024, test_size: float = 0.25, seed=0, dtype=np.float32,
                     max_samples: int | None = None, standardize: bool = True) -> Split:
    """First names labelled female/male, as hashed character n-gram features (a text data set).

    Parameters
    ----------
    n_features : int, default 1024
        Hashing dimension (columns of ``X``).
    test_size : float in (0, 1), default 0.25
    seed : int, default 0
        Seed of the subsample (if ``max_samples``) and of the stratified split.
    dtype : float32 or float64, default float32
    max_samples : int or None
        Use a stratified random subset of this many names (quick runs); None = all.
    standardize : bool, default True
        Centre and scale each feature by the training statistics.

    Notes
    -----
    Features: counts of the character 1-, 2- and 3-grams of `` name `` (word
    boundaries padded with a space), hashed into ``n_features`` buckets without
    alternating signs, then each row scaled to unit Euclidean norm.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    n_features = check_int("n_features", n_features, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    names, y = first_names_raw()
    if max_samples is not None:
        max_samples = check_int("max_samples", max_samples, minimum=20, maximum=len(names))
        if max_samples < len(names):
            from sklearn.model_selection import train_test_split

            idx, _ = train_test_split(np.arange(len(names)), train_size=max_samples, random_state=seed, stratify=y)
            idx = np.sort(idx)
            names = [names[i] for i in idx]
            y = y[idx]
    vec = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 3), n_features=n_features, alternate_sign=False,
                            norm="l2", lowercase=True)
    X = vec.transform(names).toarray()
    info = {
        "source": "gender-guesser (PyPI) data/nam_dict.txt by Joerg Michael, GNU FDL 1.2",
        "n_samples": len(names),
        "features": f"char_wb 1-3-gram counts hashed to {n_features}, rows L2-normalised",
        "labels": "0 = female, 1 = male",
    }
    return _split(X, y, test_size=test_size, seed=seed, dtype=dtype, standardize=standardize,
                  name="first_names", info=info)
