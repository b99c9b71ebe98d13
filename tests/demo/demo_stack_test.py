#!/usr/bin/env python3
"""The native demo stack, end to end, and the PromQL of the dashboards and alerts.

Runs scripts/demo.sh (with the built binaries, nothing installed or built)
for a short load with --keep-running, then, against the real Prometheus it
started:
  - every PromQL expression in dashboards/*.json and monitoring/alerts.yml
    is accepted by Prometheus;
  - every dashboard panel that shows traffic returns data;
  - every metric an alert reads exists, so a typo cannot hide an alert;
and checks the demo's own report (a summary row per service, a trace
through all three services with its log lines). Finally Ctrl-C (SIGINT):
the demo exits 0 and no process it started is left.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

ARGS = None

# Panels that are empty in a healthy run: they show failures or backlogs
# that the demo's load does not cause (each was checked to be a valid query).
MAY_BE_EMPTY = {
}

# What Grafana puts in place of its variables, as the dashboard's "All".
SUBSTITUTIONS = [
    ("$__rate_interval", "30s"), ("${__rate_interval}", "30s"),
    ("$__interval", "10s"), ("${__interval}", "10s"),
    ("$__range", "5m"), ("${__range}", "5m"),
]
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
# Metric names an alert may read that need not exist yet (zero-valued
# series appear with the first event they count).
OPTIONAL_METRICS = {
    "obs_exporter_dropped_total", "db_client_operation_errors_total", "ALERTS",
}
PROMQL_WORDS = {
    "sum", "rate", "irate", "increase", "histogram_quantile", "by", "without", "on", "ignoring", "group_left",
    "group_right", "and", "or", "unless", "max", "min", "avg", "count", "topk", "bottomk", "quantile", "stddev",
    "abs", "clamp_min", "clamp_max", "vector", "scalar", "time", "label_replace", "max_over_time",
    "min_over_time", "avg_over_time", "absent", "le", "bool", "offset", "delta", "deriv", "round", "sort",
    "sort_desc", "count_over_time", "sum_over_time", "last_over_time", "changes", "resets", "group",
}


class Demo:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="obs-demo-test-")
        bin_dir = os.path.join(self.dir, "bin")
        os.mkdir(bin_dir)
        for path in ARGS.bin:
            os.symlink(os.path.abspath(path), os.path.join(bin_dir, os.path.basename(path)))
        self.state_file = os.path.join(self.dir, "state")
        self.out_path = os.path.join(self.dir, "demo.out")
        self.out = open(self.out_path, "w")
        env = dict(os.environ, OBS_DEMO_BIN_DIR=bin_dir, TMPDIR=self.dir)
        env.pop("DEMO_PROMETHEUS_PORT", None)
        self.proc = subprocess.Popen(
            ["bash", os.path.join(ARGS.source_dir, "scripts", "demo.sh"), "--duration", str(ARGS.duration),
             "--rate", "25", "--keep-running", "--state-file", self.state_file],
            cwd=ARGS.source_dir, env=env, stdout=self.out, stderr=subprocess.STDOUT)

    def output(self):
        with open(self.out_path) as f:
            return f.read()

    def state(self):
        values = {}
        if os.path.exists(self.state_file):
            with open(self.state_file) as f:
                for line in f:
                    key, _, value = line.strip().partition("=")
                    values[key] = value.strip('"')
        return values

    def wait_reported(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.state().get("DEMO_REPORTED") == "1":
                return self.state()
            if self.proc.poll() is not None:
                raise AssertionError(f"demo.sh exited ({self.proc.returncode}) early:\n{self.output()[-5000:]}")
            time.sleep(0.5)
        raise AssertionError(f"no report within {seconds} s:\n{self.output()[-5000:]}")


def query(prom, expr):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=30) as res:
            return json.load(res)
    except urllib.error.HTTPError as e:
        return json.load(e)


def substitute(expr, variables):
    for old, new in SUBSTITUTIONS:
        expr = expr.replace(old, new)
    return VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), expr)


def dashboard_targets():
    """(dashboard, panel title, expr) for every Prometheus target, nested rows included."""
    found = []
    for name in sorted(os.listdir(os.path.join(ARGS.source_dir, "dashboards"))):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(ARGS.source_dir, "dashboards", name)) as f:
            dash = json.load(f)

        def walk(panels):
            for panel in panels:
                walk(panel.get("panels", []))
                panel_ds = (panel.get("datasource") or {}).get("uid") if isinstance(panel.get("datasource"), dict) else None
                for target in panel.get("targets", []):
                    ds = target.get("datasource")
                    uid = ds.get("uid") if isinstance(ds, dict) else panel_ds
                    if uid == "prometheus" and target.get("expr"):
                        found.append((name, panel.get("title", "?"), target["expr"]))
        walk(dash.get("panels", []))
    return found


def alert_rules():
    with open(os.path.join(ARGS.source_dir, "monitoring", "alerts.yml")) as f:
        doc = yaml.safe_load(f)
    return [(rule.get("alert") or rule.get("record"), rule["expr"])
            for group in doc["groups"] for rule in group["rules"]]


def metric_names(expr):
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    without_grouping = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", without_ranges)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_grouping))
    return {n for n in names if n not in PROMQL_WORDS and not re.fullmatch(r"\d.*|e\d+", n)}


class DemoStackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.demo = Demo()
        # Runs even when setUpClass fails (tearDownClass would not): a
        # --keep-running demo must never outlive the test.
        cls.addClassCleanup(cls.stop_demo)
        cls.state = cls.demo.wait_reported(ARGS.timeout)
        cls.prom = cls.state["PROMETHEUS_URL"]
        cls.variables = {"service": "user_svc|job_svc|image_svc", "route": ".+", "job": "user_svc|job_svc|image_svc",
                         "instance": ".+", "severity": ".+"}

    @classmethod
    def stop_demo(cls):
        demo = cls.demo
        if demo.proc.poll() is None:
            demo.proc.send_signal(signal.SIGINT)
            try:
                demo.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.proc.kill()
        demo.out.close()
        shutil.rmtree(demo.dir, ignore_errors=True)

    def test_1_report(self):
        out = self.demo.output()
        for name in ("user_svc", "job_svc", "image_svc"):
            self.assertRegex(out, rf"(?m)^\s*{name}\s+\d", f"no summary row for {name}")
        self.assertIn("POST /users/{id}/jobs", out)
        self.assertIn("ConvertImage", out)
        self.assertIn("INSERT jobs", out)
        self.assertIn("Job done", out, "the trace's log lines are missing")

    def test_2_dashboard_queries(self):
        targets = dashboard_targets()
        self.assertGreater(len(targets), 10)
        empty = []
        for dash, title, expr in targets:
            promql = substitute(expr, self.variables)
            answer = query(self.prom, promql)
            self.assertEqual(answer.get("status"), "success", f"{dash} / {title}: {promql}: {answer.get('error')}")
            if not answer["data"]["result"] and title not in MAY_BE_EMPTY:
                empty.append(f"{dash} / {title}: {promql}")
        self.assertEqual(empty, [], "panels without data after the demo's load")

    def test_3_alert_queries(self):
        rules = alert_rules()
        self.assertGreaterEqual(len(rules), 6)
        for name, expr in rules:
            answer = query(self.prom, expr)
            self.assertEqual(answer.get("status"), "success", f"{name}: {answer.get('error')}")
            for metric in metric_names(expr) - OPTIONAL_METRICS:
                series = query(self.prom, f"count({metric})")
                self.assertTrue(series["data"]["result"], f"alert {name} reads {metric}, which no service exports")
        # Prometheus loaded the same rules (and evaluates them).
        with urllib.request.urlopen(self.prom + "/api/v1/rules", timeout=30) as res:
            loaded = {r["name"] for g in json.load(res)["data"]["groups"] for r in g["rules"]}
        self.assertEqual(loaded, {name for name, _ in rules})

    def test_4_exemplars(self):
        # The latency histograms carry trace ids (the link Grafana follows to Tempo).
        url = self.prom + "/api/v1/query_exemplars?" + urllib.parse.urlencode({
            "query": "http_server_request_duration_seconds_bucket", "start": time.time() - 600, "end": time.time()})
        with urllib.request.urlopen(url, timeout=30) as res:
            data = json.load(res)["data"]
        trace_ids = {e["labels"].get("trace_id") for s in data for e in s["exemplars"]}
        self.assertTrue(any(t and re.fullmatch(r"[0-9a-f]{32}", t) for t in trace_ids), data[:1])

    def test_5_ctrl_c_stops_everything(self):
        # Runs last (unittest orders tests by name): it stops the stack.
        pids = [int(p) for p in self.state["DEMO_PIDS"].split()]
        tmp = self.state["DEMO_TMP"]
        self.assertTrue(all(alive(p) for p in pids), "a process of the stack died during the test")
        # Everything the demo started, recorded or not: its descendants.
        family = descendants(self.demo.proc.pid)
        self.assertTrue(set(pids) <= family, (pids, family))
        self.demo.proc.send_signal(signal.SIGINT)
        self.assertEqual(self.demo.proc.wait(timeout=60), 0, self.demo.output()[-3000:])
        left = sorted(p for p in family if alive(p))
        self.assertEqual(left, [], "processes left after Ctrl-C")
        self.assertFalse(os.path.exists(tmp), "the demo's temporary directory was not removed")


def descendants(root):
    """The pids of every live process below `root`, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(") ", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes (its parent has not reaped it yet).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--bin", action="append", default=[])
    parser.add_argument("--duration", type=int, default=40)
    parser.add_argument("--timeout", type=int, default=240)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
