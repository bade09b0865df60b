"""The figures the notebooks show. Each returns the matplotlib Figure (the notebook shows it)."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import MaxNLocator

_COLORS = {"x": "#cfe8cf", "h": "#fde3b0", "y": "#cfe0f5"}

# Positions of the boxes of each RNN type: inputs x at row 0, states h at row 1, outputs y at
# row 2; each entry is (column, label) for that row.
RNN_TYPES = {
    "one-to-one": dict(x=[0], h=[0], y=[0], note="image -> class\n(no recurrence)"),
    "one-to-many": dict(x=[0], h=[0, 1, 2, 3], y=[0, 1, 2, 3], feedback=True,
                        note="music generation: one seed, a sequence out"),
    "many-to-one": dict(x=[0, 1, 2, 3], h=[0, 1, 2, 3], y=[3],
                        note="sentiment: a sequence in, one label out"),
    "many-to-many (Tx = Ty)": dict(x=[0, 1, 2, 3], h=[0, 1, 2, 3], y=[0, 1, 2, 3],
                                   note="tagging: one output per input"),
    "many-to-many (Tx != Ty)": dict(x=[0, 1, 2], h=[0, 1, 2, 3, 4, 5], y=[3, 4, 5], feedback=True,
                                    note="translation: encoder, then decoder"),
}


def _box(ax, col, row, text, kind):
    ax.add_patch(FancyBboxPatch((col - 0.3, row - 0.25), 0.6, 0.5, boxstyle="round,pad=0.02",
                                fc=_COLORS[kind], ec="black", lw=1))
    ax.text(col, row, text, ha="center", va="center", fontsize=10)


def _arrow(ax, a, b, style="-|>", color="black", rad=0.0):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=12, color=color,
                                 connectionstyle=f"arc3,rad={rad}", lw=1.2))


def rnn_type_diagram(kind):
    """One RNN type as boxes: inputs x (green), states h (orange), outputs y (blue)."""
    if kind not in RNN_TYPES:
        raise ValueError(f"expected one of {list(RNN_TYPES)}, got {kind!r}.")
    spec = RNN_TYPES[kind]
    width = max(spec["h"]) + 1
    fig, ax = plt.subplots(figsize=(1.3 * width + 1.5, 2.6))
    for t, col in enumerate(spec["h"]):
        _box(ax, col, 1, f"h{t + 1}", "h")
        if t:
            _arrow(ax, (col - 0.7, 1), (col - 0.3, 1))
    for t, col in enumerate(spec["x"]):
        _box(ax, col, 0, f"x{t + 1}", "x")
        _arrow(ax, (col, 0.25), (col, 0.75))
    for t, col in enumerate(spec["y"]):
        _box(ax, col, 2, f"y{t + 1}", "y")
        _arrow(ax, (col, 1.25), (col, 1.75))
    if spec.get("feedback"):
        ys = spec["y"]
        for a, b in zip(ys[:-1], ys[1:]):
            _arrow(ax, (a + 0.3, 2.0), (b - 0.1, 1.25), color="#c0392b", rad=-0.3)
    ax.set_xlim(-0.8, width - 0.2)
    ax.set_ylim(-0.5, 2.5)
    ax.axis("off")
    ax.set_title(f"{kind}: {spec['note']}", fontsize=10)
    fig.tight_layout()
    return fig


def unrolled_rnn(T=4):
    """The folded RNN (one cell with a loop) beside the same RNN unrolled over T steps."""
    fig, ax = plt.subplots(figsize=(2 + 1.4 * T, 2.8))
    _box(ax, 0, 1, "h", "h")
    _box(ax, 0, 0, "x_t", "x")
    _box(ax, 0, 2, "y_t", "y")
    _arrow(ax, (0, 0.25), (0, 0.75))
    _arrow(ax, (0, 1.25), (0, 1.75))
    _arrow(ax, (0.3, 1.1), (0.3, 0.9), color="#c0392b", rad=-2.5)
    ax.text(0.75, 1.0, "Wh", color="#c0392b", fontsize=9, va="center")
    ax.text(0.95, 1.0, "=", fontsize=16, va="center")
    for t in range(T):
        col = 2 + 1.2 * t
        _box(ax, col, 1, f"h{t + 1}", "h")
        _box(ax, col, 0, f"x{t + 1}", "x")
        _box(ax, col, 2, f"y{t + 1}", "y")
        _arrow(ax, (col, 0.25), (col, 0.75))
        _arrow(ax, (col, 1.25), (col, 1.75))
        _arrow(ax, (col - 0.9, 1), (col - 0.3, 1), color="#c0392b")
        ax.text(col - 0.6, 1.12, "Wh", color="#c0392b", fontsize=8, ha="center")
    ax.text(1.2, 1.12, "h0", fontsize=9)
    ax.set_xlim(-0.6, 2.6 + 1.2 * (T - 1))
    ax.set_ylim(-0.5, 2.5)
    ax.axis("off")
    ax.set_title("Folded (left) and unrolled (right): the same Wx, Wh, b at every step", fontsize=10)
    fig.tight_layout()
    return fig


def training_curves(histories, metric="val_accuracy", chance=None):
    """One line per model: `metric` against epoch. histories: dict name -> Keras History.history."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, hist in histories.items():
        values = hist[metric]
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=name)
    if chance is not None:
        ax.axhline(chance, color="gray", ls="--", lw=1, label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric.replace('_', ' ')} per epoch")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def state_heatmap(h_seq, tokens, title="hidden state h_t"):
    """A heat map of one sequence's hidden states: units down, time steps (tokens) across."""
    h_seq = np.asarray(h_seq)
    fig, ax = plt.subplots(figsize=(0.6 * len(tokens) + 2, 3.2))
    im = ax.imshow(h_seq.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(tokens)))
    ax.set_xticklabels(tokens, rotation=45, ha="right")
    ax.set_ylabel("hidden unit")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time step")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="activation (tanh, -1 to 1)")
    fig.tight_layout()
    return fig


def paired_probabilities(labels, p_real, p_shuffled):
    """Bars of P(real line) for each line and for its shuffled version."""
    n = len(labels)
    fig, ax = plt.subplots(figsize=(7, 0.45 * n + 1.2))
    y = np.arange(n)
    ax.barh(y - 0.2, p_real, height=0.4, label="real line", color="#2e86c1")
    ax.barh(y + 0.2, p_shuffled, height=0.4, label="same words shuffled", color="#e67e22")
    ax.axvline(0.5, color="gray", ls="--", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(real line), from your many_to_one with the trained weights")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
