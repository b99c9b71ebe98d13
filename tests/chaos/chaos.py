"""What the chaos cases share: a process's RSS, a prober that asks a
service's /health every 50 ms while an attack runs, and raw sockets."""
import http.client
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo"))
import demo_service  # noqa: E402  (the demo tests' service runner)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def settled_rss_kib(pid, target_kib, limit_s=15):
    """RSS once it is at or under `target_kib`, or its last value after
    `limit_s` (a failure bound: freed memory goes back within a second or
    two)."""
    end = time.monotonic() + limit_s
    rss = rss_kib(pid)
    while rss > target_kib and time.monotonic() < end:
        time.sleep(0.2)
        rss = rss_kib(pid)
    return rss


def _probe(port, path, stop, results):
    worst, count, failures = 0.0, 0, []
    while not stop.is_set():
        began = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            res = conn.getresponse()
            res.read()
            conn.close()
            if res.status != 200:
                failures.append(f"status {res.status}")
        except OSError as e:
            failures.append(repr(e))
        worst = max(worst, time.monotonic() - began)
        count += 1
        stop.wait(0.05)
    results.put((worst, count, failures))


class Prober:
    """GET /health on `port` every 50 ms on fresh connections, from start()
    to stop(): the slowest answer and the failures. In a process of its
    own, so that the attack's Python (and its global lock) cannot delay a
    probe."""

    def __init__(self, port, path="/health"):
        self.worst_s, self.count, self.failures = 0.0, 0, []
        self._stop = multiprocessing.Event()
        self._results = multiprocessing.Queue()
        self._proc = multiprocessing.Process(target=_probe, args=(port, path, self._stop, self._results), daemon=True)

    def start(self):
        self._proc.start()
        return self

    def stop(self):
        self._stop.set()
        self.worst_s, self.count, self.failures = self._results.get(timeout=30)
        self._proc.join()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def status_of(sock, limit_s=10):
    """The status code of the answer on `sock` (0: closed without one)."""
    sock.settimeout(limit_s)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def trickle(port, requests, seconds, interval_s=0.3):
    """Opens one connection per (prefix, slow) in `requests`, sends each its
    prefix at once and then its slow part a byte every `interval_s`, for
    `seconds` (never finishing a request). Returns how many connections
    the server closed meanwhile."""
    socks = []
    for prefix, _ in requests:
        try:
            s = connect(port)
            s.sendall(prefix)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            socks.append(None)
    closed = 0
    sent = [0] * len(socks)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for i, s in enumerate(socks):
            if s is None:
                continue
            slow = requests[i][1]
            try:
                s.send(slow[sent[i]:sent[i] + 1])
                sent[i] = min(sent[i] + 1, len(slow) - 1)
            except OSError:
                s.close()
                socks[i] = None
                closed += 1
        time.sleep(interval_s)
    for s in socks:
        if s:
            s.close()
    return closed


class PeakRss:
    """The highest RSS of `pid`, sampled every 50 ms from start() to stop()."""

    def __init__(self, pid):
        self.pid, self.peak_kib = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self.pid))
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join()


def wait_port_file(path, proc, what, limit_s=20):
    """The port written to `path` once `proc` has started."""
    end = time.monotonic() + limit_s
    while not (os.path.exists(path) and open(path).read().strip()):
        if proc.poll() is not None or time.monotonic() > end:
            raise AssertionError(f"{what} did not start")
        time.sleep(0.02)
    return int(open(path).read().strip())


def stop(proc):
    """SIGTERM, then SIGKILL if it has not exited 20 s later."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def table(header, rows):
    """`rows` under `header`, in aligned columns."""
    cells = [header] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)) for r in cells)


def conclude(text, failures, report):
    """Prints `text` (and writes it to `report`, when given), then the
    failures; the exit status."""
    print(text)
    if report:
        with open(report, "w") as f:
            f.write(text + "\n")
    if failures:
        print("FAILED:\n" + "\n".join(failures))
        return 1
    return 0
