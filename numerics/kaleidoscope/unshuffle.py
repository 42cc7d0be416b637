"""Learning to undo a pixel shuffle on the digits data with a ``BB*`` layer (issue 6, item 5).

Protocol of :func:`unshuffle_digits`:

1. A model that relies on pixel locality -- ``LocalConv(3x3, C maps) -> ReLU ->
   AvgPool2 -> ReLU -> Dense`` -- is trained on the *unshuffled* training images.
2. The pixels of every image are shuffled by one fixed permutation ``pi``
   (unknown to the learner): ``x_shuffled = x[pi]``.
3. A :class:`~numerics.kaleidoscope.layers.KaleidoscopeLayer` of kind
   ``"permutation"`` (``BB*`` with relaxed switches) is put in front of the frozen
   model and only its logits are trained (Adam) on the shuffled training set.
4. Reported: test accuracy of the model on clean images, on shuffled images
   without the layer, with the learned layer, and with the learned layer rounded
   to a permutation (Hungarian assignment on the learned doubly stochastic
   matrix); also the same architecture retrained from scratch on shuffled pixels
   (which can partly adapt its dense read-out to the shuffle) for context; and
   the quality of the rounded permutation: the fraction of pixels sent exactly
   to their true location and within one pixel (Chebyshev distance) of it.
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_int, check_rng

from .layers import AvgPool2, KaleidoscopeLayer, LocalConv

__all__ = ["unshuffle_digits", "round_to_permutation"]


def round_to_permutation(M) -> np.ndarray:
    """The permutation ``c`` maximising ``sum_i M[i, c[i]]`` (Hungarian algorithm); ``np.eye(n)[c]`` is its matrix.

    ``M``: real square float32/float64 matrix, finite.
    """
    from scipy.optimize import linear_sum_assignment

    from numerics._validation import check_array

    M = check_array("M", M, ndim=2)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be square, got shape {M.shape}")
    _, c = linear_sum_assignment(-M)
    return c.astype(np.int64)


def _local_model(C, seed):
    from numerics import nn

    rng = check_rng("seed", seed)
    return nn.Sequential(
        [LocalConv(8, 8, C, seed=rng), nn.ReLU(), AvgPool2(8, 8, C), nn.ReLU(), nn.Dense(16 * C, 10, seed=rng)]
    )


def unshuffle_digits(*, seed: int = 0, channels: int = 4, model_epochs: int = 30, layer_epochs: int = 40,
                     lr: float = 0.1, batch_size: int = 32) -> dict:
    """Run the experiment above; return a dict of accuracies, permutation-quality numbers and arrays.

    Keys: ``acc_clean``, ``acc_shuffled_frozen``, ``acc_layer``, ``acc_rounded``,
    ``acc_shuffled_retrained``, ``frac_exact``, ``frac_within1``, ``frac_exact_informative``
    (among the pixels that are not constant in the training set), ``perm`` (the shuffle
    ``pi``), ``learned`` (rounded permutation ``c``: the layer sends shuffled position
    ``c[i]`` to output ``i``; ideal ``c = argsort(pi)``), ``matrix`` (learned ``K``),
    ``loss`` (per-epoch mean training loss of the layer).
    """
    from numerics import nn
    from numerics.datasets import load_digits

    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    d = load_digits(dtype=np.float64, seed=0)
    pi = rng.permutation(64)
    inv = np.argsort(pi)
    Xs_tr, Xs_te = d.X_train[:, pi], d.X_test[:, pi]
    model = _local_model(channels, rng)
    nn.fit(model, d.X_train, d.y_train, optimizer=nn.Adam(3e-3), epochs=model_epochs, batch_size=batch_size,
           seed=rng, progress=False)
    out = {"acc_clean": nn.accuracy(model, d.X_test, d.y_test), "acc_shuffled_frozen": nn.accuracy(model, Xs_te, d.y_test)}
    retrained = _local_model(channels, rng)
    nn.fit(retrained, Xs_tr, d.y_train, optimizer=nn.Adam(3e-3), epochs=model_epochs, batch_size=batch_size,
           seed=rng, progress=False)
    out["acc_shuffled_retrained"] = nn.accuracy(retrained, Xs_te, d.y_test)
    K = KaleidoscopeLayer(64, kind="permutation", init_scale=1.0, seed=rng)
    full = nn.Sequential([K] + model.layers)
    opt = nn.Adam(lr)
    losses = []
    for _ in range(layer_epochs):
        order = rng.permutation(Xs_tr.shape[0])
        tot = 0.0
        for s in range(0, order.size, batch_size):
            b = order[s : s + batch_size]
            loss, g = nn.softmax_cross_entropy(full.forward(Xs_tr[b]), d.y_train[b])
            full.backward(g)
            opt.step(K.params, K.grads)  # the downstream model stays frozen
            tot += loss * b.size
        losses.append(tot / order.size)
    out["acc_layer"] = nn.accuracy(full, Xs_te, d.y_test)
    M = K.matrix()
    c = round_to_permutation(M)
    out["acc_rounded"] = nn.accuracy(model, np.ascontiguousarray(Xs_te[:, c]), d.y_test)
    # output i should read shuffled position inv[i]; the layer reads c[i], which is clean pixel pi[c[i]]
    r_i, c_i = np.divmod(np.arange(64), 8)
    src = np.divmod(pi[c], 8)  # clean-image location of the pixel the layer puts at i
    dist = np.maximum(np.abs(src[0] - r_i), np.abs(src[1] - c_i))
    informative = d.X_train.var(axis=0) > 1e-12
    out.update(
        frac_exact=float(np.mean(c == inv)),
        frac_within1=float(np.mean(dist <= 1)),
        frac_exact_informative=float(np.mean((c == inv)[informative])),
        perm=pi, learned=c, matrix=M, loss=np.array(losses), distance=dist,
    )
    return out
