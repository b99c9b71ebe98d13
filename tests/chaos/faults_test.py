#!/usr/bin/env python3
"""Chaos: the demo's dependencies fail under load (issue 17).

user_svc -> job_svc -> (PostgreSQL, image_svc), all real, on loopback.
A client keeps asking user_svc for jobs (POST /users/{id}/jobs, 10 a
second) while, in turn:
  - PostgreSQL is killed (SIGKILL), then restarted on its port and data;
  - image_svc is stopped, then started again on its port;
  - job_svc is stopped, then started again on its port.
Passes when the dependent's /health/ready turns 503 during each outage and
200 after it, every request of the load is answered (none queued without
bound: each within 15 s, a failure answered 5xx), jobs succeed again after
each recovery, and each service exits 0 at the end. RSS is reported.

  faults_test.py --bin user_svc --bin job_svc --bin image_svc [--report FILE]
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import chaos
from chaos import demo_service

ARGS = None
REQUEST_LIMIT_S = 15


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """Debian's PostgreSQL in a temp dir (as nobody when run as root)."""

    def __init__(self):
        bins = sorted(d for d in glob.glob("/usr/lib/postgresql/*/bin") if os.path.exists(f"{d}/initdb"))
        if not bins:
            raise AssertionError("PostgreSQL not found: install Debian's package postgresql")
        self.bin = bins[-1]
        self.dir = tempfile.mkdtemp(prefix="obs-chaos-pg-", dir="/tmp")
        self.as_user = []
        if os.geteuid() == 0:
            os.chown(self.dir, 65534, 65534)
            self.as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        subprocess.run(self.as_user + [f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-U", "obs", "-A", "trust",
                                       "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        self.port = free_port()
        self.start()
        subprocess.run([f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "obs", "obs_demo"],
                       check=True, capture_output=True)

    def start(self):
        # After a SIGKILL its old backends may hold the shared memory a moment: retry.
        for _ in range(50):
            self.proc = subprocess.Popen(self.as_user + [f"{self.bin}/postgres", "-D", f"{self.dir}/data", "-p",
                                                         str(self.port), "-k", self.dir, "-c", "listen_addresses=127.0.0.1",
                                                         "-c", "fsync=off"], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            for _ in range(100):
                if subprocess.run([f"{self.bin}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode == 0:
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            time.sleep(0.2)
        raise AssertionError("PostgreSQL did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


class Load:
    """POST /users/{id}/jobs on user_svc every 100 ms, each on a fresh
    connection with a 30 s limit; the answers by phase."""

    def __init__(self, url, user_id):
        self.url, self.user_id, self.phase = url, user_id, "start"
        self.answers = []  # (phase, status, seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        body = json.dumps({"width": 32, "height": 32, "source_width": 64, "source_height": 64}).encode()
        while not self._stop.is_set():
            phase, began = self.phase, time.monotonic()
            try:
                status, _, _ = demo_service.request("POST", f"{self.url}/users/{self.user_id}/jobs", body=body,
                                                    headers={"Content-Type": "application/json"}, timeout=30)
            except OSError:
                status = 0
            self.answers.append((phase, status, time.monotonic() - began))
            self._stop.wait(0.1)

    def stop(self):
        self._stop.set()
        self._thread.join()


def ready_status(svc):
    try:
        status, _, _ = demo_service.request("GET", svc.url + "/health/ready", timeout=10)
        return status
    except OSError:
        return 0


def wait_ready(svc, want, limit_s=30):
    """Seconds until svc's /health/ready answers `want` (None: not within the limit)."""
    began = time.monotonic()
    while time.monotonic() - began < limit_s:
        if ready_status(svc) == want:
            return time.monotonic() - began
        time.sleep(0.1)
    return None


def wait_job_succeeds(load, phase, limit_s=30):
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if any(p == phase and 200 <= st < 300 for p, st, _ in load.answers):
            return True
        time.sleep(0.1)
    return False


def main():
    failures, rows = [], []
    pg = Postgres()
    services = {}
    try:
        def start(name, env):
            services[name] = demo_service.Service(demo_service.binary(ARGS.bin, name), env)
            return services[name]

        image = start("image_svc", {})
        job_env = {"DATABASE_URL": f"postgresql://obs@127.0.0.1:{pg.port}/obs_demo", "IMAGE_SVC_URL": image.url}
        job = start("job_svc", job_env)
        user = start("user_svc", {"JOB_SVC_URL": job.url})
        for svc in (job, user):
            if wait_ready(svc, 200) is None:
                raise AssertionError(f"{svc.name} never became ready: {svc.stderr()[-2000:]}")
        status, body, _ = demo_service.request("POST", user.url + "/users",
                                               body=b'{"name":"ada","email":"ada@example.org"}',
                                               headers={"Content-Type": "application/json"})
        assert status == 201, body
        load = Load(user.url, json.loads(body)["id"])
        if not wait_job_succeeds(load, "start"):
            raise AssertionError("no job succeeded before the faults")

        def outage(name, dependent, stop, restart):
            rss_before = {n: chaos.rss_kib(s.proc.pid) for n, s in services.items() if s.proc.poll() is None}
            load.phase = f"{name} down"
            stop()
            to_503 = wait_ready(dependent, 503)
            time.sleep(2)  # the load keeps coming during the outage
            peak = {n: chaos.rss_kib(s.proc.pid) for n, s in services.items() if s.proc.poll() is None}
            load.phase = f"{name} back"
            restart()
            to_200 = wait_ready(dependent, 200)
            recovered = wait_job_succeeds(load, load.phase)
            problems = []
            if to_503 is None:
                problems.append(f"{dependent.name}'s /health/ready did not turn 503 with {name} down")
            if to_200 is None:
                problems.append(f"{dependent.name}'s /health/ready did not turn 200 again")
            if not recovered:
                problems.append(f"no job succeeded after {name} came back")
            during = [st for p, st, _ in load.answers if p == f"{name} down"]
            rss = ", ".join(f"{n} {rss_before[n] // 1024}->" + (f"{peak[n] // 1024}" if n in peak else "stopped")
                            for n in rss_before)
            rows.append((f"{name} stopped", dependent.name, f"{to_503:.1f}" if to_503 is not None else "never",
                         f"{to_200:.1f}" if to_200 is not None else "never", len(during),
                         sum(1 for st in during if st >= 500), rss, "ok" if not problems else "FAIL"))
            failures.extend(problems)

        def restart_service(name, env):
            old = services[name]
            port = old.port
            old.close()
            services[name] = demo_service.Service(demo_service.binary(ARGS.bin, name), dict(env, PORT=str(port)))

        outage("PostgreSQL (SIGKILL)", job, pg.kill, pg.start)
        outage("image_svc", job, lambda: services["image_svc"].stop(), lambda: restart_service("image_svc", {}))
        outage("job_svc", user, lambda: services["job_svc"].stop(), lambda: restart_service("job_svc", job_env))
        load.stop()

        slow = [(p, st, round(t, 1)) for p, st, t in load.answers if t > REQUEST_LIMIT_S]
        if slow:
            failures.append(f"{len(slow)} requests took over {REQUEST_LIMIT_S} s, e.g. {slow[:3]}")
        unanswered = [(p, st) for p, st, _ in load.answers if st == 0]
        if unanswered:
            failures.append(f"{len(unanswered)} requests got no answer, e.g. {unanswered[:3]}")
        worst = max(t for _, _, t in load.answers)
        for name in ("user_svc", "job_svc", "image_svc"):
            code = services[name].stop()
            if code != 0:
                failures.append(f"{name} exited {code}")
    finally:
        for svc in services.values():
            if failures:
                sys.stderr.write(f"--- {svc.name} stderr (last 1500 bytes) ---\n{svc.stderr()[-1500:]}\n")
            svc.close()
        pg.close()

    header = ("fault", "readiness of", "503 after s", "200 again after s", "requests meanwhile", "answered 5xx",
              "RSS MiB before->during", "result")
    text = chaos.table(header, rows)
    text += f"\n{len(load.answers)} job requests in all, the slowest answered in {worst:.2f} s."
    return chaos.conclude(text, failures, ARGS.report)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", action="append", default=[])
    parser.add_argument("--report")
    ARGS = parser.parse_args()
    sys.exit(main())
