"""What the verification pass reports: a Verdict per exercise, inside a Verification.

Typed records that travel as JSON (`to_json`, `from_json`): a worker's result crosses process
boundaries, and with Dask machines. `from_json` takes only the fields it knows, with their types
checked, so a record from an older or newer grader reads as far as it can.
"""
import dataclasses


@dataclasses.dataclass
class Verdict:
    """The verified grade of one exercise."""
    exercise: str
    points: float                   # earned
    max: float                      # the exercise's points
    passed: bool = False
    message: str = "not run"        # the check's message, as a student would read it
    mistake: str = ""               # the catalogued mistake recognised (checks.Result.mistake)
    verified: bool = True           # False: it could not be verified, the notebook's result stands
    unverified: str = ""            # why it could not be

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        return cls(**_known(cls, data))


@dataclasses.dataclass
class Verification:
    """The verification pass on one notebook."""
    verdicts: dict                  # exercise name -> Verdict
    cells: list = dataclasses.field(default_factory=list)       # errors its cells raised there
    suspicious: list = dataclasses.field(default_factory=list)  # cells doing what honest ones do not
    error: str = ""                 # one line when the run itself failed (no verdict reached)

    @classmethod
    def failed(cls, error, verdicts=None):
        """A pass that reached no verdict: `error` says why."""
        return cls(verdicts=dict(verdicts or {}), error=error[:200])

    def to_json(self):
        return {"verdicts": {name: v.to_json() for name, v in self.verdicts.items()},
                "cells": list(self.cells), "suspicious": list(self.suspicious), "error": self.error}

    @classmethod
    def from_json(cls, data):
        fields = _known(cls, data)
        fields["verdicts"] = {str(name): Verdict.from_json(v)
                              for name, v in dict(fields.get("verdicts") or {}).items()}
        return cls(**fields)


_TYPES = {str: str, float: (int, float), bool: bool, list: list, dict: dict}


def _known(cls, data):
    """The entries of `data` that are fields of `cls`, each of its declared type."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
    out = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value, kind = data[f.name], _TYPES.get(f.type, object)
        if isinstance(value, bool) and kind == (int, float) or not isinstance(value, kind):
            raise ValueError(f"{cls.__name__}.{f.name}: expected {f.type.__name__}, "
                             f"got {str(repr(value))[:60]}")
        out[f.name] = value
    return out
