"""A private pcscd with vpcd virtual readers, for tests, demos and outside tools.

Never touches the system pcscd:

* **socket**: pcscd 1.9 ignores ``PCSCLITE_CSOCK_NAME`` for its own socket, so it is started by
  socket activation on a socket in our directory — ``systemd-socket-activate -l SOCK`` when installed
  (it execs pcscd on the first connection), else we bind the socket and pass it as fd 3 with
  ``LISTEN_FDS=1``. Clients reach it with ``PCSCLITE_CSOCK_NAME=SOCK``.
* **pid file**: pcscd writes ``/run/pcscd/pcscd.pid`` and deletes it on exit, whoever owned it. As
  root we run pcscd in a private mount namespace with its own ``/run`` (and an empty USB driver
  directory, so it never grabs a real USB reader from the system pcscd). Without that, we put back
  the previous pid file after our pcscd wrote or deleted it.
* **ports**: vpcd listens on two TCP ports per reader.conf entry (readers come in pairs). Ports are
  drawn at random below the kernel's ephemeral range, checked free, and confirmed to be listened on
  by *our* pcscd (``/proc/net/tcp`` inode ∈ its fds); on a collision with a concurrent session we
  retry with other ports.
* **lifetime**: pcscd runs with ``-x`` (exit after 60 s without clients) while the runner holds one
  idle client connection: if the runner dies without cleaning up, pcscd exits on its own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

PID_FILE = Path("/run/pcscd/pcscd.pid")
SYSTEM_DRIVER_DIR = Path("/usr/lib/pcsc/drivers")
VPCD_GLOBS = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so*",
    "/usr/lib/*/pcsc/drivers/serial/libifdvpcd.so*",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so*",
)
READER_FRIENDLY_NAME = "Virtual PCD"
_START_ATTEMPTS = 5


def friendly_name(pair: int) -> str:
    """Driver name of reader pair ``pair``; distinct per pair, else pcscd repeats reader names."""
    return READER_FRIENDLY_NAME if pair == 0 else f"{READER_FRIENDLY_NAME} {pair}"


def reader_name(index: int) -> str:
    """The name pcscd gives reader ``index`` (``<friendly name> 00 <slot>``)."""
    return f"{friendly_name(index // 2)} 00 {index % 2:02d}"


class PcscdError(Exception):
    """The private pcscd could not be started or stopped."""


class PcscdNotInstalled(PcscdError):
    """pcscd or the vpcd driver is missing (tests skip on this)."""


@dataclass(frozen=True, slots=True)
class VirtualReader:
    index: int  # position in pcscd's reader list, as used by `pcsc:<index>`
    port: int  # TCP port the card side (vpcd bridge) connects to
    name: str  # the PC/SC reader name, as used by `pcsc:<name>`


def find_pcscd() -> str:
    path = shutil.which("pcscd") or ("/usr/sbin/pcscd" if os.access("/usr/sbin/pcscd", os.X_OK) else None)
    if path is None:
        raise PcscdNotInstalled("pcscd is not installed; install it (apt-get install pcscd)")
    return path


def find_vpcd_driver() -> Path:
    for pattern in VPCD_GLOBS:
        for candidate in sorted(glob.glob(pattern)):
            if os.path.isfile(candidate) and not os.path.islink(candidate):
                return Path(candidate)
    raise PcscdNotInstalled("the vpcd reader driver is not installed; install it (apt-get install vsmartcard-vpcd)")


def _can_isolate() -> bool:
    """Whether pcscd can get a private /run (needs root and a working `unshare --mount`)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, check=False
    )
    return probe.returncode == 0


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))  # vpcd binds all interfaces, so must we to test
        except OSError:
            return False
    return True


def pick_port_pairs(count: int, rng: random.Random | None = None) -> list[int]:
    """``count`` even base ports whose pair (base, base+1) is free, outside the ephemeral range."""
    rng = rng or random.SystemRandom()
    low, high = _ephemeral_range()
    candidates = [p for p in range(20000, 65534, 2) if not low <= p <= high and not low <= p + 1 <= high]
    bases: list[int] = []
    for _ in range(2000):
        base = rng.choice(candidates)
        if base not in bases and _port_free(base) and _port_free(base + 1):
            bases.append(base)
            if len(bases) == count:
                return bases
    raise PcscdError("found no free TCP port pair for vpcd; free some ports and try again")


def _listening_inodes(ports: set[int]) -> dict[int, set[int]]:
    """Socket inodes in LISTEN state per local port (IPv4 and IPv6)."""
    found: dict[int, set[int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == "0A" and port in ports:
                found.setdefault(port, set()).add(int(fields[9]))
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


_PR_SET_PDEATHSIG = 1


def _term_on_parent_death() -> None:
    """Runs in the child between fork and exec: SIGTERM when the parent dies (Linux only)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class PrivatePcscd:
    """A pcscd of our own with ``readers`` vpcd readers (rounded up to pairs), files in ``directory``.

    ``start()`` returns once every vpcd port is listened on by this pcscd; ``stop()`` ends it and
    removes the socket. Use :meth:`environ` (``PCSCLITE_CSOCK_NAME``) for clients. ``isolate``
    (default: when possible) gives pcscd a private /run; ``activation`` picks "systemd"
    (systemd-socket-activate), "fd" (we bind the socket) or "auto" (systemd when installed).
    ``die_with_parent`` asks the kernel to SIGTERM pcscd when the thread that started it dies (the
    station demo uses it so that a ``kill -9`` of the station leaves no pcscd behind; every step from
    here to pcscd is an ``exec``, which keeps the setting).
    """

    def __init__(
        self,
        directory: Path | str,
        readers: int = 2,
        socket_path: Path | str | None = None,
        *,
        isolate: bool | None = None,
        activation: str = "auto",
        debug: bool = False,
        die_with_parent: bool = False,
    ) -> None:
        if activation not in ("auto", "systemd", "fd"):
            raise ValueError(f"activation must be auto, systemd or fd, got {activation!r}")
        if readers < 1:
            raise ValueError(f"a private pcscd needs at least one reader, got {readers}")
        self.directory = Path(directory).resolve()
        self.pairs = (readers + 1) // 2
        self.socket_path = Path(socket_path) if socket_path is not None else self.directory / "pcscd.comm"
        if len(os.fsencode(self.socket_path)) > 100:
            raise PcscdError(f"socket path {self.socket_path} is too long for a UNIX socket; use a shorter --dir")
        self.isolate = isolate
        self.activation = activation
        self.debug = debug
        self.die_with_parent = die_with_parent
        self.readers: tuple[VirtualReader, ...] = ()
        self._process: subprocess.Popen[bytes] | None = None
        self._keepalive: socket.socket | None = None
        self._listener: socket.socket | None = None
        self._saved_pid_file: bytes | None = None
        self._made_run_dir = False
        self._log_path = self.directory / "pcscd.log"

    # -- public API -----------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def environ(self) -> dict[str, str]:
        return {"PCSCLITE_CSOCK_NAME": str(self.socket_path)}

    def start(self, timeout: float = 10.0) -> None:
        pcscd = find_pcscd()
        driver = find_vpcd_driver()
        if self.isolate is None:
            self.isolate = _can_isolate()
        self.directory.mkdir(parents=True, exist_ok=True)
        last_error: PcscdError | None = None
        for _ in range(_START_ATTEMPTS):
            bases = pick_port_pairs(self.pairs)
            try:
                self._launch(pcscd, driver, bases, timeout)
                return
            except PcscdError as exc:  # most likely a port taken by a concurrent session meanwhile
                last_error = exc
                self.stop()
        raise PcscdError(f"private pcscd did not start after {_START_ATTEMPTS} attempts: {last_error}")

    def stop(self, timeout: float = 5.0) -> None:
        if self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.socket_path.unlink(missing_ok=True)
        self._restore_pid_file()
        self.readers = ()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> PrivatePcscd:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------------------------
    def _write_config(self, driver: Path, bases: list[int]) -> Path:
        drivers = self.directory / "drivers"
        drivers.mkdir(exist_ok=True)
        entries = []
        for pair, base in enumerate(bases):
            # pcscd loads a driver file once; a second pair needs its own copy of the library.
            copy = drivers / f"libifdvpcd-{pair}.so"
            if not copy.exists():
                shutil.copy2(driver, copy)
            entries.append(
                f'FRIENDLYNAME "{friendly_name(pair)}"\n'
                f"DEVICENAME   /dev/null:0x{base:04X}\n"
                f"LIBPATH      {copy}\n"
                f"CHANNELID    0x{base:04X}\n"
            )
        conf = self.directory / "reader.conf"
        conf.write_text("\n".join(entries))
        return conf

    def _command(self, pcscd: str, conf: Path) -> tuple[list[str], tuple[int, ...]]:
        daemon = [pcscd, "--foreground", "--auto-exit", "--config", str(conf)]
        if self.debug:
            daemon.append("--debug")
        script = ["set -e"]
        if self.isolate:
            empty = self.directory / "no-usb-drivers"
            empty.mkdir(exist_ok=True)
            script.append("mount -t tmpfs -o size=1m,mode=0755 pcscd-run /run")
            if SYSTEM_DRIVER_DIR.is_dir():
                script.append(f"mount --bind '{empty}' '{SYSTEM_DRIVER_DIR}'")
        pass_fds: tuple[int, ...] = ()
        activate = shutil.which("systemd-socket-activate") if self.activation != "fd" else None
        if self.activation == "systemd" and activate is None:
            raise PcscdNotInstalled("systemd-socket-activate is not installed")
        if activate:
            daemon = [activate, "--listen", str(self.socket_path), *daemon]
        else:
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(str(self.socket_path))
            self._listener.listen(64)
            fd = self._listener.fileno()
            pass_fds = (fd,)
            if fd != 3:
                script.append(f"exec 3<&{fd} {fd}<&-")
            # $$ is the shell's pid, which exec hands on to pcscd: sd_listen_fds() checks it.
            script.append("export LISTEN_FDS=1 LISTEN_PID=$$")
        script.append('exec "$@"')
        command = ["sh", "-c", "; ".join(script), "sh", *daemon]
        if self.isolate:
            command = ["unshare", "--mount", "--propagation", "private", *command]
        return command, pass_fds

    def _launch(self, pcscd: str, driver: Path, bases: list[int], timeout: float) -> None:
        self.socket_path.unlink(missing_ok=True)
        conf = self._write_config(driver, bases)
        command, pass_fds = self._command(pcscd, conf)
        self._save_pid_file()
        with open(self._log_path, "ab") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=pass_fds,
                preexec_fn=_term_on_parent_death if self.die_with_parent else None,
            )
        deadline = time.monotonic() + timeout
        self._keepalive = self._connect_socket(deadline)
        ports = {port for base in bases for port in (base, base + 1)}
        while True:
            self._check_alive()
            ours = _socket_inodes(self._process.pid)
            listening = _listening_inodes(ports)
            if all(listening.get(port, set()) & ours for port in ports):
                break
            if time.monotonic() > deadline:
                raise PcscdError(
                    f"vpcd readers on ports {sorted(ports)} did not appear within {timeout:.0f} s "
                    f"(port taken?); pcscd log:\n{self.log_tail()}"
                )
            time.sleep(0.01)
        # A reader is listed right after its driver opened the port; give the last one a moment.
        time.sleep(0.05)
        self._repair_pid_file()
        self.readers = tuple(
            VirtualReader(2 * pair + slot, base + slot, reader_name(2 * pair + slot)) for pair, base in enumerate(bases) for slot in (0, 1)
        )

    def _connect_socket(self, deadline: float) -> socket.socket:
        """Connect to pcscd's socket: starts it (socket activation) and keeps it from auto-exiting."""
        while True:
            self._check_alive()
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect(str(self.socket_path))
                return client
            except OSError:
                client.close()
            if time.monotonic() > deadline:
                raise PcscdError(f"pcscd socket {self.socket_path} did not appear; pcscd log:\n{self.log_tail()}")
            time.sleep(0.01)

    def _check_alive(self) -> None:
        if self._process is None or self._process.poll() is not None:
            code = None if self._process is None else self._process.returncode
            raise PcscdError(f"pcscd exited (status {code}); its log:\n{self.log_tail()}")

    # pid file care, only needed when pcscd shares the system's /run.
    def _save_pid_file(self) -> None:
        if self.isolate:
            return
        self._made_run_dir = not PID_FILE.parent.exists()
        try:
            self._saved_pid_file = PID_FILE.read_bytes()
        except OSError:
            self._saved_pid_file = None

    def _repair_pid_file(self) -> None:
        """Put back the pid file our pcscd overwrote, so the system pcscd stays findable."""
        if self.isolate or self._saved_pid_file is None:
            return
        try:
            if PID_FILE.read_bytes().strip() == str(self.pid).encode():
                PID_FILE.write_bytes(self._saved_pid_file)
        except OSError:
            pass

    def _restore_pid_file(self) -> None:
        if self.isolate:
            return
        try:
            previous = int((self._saved_pid_file or b"0").strip() or b"0")
            if previous > 0 and Path(f"/proc/{previous}").exists() and not PID_FILE.exists():
                PID_FILE.parent.mkdir(parents=True, exist_ok=True)
                PID_FILE.write_bytes(self._saved_pid_file)
        except (OSError, ValueError):
            pass
        self._saved_pid_file = None
        if self._made_run_dir:
            # pcscd made /run/pcscd for us; leave /run as we found it (rmdir fails if anyone uses it).
            with contextlib.suppress(OSError):
                PID_FILE.parent.rmdir()
            self._made_run_dir = False
