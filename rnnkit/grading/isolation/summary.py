"""What confinement this machine gives, found by trying it, in one line for the grader to print.

    jail, sandbox = probe()      # (protections, missing) of a kernel jail and of a sandbox run
    print(describe(jail, sandbox))

Sandbox: landlock (abi 7), seccomp, no_new_privs, rlimits, pid namespaces, a network namespace for
verification runs, both in user namespaces; not applied: a uid per kernel (the grader is not root;
Landlock keeps kernels out of your files instead)

probe() confines a throwaway process exactly as a kernel is confined (kernel_jail.confine) and runs
`pass` in a solution sandbox that preloads nothing: about half a second, and nothing assumed.
"""
import json
import os
import subprocess
import sys
import tempfile

from rnnkit.grading.isolation import kernel_jail

_JAIL_PROBE = ("import json, os, sys\n"
               "from rnnkit.grading.isolation import kernel_jail\n"
               "os.environ.update(kernel_jail.policy_env(sys.argv[1], sys.argv[2]))\n"
               "print(json.dumps(kernel_jail.confine([])), flush=True)\n")


def probe(timeout=60):
    """Confine a kernel and run a sandboxed `pass`, in parallel.

    Returns ((protections, missing) of the kernel jail, (protections, missing) of the sandbox);
    a probe that fails is reported as missing everything, with its error.
    """
    from rnnkit.grading.isolation import solution_sandbox
    with tempfile.TemporaryDirectory(prefix="rnnkit-probe-") as scratch:
        dirs = [os.path.join(scratch, name) for name in ("work", "tmp", "in", "out")]
        for d in dirs:
            os.mkdir(d)
        jail = subprocess.Popen([sys.executable, "-c", _JAIL_PROBE, *dirs[:2]], cwd=dirs[0],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            with solution_sandbox.Sandbox(preload=(), timeout=timeout) as box:
                run = box.run("pass", *dirs[2:], solution_sandbox.Limits(wall=timeout))
            sandbox = (run.protections, run.missing)
        except (OSError, RuntimeError) as exc:
            sandbox = ([], [f"sandbox: {exc}"])
        try:
            out, err = jail.communicate(timeout=timeout)
            kernel = tuple(json.loads(out)) if jail.returncode == 0 else \
                ([], [f"jail: exit status {jail.returncode}: {err.strip()[-200:]}"])
        except (subprocess.TimeoutExpired, ValueError) as exc:
            jail.kill()
            jail.wait()
            kernel = ([], [f"jail: {exc}"])
    return kernel, sandbox


def _names(protections):
    """{"landlock": "abi 7", "uid": "1400012345", "seccomp": "", ...} of a protections list."""
    return dict((p.split(" ", 1) + [""])[:2] for p in protections)


def _reasons(missing):
    """{"pidns": "why", ...} of a missing list ("name: why")."""
    return dict((m.split(": ", 1) + [""])[:2] for m in missing)


def describe(jail, sandbox):
    """The line to print: what the kernel jail and the sandbox both apply, then what is not
    applied and why. `jail`, `sandbox`: (protections, missing) as probe() returns them."""
    have = [_names(jail[0]), _names(sandbox[0])]
    why = {**_reasons(sandbox[1]), **_reasons(jail[1])}     # the kernel's reason where both
    both = lambda name: all(name in h for h in have)       # noqa: E731
    applied, lacking = [], []
    if both("landlock"):
        abis = sorted({h["landlock"].removeprefix("abi ") for h in have})
        applied.append(f"landlock (abi {'/'.join(abis)})")
    for name in ("seccomp", "no_new_privs", "rlimits"):
        if both(name):
            applied.append(name)
    if both("uid"):
        applied.append("a uid per kernel")
    if both("pidns"):
        applied.append("pid namespaces")
    if "netns" in have[1]:
        applied.append("a network namespace for verification runs")
    if any("userns" in h for h in have) and (both("pidns") or "netns" in have[1]):
        applied[-1] += ", both in user namespaces" if both("pidns") and "netns" in have[1] \
            else " (in a user namespace)"
    for name in ("landlock", "seccomp", "no_new_privs", "rlimits", "process limit", "uid",
                 "pidns", "netns", "setup", "jail", "sandbox"):
        if name in why:
            lacking.append(_lacking(name, why[name], landlock=both("landlock"),
                                    reaped=both("pidns") or both("uid")))
    line = "Sandbox: " + (", ".join(applied) or "nothing")
    return line + ("; not applied: " + ", ".join(lacking) if lacking else "; all protections apply")


def _lacking(name, why, landlock, reaped):
    """How a protection that was not applied is named to the instructor, with the reason."""
    if f"{name}: {why}" == kernel_jail.NOT_ROOT:
        return "a uid per kernel (the grader is not root" + \
            ("; Landlock keeps kernels out of your files instead)" if landlock else ")")
    words = {"landlock": "landlock", "process limit": "a process limit per kernel",
             "pidns": "pid namespaces", "netns": "a network namespace"}.get(name, name)
    if name == "landlock":
        why += "; kernels can read and write what you can"
    if name == "pidns" and not reaped:
        why += "; processes a kernel leaves running are not ended"
    return f"{words} ({why})"


def main():
    """python -m rnnkit.grading.isolation.summary: print the line, then the probes' details."""
    jail, sandbox = probe()
    print(describe(jail, sandbox))
    print(json.dumps({"kernel jail": jail, "solution sandbox": sandbox}, indent=1))


if __name__ == "__main__":
    main()
