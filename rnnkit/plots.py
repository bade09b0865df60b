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


def bptt_graph(T=4):
    """The unrolled RNN with a loss at every step: forward arrows black, gradients red (dashed)."""
    fig, ax = plt.subplots(figsize=(1.2 + 1.5 * T, 3.6))
    grad = dict(color="#c0392b", style="-|>")
    for t in range(T):
        col = 1.5 * t
        _box(ax, col, 0, f"x{t + 1}", "x")
        _box(ax, col, 1, f"h{t + 1}", "h")
        _box(ax, col, 2, f"L{t + 1}", "y")
        _arrow(ax, (col - 0.08, 0.25), (col - 0.08, 0.75))
        _arrow(ax, (col - 0.08, 1.25), (col - 0.08, 1.75))
        _arrow(ax, (col + 0.08, 1.75), (col + 0.08, 1.25), **grad)        # dL_t/dh_t
        _arrow(ax, (col + 0.08, 0.75), (col + 0.08, 0.25), **grad)        # dL/dx_t
        _arrow(ax, (col - 1.2, 1.08), (col - 0.3, 1.08))                  # h_{t-1} -> h_t
        _arrow(ax, (col - 0.3, 0.92), (col - 1.2, 0.92), **grad)          # dL/dh_{t-1}
    ax.text(-1.35, 1.0, "h0", fontsize=9, va="center")
    ax.text(0.75 * (T - 1), 2.55, "L = L1 + ... + LT     (red: gradients, flowing back in time)",
            ha="center", fontsize=9, color="#c0392b")
    ax.set_xlim(-1.6, 1.5 * (T - 1) + 0.6)
    ax.set_ylim(-0.5, 2.8)
    ax.axis("off")
    fig.tight_layout()
    return fig


def cost_vs_length(lengths, series, title="Cost of one forward + backward pass"):
    """Time (ms) and peak memory (MB) against sequence length T, with a straight-line fit each.

    series: dict name -> (times_ms, peak_mb), one value per length.
    """
    lengths = np.asarray(lengths, dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, (times, mems) in series.items():
        for ax, values in zip(axes, (times, mems)):
            values = np.asarray(values, dtype=float)
            line, = ax.plot(lengths, values, marker="o", label=name)
            slope, icpt = np.polyfit(lengths, values, 1)
            ax.plot(lengths, slope * lengths + icpt, ls=":", color=line.get_color(), lw=1)
    for ax, label in zip(axes, ("time per pass (ms)", "peak memory (MB)")):
        ax.set_xlabel("sequence length T")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title + " (dotted: straight-line fit)", fontsize=10)
    fig.tight_layout()
    return fig


def lstm_cell_diagram():
    """The LSTM cell: the cell state runs along the top (the conveyor belt), gates below it."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    belt, gates_row = 2.4, 1.0
    ax.annotate("", xy=(7.6, belt), xytext=(0.2, belt),
                arrowprops=dict(arrowstyle="-|>", lw=3, color="#7f8c8d"))
    ax.text(0.1, belt + 0.22, r"$c_{t-1}$", fontsize=11)
    ax.text(7.3, belt + 0.22, r"$c_t$", fontsize=11)
    for x, op in [(2.0, "x"), (4.0, "+")]:
        ax.add_patch(plt.Circle((x, belt), 0.22, fc="white", ec="black", zorder=3))
        ax.text(x, belt, op, ha="center", va="center", fontsize=12, zorder=4)
    specs = [(2.0, "f", "forget\nsigmoid"), (3.3, "i", "input\nsigmoid"), (4.6, "g", "candidate\ntanh"),
             (6.2, "o", "output\nsigmoid")]
    for x, name, label in specs:
        ax.add_patch(FancyBboxPatch((x - 0.45, gates_row - 0.3), 0.9, 0.6, boxstyle="round,pad=0.02",
                                    fc=_COLORS["h"], ec="black"))
        ax.text(x, gates_row, f"{name}\n", ha="center", va="center", fontsize=11, weight="bold")
        ax.text(x, gates_row - 0.12, label.split("\n")[0], ha="center", va="center", fontsize=7)
        ax.annotate("", xy=(x, gates_row - 0.32), xytext=(x, 0.15),
                    arrowprops=dict(arrowstyle="-", lw=0.8, color="gray"))
    _arrow(ax, (2.0, gates_row + 0.3), (2.0, belt - 0.22))                   # f scales c_{t-1}
    ax.add_patch(plt.Circle((3.95, 1.75), 0.17, fc="white", ec="black", zorder=3))
    ax.text(3.95, 1.75, "x", ha="center", va="center", fontsize=10, zorder=4)
    _arrow(ax, (3.3, gates_row + 0.3), (3.82, 1.68))
    _arrow(ax, (4.6, gates_row + 0.3), (4.08, 1.68))
    _arrow(ax, (3.95, 1.92), (3.98, belt - 0.22))                            # i * g joins the belt
    ax.add_patch(plt.Circle((6.9, 1.75), 0.17, fc="white", ec="black", zorder=3))
    ax.text(6.9, 1.75, "x", ha="center", va="center", fontsize=10, zorder=4)
    _arrow(ax, (6.9, belt), (6.9, 1.92))
    ax.text(6.98, 2.08, "tanh", fontsize=7)
    _arrow(ax, (6.2, gates_row + 0.3), (6.76, 1.7))
    _arrow(ax, (7.07, 1.75), (7.7, 1.75))
    ax.text(7.75, 1.75, r"$h_t$", va="center", fontsize=11)
    ax.plot([0.2, 7.0], [0.15, 0.15], color="gray", lw=0.8)
    ax.text(0.2, -0.1, r"$h_{t-1}$ and $x_t$ feed every gate", fontsize=9, color="gray")
    ax.text(3.9, 3.0, r"$c_t = f \odot c_{t-1} + i \odot g \qquad h_t = o \odot \tanh(c_t)$", ha="center", fontsize=10)
    ax.set_xlim(0, 8.3)
    ax.set_ylim(-0.3, 3.3)
    ax.axis("off")
    fig.tight_layout()
    return fig


def gate_heatmap(gates, tokens, title="LSTM gate activations"):
    """Heat maps of gate activations (0..1) over a text: one panel per gate, every unit a row.

    gates: dict name -> array (T, H). Units are sorted by their mean value in the first gate,
    so units that keep their memory (forget gate near 1) gather at the top.
    tokens: the T characters or words read, labelled along the time axis.
    """
    first = np.asarray(next(iter(gates.values())))
    order = np.argsort(first.mean(axis=0))[::-1]
    fig, axes = plt.subplots(len(gates), 1, figsize=(max(6, 0.16 * first.shape[0] + 2), 1.2 + 2.6 * len(gates)))
    axes = np.atleast_1d(axes)
    for ax, (name, g) in zip(axes, gates.items()):
        im = ax.imshow(np.asarray(g)[:, order].T, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                       interpolation="nearest")
        ax.set_xticks(range(len(tokens)))
        ax.set_xticklabels([t if t != " " else "_" for t in tokens], fontsize=7, family="monospace")
        ax.set_yticks([])
        ax.set_ylabel(f"{name}\n({first.shape[1]} units)")
        fig.colorbar(im, ax=ax, pad=0.01)
    axes[0].set_title(f"{title} (units sorted by their mean {next(iter(gates))})")
    fig.tight_layout()
    return fig


def bidirectional_diagram(T=4):
    """A bidirectional RNN: a forward chain, a backward chain, both feeding every output."""
    fig, ax = plt.subplots(figsize=(1.2 + 1.5 * T, 3.9))
    for t in range(T):
        col = 1.5 * t
        _box(ax, col, 0, f"x{t + 1}", "x")
        _box(ax, col, 1, f"f{t + 1}", "h")
        _box(ax, col, 2, f"b{t + 1}", "h")
        _box(ax, col, 3, f"y{t + 1}", "y")
        _arrow(ax, (col - 0.15, 0.25), (col - 0.15, 0.75))
        _arrow(ax, (col + 0.35, 0.2), (col + 0.35, 1.8), rad=0.0)              # x_t to backward
        _arrow(ax, (col - 0.2, 1.25), (col - 0.2, 2.75), color="#2e86c1")     # forward to y
        _arrow(ax, (col, 2.25), (col, 2.75), color="#e67e22")                 # backward to y
        if t:
            _arrow(ax, (col - 1.2, 1), (col - 0.3, 1), color="#2e86c1")
            _arrow(ax, (col - 0.3, 2), (col - 1.2, 2), color="#e67e22")
    ax.text(-0.85, 1, "forward\n(reads x1 .. xT)", ha="right", va="center", fontsize=8, color="#2e86c1")
    ax.text(-0.85, 2, "backward\n(reads xT .. x1)", ha="right", va="center", fontsize=8, color="#e67e22")
    ax.text(0.75 * (T - 1), 3.5, "y_t = merge(forward state at t, backward state at t)", ha="center",
            fontsize=9)
    ax.set_xlim(-2.2, 1.5 * (T - 1) + 0.6)
    ax.set_ylim(-0.5, 3.8)
    ax.axis("off")
    fig.tight_layout()
    return fig


def segmentation_example(text, predictions):
    """Text with the word breaks each model predicts, one line per model; errors in red."""
    fig, ax = plt.subplots(figsize=(min(14, 0.13 * len(text) + 2.5), 0.5 + 0.45 * (len(predictions) + 1)))
    rows = [("truth", [c == " " for c in text])] + list(predictions.items())
    letters = [c for c in text if c != " "]
    truth = []
    for k, c in enumerate(text):
        if c != " ":
            truth.append(k + 1 == len(text) or text[k + 1] == " ")
    for r, (name, ends) in enumerate(rows):
        y = len(rows) - r
        ax.text(0, y, name, ha="right", va="center", fontsize=9, family="monospace")
        if name == "truth":
            ax.text(0.3, y, text, va="center", fontsize=9, family="monospace")
            continue
        x = 0.3
        for letter, end, want in zip(letters, ends, truth):
            ax.text(x, y, letter, va="center", fontsize=9, family="monospace")
            x += 0.105
            if end or want:
                ax.text(x, y, "_" if end else "^", va="center", fontsize=9, family="monospace",
                        color="black" if end == want else "#c0392b")
                x += 0.105
    ax.set_xlim(-2.2, 0.11 * len(text) + 1.0)
    ax.set_ylim(0.4, len(rows) + 0.6)
    ax.axis("off")
    ax.set_title("Word breaks found (_), missed (red ^) and invented (red _)", fontsize=9)
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


# ----------------------------------------------------------------------------- gradient problems
def jacobian_norm_panels(panels, predicted=None):
    """Mean norm of d h_T / d h_t against t, on a log scale, one panel per input regime.

    Args:
        panels: dict panel title -> dict curve label -> norms (T,), e.g. from jacobian_norms.
        predicted: optional dict curve label -> (T,) values drawn dotted in every panel (what a
            linear RNN would give), in the colour of the curve with the same label.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), sharey=True,
                             squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for k, (label, norms) in enumerate(curves.items()):
            norms = np.asarray(norms, dtype=float)
            ax.semilogy(np.arange(len(norms)), norms, color=colors[k % len(colors)], lw=2, label=label)
            if predicted and label in predicted:
                ax.semilogy(np.arange(len(norms)), predicted[label], color=colors[k % len(colors)],
                            ls=":", lw=1.5)
        ax.set_xlabel("time step t of h_t (the last step is T - 1)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("mean Frobenius norm of d h_T / d h_t")
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def clipping_curves(runs, max_norm=None):
    """Training loss (left) and gradient global norm (right) per step, one line per run.

    Args:
        runs: dict label -> dict with "loss" and "grad_norm", lists of one value per step
            (non-finite losses are drawn as gaps).
        max_norm: the clipping threshold, drawn as a dashed line on the right.
    """
    fig, (ax_loss, ax_norm) = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, run in runs.items():
        steps = np.arange(1, len(run["loss"]) + 1)
        ax_loss.plot(steps, np.asarray(run["loss"], dtype=float), lw=1.2, label=label)
        ax_norm.semilogy(steps, np.asarray(run["grad_norm"], dtype=float), lw=1, label=label)
    ax_loss.set_yscale("symlog", linthresh=1.0)
    ax_loss.set_xlabel("training step")
    ax_loss.set_ylabel("cross-entropy loss (log scale above 1)")
    ax_loss.set_title("training loss")
    if max_norm is not None:
        ax_norm.axhline(max_norm, color="gray", ls="--", lw=1, label=f"max_norm = {max_norm:g}")
    ax_norm.set_xlabel("training step")
    ax_norm.set_ylabel("global norm of the gradient (before clipping)")
    ax_norm.set_title("gradient size")
    for ax in (ax_loss, ax_norm):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# Overlapping lines (several models at the same accuracy) stay visible: each has its own style.
_LINE_STYLES = [dict(marker="o", ms=9, lw=3, ls="-"), dict(marker="s", ms=6, lw=2, ls="--"),
                dict(marker="^", ms=5, lw=1.5, ls="-."), dict(marker="D", ms=4, lw=1, ls=":")]


def accuracy_by_gap(results, chance=None, epochs=None, max_epochs=None):
    """Validation accuracy against the gap (number of filler words), one line per model.

    Args:
        results: dict model name -> dict gap -> accuracy at the end of training.
        chance: the accuracy of guessing, drawn as a dashed line.
        epochs: optional dict model name -> dict gap -> epochs trained; adds a right panel.
        max_epochs: the training budget, drawn as a dashed line on the right panel (a model that
            reaches it did not solve the task).
    """
    ncols = 2 if epochs else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.6 * ncols, 3.8), squeeze=False)
    ax = axes[0][0]
    for k, (name, by_gap) in enumerate(results.items()):
        gaps = sorted(by_gap)
        ax.plot(gaps, [by_gap[g] for g in gaps], label=name, **_LINE_STYLES[k % len(_LINE_STYLES)])
    if chance is not None:
        ax.axhline(chance, color="gray", ls="--", lw=1, label="chance")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("gap: filler words between the country and \"i speak fluent\"")
    ax.set_ylabel("validation accuracy")
    ax.set_title("Remembering the country across the gap")
    ax.grid(alpha=0.3)
    ax.legend()
    if epochs:
        ax = axes[0][1]
        for k, (name, by_gap) in enumerate(epochs.items()):
            gaps = sorted(by_gap)
            ax.plot(gaps, [by_gap[g] for g in gaps], label=name, **_LINE_STYLES[k % len(_LINE_STYLES)])
        if max_epochs is not None:
            ax.axhline(max_epochs, color="gray", ls="--", lw=1, label="budget (not solved)")
        ax.set_ylim(0, (max_epochs or max(max(v.values()) for v in epochs.values())) * 1.08)
        ax.set_xlabel("gap: filler words between the country and \"i speak fluent\"")
        ax.set_ylabel("epochs trained")
        ax.set_title("Epochs until validation accuracy >= 0.99")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def cnn_rnn_diagram():
    """The two ways to combine convolution and recurrence, side by side.

    Left: RNN after CNN (an encoder's features start an LSTM decoder that writes the caption).
    Right: a recurrent convolutional cell (ConvLSTM: the state is a feature map, every matrix
    product of the LSTM becomes a convolution).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw=dict(width_ratios=[1.3, 1]))
    # RNN after CNN
    _box(left, 0, 1, "image", "x")
    _box(left, 1.1, 1, "Conv2D\nencoder", "y")
    _box(left, 2.2, 1, "h0, c0", "h")
    _arrow(left, (0.3, 1), (0.8, 1))
    _arrow(left, (1.4, 1), (1.9, 1))
    words = ["<start>", "seven", "two", "<end>"]
    for t in range(3):
        col = 3.3 + 1.1 * t
        _box(left, col, 1, "LSTM", "h")
        _box(left, col, 0, words[t], "x")
        _box(left, col, 2, words[t + 1], "y")
        _arrow(left, (col, 0.25), (col, 0.75))
        _arrow(left, (col, 1.25), (col, 1.75))
        _arrow(left, (col - 0.8, 1), (col - 0.3, 1))
    left.text(4.4, 2.55, "teacher forcing: the decoder reads caption[:, :-1], predicts caption[:, 1:]",
              ha="center", fontsize=8)
    left.set_title("RNN after CNN: the image starts the decoder", fontsize=10)
    left.set_xlim(-0.5, 6.0)
    left.set_ylim(-0.5, 2.9)
    left.axis("off")
    # ConvLSTM
    for t in range(3):
        x0 = 1.3 * t
        right.add_patch(plt.Rectangle((x0, 0), 0.9, 0.9, fc=_COLORS["x"], ec="black"))
        right.text(x0 + 0.45, -0.25, f"frame x{t + 1}", ha="center", fontsize=8)
        right.add_patch(plt.Rectangle((x0, 1.6), 0.9, 0.9, fc=_COLORS["h"], ec="black"))
        for k in range(1, 3):
            right.plot([x0 + 0.3 * k] * 2, [1.6, 2.5], color="grey", lw=0.5)
            right.plot([x0, x0 + 0.9], [1.6 + 0.3 * k] * 2, color="grey", lw=0.5)
        right.text(x0 + 0.45, 2.65, f"state map h{t + 1}, c{t + 1}", ha="center", fontsize=8)
        _arrow(right, (x0 + 0.45, 0.95), (x0 + 0.45, 1.55))
        right.text(x0 + 0.5, 1.25, "conv", fontsize=7)
        if t:
            _arrow(right, (x0 - 0.4, 2.05), (x0 - 0.02, 2.05))
            right.text(x0 - 0.38, 2.15, "conv", fontsize=7)
    right.set_title("ConvLSTM: the recurrence itself convolves", fontsize=10)
    right.set_xlim(-0.3, 3.6)
    right.set_ylim(-0.5, 2.9)
    right.axis("off")
    fig.tight_layout()
    return fig


def caption_grid(images, rows, truth=None, columns=4, title=None):
    """Images with captions under them, one line per decoder.

    Args:
        images: (n, height, width) or (n, height, width, 1) array.
        rows: dict decoder name -> list of n caption strings (e.g. {"greedy": [...], "beam": [...]}).
        truth: optional list of n true captions; a generated caption that differs is drawn red.
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    n = len(images)
    n_rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(n_rows, columns, figsize=(3.2 * columns, 1.35 * n_rows + 0.9 * n_rows),
                             squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k], cmap="gray_r", vmin=0, vmax=1)
        lines = [] if truth is None else [f"true: {truth[k]}"]
        colours = [] if truth is None else ["black"]
        for name, captions in rows.items():
            lines.append(f"{name}: {captions[k]}")
            colours.append("black" if truth is None or captions[k] == truth[k] else "#c0392b")
        for j, (line, colour) in enumerate(zip(lines, colours)):
            ax.text(0.5, -0.12 - 0.2 * j, line, transform=ax.transAxes, ha="center", va="top",
                    fontsize=8.5, color=colour)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def frame_rows(rows, title=None):
    """Rows of frames (e.g. true and predicted next frames), one row per label.

    Args:
        rows: dict label -> array (T, height, width) or (T, height, width, 1), values in [0, 1].
    """
    labels = list(rows)
    T = len(next(iter(rows.values())))
    fig, axes = plt.subplots(len(labels), T, figsize=(1.3 * T, 1.45 * len(labels)), squeeze=False)
    for r, label in enumerate(labels):
        frames = np.asarray(rows[label])
        if frames.ndim == 4:
            frames = frames[..., 0]
        for t in range(T):
            ax = axes[r, t]
            ax.imshow(frames[t], cmap="magma", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t={t + 1}", fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- 07: attention
def seq2seq_diagram():
    """An encoder-decoder without attention (one vector between them) beside one with attention
    (every decoder step reads a weighted average of all the encoder's states)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    source, target = ["3", ".", "M", "ä", "r", "z"], ["<s>", "2", "0", "2"]
    for ax, attention in zip(axes, (False, True)):
        for t, ch in enumerate(source):
            _box(ax, 0.8 * t, 0, ch, "x")
            _box(ax, 0.8 * t, 1, f"e{t + 1}", "h")
            _arrow(ax, (0.8 * t, 0.25), (0.8 * t, 0.75))
            if t:
                _arrow(ax, (0.8 * t - 0.5, 1), (0.8 * t - 0.3, 1))
        start = 0.8 * len(source) + 0.6
        for s, ch in enumerate(target):
            col = start + 0.9 * s
            _box(ax, col, 0, ch, "x")
            _box(ax, col, 1, f"d{s + 1}", "h")
            _box(ax, col, 2, target[s + 1] if s + 1 < len(target) else "0", "y")
            _arrow(ax, (col, 0.25), (col, 0.75))
            _arrow(ax, (col, 1.25), (col, 1.75))
            if s:
                _arrow(ax, (col - 0.6, 1), (col - 0.3, 1))
        _arrow(ax, (0.8 * (len(source) - 1) + 0.3, 1), (start - 0.3, 1), color="#c0392b")
        if attention:
            for t in range(len(source)):
                _arrow(ax, (0.8 * t, 1.25), (start + 1.75, 1.27), color="#2e86c1", rad=-0.3)
            ax.text(start + 1.8, 2.65, "d3 attends: weights over e1 .. e6", ha="center", fontsize=8,
                    color="#2e86c1")
            ax.set_title("With attention: each step looks back at every encoder state", fontsize=10)
        else:
            ax.text(0.8 * len(source) - 0.1, 1.45, "one vector", ha="center", fontsize=8, color="#c0392b")
            ax.set_title("Without: the whole input squeezed into the last state", fontsize=10)
        ax.set_xlim(-0.5, start + 0.9 * len(target))
        ax.set_ylim(-0.5, 2.9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def attention_weights(weights, source, target, title="attention weights", ax=None):
    """A heat map of weights (Ty, Tx): which source characters each output character read."""
    weights = np.asarray(weights)
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(0.32 * len(source) + 1.6, 0.32 * len(target) + 1.2))
    image = ax.imshow(weights[:len(target), :len(source)], cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source)), list(source), fontsize=8)
    ax.set_yticks(range(len(target)), list(target), fontsize=8)
    ax.set_xlabel("source character (encoder step)")
    ax.set_ylabel("output character")
    ax.set_title(title, fontsize=9)
    if own:
        ax.figure.colorbar(image, ax=ax, fraction=0.04, label="weight")
        ax.figure.tight_layout()
    return ax.figure


def scores_and_weights(scores, weights, mask):
    """One query's dot-attention scores and its weights over the keys, padded keys shaded."""
    scores, weights, mask = (np.asarray(a) for a in (scores, weights, mask))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3))
    keys = np.arange(len(scores))
    for ax, values, label in ((left, scores, "score  query . key_j"), (right, weights, "weight  softmax")):
        ax.bar(keys, values, color=np.where(mask, "#2e86c1", "#bbbbbb"))
        ax.set_xticks(keys, [f"key {j + 1}" + ("" if m else "\n(pad)") for j, m in zip(keys, mask)],
                      fontsize=8)
        ax.set_ylabel(label)
        ax.axhline(0, color="black", lw=0.6)
    left.set_title("scores: how well each key matches the query", fontsize=9)
    right.set_title("weights: padded keys get none, the rest sum to 1", fontsize=9)
    fig.tight_layout()
    return fig


def teacher_forcing_table(target, decoder_input, mask, tokens):
    """Target and decoder-input rows of one sequence, with the loss mask under them."""
    fig, ax = plt.subplots(figsize=(0.6 * len(target) + 2.2, 1.9))
    rows = [("decoder input", decoder_input), ("target", target)]
    for r, (name, ids) in enumerate(rows):
        for t, i in enumerate(ids):
            ax.add_patch(plt.Rectangle((t, r), 1, 1, fc=_COLORS["x" if r == 0 else "y"] if mask[t]
                                       else "#eeeeee", ec="black", lw=0.6))
            ax.text(t + 0.5, r + 0.5, tokens[int(i)], ha="center", va="center", fontsize=9)
        ax.text(-0.2, r + 0.5, name, ha="right", va="center", fontsize=9)
    for t, m in enumerate(mask):
        ax.text(t + 0.5, -0.35, str(int(m)), ha="center", va="center", fontsize=8, color="#555555")
    ax.text(-0.2, -0.35, "mask", ha="right", va="center", fontsize=8, color="#555555")
    ax.set_xlim(-3.2, len(target) + 0.2)
    ax.set_ylim(-0.7, 2.1)
    ax.axis("off")
    ax.set_title("teacher forcing: the input at step t is the target at t - 1", fontsize=9)
    fig.tight_layout()
    return fig


def accuracy_by_length(curves, title="Exact-match accuracy by input length"):
    """Accuracy per input length, one line per model: curves {label: (lengths, accuracy)}."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for label, (lengths, accuracy) in curves.items():
        ax.plot(lengths, accuracy, marker="o", ms=3, label=label)
    ax.set_xlabel("input length (characters)")
    ax.set_ylabel("exact match")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
