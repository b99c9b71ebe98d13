"""A demo service binary run by a test: on a free loopback port (or a given
one), its stderr kept, stopped with a signal. Shared by the demo's Python
tests."""
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def binary(bins, name):
    for path in bins:
        if os.path.basename(path) == name:
            return path
    raise AssertionError(f"no --bin for {name}")


def request(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read(), dict(res.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def read(path):
    with open(path) as f:
        return f.read()


class Service:
    """The service on a free loopback port (PORT=0 unless `env` says), its
    telemetry exporters off."""

    def __init__(self, path, env, wait=True):
        self.name = os.path.basename(path)
        self.dir = tempfile.TemporaryDirectory(prefix=f"obs-test-{self.name}-")
        self.port_file = os.path.join(self.dir.name, "port")
        full_env = dict(os.environ, PORT="0", LISTEN_ADDRESS="127.0.0.1", OTEL_TRACES_EXPORTER="none",
                        OTEL_LOGS_EXPORTER="none")
        full_env.update(env)
        self.err = open(os.path.join(self.dir.name, "stderr"), "w+")
        self.proc = subprocess.Popen([path, "--port-file", self.port_file], env=full_env,
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        self.url = None
        if wait:
            self.wait_listening()

    def wait_listening(self):
        deadline = time.monotonic() + 20
        while not (os.path.exists(self.port_file) and read(self.port_file).strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not start: {self.stderr()}")
            time.sleep(0.05)
        self.port = int(read(self.port_file).strip())
        self.url = f"http://127.0.0.1:{self.port}"

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig`, waits for the exit; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        self.dir.cleanup()
