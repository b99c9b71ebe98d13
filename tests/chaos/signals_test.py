#!/usr/bin/env python3
"""Chaos: SIGTERM and SIGHUP under load (issue 17).

The e2e service (a server span and a log record per request, exported by
OTLP/HTTP to a healthy soak_receiver) takes a paced load; halfway through,
it gets the signal. Passes when it exits 0 within its shutdown deadline
(5 s, plus 2 s), and every request that was answered 200 has its span and
its log record at the receiver, each exactly once (the receiver keeps which
request numbers it got; the load keeps which requests were answered).

  signals_test.py --service e2e_service --receiver soak_receiver --load soak_load [--report FILE]
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import chaos

ARGS = None
RATE, CONNECTIONS, SECONDS = 400, 4, 5
DEADLINE_S = 5


def one(sig, tmp):
    d = os.path.join(tmp, sig.name)
    os.makedirs(d)
    f = lambda n: os.path.join(d, n)  # noqa: E731
    procs = []
    try:
        receiver = subprocess.Popen([ARGS.receiver, "--port-file", f("receiver.port"), "--control-port-file",
                                     f("control.port")], stdout=subprocess.DEVNULL, stderr=open(f("receiver.err"), "w"))
        procs.append(receiver)
        control = chaos.wait_port_file(f("control.port"), receiver, "the receiver")
        data = chaos.wait_port_file(f("receiver.port"), receiver, "the receiver")
        env = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{data}", OTEL_TRACES_EXPORTER="otlp",
                   OTEL_LOGS_EXPORTER="otlp", OTEL_METRICS_EXPORTER="none")
        service = subprocess.Popen([ARGS.service, "--obs", "--port-file", f("service.port"), "--keep-alive-requests",
                                    "1000000000"], env=env, stderr=open(f("service.err"), "w"))
        procs.append(service)
        port = chaos.wait_port_file(f("service.port"), service, "the service")
        load = subprocess.Popen([ARGS.load, "--url", f"http://127.0.0.1:{port}", "--rate", str(RATE), "--connections",
                                 str(CONNECTIONS), "--phase", f"run:{SECONDS}:healthy", "--latency-log", f("latency.log")],
                                stdout=open(f("load.out"), "w"), stderr=subprocess.STDOUT)
        procs.append(load)
        time.sleep(SECONDS / 2)  # the load's pace: halfway through it, the signal comes
        began = time.monotonic()
        service.send_signal(sig)
        code = service.wait(timeout=60)
        took = time.monotonic() - began
        load.wait(timeout=60)

        answered, total = [], 0
        for line in open(f("latency.log")):
            n, _, latency, _ = line.split()
            total += 1
            if latency != "-1":
                answered.append(int(n))
        seen = {}
        for what in ("spans", "logs"):
            with urllib.request.urlopen(f"http://127.0.0.1:{control}/seen/{what}?first=0&end={total}", timeout=30) as r:
                seen[what] = r.read().decode()
        problems = []
        if code != 0:
            problems.append(f"exit status {code}")
        if took > DEADLINE_S + 2:
            problems.append(f"took {took:.2f} s to stop")
        if not answered:
            problems.append("no request was answered")
        for what in ("spans", "logs"):
            missing = [n for n in answered if seen[what][n] == "0"]
            twice = [n for n, c in enumerate(seen[what]) if c not in "01"]
            if missing:
                problems.append(f"{len(missing)} answered requests have no {what[:-1]}, e.g. {missing[:5]}")
            if twice:
                problems.append(f"{len(twice)} {what} arrived more than once, e.g. {twice[:5]}")
        delivered = {w: seen[w].count("1") for w in seen}
        row = (sig.name, f"{took:.2f}", total, len(answered), delivered["spans"], delivered["logs"],
               "ok" if not problems else "FAIL")
        if problems:
            sys.stderr.write(f"--- service stderr ---\n{open(f('service.err')).read()[-3000:]}\n")
        return row, [f"{sig.name}: {p}" for p in problems]
    finally:
        for p in reversed(procs):
            chaos.stop(p)


def main():
    rows, failures = [], []
    with tempfile.TemporaryDirectory(prefix="obs-chaos-signals-") as tmp:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            row, problems = one(sig, tmp)
            rows.append(row)
            failures += problems
    header = ("signal", "exit s", "requests sent", "answered 200", "spans delivered", "logs delivered", "result")
    text = f"{RATE} req/s on {CONNECTIONS} connections for {SECONDS} s; the signal at {SECONDS / 2:.1f} s.\n"
    return chaos.conclude(text + chaos.table(header, rows), failures, ARGS.report)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for a in ("--service", "--receiver", "--load"):
        parser.add_argument(a, required=True)
    parser.add_argument("--report")
    ARGS = parser.parse_args()
    sys.exit(main())
