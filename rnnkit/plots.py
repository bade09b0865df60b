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


# ----------------------------------------------------------------------------- 08: time series
_SERIES_COLORS = {"truth": "black", "naive": "#7f8c8d", "seasonal naive": "#16a085", "GRU": "#c0392b",
                  "LSTM": "#2e86c1", "direct": "#8e44ad", "recursive": "#d35400"}


def _series_color(label, k):
    return _SERIES_COLORS.get(label, f"C{k}")


def series_overview(panels):
    """Whole series, one panel each.

    Args:
        panels: list of dicts with time (T,), values (T,), title, ylabel and, optionally,
            marked (T,) bool: points drawn as dots (e.g. values filled in, not measured).
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.4 * len(panels)), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        time, values = np.asarray(panel["time"]), np.asarray(panel["values"])
        ax.plot(time, values, lw=0.7, color="#34495e", label=panel.get("label", "series"))
        if panel.get("marked") is not None:
            marked = np.asarray(panel["marked"], dtype=bool)
            ax.plot(time[marked], values[marked], "o", ms=2.5, color="#e67e22",
                    label=panel.get("marked_label", "marked"))
        ax.set_title(panel["title"], fontsize=10)
        ax.set_ylabel(panel["ylabel"])
        ax.set_xlabel("time")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def window_diagram(T=12, W=4, K=2, stride=3):
    """How one series of T steps is cut into windows: W inputs (green) then K targets (blue),
    each window starting `stride` steps after the previous one (a small example, drawn)."""
    starts = list(range(0, T - W - K + 1, stride))
    rows = len(starts) + 1
    fig, ax = plt.subplots(figsize=(0.55 * T + 2.6, 0.55 * rows + 1.2))
    for t in range(T):
        ax.add_patch(plt.Rectangle((t, rows - 1), 1, 0.8, fc="#eeeeee", ec="black", lw=0.6))
        ax.text(t + 0.5, rows - 0.6, f"x{t}", ha="center", va="center", fontsize=8)
    ax.text(-0.2, rows - 0.6, "series (T, D)", ha="right", va="center", fontsize=9)
    for n, s in enumerate(starts):
        y = rows - 2 - n
        for t in range(s, s + W):
            ax.add_patch(plt.Rectangle((t, y), 1, 0.8, fc=_COLORS["x"], ec="black", lw=0.6))
            ax.text(t + 0.5, y + 0.4, f"x{t}", ha="center", va="center", fontsize=8)
        for t in range(s + W, s + W + K):
            ax.add_patch(plt.Rectangle((t, y), 1, 0.8, fc=_COLORS["y"], ec="black", lw=0.6))
            ax.text(t + 0.5, y + 0.4, f"x{t}", ha="center", va="center", fontsize=8)
        ax.text(-0.2, y + 0.4, f"window n={n} (s={s})", ha="right", va="center", fontsize=9)
    ax.add_patch(plt.Rectangle((0, -1.05), 0.6, 0.45, fc=_COLORS["x"], ec="black", lw=0.6))
    ax.text(0.75, -0.83, f"X[n]: W = {W} inputs", va="center", fontsize=8)
    ax.add_patch(plt.Rectangle((4.5, -1.05), 0.6, 0.45, fc=_COLORS["y"], ec="black", lw=0.6))
    ax.text(5.25, -0.83, f"Y[n]: K = {K} targets, right after the inputs", va="center", fontsize=8)
    ax.set_xlim(-4.2, T + 0.3)
    ax.set_ylim(-1.2, rows)
    ax.axis("off")
    ax.set_title(f"T = {T}, W = {W}, K = {K}, stride = {stride}: windows start at s = n * stride; "
                 f"the last one ends at the last step", fontsize=9)
    fig.tight_layout()
    return fig


def split_figure(time, values, split, ylabel, title):
    """A series cut in time: the training split, then the test split (shaded), with the range of
    values the training split covers (dashed)."""
    time, values = np.asarray(time), np.asarray(values)
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(time[:split], values[:split], lw=0.8, color="#2e86c1", label="training split")
    ax.plot(time[split:], values[split:], lw=0.8, color="#c0392b", label="test split (the future)")
    ax.axvspan(time[split], time[-1], color="#c0392b", alpha=0.08)
    for level in (values[:split].min(), values[:split].max()):
        ax.axhline(level, color="#2e86c1", ls="--", lw=0.8)
    ax.plot([], [], color="#2e86c1", ls="--", lw=0.8, label="lowest and highest training values")
    ax.set_xlabel("time")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def baseline_diagram(time, window, future, season, steps, ylabel):
    """Which past value each baseline reads: a window of W observed values, the K true values after
    it (grey), and for a few steps k an arrow from the value read to the step it stands for.

    Args:
        time: (W + K,) times of the window and of the future; window: (W,); future: (K,).
        season: S, the season in steps (W >= S); steps: the 0-based steps k to draw.
    """
    time, window, future = np.asarray(time), np.asarray(window), np.asarray(future)
    W = len(window)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.4), sharey=True)
    titles = ("naive: every step reads the last value of the window",
              f"seasonal naive: step k reads the value one season (S = {season}) before it")
    for panel, (ax, title) in enumerate(zip(axes, titles)):
        ax.plot(time[:W], window, color="#34495e", lw=1, label="window X[n] (W steps)")
        ax.plot(time[W:], future, color="#aaaaaa", lw=1, label="the K future values Y[n]")
        ax.axvline(time[W - 1], color="black", lw=0.6, ls=":")
        for k in steps:
            read = W - 1 if panel == 0 else W - season + k % season
            ax.plot(time[read], window[read], "o", color="#c0392b", ms=5)
            ax.plot(time[W + k], future[k], "s", mfc="none", color="#c0392b", ms=6)
            ax.add_patch(FancyArrowPatch((time[read], window[read]), (time[W + k], future[k]),
                                         arrowstyle="-|>", mutation_scale=10, color="#c0392b", lw=0.9,
                                         connectionstyle="arc3,rad=-0.25"))
            ax.annotate(f"k={k}", (time[W + k], future[k]), textcoords="offset points", xytext=(4, -12),
                        fontsize=8, color="#c0392b")
        ax.plot([], [], "o", color="#c0392b", ms=5, label="value read")
        ax.plot([], [], "s", mfc="none", color="#c0392b", ms=6, label="step it forecasts")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("time")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def mase_diagram(seed=3):
    """The two halves of MASE on a toy series: the forecast's errors on the test split (top of the
    fraction) and the one-step changes of the training split (the scale, bottom)."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 1, 40)) + 20
    train, test = x[:30], x[30:]
    forecast = test + rng.normal(0, 0.8, len(test))
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), gridspec_kw=dict(width_ratios=[3, 1.4]))
    t = np.arange(len(x))
    ax = axes[0]
    ax.plot(t[:30], train, "o-", ms=3, color="#2e86c1", label="training series")
    for i in range(1, 30):
        ax.plot([i, i], [train[i - 1], train[i]], color="#e67e22", lw=2.5, alpha=0.7)
    ax.plot([], [], color="#e67e22", lw=2.5, label=r"$|x_t - x_{t-S}|$ (here S = 1)")
    ax.set_title("denominator: the training series' own S-step changes, averaged", fontsize=9)
    ax2 = axes[1]
    ax2.plot(t[30:], test, "o-", ms=3, color="black", label="truth (test)")
    ax2.plot(t[30:], forecast, "s", ms=4, color="#c0392b", label="forecast")
    for i, (a, b) in enumerate(zip(test, forecast)):
        ax2.plot([30 + i, 30 + i], [a, b], color="#c0392b", lw=2.5, alpha=0.5)
    ax2.plot([], [], color="#c0392b", lw=2.5, alpha=0.5, label=r"$|y - \hat y|$")
    ax2.set_title("numerator: the forecast's errors, averaged", fontsize=9)
    for a in axes:
        a.set_xlabel("time step")
        a.set_ylabel("value")
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="upper left")
    fig.suptitle(r"MASE = mean $|y - \hat y|$ on the test split  /  mean $|x_t - x_{t-S}|$ on the training"
                 " split", fontsize=10)
    fig.tight_layout()
    return fig


def recursive_diagram(W=4, K=3):
    """Recursive forecasting (one-step model, its predictions fed back, the window sliding) beside
    a direct multi-output model (one call, K outputs)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.75 * K + 1.9), gridspec_kw=dict(width_ratios=[1.6, 1]))
    ax = axes[0]
    for k in range(K):
        y = K - 1 - k
        cells = [("x", f"x{t}") for t in range(k + 1, W + 1)] + [("h", f"ŷ{j}") for j in range(1, k + 1)]
        for c, (kind, label) in enumerate(cells):
            ax.add_patch(plt.Rectangle((c, y), 1, 0.7, fc=_COLORS[kind], ec="black", lw=0.6))
            ax.text(c + 0.5, y + 0.35, label, ha="center", va="center", fontsize=8)
        _arrow(ax, (W + 0.1, y + 0.35), (W + 0.9, y + 0.35))
        ax.text(W + 1.3, y + 0.35, "f", ha="center", va="center", fontsize=10, weight="bold")
        _arrow(ax, (W + 1.7, y + 0.35), (W + 2.4, y + 0.35))
        ax.add_patch(plt.Rectangle((W + 2.5, y), 1, 0.7, fc=_COLORS["h"], ec="black", lw=0.6))
        ax.text(W + 3.0, y + 0.35, f"ŷ{k + 1}", ha="center", va="center", fontsize=8)
        ax.text(-0.2, y + 0.35, f"step {k + 1}", ha="right", va="center", fontsize=8)
        if k + 1 < K:
            _arrow(ax, (W + 3.0, y), (W - 0.5, y - 0.28), color="#c0392b", rad=-0.15)
    ax.text(W + 4.3, K / 2 - 0.4, "fed back:\nthe window\nslides by one", fontsize=8, color="#c0392b",
            va="center")
    ax.set_xlim(-1.6, W + 6.5)
    ax.set_ylim(-0.6, K)
    ax.axis("off")
    ax.set_title("recursive: one model f (N, W, D) -> (N, D), called K times", fontsize=9)
    ax = axes[1]
    y = (K - 1) / 2
    for c in range(W):
        ax.add_patch(plt.Rectangle((c, y), 1, 0.7, fc=_COLORS["x"], ec="black", lw=0.6))
        ax.text(c + 0.5, y + 0.35, f"x{c + 1}", ha="center", va="center", fontsize=8)
    _arrow(ax, (W + 0.1, y + 0.35), (W + 0.9, y + 0.35))
    ax.text(W + 1.3, y + 0.35, "g", ha="center", va="center", fontsize=10, weight="bold")
    for k in range(K):
        yk = K - 1 - k
        _arrow(ax, (W + 1.7, y + 0.35), (W + 2.4, yk + 0.35))
        ax.add_patch(plt.Rectangle((W + 2.5, yk), 1, 0.7, fc=_COLORS["y"], ec="black", lw=0.6))
        ax.text(W + 3.0, yk + 0.35, f"ŷ{k + 1}", ha="center", va="center", fontsize=8)
    ax.set_xlim(-0.5, W + 4)
    ax.set_ylim(-0.6, K)
    ax.axis("off")
    ax.set_title("direct (multi-output): one model g (N, W, D) -> (N, K, D), called once", fontsize=9)
    fig.tight_layout()
    return fig


def rolling_zscore_diagram(residuals, window, t, ylabel="residual"):
    """The rolling z-score's idea: the point r_t (red) is compared with the `window` values just
    before it (shaded); later points (grey) play no part in its score."""
    r = np.asarray(residuals)
    steps = np.arange(len(r))
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.axvspan(t - window - 0.5, t - 0.5, color="#2e86c1", alpha=0.15,
               label=f"the previous {window} values: their mean and standard deviation")
    ax.plot(steps[:t], r[:t], "o-", ms=3, lw=0.7, color="#34495e", label="residuals up to t - 1")
    ax.plot(steps[t + 1:], r[t + 1:], "o-", ms=3, lw=0.7, color="#bbbbbb", label="after t (not used)")
    ax.plot([t], [r[t]], "o", ms=8, color="#c0392b", label=f"r_t at t = {t}: is it unusual?")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("time step t")
    ax.set_ylabel(ylabel)
    ax.set_title(r"score$_t$ = |r$_t$ - mean| / std, both over the shaded window only", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def forecast_panels(panels):
    """One-step forecasts against the truth, one panel per series.

    Args:
        panels: list of dicts with time (M,), truth (M,), forecasts {label: (M,)}, title, ylabel.
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.6 * len(panels)), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        ax.plot(panel["time"], panel["truth"], color="black", lw=1.4, label="truth")
        for k, (label, values) in enumerate(panel["forecasts"].items()):
            ax.plot(panel["time"], values, lw=0.9, color=_series_color(label, k), label=label,
                    ls="--" if label == "naive" else "-")
        ax.set_title(panel["title"], fontsize=10)
        ax.set_ylabel(panel["ylabel"])
        ax.set_xlabel("time")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", ncol=4)
    fig.tight_layout()
    return fig


def mase_bars(table, title="One-step MASE on the test split (lower is better)"):
    """Grouped bars: table {series: {method: MASE}}; the dashed line at 1 is the scale itself,
    the in-sample (seasonal) naive forecast's error."""
    series = list(table)
    methods = []
    for row in table.values():
        methods += [m for m in row if m not in methods]
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for j, method in enumerate(methods):
        xs = [i + (j - (len(methods) - 1) / 2) * width for i, s in enumerate(series) if method in table[s]]
        vals = [table[s][method] for s in series if method in table[s]]
        bars = ax.bar(xs, vals, width, color=_series_color(method, j), label=method)
        for bar, v in zip(bars, vals):
            ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
    ax.axhline(1, color="black", ls="--", lw=0.8, label="MASE = 1")
    top = max(max(row.values()) for row in table.values())
    ax.set_ylim(0, 1.3 * max(top, 1.0))
    ax.set_xticks(range(len(series)), series)
    ax.set_xlabel("series")
    ax.set_ylabel("MASE")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=len(methods) + 1, loc="upper center")
    fig.tight_layout()
    return fig


def change_scatter(actual, predicted, title, units):
    """Predicted against actual one-step changes: a model that knows something lies along the
    diagonal; one that knows nothing, on a flat line."""
    actual, predicted = np.ravel(actual), np.ravel(predicted)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    ax.scatter(actual, predicted, s=4, alpha=0.35, color="#c0392b", label="test windows")
    lim = np.percentile(np.abs(actual), 99.5)
    ax.plot([-lim, lim], [-lim, lim], color="black", lw=0.8, ls="--", label="perfect forecast")
    ax.axhline(0, color="#7f8c8d", lw=1.2, label="naive forecast (change 0)")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(f"actual change ({units})")
    ax.set_ylabel(f"predicted change ({units})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def horizon_errors(curves, units, title="Mean absolute error by steps ahead"):
    """MAE against the number of steps ahead, one line per method: curves {label: (K,)}."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for k, (label, errors) in enumerate(curves.items()):
        errors = np.ravel(errors)
        ax.plot(np.arange(1, len(errors) + 1), errors, lw=1.4, color=_series_color(label, k), label=label,
                ls="--" if "naive" in label else "-")
    ax.set_xlabel("steps ahead k")
    ax.set_ylabel(f"mean absolute error ({units})")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def multistep_example(time, history, truth, forecasts, ylabel, title):
    """One window's multi-step forecasts: time (W + K,), history (W,), truth (K,), forecasts
    {label: (K,)}."""
    time, history = np.asarray(time), np.asarray(history)
    W = len(history)
    fig, ax = plt.subplots(figsize=(10, 3.4))
    ax.plot(time[:W], history, color="#34495e", lw=1, label="window (input)")
    ax.plot(time[W:], truth, color="black", lw=1.6, label="truth")
    for k, (label, values) in enumerate(forecasts.items()):
        ax.plot(time[W:], values, lw=1.1, color=_series_color(label, k), label=label,
                ls="--" if "naive" in label else "-")
    ax.axvline(time[W - 1], color="black", lw=0.6, ls=":")
    ax.set_xlabel("time")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", ncol=3)
    fig.tight_layout()
    return fig


def anomaly_panels(time, residuals, scores, flags, threshold, values=None, injected=None, gaps=None,
                   ylabel="value", units="", title="Anomalies"):
    """Flagged points on the series (top, if `values` is given), on the residuals and on the
    anomaly scores with the threshold (bottom).

    Args:
        time, residuals, scores, flags: (T,); scores and flags as anomaly_scores returns them.
        threshold: the line drawn under the scores.
        values: (T,) or None, the series the residuals come from (drawn on top).
        injected: (T,) bool or None, positions of known injected faults (drawn as crosses).
        gaps: (T,) bool or None, steps whose value was filled in, not measured (drawn as dots).
        ylabel: the series' axis label; units: the residuals' unit.
    """
    time, residuals, scores = np.asarray(time), np.asarray(residuals), np.asarray(scores)
    flags = np.asarray(flags, dtype=bool)
    rows = [("series", values)] if values is not None else []
    rows += [("residual", residuals), ("score", scores)]
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 2.3 * len(rows) + 0.4), sharex=True)
    for ax, (kind, y) in zip(axes, rows):
        y = np.asarray(y)
        ax.plot(time, y, lw=0.6, color="#34495e", label={"series": "series", "residual": "residual",
                                                         "score": "rolling z-score"}[kind])
        ax.plot(time[flags], y[flags], "o", mfc="none", ms=7, color="#c0392b", label=f"flagged ({int(flags.sum())})")
        if injected is not None:
            inj = np.asarray(injected, dtype=bool)
            ax.plot(time[inj], y[inj], "x", ms=7, color="#16a085", label=f"injected fault ({int(inj.sum())})")
        if gaps is not None:
            gap = np.asarray(gaps, dtype=bool)
            ax.plot(time[gap], y[gap], ".", ms=4, color="#e67e22", label="not measured (interpolated)")
        low, high = np.min(y), np.max(y)
        ax.set_ylim(low - 0.05 * (high - low), high + 0.3 * (high - low))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", ncol=3)
    if values is not None:
        axes[0].set_ylabel(ylabel)
    axes[-2].set_ylabel(f"residual ({units})" if units else "residual")
    axes[-1].axhline(threshold, color="#c0392b", ls="--", lw=0.8)
    axes[-1].set_ylabel("score")
    axes[-1].set_xlabel("time")
    axes[-1].text(0.99, 0.92, f"threshold {threshold:g}", transform=axes[-1].transAxes, ha="right",
                  va="top", fontsize=8, color="#c0392b")
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- 09: music generation
_PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_TOKEN_COLORS = {"onset": "#cfe8cf", "hold": "#fde3b0", "rest": "#dddddd"}
_DEGREE_NAMES = ["1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7"]
_TEMPERATURE_COLORS = ["#2e86c1", "#8e44ad", "#c0392b", "#e67e22", "#16a085"]


def pitch_name(midi):
    """The name of a MIDI note number, with sharps: 60 -> 'C4', 69 -> 'A4', 70 -> 'A#4'."""
    midi = int(midi)
    return f"{_PITCH_CLASSES[midi % 12]}{midi // 12 - 1}"


def _token_box(ax, x, y, width, height, token, low, fontsize=7):
    """One token drawn as a box: an onset green with its pitch's name, HOLD orange, REST grey."""
    token = int(token)
    kind = "rest" if token == 0 else "hold" if token == 1 else "onset"
    ax.add_patch(plt.Rectangle((x, y), width, height, fc=_TOKEN_COLORS[kind], ec="black", lw=0.6))
    label = {"rest": "0\nREST", "hold": "1\nHOLD"}.get(kind, f"{token}\n{pitch_name(token - 2 + low)}")
    ax.text(x + width / 2, y + height / 2, label, ha="center", va="center", fontsize=fontsize)


def _pitch_axis(ax, pitches):
    """Label a piano roll's y axis with note names: the natural notes (white keys) over a narrow
    range, every C, E and G over a wider one, every C over more than two octaves; and the lowest
    and highest pitch unless a label is already next to them."""
    lo, hi = int(min(pitches)), int(max(pitches))
    every = (0, 2, 4, 5, 7, 9, 11) if hi - lo <= 16 else (0, 4, 7) if hi - lo <= 26 else (0,)
    ticks = {p for p in range(lo, hi + 1) if p % 12 in every}
    ticks |= {p for p in (lo, hi) if all(abs(p - q) > 2 for q in ticks)}
    ticks = sorted(ticks)
    ax.set_yticks(ticks, [f"{pitch_name(p)} ({p})" for p in ticks], fontsize=8)
    ax.set_ylim(lo - 1.5, hi + 1.5)


def token_grid_diagram(notes, tokens, low, steps_per_quarter=4, title=None):
    """A melody as written (top) and as tokens on the grid (bottom), on one time axis.

    Args:
        notes: list of (pitch or None, onset, duration, tie): the written notes and rests, onset and
            duration in quarter notes, tie None or "start"/"continue"/"stop" (drawn as an arc).
        tokens: (T,) ints, the melody's tokens, step t sampled at time t / steps_per_quarter.
        low: the MIDI pitch whose onset token is 2.
    """
    tokens = np.asarray(tokens)
    T = len(tokens)
    step = 1.0 / steps_per_quarter
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(0.52 * T + 1.5, 4.6), sharex=True,
                                      gridspec_kw=dict(height_ratios=[2.2, 1]))
    pitches = [p for p, *_ in notes if p is not None]
    rest_row = min(pitches) - 1.5
    for k, (pitch, onset, duration, tie) in enumerate(notes):
        if pitch is None:
            top.add_patch(plt.Rectangle((onset, rest_row - 0.35), duration, 0.7, fc="#bbbbbb", ec="black",
                                        lw=0.6, hatch="//"))
            top.text(onset + duration / 2, rest_row, "rest", ha="center", va="center", fontsize=8)
            continue
        top.add_patch(plt.Rectangle((onset, pitch - 0.4), duration, 0.8, fc="#2e86c1", ec="black", lw=0.6,
                                    alpha=0.85))
        top.text(onset + 0.04, pitch + 0.55, f"{pitch_name(pitch)}, {duration:g} q", fontsize=7, va="bottom")
        if tie in ("start", "continue"):
            end = onset + duration
            top.add_patch(FancyArrowPatch((end - 0.15, pitch - 0.5), (end + 0.15, pitch - 0.5), arrowstyle="-",
                                          connectionstyle="arc3,rad=0.6", color="#c0392b", lw=1.5))
            top.text(end, pitch - 1.3, "tie", ha="center", fontsize=7, color="#c0392b")
    for t in range(T + 1):
        top.axvline(t * step, color="#999999", lw=0.5 if t % steps_per_quarter else 1.0,
                    ls=":" if t % steps_per_quarter else "-")
    top.plot(np.arange(T) * step, np.full(T, rest_row - 1.2), "^", ms=4, color="#c0392b",
             label="sampling times t / %d" % steps_per_quarter, clip_on=False)
    _pitch_axis(top, pitches)
    top.set_ylim(rest_row - 1.5, max(pitches) + 2)
    top.set_ylabel("pitch")
    top.legend(fontsize=8, loc="upper right")
    top.set_title(title or "A melody as written (top) and as one token per sixteenth-note step (bottom)",
                  fontsize=10)
    for t, token in enumerate(tokens):
        _token_box(bottom, t * step, 0, step, 1, token, low)
        bottom.text((t + 0.5) * step, -0.25, f"t={t}", ha="center", va="top", fontsize=6, color="#555555")
    bottom.set_ylim(-0.6, 1.1)
    bottom.set_yticks([])
    bottom.set_xlim(0, T * step)
    bottom.set_xticks(np.arange(0, T * step + 1e-9, 1.0))
    bottom.set_xlabel("time (quarter notes)")
    for kind, color in _TOKEN_COLORS.items():
        bottom.add_patch(plt.Rectangle((0, 0), 0, 0, fc=color, ec="black", lw=0.6,
                                       label={"onset": "onset: 2 + p - LOW", "hold": "HOLD (1)",
                                              "rest": "REST (0)"}[kind]))
    bottom.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=3)
    fig.tight_layout()
    return fig


def token_rows(rows, low, title="Token rows"):
    """Several token sequences of the same length, one row each: rows {label: (T,) tokens}."""
    T = max(len(tokens) for tokens in rows.values())
    fig, ax = plt.subplots(figsize=(0.5 * T + 2.6, 0.75 * len(rows) + 0.9))
    for r, (label, tokens) in enumerate(rows.items()):
        y = len(rows) - 1 - r
        for t, token in enumerate(tokens):
            _token_box(ax, t, y, 1, 0.8, token, low)
        ax.text(-0.2, y + 0.4, label, ha="right", va="center", fontsize=9)
    for t in range(T):
        ax.text(t + 0.5, -0.15, str(t), ha="center", va="top", fontsize=6, color="#555555")
    ax.set_xlim(-5.5, T + 0.2)
    ax.set_ylim(-0.5, len(rows))
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def keys_and_ranges(key_counts, lows, highs, low, high, shifts):
    """Why transposing helps: how many chorales are in each key (left) and each chorale's range of
    pitches against the vocabulary's, with the room left to transpose (right).

    Args:
        key_counts: {key name: number of chorales}, e.g. {"G major": 40, ...}.
        lows, highs: (C,) each chorale's lowest and highest MIDI pitch.
        low, high: the lowest and highest pitch the tokens can write.
        shifts: the transpositions used, in semitones (drawn as the band they move the corpus over).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw=dict(width_ratios=[1.3, 1]))
    names = sorted(key_counts, key=lambda k: -key_counts[k])
    colors = ["#2e86c1" if "major" in k else "#c0392b" for k in names]
    left.bar(range(len(names)), [key_counts[k] for k in names], color=colors)
    left.set_xticks(range(len(names)), [k.replace("-", "b") for k in names], rotation=70, fontsize=7)
    left.set_ylabel("chorales")
    left.set_xlabel("key of the melody (music21's analysis)")
    left.legend(handles=[plt.Rectangle((0, 0), 1, 1, color="#2e86c1", label="major"),
                         plt.Rectangle((0, 0), 1, 1, color="#c0392b", label="minor")], fontsize=8)
    left.grid(alpha=0.3, axis="y")
    left.set_title(f"{sum(key_counts.values())} chorales in {len(names)} keys: some keys are rare", fontsize=10)
    order = np.lexsort((np.asarray(highs), np.asarray(lows)))
    lows, highs = np.asarray(lows)[order], np.asarray(highs)[order]
    right.vlines(np.arange(len(lows)), lows, highs, color="#34495e", lw=0.8, label="one chorale's range")
    right.axhspan(low, high, color="#16a085", alpha=0.08,
                  label=f"the tokens' range {pitch_name(low)}..{pitch_name(high)}")
    right.axhline(low, color="#16a085", ls="--", lw=1)
    right.axhline(high, color="#16a085", ls="--", lw=1)
    lo, hi = lows.min() + min(shifts), highs.max() + max(shifts)
    right.axhspan(lo, hi, color="#e67e22", alpha=0.15,
                  label=f"all chorales moved by {min(shifts):+d}..{max(shifts):+d} semitones")
    right.set_xlabel("chorale (sorted by lowest pitch)")
    _pitch_axis(right, [low, high])
    right.set_ylabel("pitch")
    right.legend(fontsize=7, loc="upper left")
    right.set_title("Soprano ranges, and the room to transpose them", fontsize=10)
    fig.tight_layout()
    return fig


def generation_diagram(seed=3, new=3):
    """Training with teacher forcing (left) beside generation, free running (right): the same LSTM
    step, the state [h, c] carried from step to step, the sampled token fed back as the next input."""
    fig, axes = plt.subplots(1, 2, figsize=(14, 3.9), gridspec_kw=dict(width_ratios=[1, 1.45]))
    ax = axes[0]
    T = 4
    for t in range(T):
        _box(ax, t, 0, f"y{t}", "x")
        _box(ax, t, 1, "LSTM", "h")
        _box(ax, t, 2, f"p(y{t + 1})", "y")
        _arrow(ax, (t, 0.25), (t, 0.75))
        _arrow(ax, (t, 1.25), (t, 1.75))
        ax.text(t, 2.45, f"loss vs y{t + 1}", ha="center", fontsize=7, color="#c0392b")
        if t:
            _arrow(ax, (t - 0.7, 1), (t - 0.3, 1))
            ax.text(t - 0.5, 1.08, "h, c", ha="center", fontsize=7)
    ax.text(1.5, -0.55, "inputs: the TRUE tokens y0 .. y3 (from the data), all at once", ha="center", fontsize=8)
    ax.set_xlim(-0.6, T - 0.4)
    ax.set_ylim(-0.8, 2.8)
    ax.axis("off")
    ax.set_title("Training, teacher forcing: predict y[t+1] from the true y[0..t]\n"
                 "(N, T) tokens in -> (N, T, V) logits out, many-to-many", fontsize=9)
    ax = axes[1]
    for t in range(seed + new):
        generated = t >= seed
        label = f"s{t}" if not generated else f"g{t - seed}"
        if t < seed + new - 1 or not generated:
            ax.add_patch(FancyBboxPatch((t - 0.3, -0.25), 0.6, 0.5, boxstyle="round,pad=0.02",
                                        fc=_COLORS["x"] if not generated else "#f5b7b1", ec="black", lw=1))
            ax.text(t, 0, label, ha="center", va="center", fontsize=9)
            _box(ax, t, 1, "LSTM", "h")
            _arrow(ax, (t, 0.25), (t, 0.75))
            _arrow(ax, (t, 1.25), (t, 1.75))
            if t:
                _arrow(ax, (t - 0.7, 1), (t - 0.3, 1))
                ax.text(t - 0.5, 1.08, "h, c", ha="center", fontsize=7)
        if t >= seed - 1 and t < seed + new - 1:
            ax.add_patch(FancyBboxPatch((t - 0.3, 1.75), 0.6, 0.5, boxstyle="round,pad=0.02",
                                        fc=_COLORS["y"], ec="black", lw=1))
            ax.text(t, 2.0, "draw", ha="center", va="center", fontsize=8)
            ax.text(t, 2.35, r"softmax$(z/\tau)$", ha="center", fontsize=7)
            _arrow(ax, (t + 0.3, 1.85), (t + 0.68, 0.15), color="#c0392b", rad=0.1)
            ax.text(t + 0.47, 1.5, f"g{t - seed + 1}", color="#c0392b", fontsize=8, ha="left")
        elif t < seed - 1:
            ax.text(t, 1.85, "logits\nunused", ha="center", fontsize=7, color="#888888")
    last = seed + new - 1
    ax.text(last, 0, f"g{new - 1}\n(last: not fed)", ha="center", va="center", fontsize=8, color="#c0392b")
    ax.text((seed - 1) / 2, -0.6, "seed: read to set the state", ha="center", fontsize=8)
    ax.text(seed + (new - 1) / 2, -0.6, "new tokens: each one drawn, then fed back", ha="center", fontsize=8,
            color="#c0392b")
    ax.set_xlim(-0.6, seed + new - 0.2)
    ax.set_ylim(-0.8, 2.8)
    ax.axis("off")
    ax.set_title(f"Generation, free running: a seed of {seed} tokens, then {new} new ones; one step_fn call per "
                 f"token fed ({seed + new - 1} calls),\nthe state [h, c] handed from each call to the next, "
                 "never recomputed from the start", fontsize=9)
    fig.tight_layout()
    return fig


def pitch_frequencies(midi, hz, marked=None, title="Equal temperament: 12 semitones double the frequency"):
    """Frequency against MIDI note number on a log axis (a straight line: each semitone multiplies
    the frequency by the same factor). midi, hz: (P,); marked: (lowest, highest) pitch to shade."""
    midi, hz = np.asarray(midi), np.asarray(hz, dtype=float)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    if marked is not None:
        ax.axvspan(marked[0] - 0.5, marked[1] + 0.5, color="#e67e22", alpha=0.15,
                   label=f"the chorales' sopranos: {pitch_name(marked[0])}..{pitch_name(marked[1])}")
    ax.plot(midi, hz, "o", ms=3, color="#34495e", label="music21 Pitch.frequency")
    for p, f in zip(midi, hz):
        if p % 12 == 9 or p == 60:
            ax.annotate(f"{pitch_name(p)}\n{f:.1f} Hz", (p, f), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=7, color="#c0392b" if p == 69 else "black")
    ax.set_yscale("log", base=2)
    ticks = [f for f in (110, 220, 440, 880, 1760) if hz.min() <= f <= hz.max()]
    ax.set_yticks(ticks, [f"{f:g}" for f in ticks])
    ax.minorticks_off()
    ax.set_xlabel("MIDI note number p")
    ax.set_ylabel("frequency (Hz, log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def note_waveform(wave, sample_rate, hz, title="One note of your synthesizer", zoom_ms=20.0):
    """One synthesized note: its whole waveform, its first milliseconds and its spectrum (|FFT|),
    with the expected fundamental and harmonics (hz: the fundamental, e.g. from music21) marked."""
    wave = np.asarray(wave, dtype=float)
    t = np.arange(len(wave)) / sample_rate
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.4), gridspec_kw=dict(width_ratios=[1.2, 1, 1.3]))
    axes[0].plot(t, wave, lw=0.4, color="#34495e")
    axes[0].set_title(f"the whole note: {len(wave)} samples, {len(wave) / sample_rate:.3f} s", fontsize=9)
    axes[0].set_xlabel("time (s)")
    axes[0].set_ylabel("amplitude")
    zoom = t < zoom_ms / 1000
    axes[1].plot(1000 * t[zoom], wave[zoom], ".-", ms=2, lw=0.6, color="#34495e")
    axes[1].set_title(f"the first {zoom_ms:g} ms: the fade-in, one period = {1000 / hz:.2f} ms", fontsize=9)
    axes[1].set_xlabel("time (ms)")
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    freqs = np.fft.rfftfreq(len(wave), 1 / sample_rate)
    axes[2].plot(freqs, spectrum / spectrum.max(), lw=0.8, color="#34495e", label="|FFT| of the note")
    for k in (1, 2, 3):
        axes[2].axvline(k * hz, color="#c0392b", ls="--", lw=0.8,
                        label=f"expected: f, 2f, 3f with f = {hz:.2f} Hz" if k == 1 else None)
    axes[2].set_xlim(0, min(sample_rate / 2, 4.5 * hz))
    axes[2].set_xlabel("frequency (Hz)")
    axes[2].set_ylabel("magnitude (max = 1)")
    axes[2].set_title("the spectrum: peaks at the frequencies summed", fontsize=9)
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def language_model_curves(history, baseline, baseline_label):
    """Loss and next-token accuracy per epoch, training and held-out, with a baseline's accuracy.
    history: a Keras History.history with loss, accuracy, val_loss, val_accuracy."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric, label in ((left, "loss", "cross-entropy (nats per token)"),
                              (right, "accuracy", "next-token accuracy")):
        ax.plot(epochs, history[metric], "o-", ms=4, label="training (transposed chorales)")
        ax.plot(epochs, history["val_" + metric], "s-", ms=4, label="held-out chorales")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(epochs if len(epochs) <= 20 else epochs[::len(epochs) // 10])
        ax.grid(alpha=0.3)
    right.axhline(baseline, color="gray", ls="--", lw=1, label=baseline_label)
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    left.set_title("loss: teacher forcing, every step a target", fontsize=10)
    right.set_title("accuracy of the most likely next token", fontsize=10)
    fig.tight_layout()
    return fig


def next_token_distributions(probs, low, top=10, title="The next token's distribution at one step"):
    """probs {label: (V,)}: bars of the `top` most likely tokens (by the first distribution)."""
    labels = list(probs)
    first = np.asarray(probs[labels[0]])
    order = np.argsort(-first)[:top]
    names = ["REST" if k == 0 else "HOLD" if k == 1 else pitch_name(k - 2 + low) for k in order]
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(9, 3.4))
    for j, label in enumerate(labels):
        p = np.asarray(probs[label])
        ax.bar(np.arange(top) + (j - (len(labels) - 1) / 2) * width, p[order], width, label=label,
               color=_TEMPERATURE_COLORS[j % len(_TEMPERATURE_COLORS)])
    ax.set_xticks(range(top), names, fontsize=8)
    ax.set_xlabel("next token")
    ax.set_ylabel("probability")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def piano_rolls(rolls, title=None):
    """Melodies as piano rolls, one panel each, on a common pitch axis.

    Args:
        rolls: list of dicts with pitches (M,) (MIDI, -1 for a rest), durations (M,) in quarter
            notes, title, and optionally seed: the quarter notes at the start that were given, not
            generated (drawn grey).
    """
    n = len(rolls)
    fig, axes = plt.subplots(n, 1, figsize=(12, 1.9 * n + 0.5), squeeze=False)
    every = [p for roll in rolls for p in np.asarray(roll["pitches"]) if p >= 0]
    for ax, roll in zip(axes[:, 0], rolls):
        pitches, durations = np.asarray(roll["pitches"]), np.asarray(roll["durations"], dtype=float)
        onsets = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
        seed = roll.get("seed", 0.0)
        for p, start, d in zip(pitches, onsets, durations):
            if p < 0:
                continue
            color = "#aaaaaa" if start < seed else roll.get("color", "#2e86c1")
            ax.add_patch(plt.Rectangle((start, p - 0.4), d, 0.8, fc=color, ec="black", lw=0.4))
        total = onsets[-1] + durations[-1] if len(durations) else 1.0
        for bar in np.arange(0, total + 1e-9, 4.0):
            ax.axvline(bar, color="#999999", lw=0.5)
        if seed:
            ax.axvline(seed, color="#c0392b", lw=1.2, ls="--")
        ax.set_xlim(0, total)
        ax.set_xticks(np.arange(0, total + 1e-9, 4.0 * max(1, int(np.ceil(total / 80)))))
        _pitch_axis(ax, every or [60])
        ax.set_title(roll["title"], fontsize=9)
        ax.set_ylabel("pitch")
        ax.grid(alpha=0.2, axis="y")
    axes[-1, 0].set_xlabel("time (quarter notes; a line every 4)")
    if any(roll.get("seed") for roll in rolls):
        axes[0, 0].add_patch(plt.Rectangle((0, 0), 0, 0, fc="#aaaaaa", label="seed (given)"))
        axes[0, 0].add_patch(plt.Rectangle((0, 0), 0, 0, fc="#2e86c1", label="generated"))
        axes[0, 0].legend(fontsize=7, loc="upper right", ncol=2)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def melody_statistics(degrees, intervals, in_key, interval_labels, reference=None,
                      reference_label="training chorales"):
    """Real against generated melodies: pitch classes above the tonic (left), the sizes of the steps
    between consecutive notes (middle), the share of notes in the detected key (right).

    Args:
        degrees: {label: (12,)} shares of the notes 0..11 semitones above the detected tonic.
        intervals: {label: (B,)} shares of the intervals in each bin, labelled by interval_labels.
        in_key: {label: float}, the mean share of notes in the key music21 detects.
        reference: (12,) or None, a histogram of pitch classes above the tonic drawn as a black
            outline over the bars (the one the others are compared with).
        The first label is drawn black, the others in turn blue, purple, red, ...
    """
    labels = list(degrees)
    colors = {label: ("black" if k == 0 else _TEMPERATURE_COLORS[(k - 1) % len(_TEMPERATURE_COLORS)])
              for k, label in enumerate(labels)}
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8), gridspec_kw=dict(width_ratios=[1.4, 1.4, 0.8]))
    width = 0.8 / len(labels)
    panels = ((axes[0], degrees, _DEGREE_NAMES, "semitones above the tonic (scale degree)"),
              (axes[1], intervals, interval_labels, "interval between consecutive notes (semitones)"))
    for ax, table, ticks, xlabel in panels:
        for j, label in enumerate(labels):
            ax.bar(np.arange(len(ticks)) + (j - (len(labels) - 1) / 2) * width, table[label], width,
                   color=colors[label], label=label)
        ax.set_xticks(range(len(ticks)), ticks, fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share of notes" if ax is axes[0] else "share of intervals")
        ax.grid(alpha=0.3, axis="y")
    if reference is not None:
        axes[0].step(np.arange(13) - 0.5, np.append(reference, reference[-1]), where="post", color="black",
                     lw=1.2, label=reference_label)
    axes[0].set_title("pitch classes, relative to the key music21 detects", fontsize=9)
    axes[1].set_title("interval sizes (up or down)", fontsize=9)
    axes[0].legend(fontsize=7)
    bars = axes[2].bar(range(len(labels)), [in_key[label] for label in labels],
                       color=[colors[label] for label in labels])
    for bar, label in zip(bars, labels):
        axes[2].text(bar.get_x() + bar.get_width() / 2, in_key[label], f"{in_key[label]:.2f}", ha="center",
                     va="bottom", fontsize=8)
    axes[2].set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    axes[2].set_ylim(0, 1.1)
    axes[2].set_ylabel("share of notes in the key")
    axes[2].set_title("notes in the detected key", fontsize=9)
    axes[2].grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
