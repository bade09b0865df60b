"""Build the sample submissions of autograde/examples/ from the release and the solutions.

Per assignment: `full_marks` (every solution filled in), `partial` (the same with the mistakes
listed in PARTIAL), `untouched` (the release as handed out) and, once, `invalid` (a file that is
not a notebook). `make examples` rebuilds them after the release changes.
"""
import json
import os
import re
import shutil

import nbformat

from rnnkit.grading import workspace

EXAMPLES = os.path.join(workspace.AUTOGRADE, "examples")

# assignment -> solution grade_id -> (text in the solution, replacement, catalogued mistake, or
# the note of what the check diagnoses where no catalogue lists the mistake)
PARTIAL = {
    "01_rnn_fundamentals": {
        "dense_softmax_code": ("    logits = logits - logits.max(axis=-1, keepdims=True)\n", "",
                               "overflow on large logits (no max shift)"),
        "encoder_decoder_code": ("return one_to_many(start, h_enc, *dec, Wy, by, Ty)",
                                 "return one_to_many(start, h0, *dec, Wy, by, Ty)",
                                 "decoder ignores the encoder (starts from h0)"),
    },
    "02_bptt": {
        "softmax_cross_entropy_code": ("    count = targets.size\n", "    count = 1\n",
                                       "sum instead of mean"),
        "numerical_gradient_code": ("        x[idx] = old - eps\n        f_minus = f(x)\n        x[idx] = old\n"
                                    "        grad[idx] = (f_plus - f_minus) / (2 * eps)\n",
                                    "        x[idx] = old\n        grad[idx] = (f_plus - f(x)) / eps\n",
                                    "forward difference instead of central"),
    },
    "03_gradient_problems": {
        "jacobian_norms_code": ("        J = J @ step\n", "        J = step @ J\n",
                                "Jacobian product in the wrong order"),
        "clip_by_global_norm_code": ("    scale = max_norm / max(global_norm, max_norm)\n",
                                     "    scale = max_norm / global_norm\n",
                                     "scales up when below max_norm"),
    },
    "04_lstm_gru": {
        "sample_next_code": ("    z = np.asarray(logits, dtype=np.float64) / temperature\n",
                             "    z = np.asarray(logits, dtype=np.float64)\n", "temperature ignored"),
        "perplexity_code": ("    return float(np.exp(-np.mean(np.log(picked))))\n",
                            "    return float(-np.mean(np.log(picked)))\n",
                            "cross-entropy returned (no exp)"),
    },
    "05_bidirectional_stacked": {
        "bidirectional_forward_code": ("    backward = backward_fn(x[:, ::-1])[:, ::-1]\n",
                                       "    backward = backward_fn(x[:, ::-1])\n",
                                       "backward outputs not re-reversed"),
        "stacked_forward_code": ("        h_seq = layer(h_seq)\n", "        h_seq = layer(x)\n",
                                 "x fed to every layer"),
        # No catalogue lists this one: the note is what the check finds by experiment.
        "masked_rnn_forward_code": ("        h = np.where(real, h_new, h)\n", "        h = h_new\n",
                                    "found: changing x where mask is 0 changes your h_last"),
    },
    "06_image_captioning": {
        "greedy_decode_code": ("        seq.append(token)\n        if token == end_id:\n            break\n",
                               "        if token == end_id:\n            break\n        seq.append(token)\n",
                               "end_id left out"),
        "bleu_code": ("    brevity = 1.0 if c >= r else np.exp(1 - r / c)\n", "    brevity = 1.0\n",
                      "no brevity penalty"),
    },
    "07_seq2seq_attention": {
        # not dot_attention: attention_decoder_step calls it, and would lose its points too
        "additive_attention_code": ("    hidden = np.tanh((query @ W1)[:, :, None, :] + (keys @ W2)[:, None, :, :])",
                                    "    hidden = (query @ W1)[:, :, None, :] + (keys @ W2)[:, None, :, :]",
                                    "tanh missing"),
        "masked_sequence_loss_code": ("    return -np.sum(mask * np.log(picked)) / np.sum(mask)\n",
                                      "    return -np.sum(mask * np.log(picked)) / mask.size\n",
                                      "padding counted in the mean"),
    },
    "08_time_series": {
        # not "last window dropped": one window fewer breaks the figures that follow
        "make_windows_code": ("    starts = np.arange(0, T - input_width - horizon + 1, stride)\n",
                              "    starts = np.arange(0, T - input_width - horizon + 1)\n",
                              "stride ignored"),
        "standardize_code": ("    mean, std = train.mean(axis=0), train.std(axis=0)\n",
                             "    both = np.concatenate([train, test])\n"
                             "    mean, std = both.mean(axis=0), both.std(axis=0)\n",
                             "statistics over all data (leakage)"),
    },
    "09_music_generation": {
        "transpose_tokens_code": ("    out[onsets] = tokens[onsets] + semitones\n",
                                  "    out[onsets] = tokens[onsets] - semitones\n",
                                  "transposed the wrong way"),
        "melody_to_audio_code": ("        f = 440.0 * 2.0 ** ((pitch - 69) / 12)\n",
                                 "        f = 440.0 * 2.0 ** ((pitch - 57) / 12)\n",
                                 "off by an octave"),
    },
}

_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.M)


def _solutions(assignment):
    nb = nbformat.read(os.path.join(workspace.SOLUTIONS, assignment, f"{assignment}.ipynb"), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: _MARKERS.sub("", c.source) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def _filled(assignment, patches=None):
    release = nbformat.read(os.path.join(workspace.COURSE, assignment, f"{assignment}.ipynb"), as_version=4)
    answers = _solutions(assignment)
    for cell in release.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in answers:
            source = answers[gid]
            if patches and gid in patches:
                old, new, _ = patches[gid]
                if old not in source:
                    raise ValueError(f"partial example of {assignment}: {old!r} not in {gid}")
                source = source.replace(old, new)
            cell.source = source
    return release


def _write(nb, dest, student, assignment):
    folder = os.path.join(dest, student, assignment)
    os.makedirs(folder, exist_ok=True)
    nbformat.write(nb, os.path.join(folder, f"{assignment}.ipynb"))


def expected_mistakes(assignment):
    """exercise name -> mistake name, for the partial example (used by the tests)."""
    return {gid.removesuffix("_code"): m for gid, (_, _, m) in PARTIAL.get(assignment, {}).items()}


def build(dest=EXAMPLES):
    """Rewrite the examples (autograde/examples/ by default) for every assignment in the release."""
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    for assignment in workspace.assignments():
        _write(_filled(assignment), dest, "full_marks", assignment)
        _write(_filled(assignment, PARTIAL.get(assignment)), dest, "partial", assignment)
        _write(nbformat.read(os.path.join(workspace.COURSE, assignment, f"{assignment}.ipynb"),
                             as_version=4), dest, "untouched", assignment)
    first = workspace.assignments()[0]
    folder = os.path.join(dest, "invalid", first)
    os.makedirs(folder)
    with open(os.path.join(folder, f"{first}.ipynb"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"cells": [{"cell_type": "code", "source": "x = 1"}]})[:40])  # cut short
    return dest
