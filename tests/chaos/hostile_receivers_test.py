#!/usr/bin/env python3
"""Chaos: hostile OTLP receivers (issue 17).

Two copies of the e2e service (a server span, a log record and a counter
per request, all three signals exported by OTLP/HTTP) run side by side
under the same paced load (soak_load), each with its own soak_receiver:
the baseline's stays healthy, the other's turns hostile phase by phase:

  huge       counts the export, then answers 200 with a 1 GiB body
  redirect   307 elsewhere
  cut        declares 1000 bytes, sends 10, closes
  trickle    a byte of answer every 500 ms
  blackhole  accepts connections and never reads them

then healthy again (recovery), and finally a blackhole while the service
is told to stop (SIGTERM), to check its shutdown deadline.

Passes when no request of the load fails, every span, log record and
metric data point is accounted for exactly (produced = received + dropped
+ failed, received = exported, none twice), the service's peak RSS stays
within its queue bounds over the baseline's (same load, same time), and the
shutdown takes at most its 5 s deadline plus 2 s. Latency (p99 against the
baseline in the same phase) is reported, not judged.

  hostile_receivers_test.py --service e2e_service --receiver soak_receiver --load soak_load
                            --item-bytes queued_item_bytes [--report FILE]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import chaos

ARGS = None
RATE = 400
CONNECTIONS = 4
QUEUE = 2048            # OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BLRP_MAX_QUEUE_SIZE
EXPORT_TIMEOUT_MS = 2000
SHUTDOWN_DEADLINE_S = 5  # the e2e service's sdk.shutdown(5 s)
HOSTILE = ["huge", "redirect", "cut", "trickle", "blackhole"]
PHASES = [("warm-up", 4, "healthy")] + [(s, 4, s) for s in HOSTILE] + [("recovery", 4, "healthy"),
                                                                        ("stuck", 3, "blackhole")]


class Run:
    def __init__(self, name, tmp):
        self.name, self.dir = name, os.path.join(tmp, name)
        os.makedirs(os.path.join(self.dir, "scrapes"))
        f = lambda n: os.path.join(self.dir, n)  # noqa: E731
        self.receiver = subprocess.Popen([ARGS.receiver, "--port-file", f("receiver.port"), "--control-port-file",
                                          f("control.port")], stdout=open(f("receiver.out"), "w"),
                                         stderr=subprocess.STDOUT)
        self.control = chaos.wait_port_file(f("control.port"), self.receiver, f"{name} receiver")
        data_port = chaos.wait_port_file(f("receiver.port"), self.receiver, f"{name} receiver")
        env = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{data_port}",
                   OTEL_TRACES_EXPORTER="otlp", OTEL_LOGS_EXPORTER="otlp", OTEL_METRICS_EXPORTER="otlp,prometheus",
                   OTEL_METRIC_EXPORT_INTERVAL="1000", OTEL_EXPORTER_OTLP_TIMEOUT=str(EXPORT_TIMEOUT_MS),
                   OTEL_BSP_MAX_QUEUE_SIZE=str(QUEUE), OTEL_BLRP_MAX_QUEUE_SIZE=str(QUEUE))
        self.service = subprocess.Popen([ARGS.service, "--obs", "--port-file", f("service.port"), "--admin-port-file",
                                         f("admin.port"), "--metrics-out", f("final.prom"), "--keep-alive-requests",
                                         "1000000000"], env=env, stderr=open(f("service.err"), "w"))
        self.port = chaos.wait_port_file(f("service.port"), self.service, f"{name} service")
        self.admin = chaos.wait_port_file(f("admin.port"), self.service, f"{name} service")

    def load(self, phases):
        f = lambda n: os.path.join(self.dir, n)  # noqa: E731
        args = [ARGS.load, "--url", f"http://127.0.0.1:{self.port}", "--rate", str(RATE), "--connections",
                str(CONNECTIONS), "--control", f"http://127.0.0.1:{self.control}", "--admin",
                f"http://127.0.0.1:{self.admin}", "--scrape-dir", f("scrapes"), "--pid", str(self.service.pid),
                "--rss-log", f("rss.log")]
        for name, seconds, state in phases:
            args += ["--phase", f"{name}:{seconds}:{state}"]
        self.loader = subprocess.Popen(args, stdout=open(f("load.out"), "w"), stderr=subprocess.STDOUT)

    def phases(self):
        """soak_load's lines, as dicts keyed by phase name."""
        out = {}
        for line in open(os.path.join(self.dir, "load.out")):
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            if "phase" in kv:
                out[kv["phase"]] = kv
        return out

    def stop_service(self):
        began = time.monotonic()
        self.service.send_signal(signal.SIGTERM)
        code = self.service.wait(timeout=60)
        return code, time.monotonic() - began

    def counts(self, phases):
        ranges = ",".join(f"{p['phase']}:{p['first']}:{p['end']}" for p in phases.values())
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control}/counts?ranges={ranges}", timeout=30) as r:
            return r.read().decode()

    def close(self):
        for proc in (getattr(self, "loader", None), self.service, self.receiver):
            chaos.stop(proc)


def prom_sum(path, name, *filters):
    total = 0.0
    for line in open(path):
        if (line.startswith(name + "{") or line.startswith(name + " ")) and all(f in line for f in filters):
            total += float(line.split()[-1])
    return total


def field(text, selector, key):
    for line in text.splitlines():
        parts = line.split()
        if selector in parts or (selector and line.startswith(selector)):
            for p in parts:
                if p.startswith(key + "="):
                    return p.split("=", 1)[1]
    raise AssertionError(f"no {key} in the line {selector!r} of {text!r}")


def main():
    failures, lines = [], []
    say = lines.append
    sizes = subprocess.run([ARGS.item_bytes], capture_output=True, text=True, check=True).stdout
    span_bytes = int(re.search(r"span_bytes=(\d+)", sizes).group(1))
    log_bytes = int(re.search(r"log_bytes=(\d+)", sizes).group(1))
    batch = min(QUEUE, 512)
    bound_kib = ((QUEUE + batch) * span_bytes + (QUEUE + batch) * log_bytes) // 1024

    with tempfile.TemporaryDirectory(prefix="obs-chaos-receivers-") as tmp:
        base, hostile = Run("baseline", tmp), Run("hostile", tmp)
        try:
            base.load([(n, s, "healthy") for n, s, _ in PHASES])
            hostile.load(PHASES)
            for run in (base, hostile):
                if run.loader.wait(timeout=120) != 0:
                    failures.append(f"the {run.name} load failed: {open(os.path.join(run.dir, 'load.out')).read()}")
            results = {}
            for run in (hostile, base):  # the hostile one stops while its receiver is a blackhole
                code, took = run.stop_service()
                if code != 0:
                    failures.append(f"the {run.name} service exited {code}")
                phases = run.phases()
                results[run.name] = (phases, run.counts(phases), took)

            hp, hc, htook = results["hostile"]
            bp, bc, btook = results["baseline"]
            say(f"Hostile OTLP receivers: {RATE} req/s paced on {CONNECTIONS} connections to each of two e2e services "
                f"side by side; export timeout {EXPORT_TIMEOUT_MS} ms, queues {QUEUE}.")
            say("p99 latency in us (from each request's due time), baseline | hostile, and their ratio; RSS peak MB;")
            say("what the hostile service's exporter counted in the phase (spans).")
            say(f"{'phase':10} {'receiver':9} {'reqs':>6} {'errors':>6} {'p99 base|hostile':>18} {'ratio':>6} "
                f"{'RSS peak MB':>12} {'failed':>7} {'dropped':>7}")
            prev = None
            warm_peak = int(hp["warm-up"]["rss_peak_kb"])
            worst_peak = 0
            for name, _, state in PHASES:
                h, b = hp[name], bp[name]
                cur = os.path.join(hostile.dir, "scrapes", f"{name}.prom")
                failed = prom_sum(cur, "obs_exporter_failed_total", 'signal="spans"')
                dropped = prom_sum(cur, "obs_exporter_dropped_total", 'signal="spans"')
                if prev:
                    failed -= prom_sum(prev, "obs_exporter_failed_total", 'signal="spans"')
                    dropped -= prom_sum(prev, "obs_exporter_dropped_total", 'signal="spans"')
                prev = cur
                ratio = int(h["p99_us"]) / max(1, int(b["p99_us"]))
                say(f"{name:10} {state:9} {h['requests']:>6} {h['errors']:>6} {b['p99_us'] + '|' + h['p99_us']:>18} "
                    f"{ratio:6.2f} {int(b['rss_peak_kb']) / 1024:5.1f}|{int(h['rss_peak_kb']) / 1024:<6.1f} "
                    f"{failed:7.0f} {dropped:7.0f}")
                if name != "warm-up":
                    worst_peak = max(worst_peak, int(h["rss_peak_kb"]))
                for run_name, p in (("baseline", b), ("hostile", h)):
                    if p["errors"] != "0":
                        failures.append(f"{run_name}: {p['errors']} requests failed in {name}")
            base_peak = max(int(p["rss_peak_kb"]) for p in bp.values())
            grown = worst_peak - base_peak
            say(f"RSS: hostile peak {worst_peak / 1024:.1f} MB (warm-up {warm_peak / 1024:.1f} MB), baseline peak "
                f"{base_peak / 1024:.1f} MB: {grown / 1024:+.1f} MB; full exporter queues and the batches being retried "
                f"may hold {bound_kib / 1024:.1f} MB ({span_bytes} B a span, {log_bytes} B a record).")
            if grown > bound_kib:
                failures.append(f"the hostile service's RSS peaked {grown} KiB over the baseline's, more than the "
                                f"queues' {bound_kib} KiB")
            say(f"Shutdown on SIGTERM with the receiver a blackhole: {htook:.2f} s (deadline {SHUTDOWN_DEADLINE_S} s); "
                f"baseline {btook:.2f} s.")
            if htook > SHUTDOWN_DEADLINE_S + 2:
                failures.append(f"the hostile service took {htook:.2f} s to stop")

            say(f"{'run':9} {'signal':8} {'produced':>9} {'received':>9} {'dropped':>8} {'failed':>8} {'exported':>9}  balance")
            for run, counts in ((base, bc), (hostile, hc)):
                final = os.path.join(run.dir, "final.prom")
                for sig, produced_metric, counted in (("spans", "http_server_request_duration_seconds_count", "spans"),
                                                      ("logs", "e2e_items_served_total", "logs"),
                                                      ("metrics", None, "metric_points")):
                    received = int(field(counts, counted, "received"))
                    dropped = int(prom_sum(final, "obs_exporter_dropped_total", f'signal="{sig}"'))
                    failed = int(prom_sum(final, "obs_exporter_failed_total", f'signal="{sig}"', 'backend="otlp"'))
                    exported = int(prom_sum(final, "obs_exporter_exported_total", f'signal="{sig}"', 'backend="otlp"'))
                    if produced_metric:
                        produced = int(prom_sum(final, produced_metric))
                        exact = produced == received + dropped + failed and received == exported
                    else:  # data points are made by the exporter: the receiver must have what it says it exported
                        produced = exported + failed + dropped
                        exact = received == exported
                    say(f"{run.name:9} {sig:8} {produced:9} {received:9} {dropped:8} {failed:8} {exported:9}  "
                        f"{'exact' if exact else 'WRONG'}")
                    if not exact:
                        failures.append(f"{run.name} {sig}: produced {produced}, received {received}, dropped {dropped}, "
                                        f"failed {failed}, exported {exported}")
                for sig in ("spans", "logs"):
                    dup = int(field(counts, sig, "duplicates"))
                    if dup:
                        failures.append(f"{run.name}: {dup} {sig} arrived twice")
        finally:
            base.close()
            hostile.close()
            if failures or sys.exc_info()[0]:
                print("\n".join(failures))
                for run in (base, hostile):
                    sys.stderr.write(f"--- {run.name} load ---\n{open(os.path.join(run.dir, 'load.out')).read()[-2000:]}\n")
                    sys.stderr.write(f"--- {run.name} receiver ---\n{open(os.path.join(run.dir, 'receiver.out')).read()[-2000:]}\n")
                    err = open(os.path.join(run.dir, "service.err")).read()
                    sys.stderr.write(f"--- {run.name} service stderr (last 3000 bytes) ---\n{err[-3000:]}\n")

    return chaos.conclude("\n".join(lines), failures, ARGS.report)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for a in ("--service", "--receiver", "--load", "--item-bytes"):
        parser.add_argument(a, required=True)
    parser.add_argument("--report")
    ARGS = parser.parse_args()
    sys.exit(main())
