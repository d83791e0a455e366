"""Warm start for trials: a per-worker-process "zygote" child that has already imported numpy,
the SDK and ``rafiki.runner.trial``, and forks one fresh grandchild per trial.

    worker (run_trial) --socketpair--> [bwrap] zygote --fork--> trial grandchild

The zygote is started once per worker process, confined like a cold trial child (bubblewrap
when configured/available, with a per-zygote *trials root* bound writable and the input roots
bound read-only; the environment allowlist; RLIMIT_CORE 0; death with the worker). It never
runs model code and never imports a model file: every trial is a fork of that clean state,
so nothing a model does can reach the next trial through the zygote.

For each trial the worker sends the spec path, the trial's environment and rlimits, and the
write ends of fresh stdout/stderr pipes (SCM_RIGHTS). The grandchild ``setsid()``s, asks for
SIGKILL when the zygote dies, applies the rlimits, takes the trial's environment, chdirs into
the working folder and runs ``rafiki.runner.trial.main`` exactly as the cold child does.

Signals go through the zygote (``{"kill": sig}`` -> ``killpg(grandchild, sig)``): under
bubblewrap the grandchild lives in the zygote's pid namespace, where the worker's pids mean
nothing. When the grandchild has exited the zygote kills what is left of its process group
(and, inside a pid namespace, every other process of the namespace, so a daemon left by one
trial cannot touch the next), reaps it and sends the wait status and rusage back.

Whatever goes wrong with the zygote before a trial has started (it cannot start, it died, a
reply is missing) makes ``start_warm`` return None: the caller runs that trial cold, and the
next trial starts a new zygote.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from rafiki.runner.limits import (
    CappedOutput,
    ExitInfo,
    Limits,
    _prctl,
    _preexec,
    bwrap_path,
    child_env,
    drain,
    peak_virtual_mb,
    read_ready,
    rlimits,
    sandbox_argv,
)

#: Room in the zygote's command line that each grandchild overwrites with its own title
#: (``python -P -m rafiki.runner.trial <spec>``), so ``ps`` shows which trial a process runs.
_TITLE_ROOM = 1024
_READY_TIMEOUT = 60.0
_PR_SET_DUMPABLE = 4
_REPLY_TIMEOUT = 10.0


# --- the worker side ----------------------------------------------------------------------


@dataclass
class _Zygote:
    key: tuple
    proc: subprocess.Popen
    sock: socket.socket
    owner: int  # the worker pid that started it (a forked worker must not use it)
    pidns: bool
    root: str

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.proc.poll() is None

    def stop(self) -> None:
        if self.owner != os.getpid():
            self.sock.close()
            return
        self.sock.close()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


_zygote: _Zygote | None = None


def zygote_pids() -> list[int]:
    """Pids of this process's live zygote (tests: an expected child)."""
    return [_zygote.proc.pid] if _zygote is not None and _zygote.alive() else []


def stop_zygote() -> None:
    global _zygote
    if _zygote is not None:
        _zygote.stop()
        _zygote = None


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _start_zygote(key: tuple, limits: Limits, python: str, root: str, readable: list[str]):
    parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        argv = [python, "-P", "-m", "rafiki.runner.zygote", str(child_sock.fileno())]
        full = [*argv, "pidns", "." * _TITLE_ROOM]
        wrapped = sandbox_argv(full, limits, [root], readable)
        pidns = wrapped is not full  # bubblewrap's --unshare-all: its own pid namespace
        if not pidns:
            wrapped = [*argv, "nopidns", "." * _TITLE_ROOM]
        core = [(resource.RLIMIT_CORE, (0, 0))]
        proc = subprocess.Popen(
            wrapped,
            cwd=root,
            env=child_env(limits, root),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_preexec(core),  # noqa: PLW1509 - setrlimit + prctl only
            close_fds=True,
            pass_fds=(child_sock.fileno(),),
        )
    except BaseException:
        parent_sock.close()
        raise
    finally:
        child_sock.close()
    zygote = _Zygote(key, proc, parent_sock, os.getpid(), pidns, root)
    try:
        parent_sock.settimeout(_READY_TIMEOUT)
        if parent_sock.recv(64) != b"READY":
            raise OSError("the zygote did not start")
    except BaseException:
        zygote.stop()
        raise
    return zygote


def start_warm(
    spec_path: str,
    workdir: str,
    limits: Limits,
    writable_dirs: Sequence[str],
    readable_paths: Sequence[str],
    python: str,
) -> WarmProcess | None:
    """The trial started in a grandchild of this worker's zygote, or None (run it cold)."""
    global _zygote
    # The per-zygote trials root (bound writable under bubblewrap): the working folder's
    # parent. Outputs placed elsewhere would not be writable: such a trial runs cold.
    root = os.path.dirname(workdir)
    if any(not _within(os.path.realpath(d), root) for d in writable_dirs):
        return None
    readable = sorted({os.path.dirname(os.path.realpath(p)) for p in readable_paths})
    # What the zygote's imports or sandbox depend on: numpy/OpenBLAS read the thread counts
    # when imported; bubblewrap's binds are fixed at start (without it, paths do not matter).
    key: tuple = (python, limits.sandbox, limits.threads, limits.cuda_visible_devices)
    if limits.sandbox != "none" and bwrap_path() is not None:
        key += (root, *readable)
    try:
        if _zygote is not None and (not _zygote.alive() or _zygote.key != key):
            stop_zygote()
        if _zygote is None:
            _zygote = _start_zygote(key, limits, python, root, readable)
        return WarmProcess(_zygote, spec_path, workdir, limits, python)
    except Exception:  # noqa: BLE001 - any zygote failure: this trial runs cold
        stop_zygote()
        return None


class WarmProcess:
    """The worker's view of one warm trial: the same interface as ``ConfinedProcess`` as
    ``run_trial`` uses it (pump, killpg, finish, close, peak_virtual_mb, stdout, stderr)."""

    def __init__(self, zygote: _Zygote, spec_path: str, workdir: str, limits: Limits, python: str):
        self.limits = limits
        keep = limits.output_keep_kb * 1024
        self.stdout = CappedOutput(keep)
        self.stderr = CappedOutput(keep)
        self.sandboxed = zygote.pidns
        self._zygote = zygote
        self._sock = zygote.sock
        self._exit: ExitInfo | None = None
        self._closed = False
        self._host_pid: int | None = None
        request = {
            "spec_path": spec_path,
            "workdir": workdir,
            "env": child_env(limits, workdir),
            "rlimits": [[res, soft, hard] for res, (soft, hard) in rlimits(limits)],
            "title": [python, "-P", "-m", "rafiki.runner.trial", spec_path],
        }
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self.started = time.monotonic()
        try:
            self._sock.settimeout(_REPLY_TIMEOUT)
            socket.send_fds(self._sock, [json.dumps(request).encode()], [out_w, err_w])
            reply = json.loads(self._sock.recv(4096) or b"{}")
            self.pid = int(reply["pid"])
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        self._sock.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._streams: dict[int, CappedOutput] = {out_r: self.stdout, err_r: self.stderr}
        for fd in self._streams:
            os.set_blocking(fd, False)
            self._selector.register(fd, selectors.EVENT_READ)
        self._selector.register(self._sock, selectors.EVENT_READ)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_message(self) -> None:
        try:
            data = self._sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            # The zygote died (its grandchild dies with it: PDEATHSIG). Nothing to reap here.
            self._exit = ExitInfo(None, 0.0, 0.0)
            stop_zygote_if(self._zygote)
            return
        msg = json.loads(data)
        if "status" in msg:
            code = os.waitstatus_to_exitcode(msg["status"])
            self._exit = ExitInfo(code, msg["cpu"], msg["maxrss"] / 1024)

    def _read_ready(self, fd: int) -> None:
        # These pipe ends are ours alone: close each at EOF.
        read_ready(self._selector, self._streams, fd, close_at_eof=True)

    def pump(self, timeout: float) -> bool:
        deadline = time.monotonic() + max(timeout, 0.0)
        while self._exit is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            for key, _ in self._selector.select(remaining):
                if key.fd in self._streams:
                    self._read_ready(key.fd)
                elif self._exit is None:
                    self._on_message()
        return True

    def killpg(self, sig: int) -> None:
        if self._exit is not None or self._closed:
            return
        try:
            self._sock.send(json.dumps({"kill": int(sig)}).encode())
        except OSError:
            pass

    def finish(self, drain_seconds: float = 1.0) -> ExitInfo:
        if self._closed:
            assert self._exit is not None
            return self._exit
        while not self.pump(1.0):
            pass
        drain(self._selector, self._streams, drain_seconds, close_at_eof=True)
        self._close_fds()
        assert self._exit is not None
        return self._exit

    def _close_fds(self) -> None:
        for fd in list(self._streams):
            self._selector.unregister(fd)
            os.close(fd)
        self._streams.clear()
        self._selector.close()
        self._closed = True
        if self._zygote.alive():
            self._sock.settimeout(_REPLY_TIMEOUT)

    def close(self) -> ExitInfo:
        if not self._closed:
            self.killpg(signal.SIGKILL)
            # The zygote reports the exit once it has reaped the grandchild; a zygote that
            # does not within 10 s is stopped (which kills the grandchild too).
            if not self.pump(_REPLY_TIMEOUT):
                stop_zygote_if(self._zygote)
                self._exit = ExitInfo(None, 0.0, 0.0)
            return self.finish(drain_seconds=0.2)
        assert self._exit is not None
        return self._exit

    def peak_virtual_mb(self) -> float | None:
        pid = self._find_host_pid()
        return None if pid is None else peak_virtual_mb(pid)

    def _find_host_pid(self) -> int | None:
        if not self._zygote.pidns:
            return self.pid
        if self._host_pid is None:
            # The grandchild's pid here: a descendant of bubblewrap whose innermost NSpid is
            # the pid the zygote reported.
            todo, depth = [self._zygote.proc.pid], 0
            while todo and depth < 4 and self._host_pid is None:
                nxt = []
                for p in todo:
                    for child in _children(p):
                        if _ns_pid(child) == self.pid and child != self._zygote.proc.pid:
                            self._host_pid = child
                        nxt.append(child)
                todo, depth = nxt, depth + 1
        return self._host_pid


def stop_zygote_if(zygote: _Zygote) -> None:
    if _zygote is zygote:
        stop_zygote()
    else:
        zygote.stop()


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except (OSError, ValueError):
        pass
    return out


def _ns_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        return None
    return None


# --- the zygote side ----------------------------------------------------------------------


def _set_title(words: list[str]) -> None:
    """Overwrite this process's command line (the argv area, /proc/self/cmdline)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])
        title = b"\0".join(w.encode() for w in words)[: end - start - 1]
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            mem.write(title + b"\0" * (end - start - len(title)))
    except (OSError, ValueError, IndexError):
        pass


def _grandchild(request: dict, out_fd: int, err_fd: int, zygote_pid: int, sock_fd: int) -> None:
    """In the forked grandchild: become the trial process and run it. Never returns."""
    code = 1
    try:
        os.setsid()
        prctl = _prctl()
        if prctl is not None:
            prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG: die with the zygote
        if os.getppid() != zygote_pid:
            os._exit(1)
        if prctl is not None:
            prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)  # like a cold child (the zygote is not)
        os.close(sock_fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        for fd in (null, out_fd, err_fd):
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        import tempfile

        tempfile.tempdir = None  # TMPDIR is the trial's
        os.chdir(request["workdir"])
        for res, soft, hard in request["rlimits"]:
            resource.setrlimit(res, (soft, hard))
        _set_title(request["title"])
        # The zygote's random state was drawn once, at import: each trial draws its own, as a
        # fresh interpreter would (``random`` reseeds itself after a fork, numpy does not).
        import numpy

        numpy.random.seed()
        from rafiki.runner import trial

        sys.argv = [trial.__file__, request["spec_path"]]
        code = trial.main(sys.argv)
        _flush()
    except SystemExit as e:  # sys.exit() in model code: the exit status Python would give
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code & 0xFF
        else:
            print(e.code, file=sys.stderr)
        _flush()
    except BaseException:  # noqa: BLE001 - report and exit like a crashed child
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001, S110 - stderr is gone: exit anyway
            pass
    os._exit(code)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a closed or broken stream
            pass


def _serve_one(sock: socket.socket, request: dict, fds: list[int], pidns: bool) -> bool:
    """Fork one trial, relay kill requests, report its end. False: the worker is gone."""
    out_fd, err_fd = fds
    pid = os.fork()
    if pid == 0:
        _grandchild(request, out_fd, err_fd, os.getppid(), sock.fileno())
    os.close(out_fd)
    os.close(err_fd)
    sock.send(json.dumps({"pid": pid}).encode())
    pidfd = os.pidfd_open(pid)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(pidfd, selectors.EVENT_READ)
    worker_alive = True
    try:
        while True:
            events = sel.select()
            if any(key.fd == pidfd for key, _ in events):
                break
            data = sock.recv(4096)
            if not data:
                worker_alive = False
                break
            msg = json.loads(data)
            if "kill" in msg:
                try:
                    os.killpg(pid, msg["kill"])
                except (ProcessLookupError, PermissionError):
                    pass
    finally:
        sel.close()
    # Exited (or the worker is gone): the zombie keeps the group id ours until reaped.
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if pidns:
        # Our own pid namespace: nothing but bubblewrap's init (pid 1, immune) and us should be
        # left; a daemon a trial started with setsid() must not live on into the next trial.
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _, status, usage = os.wait4(pid, 0)
    os.close(pidfd)
    if worker_alive:
        report = {
            "status": status,
            "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss": usage.ru_maxrss,
        }
        sock.send(json.dumps(report).encode())
    return worker_alive


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[1]))
    prctl = _prctl()
    if prctl is not None:
        # Not dumpable: a trial (same uid) can neither ptrace the zygote nor write its memory
        # through /proc, so it cannot plant anything for the trials forked after it.
        prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    pidns = argv[2] == "pidns" and os.getpid() != 1 and os.getppid() == 1
    # What every trial imports, once: the fork gets it for free. Never a model file.
    import numpy
    import numpy.random  # noqa: F401 - numpy imports it lazily; each trial reseeds it

    import rafiki.model
    import rafiki.model.log
    import rafiki.model.model
    import rafiki.model.params
    import rafiki.model.utils
    import rafiki.runner.trial  # noqa: F401

    sock.send(b"READY")
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1024 * 1024, 2)
        except OSError:
            return 0
        if not data:
            return 0  # the worker closed its end: done
        msg = json.loads(data)
        if "kill" in msg:  # late: its trial has already been reported
            for fd in fds:
                os.close(fd)
            continue
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            return 1
        if not _serve_one(sock, msg, fds, pidns):
            return 0


if __name__ == "__main__":
    os._exit(main(sys.argv))
