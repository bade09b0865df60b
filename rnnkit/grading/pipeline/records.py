"""What travels between the coordinator and its workers: a Job, and the JobResult that comes back.

Both cross process boundaries (and, with Dask, machines) as JSON-able dicts: `to_json` on one
side, `from_json` on the other. A submission makes two jobs, "execute" (its notebook run the way
`nbgrader autograde` runs it) and "verify" (the verification pass), which run side by side; the
coordinator joins their results (JobResult.joined).
"""
import dataclasses

from rnnkit.grading.verify.records import Verification

KINDS = ("execute", "verify")


@dataclasses.dataclass
class Job:
    """One notebook of one submission, to execute or to verify."""
    student: str
    assignment: str
    notebook: str                   # the sanitized notebook, nbformat JSON text
    kind: str = "execute"
    config: dict = dataclasses.field(default_factory=dict)  # nbgrader's Execute settings
    seed: int = None                # the batch's: its hidden cases are drawn from it
    warm_kernels: bool = True       # kernels forked from a warm pool (kernel_pool), not started cold
    pool: str = None                # that pool's socket, where the coordinator runs one for its
                                    # workers (else a worker starts its own)
    jail: bool = True               # the kernel confines itself (kernel_jail)
    prepare: list = dataclasses.field(default_factory=list)   # a Dask worker's own pool prepares
                                                              # the check references of these

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"a job's kind is one of {KINDS}, got {self.kind!r}")

    @property
    def key(self):
        """(student, assignment): the submission it belongs to."""
        return self.student, self.assignment

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        return cls(**data)


@dataclasses.dataclass
class JobResult:
    """What a job gave: the executed notebook, or the verification; an error where it failed."""
    student: str
    assignment: str
    kind: str = "execute"
    notebook: str = None            # execute: the executed notebook (JSON text), None if it failed
    error: str = ""                 # one line: why there is no notebook
    phases: dict = dataclasses.field(default_factory=dict)    # phase name -> seconds
    flags: list = dataclasses.field(default_factory=list)     # for the instructor's look
    host: str = ""
    verification: Verification = None   # verify: the pass's verdicts

    @property
    def key(self):
        return self.student, self.assignment

    @classmethod
    def failed(cls, job, error):
        """The result of `job` where it gave none: `error` says why."""
        return cls(job.student, job.assignment, job.kind, error=error[:300])

    @classmethod
    def joined(cls, first, second):
        """One result of a submission from its execute and verify results (in either order;
        either may be None)."""
        parts = {p.kind: p for p in (first, second) if p is not None}
        some = first or second
        done = parts.get("execute") or cls(some.student, some.assignment, error="no execution result")
        verify = parts.get("verify")
        if verify is None:
            return done
        return dataclasses.replace(
            done, kind="execute", phases={**done.phases, **verify.phases},
            verification=verify.verification or Verification.failed(
                f"the verification run failed ({verify.error or 'no result'})"))

    def to_json(self):
        data = dataclasses.asdict(self)
        data["verification"] = None if self.verification is None else self.verification.to_json()
        return data

    @classmethod
    def from_json(cls, data):
        data = dict(data)
        if data.get("verification") is not None:
            data["verification"] = Verification.from_json(data["verification"])
        return cls(**data)
