"""Dense layers replaced by butterfly layers in an MLP, trained on real data (claim ``butterfly.replace-dense``).

The experiment of paper A (Ailon et al. 2021) in the setting of a multilayer
perceptron: every *wide* linear layer (both sizes ``>= wide``, default 1024)
of a ReLU MLP is either a :class:`~numerics.nn.Dense` layer or the paper's
replacement :class:`~numerics.nn.ButterflyReplacement` ``J2^T W' J1``
(truncated FJLT-initialised butterflies around a small dense core); the
narrow input and output layers stay dense in both models.  Both models are
trained from the same seeds with the same optimiser, batches and epochs, and
compared on

* test accuracy (mean and spread over seeds) and learning curves;
* weights in the replaced layers (dense ``n_in n_out + n_out`` against the
  replacement's weights that reach an output, :attr:`ButterflyReplacement.n_weights_used`);
* exact multiply-add counts per training step and per inference
  (:func:`multiply_adds`), and measured seconds per epoch and per inference
  pass over the test set (reported, never asserted: machines are noisy).

Theory and the precise statement: ``theory/butterfly_networks.md``.
"""
from __future__ import annotations

import time

import numpy as np

from numerics._progress import progress
from numerics._validation import check_int

__all__ = ["KINDS", "build_mlp", "multiply_adds", "replaced_weights", "compare"]

#: The two models compared.
KINDS = ("dense", "butterfly")


def build_mlp(kind: str, n_in: int, n_classes: int, *, width: int = 1024, hidden: int = 1, wide: int = 1024,
              l=None, seed=0, dtype=np.float32):
    """A ReLU MLP ``n_in -> width -> ... -> width -> n_classes`` with ``hidden`` width-by-width layers.

    Parameters
    ----------
    kind : {"dense", "butterfly"}
        ``"butterfly"`` replaces every hidden ``width x width`` layer by
        :class:`~numerics.nn.ButterflyReplacement` (``l_in = l_out = l``) when
        ``width >= wide``; the input layer (which sees the raw features) and the
        output layer stay :class:`~numerics.nn.Dense` in both models.
    n_in, n_classes, width : int
        Input size, classes, hidden width.  Replaced layers need power-of-two sizes
        (no padding is applied here).
    hidden : int, default 1
        Number of ``width x width`` layers (the MLP has ``hidden + 2`` linear layers).
    wide : int, default 1024
    l : int, optional
        Kept outputs of the truncated butterflies (default :func:`numerics.nn.default_l`).
    seed : int
        Seeds every layer (layer ``i`` gets ``SeedSequence(seed).spawn``'s ``i``-th child).
    dtype : float32 or float64
    """
    from numerics import nn

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got kind={kind!r}")
    n_in = check_int("n_in", n_in, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    width = check_int("width", width, minimum=1)
    hidden = check_int("hidden", hidden, minimum=0)
    wide = check_int("wide", wide, minimum=1)
    sizes = [n_in] + [width] * (hidden + 1) + [n_classes]
    seeds = np.random.SeedSequence(check_int("seed", seed, minimum=0)).spawn(len(sizes) - 1)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if kind == "butterfly" and 0 < i <= hidden and width >= wide:
            layers.append(nn.ButterflyReplacement(a, b, l_in=l, l_out=l, seed=np.random.default_rng(seeds[i]),
                                                  dtype=dtype))
        else:
            layers.append(nn.Dense(a, b, seed=np.random.default_rng(seeds[i]), dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(layers)


def _linear_layers(model):
    from numerics import nn

    return [(i, lay) for i, lay in enumerate(model.layers) if isinstance(lay, (nn.Dense, nn.ButterflyReplacement))]


def replaced_weights(model) -> int:
    """Weights (used ones, biases included) of the hidden linear layers (all but the first and the last)."""
    return int(sum(lay.n_weights_used for _, lay in _linear_layers(model)[1:-1]))


def multiply_adds(model, batch: int) -> dict:
    """Exact multiply-adds of the linear layers for ``batch`` rows: ``forward`` and one training ``step``.

    Dense ``n_in -> n_out``: forward ``n_in n_out`` per row; backward
    ``n_in n_out`` for the weight gradient plus ``n_in n_out`` for the input
    gradient (skipped for the first layer, as :func:`numerics.nn.fit` does).
    Replacement: forward ``c(N_in) + l_in l_out + c(N_out)`` per row with
    ``c(N) = 2 N log2 N`` the butterfly's count
    (:func:`numerics.butterfly.cost.butterfly_multiply_adds`); backward
    ``3 c(N)`` per butterfly (the kernel recomputes the forward inside each tile,
    then forms the input gradient and the twiddle gradient) plus ``2 l_in l_out``
    for the core.  Biases, ReLUs and the loss are linear in the width and
    identical in both models, so they are left out.

    Returns
    -------
    dict with ``forward`` (one inference pass over ``batch`` rows), ``step``
    (forward plus backward), and ``per_layer`` (list of ``(index, name, forward, backward)``).
    """
    from numerics import nn

    from .cost import butterfly_multiply_adds as c

    batch = check_int("batch", batch, minimum=1)
    per_layer, fwd, bwd = [], 0, 0
    for pos, (i, lay) in enumerate(_linear_layers(model)):
        if isinstance(lay, nn.Dense):
            f = lay.in_features * lay.out_features
            b = f + (f if pos > 0 else 0)
        else:
            core = lay.l_in * lay.l_out
            f = c(lay.n_in_padded) + core + c(lay.n_out_padded)
            b = 3 * c(lay.n_in_padded) + 2 * core + 3 * c(lay.n_out_padded)
        per_layer.append((i, type(lay).__name__, batch * f, batch * b))
        fwd += batch * f
        bwd += batch * b
    return {"forward": fwd, "step": fwd + bwd, "per_layer": per_layer}


def _best_time(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def compare(split, *, seeds, epochs: int, batch_size: int = 64, lr: float = 1e-3, width: int = 1024,
            hidden: int = 1, l=None, show_progress: bool = True) -> dict:
    """Train the dense and the butterfly MLP on ``split`` from each seed; collect accuracies, counts and times.

    The two models of one seed are trained back to back with identical
    settings (Adam with learning rate ``lr``; the shuffling seed equals the
    model seed), so timings of the pair see the same machine state.

    Returns
    -------
    dict of arrays, for ``k`` in ``KINDS``: ``{k}_test_acc`` (seeds,),
    ``{k}_val_curve`` (seeds, epochs; test accuracy after each epoch),
    ``{k}_train_loss`` (seeds, epochs), ``{k}_epoch_seconds`` (seeds, epochs),
    ``{k}_inference_seconds`` (seeds,; best of 3 passes over the test set),
    ``{k}_weights`` (weights in the replaced layers), ``{k}_params`` (all
    weights), ``{k}_madds_step`` (multiply-adds per training step of
    ``batch_size`` rows), ``{k}_madds_epoch``, ``{k}_madds_inference`` (one
    pass over the test set); plus ``seeds``, ``epochs``, ``dataset``.
    """
    from numerics import nn

    seeds = [check_int("seed", s, minimum=0) for s in seeds]
    epochs = check_int("epochs", epochs, minimum=1)
    dt = split.X_train.dtype
    out: dict = {"seeds": np.array(seeds), "epochs": epochs, "dataset": split.name}
    rows = {k: {"acc": [], "curve": [], "loss": [], "sec": [], "inf": []} for k in KINDS}
    n_tr, n_te = split.X_train.shape[0], split.X_test.shape[0]
    for seed in progress(seeds, desc=f"replace-dense {split.name}", disable=not show_progress):
        for kind in KINDS:
            model = build_mlp(kind, split.n_features, split.n_classes, width=width, hidden=hidden, l=l, seed=seed,
                              dtype=dt)
            hist = nn.fit(model, split.X_train, split.y_train, optimizer=nn.Adam(lr), epochs=epochs,
                          batch_size=batch_size, seed=seed, X_val=split.X_test, y_val=split.y_test, progress=False)
            r = rows[kind]
            r["curve"].append(hist.val_accuracy)
            r["loss"].append(hist.train_loss)
            r["sec"].append(hist.epoch_seconds)
            r["acc"].append(hist.val_accuracy[-1])
            r["inf"].append(_best_time(lambda: nn.predict(model, split.X_test)))
            if seed == seeds[0]:
                steps = -(-n_tr // batch_size)
                step = multiply_adds(model, batch_size)["step"]
                out[f"{kind}_weights"] = replaced_weights(model)
                out[f"{kind}_params"] = int(model.n_params)
                out[f"{kind}_madds_step"] = step
                out[f"{kind}_madds_epoch"] = (n_tr // batch_size) * step + (
                    multiply_adds(model, n_tr % batch_size)["step"] if n_tr % batch_size else 0)
                out[f"{kind}_madds_inference"] = multiply_adds(model, n_te)["forward"]
                out[f"{kind}_steps_per_epoch"] = steps
    for kind, r in rows.items():
        out[f"{kind}_test_acc"] = np.array(r["acc"])
        out[f"{kind}_val_curve"] = np.array(r["curve"])
        out[f"{kind}_train_loss"] = np.array(r["loss"])
        out[f"{kind}_epoch_seconds"] = np.array(r["sec"])
        out[f"{kind}_inference_seconds"] = np.array(r["inf"])
    return out
