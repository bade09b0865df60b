"""The time series of notebook 08_time_series: Mauna Loa CO2, monthly sunspots, a daily stock.

What is checked:

* the manifest entries pin one platform-specific wheel each (statsmodels, pmdarima; cp311,
  manylinux x86_64), its sha256, the member and its sha256, size, license and description;
  build.py downloads exactly that wheel file on any machine (its pip flags come from the wheel's
  tags); the cached files are the members of the pinned wheels;
* co2(), sunspots(), stock(): shapes, dtypes, increasing time at the documented steps, spans and
  point counts, no NaN (CO2's missing weeks filled by linear interpolation and marked),
  plausible ranges, fast reading, and the docstring examples;
* a corrupted cache file is found by its sha256: rebuilt from the wheel when the wheel is there,
  else refused with a message naming the file; a corrupted wheel or a wrong member sha256 is
  refused with a message naming it.
"""
import doctest
import importlib.util
import os
import re
import shutil
import time
import zipfile

import numpy as np
import pytest

from rnnkit import data

SERIES = {        # manifest key: (loader, package pin, member)
    "co2": (data.co2, "statsmodels==0.14.6", "statsmodels/datasets/co2/co2.csv"),
    "sunspots": (data.sunspots, "pmdarima==2.1.1", "pmdarima/datasets/data/sunspots.txt.gz"),
    "msft": (data.stock, "pmdarima==2.1.1", "pmdarima/datasets/data/msft.tar.gz"),
}
TAGS = "cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64"


def build_script():
    """data/build.py as a module."""
    script = os.path.join(data.data_dir(), "build.py")
    spec = importlib.util.spec_from_file_location("build", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- manifest and build
@pytest.mark.parametrize("name", SERIES)
def test_manifest_entry_is_complete(name):
    entry = data.manifest()[name]
    _, package, member = SERIES[name]
    for key in ("description", "license", "package", "wheel", "wheel_sha256", "member", "file",
                "size", "sha256", "used_by"):
        assert key in entry, f"{name} lacks {key}"
    dist, version = package.split("==")
    assert entry["package"] == package and entry["member"] == member
    assert entry["wheel"] == f"{dist}-{version}-{TAGS}.whl"
    assert re.fullmatch(r"[0-9a-f]{64}", entry["wheel_sha256"])
    assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
    assert entry["file"] == os.path.basename(member) and entry["used_by"] == ["08_time_series"]
    assert "MIT" in entry["license"] or "BSD-3-Clause" in entry["license"]
    assert "missing" in entry["description"]


def test_manifest_descriptions_state_counts_and_spans():
    entries = data.manifest()
    for name, facts in {"co2": ("ppm", "2,284", "1958-03-29", "2001-12-29", "59 weeks",
                                "linear interpolation"),
                        "sunspots": ("2,820", "1749", "1983"),
                        "msft": ("7,983", "1986-03-13", "2017-11-10", "close")}.items():
        for fact in facts:
            assert fact in entries[name]["description"], (name, fact)


def test_build_downloads_exactly_the_pinned_platform_wheel():
    flags = build_script().download_flags(data.manifest()["co2"]["wheel"])
    assert flags[0] == "--only-binary=:all:"
    pairs = dict(zip(flags[1::2], flags[2::2]))
    assert pairs["--implementation"] == "cp" and pairs["--python-version"] == "311"
    assert pairs["--abi"] == "cp311"
    assert flags.count("--platform") == 3 and "manylinux2014_x86_64" in flags
    assert build_script().download_flags(data.manifest()["hamlet"]["wheel"]) == []


@pytest.mark.parametrize("name", SERIES)
def test_cached_file_is_the_verified_member_of_the_pinned_wheel(name):
    entry = data.manifest()[name]
    with open(data.path(name), "rb") as f:
        cached = f.read()
    assert data.is_cached(name) and len(cached) == entry["size"]
    assert data.sha256(cached) == entry["sha256"]
    wheel = os.path.join(data.cache_dir(), "wheels", entry["wheel"])
    with open(wheel, "rb") as f:
        assert data.sha256(f.read()) == entry["wheel_sha256"]
    with zipfile.ZipFile(wheel) as z:
        assert z.read(entry["member"]) == cached


# ----------------------------------------------------------------------------- the loaders
def test_co2_weekly_with_filled_and_marked_gaps():
    c = data.co2()
    t, v, seen = c["time"], c["values"], c["observed"]
    assert t.dtype == np.dtype("datetime64[D]") and v.dtype == np.float64 and seen.dtype == bool
    assert t.shape == v.shape == seen.shape == (2284,)
    assert (np.diff(t) == np.timedelta64(7, "D")).all()
    assert str(t[0]) == "1958-03-29" and str(t[-1]) == "2001-12-29"
    assert (t.astype("datetime64[D]").view("int64") % 7 == 2).all()           # Saturdays
    assert int(seen.sum()) == 2225 and seen[0] and seen[-1]
    assert not np.isnan(v).any()
    assert 310 < v.min() < 320 and 365 < v.max() < 380
    # the filled weeks lie on the line between the measured weeks around them
    days = t.view("int64")
    np.testing.assert_allclose(v[~seen], np.interp(days[~seen], days[seen], v[seen]))
    # the measured weeks are the file's numbers
    with open(data.path("co2"), encoding="utf-8") as f:
        raw = [line.split(",")[1] for line in f.read().splitlines()[1:]]
    assert [r == "" for r in raw] == (~seen).tolist()
    np.testing.assert_array_equal(v[seen], [float(r) for r in raw if r])
    assert c["units"] == "ppm" and c["frequency"] == "weekly" and c["name"]


def test_sunspots_monthly_1749_to_1983():
    s = data.sunspots()
    t, v = s["time"], s["values"]
    assert t.dtype == np.dtype("datetime64[M]") and v.dtype == np.float64
    assert t.shape == v.shape == (2820,)
    assert (np.diff(t) == np.timedelta64(1, "M")).all()
    assert str(t[0]) == "1749-01" and str(t[-1]) == "1983-12"
    assert not np.isnan(v).any() and v.min() == 0 and (v >= 0).all() and 200 < v.max() < 300
    assert int((v == 0).sum()) == 67
    assert s["frequency"] == "monthly" and s["units"] and s["name"]


def test_stock_daily_close_on_trading_days():
    s = data.stock()
    t, v = s["time"], s["values"]
    assert t.dtype == np.dtype("datetime64[D]") and v.dtype == np.float64
    for key in ("open", "high", "low", "close"):
        assert s[key].shape == (7983,) and s[key].dtype == np.float64 and not np.isnan(s[key]).any()
    assert t.shape == v.shape == s["volume"].shape == (7983,) and s["volume"].dtype == np.int64
    assert str(t[0]) == "1986-03-13" and str(t[-1]) == "2017-11-10"
    gaps = np.diff(t).astype(int)
    assert gaps.min() == 1 and gaps.max() == 7
    assert not np.isin(t.view("int64") % 7, (2, 3)).any()                    # no Saturday, Sunday
    np.testing.assert_array_equal(v, s["close"])
    assert (v > 0).all() and 0.05 < v[0] < 0.1 and 80 < v[-1] < 90
    assert (s["low"] <= np.minimum(s["open"], s["close"])).all()
    assert (s["high"] >= np.maximum(s["open"], s["close"])).all()
    assert (s["volume"] >= 0).all()
    assert s["name"] == "MSFT" and "dividends" in s["units"]


@pytest.mark.parametrize("loader", [data.co2, data.sunspots, data.stock])
def test_loader_reads_the_cache_fast_and_its_docstring_example_runs(loader):
    loader()
    start = time.perf_counter()
    loader()
    assert time.perf_counter() - start < 1.0
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(loader, loader.__name__, globs={loader.__name__: loader}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 1


# ----------------------------------------------------------------------------- corruption
@pytest.fixture
def copy_of(tmp_path, monkeypatch):
    """copy_of(name, wheel=True): a data/ with the manifest, the cached file of `name` and (if
    wheel) its pinned wheel, used by rnnkit.data from now on; returns (cached file, wheel) paths.
    An installed copy of the package is never read (the wheel is the only source)."""
    def make(name, wheel=True):
        entry = data.manifest()[name]
        copy = tmp_path / "data"
        (copy / "cache" / "wheels").mkdir(parents=True)
        shutil.copy(os.path.join(data.data_dir(), "MANIFEST.json"), copy)
        shutil.copy(data.path(name), copy / "cache")
        if wheel:
            shutil.copy(os.path.join(data.cache_dir(), "wheels", entry["wheel"]),
                        copy / "cache" / "wheels")
        monkeypatch.setenv("RNNKIT_DATA", str(copy))
        monkeypatch.setattr(data, "_member_from_installed", lambda entry: None)
        return copy / "cache" / entry["file"], copy / "cache" / "wheels" / entry["wheel"]
    return make


@pytest.mark.parametrize("name", SERIES)
def test_corrupted_cache_is_found_by_sha256_and_rebuilt_from_the_wheel(name, copy_of):
    cached, _ = copy_of(name)
    expected = SERIES[name][0]()["values"]
    body = bytearray(cached.read_bytes())
    body[len(body) // 2] ^= 0x01                        # one bit
    cached.write_bytes(bytes(body))
    assert not data.is_cached(name)
    np.testing.assert_array_equal(SERIES[name][0]()["values"], expected)
    assert data.is_cached(name)


@pytest.mark.parametrize("name", SERIES)
def test_corrupted_cache_without_the_wheel_is_refused_naming_the_file(name, copy_of):
    cached, _ = copy_of(name, wheel=False)
    cached.write_bytes(cached.read_bytes()[:-10])
    with pytest.raises(data.DataMissing) as error:
        SERIES[name][0]()
    message = str(error.value)
    assert str(cached) in message and "sha256" in message and "make data" in message
    assert data.manifest()[name]["sha256"] in message


def test_corrupted_wheel_is_refused_naming_the_wheel(copy_of):
    cached, wheel = copy_of("co2")
    cached.unlink()
    with open(wheel, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(ValueError, match=re.escape(wheel.name) + ".*sha256"):
        data.co2()


def test_wrong_member_sha256_is_refused_naming_the_member(copy_of, tmp_path):
    cached, _ = copy_of("sunspots")
    cached.unlink()
    manifest = tmp_path / "data" / "MANIFEST.json"
    good = data.manifest()["sunspots"]["sha256"]
    manifest.write_text(manifest.read_text().replace(good, "0" * 64))
    member = "pmdarima/datasets/data/sunspots.txt.gz"
    with pytest.raises(ValueError, match=re.escape(member) + ".*sha256"):
        data.sunspots()
    assert not cached.exists()
