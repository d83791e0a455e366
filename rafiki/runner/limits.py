"""How a child process running user code is confined: resource limits, a reduced environment,
an optional bubblewrap sandbox, capped output capture, and a process-group lifecycle that
never leaves a stray process or a zombie behind.

Used by ``supervise`` (trials) and ``inspect`` (model-file checks). Standard library only, so
that importing it in a Celery worker costs nothing.

What it does not cover, and why:

- RLIMIT_NPROC counts every process of the user, not of the trial, so it is not set; a fork
  bomb is stopped by bubblewrap's pid namespace and by the memory limit, not by a count.
- RLIMIT_AS and RLIMIT_CPU are per process: a model that forks gets the same allowance again
  in each child. Without bubblewrap, a process that calls setsid() leaves the trial's process
  group and outlives it; with bubblewrap the pid namespace ends with the trial.
- RLIMIT_FSIZE caps each file, not the folder: many large files can still fill a disk.
- Under bubblewrap the exit status of a child killed by signal N is 128 + N, so a model that
  calls ``sys.exit(139)`` reads as SIGSEGV there.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one child process may use. ``None`` means "no limit" where allowed."""

    #: Wall-clock time from start to the end of the trial; then the process group is killed.
    wall_seconds: float = 3600.0
    #: CPU seconds (RLIMIT_CPU, per process). None: ``wall_seconds * max(threads, 1)``.
    cpu_seconds: int | None = None
    #: Address space (RLIMIT_AS). GPU frameworks map huge virtual areas: use None with GPUs.
    memory_mb: int | None = 4096
    #: Largest file the child may write (RLIMIT_FSIZE); a bigger write fails with EFBIG.
    file_size_mb: int = 1024
    #: Open file descriptors (RLIMIT_NOFILE).
    open_files: int = 1024
    #: OMP/MKL/OpenBLAS/NumExpr thread counts, so parallel trials do not oversubscribe cores.
    threads: int = 1
    #: Value of CUDA_VISIBLE_DEVICES ("" hides every GPU).
    cuda_visible_devices: str = ""
    #: After SIGTERM on stop, how long the group may take to exit before SIGKILL.
    stop_grace_seconds: float = 5.0
    #: Kept of each of stdout and stderr: this many KB of the start and of the end.
    output_keep_kb: int = 64
    #: result.json larger than this is invalid output.
    max_result_bytes: int = 1 * MB
    #: Params file larger than this is invalid output. None: ``file_size_mb``.
    max_params_mb: int | None = None
    #: An events line longer than this is dropped (and counted as malformed).
    max_event_line_bytes: int = 64 * 1024
    #: Events past this count are not read (the outcome says so).
    max_events: int = 100_000
    #: Seconds between event batches, heartbeats and stop checks.
    poll_interval: float = 0.5
    #: "auto" (bubblewrap when installed and working), "bwrap" (required) or "none".
    sandbox: str = "auto"
    #: Start the trial as a fork of this worker's warm "zygote" (numpy and the SDK already
    #: imported; see ``rafiki.runner.zygote``) instead of a fresh interpreter. Falls back to a
    #: cold start whenever the zygote cannot serve the trial.
    warm_start: bool = True

    @property
    def effective_cpu_seconds(self) -> int:
        if self.cpu_seconds is not None:
            return self.cpu_seconds
        return int(self.wall_seconds * max(self.threads, 1)) + 1

    @property
    def effective_max_params_bytes(self) -> int:
        return (self.max_params_mb if self.max_params_mb is not None else self.file_size_mb) * MB


# --- environment --------------------------------------------------------------------------

#: Parent variables copied as they are; everything else (SECRET_KEY, DATABASE_URL, REDIS_URL,
#: cloud credentials...) never reaches user code.
_COPIED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ")
_THREAD_ENV = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def rafiki_root() -> str:
    """The directory that contains the ``rafiki`` package (for the child's PYTHONPATH)."""
    import rafiki

    return os.path.dirname(os.path.dirname(os.path.abspath(rafiki.__file__)))


def child_env(limits: Limits, workdir: str) -> dict[str, str]:
    """The whole environment of a child: an allowlist, never the parent's environment."""
    env = {k: os.environ[k] for k in _COPIED_ENV if k in os.environ}
    env.update({k: v for k, v in os.environ.items() if k.startswith("LC_")})
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    tmp = os.path.join(workdir, "tmp")
    os.makedirs(tmp, exist_ok=True)
    env.update(
        {
            "HOME": workdir,
            "TMPDIR": tmp,
            "PYTHONPATH": rafiki_root(),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONNOUSERSITE": "1",
            "CUDA_VISIBLE_DEVICES": limits.cuda_visible_devices,
        }
    )
    for name in _THREAD_ENV:
        env[name] = str(max(limits.threads, 1))
    return env


# --- resource limits ----------------------------------------------------------------------


def _clamp(value: int, hard: int) -> int:
    # A child cannot raise a hard limit above the parent's: ask for at most that.
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def rlimits(limits: Limits) -> list[tuple[int, tuple[int, int]]]:
    """(resource, (soft, hard)) pairs for the child, computed in the parent before fork."""
    wanted: list[tuple[int, int, int]] = [(resource.RLIMIT_CORE, 0, 0)]
    cpu = limits.effective_cpu_seconds
    # Soft limit -> SIGXCPU (fatal for Python); the hard limit a little later is SIGKILL for a
    # process that ignores SIGXCPU.
    wanted.append((resource.RLIMIT_CPU, cpu, cpu + 5))
    if limits.memory_mb is not None:
        wanted.append((resource.RLIMIT_AS, limits.memory_mb * MB, limits.memory_mb * MB))
    fsize = limits.file_size_mb * MB
    wanted.append((resource.RLIMIT_FSIZE, fsize, fsize))
    wanted.append((resource.RLIMIT_NOFILE, limits.open_files, limits.open_files))
    out = []
    for res, soft, hard in wanted:
        _, current_hard = resource.getrlimit(res)
        hard = _clamp(hard, current_hard)
        out.append((res, (min(_clamp(soft, current_hard), hard), hard)))
    return out


_PR_SET_PDEATHSIG = 1


@functools.lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _preexec(pairs: Sequence[tuple[int, tuple[int, int]]]) -> Callable[[], None]:
    # Runs between fork and exec: setrlimit calls and one prctl, all resolved before the fork
    # (no imports, no locks), which is what keeps preexec_fn safe enough in a threaded parent.
    prctl = _prctl()
    parent = os.getpid()
    kill = int(signal.SIGKILL)

    def apply() -> None:
        for res, values in pairs:
            resource.setrlimit(res, values)
        if prctl is not None:
            # If the worker dies (kill -9, a Celery hard time limit) the trial dies with it
            # instead of running on unsupervised; the reconciler re-runs the trial.
            prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)

    return apply


# --- sandbox ------------------------------------------------------------------------------


def gpu_device_nodes() -> list[str]:
    """The NVIDIA driver's device nodes on this machine (none without a GPU)."""
    import glob

    return sorted(glob.glob("/dev/nvidia*"))


#: Folders of the host shown read-only in the sandbox (where they exist).
SYSTEM_DIRS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/sys",
)


@functools.lru_cache(maxsize=1)
def bwrap_path() -> str | None:
    """bubblewrap's path when it is installed *and* works here (user namespaces allowed)."""
    path = shutil.which("bwrap")
    if not path:
        return None
    try:
        probe = subprocess.run(
            [path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


def sandbox_argv(
    argv: list[str],
    limits: Limits,
    writable_dirs: Sequence[str],
    readable_paths: Sequence[str] = (),
) -> list[str]:
    """``argv`` wrapped in bubblewrap when configured/available: no network, the system
    folders and the Python runtime read-only, private /tmp, ``readable_paths`` (inputs such
    as datasets) read-only, writable only ``writable_dirs`` (the first is the working
    folder). Nothing else of the host's file system is there."""
    if limits.sandbox not in ("auto", "bwrap", "none"):
        raise ValueError(
            f"Limits.sandbox must be 'auto', 'bwrap' or 'none', not {limits.sandbox!r}"
        )
    if limits.sandbox == "none":
        return argv
    path = bwrap_path()
    if path is None:
        if limits.sandbox == "bwrap":
            raise RuntimeError(
                "Limits.sandbox='bwrap' but bubblewrap is not installed or not usable"
            )
        return argv
    wrapped = [path]
    # Only what a Python program needs is visible, read-only: the system folders (not /home,
    # /root, /srv, /var, /mnt...), then the interpreter and the rafiki package below. The
    # platform's data folder (database, secret key, every user's files) is never among them,
    # wherever it lives.
    for p in SYSTEM_DIRS:
        if os.path.islink(p):
            wrapped += ["--symlink", os.readlink(p), p]  # merged /usr: /bin -> usr/bin
        elif os.path.isdir(p):
            wrapped += ["--ro-bind", p, p]
    wrapped += ["--dev", "/dev"]  # a minimal /dev (null, zero, full, random, urandom, tty)
    if limits.cuda_visible_devices:
        # A GPU trial needs the driver's device nodes; which GPU it uses is what
        # CUDA_VISIBLE_DEVICES says (the driver maps the rest away).
        for node in gpu_device_nodes():
            wrapped += ["--dev-bind", node, node]
    wrapped += [
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        # --unshare-all includes the network namespace: only a loopback device inside.
        "--unshare-all",
        "--die-with-parent",
        "--cap-drop", "ALL",
    ]  # fmt: skip
    # The interpreter and its environment (a venv inside the project, pyenv under /root, a
    # CI clone under /tmp) and the rafiki package itself: not the folder that holds it, which
    # is often the project, data folder included.
    runtime = [
        os.path.dirname(os.path.dirname(os.path.abspath(argv[0]))),
        sys.prefix,
        sys.base_prefix,
        os.path.join(rafiki_root(), "rafiki"),
    ]
    for p in dict.fromkeys(os.path.realpath(p) for p in [*runtime, *readable_paths]):
        wrapped += ["--ro-bind-try", p, p]
    for d in dict.fromkeys(os.path.realpath(d) for d in writable_dirs):
        wrapped += ["--bind", d, d]
    return wrapped + ["--chdir", os.path.realpath(writable_dirs[0]), "--"] + argv


# --- output capture -----------------------------------------------------------------------


class CappedOutput:
    """Keeps the first and the last ``keep`` bytes of a stream and counts the rest, so a
    model printing gigabytes costs neither memory nor disk (and is never killed for it)."""

    def __init__(self, keep: int):
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.keep - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.keep:  # trim in batches: amortised O(1) per byte
                del self.tail[: len(self.tail) - self.keep]

    @property
    def omitted(self) -> int:
        return self.total - len(self.head) - min(len(self.tail), self.keep)

    def render(self) -> bytes:
        """Head, a marker naming what was dropped, tail."""
        tail = bytes(self.tail[-self.keep :]) if self.tail else b""
        if self.omitted > 0:
            marker = f"\n[... {self.omitted} bytes omitted ...]\n".encode()
            return bytes(self.head) + marker + tail
        return bytes(self.head) + tail

    def last_text(self, n: int) -> str:
        """The last ``n`` bytes (or fewer) as text."""
        return self.render()[-n:].decode("utf-8", errors="replace")


# --- untrusted files ----------------------------------------------------------------------


class UntrustedFileError(Exception):
    """A file the child wrote is missing, not a regular file, or too large."""


def open_regular(path: str) -> int:
    """Open a child-written file for reading without following a symlink and without blocking
    on a FIFO; refuse anything but a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UntrustedFileError(f"{os.path.basename(path)} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_regular_file(path: str, max_bytes: int) -> int:
    """Size of the regular file at ``path`` (a symlink or special file is refused)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise UntrustedFileError(f"{os.path.basename(path)} is missing") from None
    if not stat.S_ISREG(st.st_mode):
        raise UntrustedFileError(f"{os.path.basename(path)} is not a regular file")
    if st.st_size > max_bytes:
        raise UntrustedFileError(
            f"{os.path.basename(path)} is {st.st_size} bytes, over the limit of {max_bytes}"
        )
    return st.st_size


def read_capped(path: str, max_bytes: int) -> bytes:
    """The content of a child-written regular file of at most ``max_bytes``."""
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        raise UntrustedFileError(f"{os.path.basename(path)} is missing") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UntrustedFileError(f"{os.path.basename(path)} is a symbolic link") from None
        raise
    with os.fdopen(fd, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UntrustedFileError(
            f"{os.path.basename(path)} is larger than the limit of {max_bytes} bytes"
        )
    return data


def write_file_replacing(directory: str, name: str, data: bytes) -> str:
    """Write ``directory/name`` through a fresh temporary file and a rename, so that a symlink
    or hard link planted by the child under that name is replaced, never written through."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        path = os.path.join(directory, name)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


# --- the process --------------------------------------------------------------------------


@dataclass
class ExitInfo:
    returncode: int | None  # negative: killed by that signal; None: could not be reaped
    cpu_seconds: float
    max_rss_mb: float


def read_ready(
    selector: selectors.BaseSelector,
    streams: dict[int, CappedOutput],
    fd: int,
    *,
    close_at_eof: bool,
    budget: int = 4 * MB,
) -> None:
    """Feed what the non-blocking pipe ``fd`` holds (up to ``budget`` bytes per call, so one
    chatty stream cannot starve the other) into its capped sink; at EOF stop watching it."""
    sink = streams[fd]
    while budget > 0:
        try:
            data = os.read(fd, 256 * 1024)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            selector.unregister(fd)
            del streams[fd]
            if close_at_eof:
                os.close(fd)
            return
        sink.feed(data)
        budget -= len(data)


def drain(
    selector: selectors.BaseSelector,
    streams: dict[int, CappedOutput],
    seconds: float,
    *,
    close_at_eof: bool,
) -> None:
    """Read the output still in flight for up to ``seconds`` after the trial has exited."""
    deadline = time.monotonic() + seconds
    while streams and time.monotonic() < deadline:
        for key, _ in selector.select(max(deadline - time.monotonic(), 0)):
            if key.fd in streams:
                read_ready(selector, streams, key.fd, close_at_eof=close_at_eof)


class ConfinedProcess:
    """A child in its own session/process group with limits applied and its output captured
    through pipes. ``pump`` waits for output or exit; ``finish`` reaps. Use as a context
    manager: leaving the block always kills the whole group and reaps the child, whatever
    the parent was doing (including raising), so a Celery worker is never left with strays.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        workdir: str,
        limits: Limits,
        writable_dirs: Sequence[str] = (),
        readable_paths: Sequence[str] = (),
        pass_fds: Sequence[int] = (),
    ):
        # pass_fds: extra descriptors the child inherits at the same numbers (the serving
        # child's request and reply pipes); everything else is closed.
        self.limits = limits
        keep = limits.output_keep_kb * 1024
        self.stdout = CappedOutput(keep)
        self.stderr = CappedOutput(keep)
        self.sandboxed = False
        full_argv = sandbox_argv(argv, limits, [workdir, *writable_dirs], readable_paths)
        self.sandboxed = full_argv is not argv
        self.started = time.monotonic()
        self._proc = subprocess.Popen(
            full_argv,
            cwd=workdir,
            env=child_env(limits, workdir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # own process group: one killpg reaches grandchildren
            preexec_fn=_preexec(rlimits(limits)),  # noqa: PLW1509 - setrlimit only, see _preexec
            close_fds=True,
            pass_fds=tuple(pass_fds),
        )
        self.pid = self._proc.pid
        self._exited = False
        self._reaped: ExitInfo | None = None
        self._selector = selectors.DefaultSelector()
        self._streams: dict[int, CappedOutput] = {}
        for pipe, sink in ((self._proc.stdout, self.stdout), (self._proc.stderr, self.stderr)):
            assert pipe is not None
            fd = pipe.fileno()
            os.set_blocking(fd, False)
            self._streams[fd] = sink
            self._selector.register(fd, selectors.EVENT_READ)
        # The pipes are read with os.read on their fds (no buffering between us and the
        # caps); Popen's file objects stay the owners that close them.
        # A pidfd becomes readable when the child exits: the wait loop wakes at once instead
        # of polling, which keeps the per-trial overhead down.
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
            self._selector.register(self._pidfd, selectors.EVENT_READ)
        except (AttributeError, OSError):
            self._pidfd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- waiting -------------------------------------------------------------------------

    def _has_exited(self) -> bool:
        if not self._exited:
            try:
                # WNOWAIT leaves the child a zombie: its pid, hence the group id, cannot be
                # reused until we reap it, so killpg never hits an unrelated group.
                info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                info = True  # already reaped (SIGCHLD ignored by someone): treat as exited
            self._exited = info is not None
        return self._exited

    def _read_ready(self, fd: int) -> None:
        # Popen's file objects own these fds and close them in _close_fds.
        read_ready(self._selector, self._streams, fd, close_at_eof=False)

    def pump(self, timeout: float) -> bool:
        """Read output for up to ``timeout`` seconds or until the child exits; True once the
        child has exited (not yet reaped)."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while not self._has_exited():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Without a pidfd, poll the exit status every 50 ms.
            wait = remaining if self._pidfd is not None else min(remaining, 0.05)
            for key, _ in self._selector.select(wait):
                if key.fd in self._streams:
                    self._read_ready(key.fd)
        return True

    def killpg(self, sig: int) -> None:
        if self._reaped is not None:
            return  # the group id may belong to someone else now
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self, drain_seconds: float = 1.0) -> ExitInfo:
        """Kill what is left of the group, collect the remaining output and reap the child.
        Blocks until the child has exited (callers kill it first when needed)."""
        if self._reaped is not None:
            return self._reaped
        while not self.pump(1.0):
            pass
        # Grandchildren left behind (daemons, workers of a data loader) die with the trial.
        self.killpg(signal.SIGKILL)
        drain(self._selector, self._streams, drain_seconds, close_at_eof=False)
        self._reaped = self._reap()
        self._close_fds()
        return self._reaped

    def _reap(self) -> ExitInfo:
        try:
            _, status, usage = os.wait4(self.pid, 0)
        except ChildProcessError:
            self._proc.returncode = -1
            return ExitInfo(None, 0.0, 0.0)
        returncode = os.waitstatus_to_exitcode(status)
        # Popen must not wait on this pid again (it could belong to another process by then).
        self._proc.returncode = returncode
        if self.sandboxed and returncode > 128:
            # bubblewrap reports a child killed by signal N as exit status 128 + N.
            returncode = -(returncode - 128)
        return ExitInfo(returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)

    def _close_fds(self) -> None:
        for fd in list(self._streams):
            self._selector.unregister(fd)
        self._streams.clear()
        if self._pidfd is not None:
            self._selector.unregister(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self._selector.close()
        for pipe in (self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()

    def close(self) -> ExitInfo:
        """Kill the whole group and reap; safe to call several times."""
        if self._reaped is None:
            self.killpg(signal.SIGKILL)
            return self.finish(drain_seconds=0.2)
        return self._reaped

    def peak_virtual_mb(self) -> float | None:
        """The child's peak address space so far, or None when unreadable."""
        return peak_virtual_mb(self.pid)


def peak_virtual_mb(pid: int) -> float | None:
    """A process's peak address space so far (from /proc), or None when unreadable."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


__all__ = [
    "ConfinedProcess",
    "ExitInfo",
    "Limits",
    "UntrustedFileError",
    "check_regular_file",
    "child_env",
    "read_capped",
    "signal_name",
    "write_file_replacing",
]
