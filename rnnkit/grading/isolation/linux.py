"""Linux confinement primitives, shared by the solution sandbox and the kernel jail.

    prctl, unshare      the system calls, raising OSError with the errno's text
    landlock_*          Landlock rulesets: create with rules [(path, rights)], enforce
    read_rules          what a confined process may read of this machine: Python, its packages,
                        the student's side of rnnkit (never rnnkit/grading), the data cache, ...
    unshare_namespaces  new namespaces, in a user namespace of its own where not privileged
    capset, drop_to     capabilities, and becoming a uid of its own as root
    drop_capabilities   giving up those held in a user namespace
    seccomp_no_unix_sockets   no AF_UNIX sockets, no io_uring
    set_rlimits         resource limits, clamped to the hard limits an unprivileged grader has

Nothing here decides a policy: the sandbox (solution_sandbox) and the jail (kernel_jail) do.
"""
import ctypes
import os
import socket
import sys

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    return _libc


def prctl(*args):
    if _c().prctl(*[ctypes.c_ulong(a) for a in args] + [ctypes.c_ulong(0)] * (5 - len(args))) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({args[0]}): {os.strerror(err)}")


def unshare(flags):
    if _c().unshare(ctypes.c_int(flags)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
PR_SET_DUMPABLE, PR_SET_KEEPCAPS, PR_CAPBSET_DROP = 4, 8, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 36, 38, 47
CAP_DAC_READ_SEARCH = 2


def effective_capabilities():
    """This process's effective capabilities, as a bit mask (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/status") as f:
            return next((int(line.split()[1], 16) for line in f if line.startswith("CapEff:")), 0)
    except OSError:
        return 0


def unshare_namespaces(flags):
    """unshare(`flags`); where that needs a privilege this process lacks, inside a new user
    namespace that maps only its own uid and gid (any user may make one where the system allows).

    A process that holds capabilities gets no user namespace: it would lose them outside it
    (such as CAP_DAC_READ_SEARCH, by which it may read the Python it runs).

    Returns True if a user namespace was made. Raises OSError giving both reasons when neither
    works. Call it single-threaded: a user namespace cannot be entered otherwise.
    """
    try:
        unshare(flags)
        return False
    except OSError as exc:
        first = exc.strerror
    held = effective_capabilities()
    if held:
        raise OSError(1, f"{first}; no user namespace: it would take away capabilities {held:#x}")
    uid, gid = os.getuid(), os.getgid()
    try:
        unshare(CLONE_NEWUSER | flags)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError as exc:
        raise OSError(exc.errno, f"{first}; in a user namespace: {exc.strerror}") from None
    return True


# Landlock (syscalls 444-446 on every architecture). Filesystem rights, ABI 1 unless noted.
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_ALL_V1 = (1 << 13) - 1
LL_REFER, LL_TRUNCATE, LL_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15      # ABI 2, 3, 5
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi():
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    try:
        abi = _c().syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except Exception:
        return 0
    return max(int(abi), 0)


def landlock_ruleset(rules, tcp=0b11):
    """A ruleset fd allowing only `rules` [(path, rights)]; every right the kernel knows is handled.

    `tcp` names the TCP rights denied from ABI 4 on (no rule allows a port): 1 bind, 2 connect.
    """
    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available (kernel or LSM list)")
    fs = LL_ALL_V1 | (LL_REFER if abi >= 2 else 0) | (LL_TRUNCATE if abi >= 3 else 0) \
        | (LL_IOCTL_DEV if abi >= 5 else 0)
    net = tcp if abi >= 4 else 0           # the TCP rights handled: no rule allows any port
    scoped = 0b11 if abi >= 6 else 0       # abstract Unix sockets and signals beyond the domain
    attr = (ctypes.c_uint64 * 3)(fs, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    fd = _c().syscall(444, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    for path, rights in rules:
        try:
            pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue                        # an absent system path needs no rule
        try:
            rights &= fs if os.path.isdir(path) else fs & LL_FILE_RIGHTS
            if _c().syscall(445, ctypes.c_int(fd), ctypes.c_int(1),
                            ctypes.byref(_PathBeneath(rights, pfd)), ctypes.c_uint32(0)) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"landlock_add_rule {path}: {os.strerror(err)}")
        finally:
            os.close(pfd)
    return fd, abi


def landlock_enforce(fd):
    if _c().syscall(446, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")
    os.close(fd)


def capset(caps):
    """Set effective = permitted = `caps` (a bit mask), inheritable = 0."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)          # _LINUX_CAPABILITY_VERSION_3
    data = (ctypes.c_uint32 * 6)(caps & 0xFFFFFFFF, caps & 0xFFFFFFFF, 0,
                                 caps >> 32, caps >> 32, 0)
    if _c().capset(ctypes.byref(header), ctypes.byref(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


# seccomp: Landlock (up to ABI 7) does not govern connecting to a Unix socket by path, and
# netns does not either: a world-writable socket (PostgreSQL's, with trust authentication) would
# be reachable. So no AF_UNIX sockets (socketpair() stays), no io_uring (it makes sockets
# without the syscall) and no foreign-ABI system calls that would dodge the filter.
_SECCOMP_ARCH = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}   # arch, socket()


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_no_unix_sockets():
    arch, nr_socket = _SECCOMP_ARCH[os.uname().machine]
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    deny, allow = 0x00050000 | 13, 0x7FFF0000              # SECCOMP_RET_ERRNO(EACCES), ALLOW
    prog = [(ld, 0, 0, 4), (jeq, 0, 6, arch),              # seccomp_data.arch
            (ld, 0, 0, 0), (jge, 4, 0, 0x40000000),        # .nr; x32 calls
            (jeq, 3, 0, 425),                              # io_uring_setup
            (jeq, 0, 3, nr_socket),
            (ld, 0, 0, 16), (jeq, 0, 1, socket.AF_UNIX),   # .args[0], the domain
            (ret, 0, 0, deny), (ret, 0, 0, allow)]
    filters = (_SockFilter * len(prog))(*[_SockFilter(*i) for i in prog])
    fprog = _SockFprog(len(prog), filters)
    prctl(22, 2, ctypes.addressof(fprog))                 # PR_SET_SECCOMP, SECCOMP_MODE_FILTER


def _drop_bounding_set():
    """Empty the bounding and ambient sets: nothing can be regained through exec."""
    try:
        last = int(open("/proc/sys/kernel/cap_last_cap").read())
    except OSError:
        last = 40
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, 4)                # PR_CAP_AMBIENT_CLEAR_ALL


def drop_capabilities():
    """Give up every capability for good: those a process holds in a user namespace it made."""
    _drop_bounding_set()
    capset(0)


def drop_to(uid, keep):
    """As root: become `uid`/`uid` with no groups and only the capabilities in `keep`."""
    _drop_bounding_set()
    prctl(PR_SET_KEEPCAPS, 1 if keep else 0)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    capset(keep)
    prctl(PR_SET_KEEPCAPS, 0)


def set_rlimits(limits):
    """Set each (resource, soft, hard) of `limits`; hard None means soft. A limit above the
    current hard limit is lowered to it: an unprivileged process cannot raise a hard limit."""
    import resource
    for which, soft, hard in limits:
        hard = soft if hard is None else hard
        cap = resource.getrlimit(which)[1]
        if cap != resource.RLIM_INFINITY:
            soft, hard = min(soft, cap), min(hard, cap)
        resource.setrlimit(which, (soft, hard))


# What a confined process may read

_INSTRUCTOR = "grading"      # rnnkit/grading: the answer keys and the grader, never read by a run


def readable_roots(inputs_dir, readable=()):
    """Paths a confined process may read: Python and its packages, rnnkit, the data cache, system
    files, `inputs_dir` and the paths in `readable`."""
    import rnnkit
    roots_pkg = os.path.dirname(os.path.abspath(rnnkit.__file__))
    roots = {sys.base_prefix, sys.prefix, sys.exec_prefix, roots_pkg}
    prefixes = tuple(os.path.realpath(p) + os.sep for p in (sys.base_prefix, sys.prefix))
    roots.update(p for p in sys.path if p and os.path.realpath(p).startswith(prefixes))
    # rnnkit.data.cache_dir() without importing rnnkit.data (and NumPy with it).
    data = os.environ.get("RNNKIT_DATA") or os.path.join(os.path.dirname(roots_pkg), "data")
    roots.add(os.path.join(data, "cache"))
    roots.update(["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/proc", "/sys",
                  "/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/mime.types",
                  "/etc/fonts",
                  "/dev/urandom", "/dev/random", inputs_dir, *readable])
    return sorted({os.path.realpath(p) for p in roots})


def read_rules(inputs_dir, readable=()):
    """Landlock rules [(path, rights)] reading readable_roots(inputs_dir, readable), but not the
    instructor's side of rnnkit.

    A root holding the package (site-packages, where rnnkit is installed as wheels) is opened
    folder by folder down to it; in the package everything but rnnkit/grading is readable, and the
    package folder itself can be listed.
    """
    import rnnkit
    package = os.path.realpath(os.path.dirname(os.path.abspath(rnnkit.__file__)))
    rules = []
    for root in readable_roots(inputs_dir, readable):
        if root != package and not package.startswith(root + os.sep):
            rules.append((root, LL_READ))
            continue
        here = root
        for part in os.path.relpath(package, root).split(os.sep) if root != package else []:
            rules.append((here, LL_READ_DIR))
            rules += [(os.path.join(here, n), LL_READ) for n in _listing(here) if n != part]
            here = os.path.join(here, part)
        rules.append((package, LL_READ_DIR))
        rules += [(os.path.join(package, n), LL_READ) for n in _listing(package) if n != _INSTRUCTOR]
    return rules


def _listing(folder):
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def dev_rules():
    """Landlock rules for the device files a confined process may use: null, zero, full, GPUs."""
    rules = [(p, LL_READ_FILE | LL_WRITE_FILE) for p in ("/dev/null", "/dev/zero", "/dev/full")]
    if os.path.isdir("/dev"):
        for name in os.listdir("/dev"):     # GPUs, for TensorFlow on a GPU grader
            if name.startswith(("nvidia", "dri")):
                rules.append((os.path.join("/dev", name),
                              LL_READ_FILE | LL_WRITE_FILE | LL_READ_DIR | LL_IOCTL_DEV))
    return rules
