"""Bundled real data sets: provenance, splits, preprocessing and bad input."""
import numpy as np
import pytest

from numerics import datasets


def test_digits_split_is_stratified_standardised_and_typed():
    s = datasets.load_digits(seed=3, dtype=np.float64)
    assert s.X_train.shape == (1347, 64) and s.X_test.shape == (450, 64)
    assert s.X_train.dtype == np.float64 and s.y_train.dtype == np.int64
    assert s.n_classes == 10
    # Training statistics only: train columns are centred with unit (or zero, for blank pixels) spread.
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0.0, atol=1e-12)
    sd = s.X_train.std(axis=0)
    assert np.all((np.abs(sd - 1) < 1e-12) | (sd == 0))
    # Stratified: class proportions agree to within one sample per class.
    ftr = np.bincount(s.y_train) / s.y_train.size
    fte = np.bincount(s.y_test) / s.y_test.size
    assert np.max(np.abs(ftr - fte)) < 0.01


def test_digits_same_seed_same_split_and_float32_default():
    a, b = datasets.load_digits(seed=1), datasets.load_digits(seed=1)
    assert a.X_train.dtype == np.float32
    np.testing.assert_array_equal(a.X_train, b.X_train)
    c = datasets.load_digits(seed=2)
    assert not np.array_equal(a.y_train, c.y_train)


def test_first_names_raw_parses_the_dictionary():
    names, y = datasets.first_names_raw()
    assert len(names) == y.size > 30000
    assert len(set(names)) == len(names)
    lookup = dict(zip(names, y))
    # A few unambiguous entries of nam_dict.txt.
    assert lookup["john"] == 1 and lookup["helga"] == 0
    assert "mary" not in lookup  # coded 1F (female if first part of a name): left out
    assert lookup["giovanni"] == 1 and lookup["ingrid"] == 0
    assert 0.4 < y.mean() < 0.6


def test_first_names_features_are_hashed_ngrams():
    s = datasets.load_first_names(max_samples=2000, seed=0, standardize=False, n_features=256)
    assert s.X_train.shape == (1500, 256) and s.X_test.shape == (500, 256)
    assert s.n_classes == 2
    # Rows are unit-norm count vectors before standardisation.
    np.testing.assert_allclose(np.linalg.norm(s.X_train, axis=1), 1.0, rtol=1e-6)
    assert np.all(s.X_train >= 0)


def test_first_names_are_learnable_beyond_chance():
    from sklearn.linear_model import LogisticRegression

    s = datasets.load_first_names(max_samples=4000, seed=0)
    acc = LogisticRegression(max_iter=500).fit(s.X_train, s.y_train).score(s.X_test, s.y_test)
    majority = np.bincount(s.y_test).max() / s.y_test.size
    assert acc > majority + 0.2


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"test_size": 1.5}, ValueError, "test_size"),
        ({"test_size": 0}, ValueError, "test_size"),
        ({"dtype": np.int32}, TypeError, "dtype must be float32 or float64"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        datasets.load_digits(**kwargs)


def test_first_names_bad_arguments():
    with pytest.raises(ValueError, match="max_samples"):
        datasets.load_first_names(max_samples=5)
    with pytest.raises(ValueError, match="n_features"):
        datasets.load_first_names(n_features=1)
