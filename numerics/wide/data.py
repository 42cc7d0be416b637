"""The two tasks the wide network is trained on: digits (real data) and a teacher-student task."""
from __future__ import annotations

import numpy as np

from numerics._validation import check_int, check_rng

__all__ = ["digits_task", "teacher_student_task", "normalize_rows"]


def normalize_rows(X) -> np.ndarray:
    """Rows scaled to unit Euclidean norm (a new array; zero rows are an error)."""
    X = np.asarray(X)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"X has {int(np.sum(norms == 0))} all-zero row(s); they cannot be normalised")
    return X / norms


def digits_task(n_train=64, *, seed=0, dtype=np.float64):
    """``n_train`` digits (8x8 pixels, standardised, rows of unit norm) with one-hot targets.

    Returns ``X`` of shape ``(n_train, 64)`` and ``Y`` of shape ``(n_train, 10)``, drawn without
    replacement from the training split of :func:`numerics.datasets.load_digits`.
    """
    from numerics.datasets import load_digits

    split = load_digits(dtype=np.float64, seed=0)
    n_all = split.X_train.shape[0]
    n_train = check_int("n_train", n_train, minimum=1, maximum=n_all)
    rng = check_rng("seed", seed)
    pick = np.sort(rng.choice(n_all, size=n_train, replace=False))
    X = normalize_rows(split.X_train[pick]).astype(dtype)
    Y = np.zeros((n_train, split.n_classes), dtype=dtype)
    Y[np.arange(n_train), split.y_train[pick]] = 1
    return np.ascontiguousarray(X), Y


def teacher_student_task(n=64, *, d=32, d_out=1, teacher_width=16, seed=0, dtype=np.float64):
    """Inputs uniform on the unit sphere of ``R^d``; targets from a random two-layer ReLU teacher.

    ``y = relu(x T_1) T_2`` with Gaussian ``T_1`` (d x teacher_width) and ``T_2``, scaled so the
    targets have unit mean square.  Returns ``X (n, d)`` and ``Y (n, d_out)``.
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=1)
    d_out = check_int("d_out", d_out, minimum=1)
    teacher_width = check_int("teacher_width", teacher_width, minimum=1)
    rng = check_rng("seed", seed)
    X = normalize_rows(rng.standard_normal((n, d)))
    T1 = rng.standard_normal((d, teacher_width)) * np.sqrt(d)
    T2 = rng.standard_normal((teacher_width, d_out))
    Y = np.maximum(X @ T1, 0) @ T2
    Y /= np.sqrt(np.mean(Y**2))
    return np.ascontiguousarray(X.astype(dtype)), np.ascontiguousarray(Y.astype(dtype))
