#!/usr/bin/env python3
"""Structure check of the Grafana dashboards of the obs demo (ctest -L alerts).

usage: check_dashboard.py [--promtool PATH] [--provider dashboards.yaml] DASHBOARD.json...

Checks, for each dashboard:
- it is valid JSON with uid, title, a Grafana 11 schemaVersion and panels;
- panel ids are unique integers (rows' nested panels included), titles are
  unique and non-empty, every panel has a gridPos inside the 24-column grid;
- every query target names its datasource by uid (prometheus, loki or tempo,
  with the matching type), refIds are unique within a panel;
- every Prometheus target has an expr that uses only the known dashboard
  variables and metrics of docs' demo contract, rate windows use
  $__rate_interval, request-traffic queries leave out the admin routes, and
  latency (histogram_quantile) targets ask for exemplars;
- the template variables service, route and severity exist as specified;
- with --promtool, every Prometheus expr (variables substituted) parses:
  they are written as recording rules to a temporary file and checked with
  `promtool check rules` (promtool 2.42 has no standalone parse command).
With --provider, the Grafana provisioning file is checked too.
Exits 1 with one line per problem.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

DATASOURCES = {"prometheus", "loki", "tempo"}
ADMIN_EXCLUSION = 'http_route!~"/metrics|/health|/health/ready"'

# Metric names Prometheus sees from the demo services (docs: demo contract).
HISTOGRAMS = {
    "http_server_request_duration_seconds",
    "http_server_request_body_size_bytes",
    "http_server_response_body_size_bytes",
    "http_client_request_duration_seconds",
    "db_client_operation_duration_seconds",
    "image_svc_conversion_duration_seconds",
}
METRICS = {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")} | {
    "up",
    "http_server_active_requests",
    "db_client_operation_errors_total",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_threads",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
    "obs_exporter_dropped_total",
    "obs_exporter_failed_total",
    "obs_exporter_exported_total",
    "obs_metric_rejected_total",
    "obs_metric_series_overflow_total",
    "image_svc_conversion_input_bytes_total",
    "job_svc_jobs_total",
    "user_svc_job_requests_total",
}

# What the lead's live test substitutes; the same values are used here.
SUBSTITUTIONS = [
    ("$__rate_interval", "30s"),
    ("$__interval", "10s"),
    ("$__range", "5m"),
    ("$service", "user_svc|job_svc|image_svc"),
    ("$route", ".+"),
]
VARIABLES = {name for name, _ in SUBSTITUTIONS}

PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk",
    "quantile", "count_values", "group", "by", "without", "on", "ignoring",
    "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile",
    "clamp_min", "clamp_max", "abs", "vector", "scalar", "time", "label_replace",
    "sum_over_time", "avg_over_time", "max_over_time", "min_over_time", "absent",
    "le", "inf", "nan",
}


class Checker:
    def __init__(self):
        self.problems = []

    def fail(self, where, message):
        self.problems.append(f"{where}: {message}")


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []) or [])


def metric_names(expr):
    """Identifiers in an expr that are not PromQL keywords, labels or strings."""
    no_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    no_matchers = re.sub(r"\{[^{}]*\}", "{}", no_strings)
    no_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", r"\1()", no_matchers)
    no_ranges = re.sub(r"\[[^\]]*\]", "[]", no_groupings)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", no_ranges):
        word = m.group(0)
        if word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def check_prometheus_target(c, where, target):
    expr = target.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        c.fail(where, "Prometheus target without expr")
        return None
    for var in re.findall(r"\$\{?[A-Za-z_][A-Za-z0-9_]*", expr):
        name = var.replace("{", "")
        if name not in VARIABLES:
            c.fail(where, f"unknown variable {var} in {expr!r}")
    for window in re.findall(r"\[([^\]]*)\]", expr):
        if window != "$__rate_interval":
            c.fail(where, f"range [{window}] instead of [$__rate_interval] in {expr!r}")
    for name in metric_names(expr):
        if name not in METRICS:
            c.fail(where, f"metric {name!r} is not in the demo contract ({expr!r})")
    if "http_server_request_duration_seconds" in expr and ADMIN_EXCLUSION not in expr:
        c.fail(where, f"request traffic query does not exclude the admin routes: {expr!r}")
    if "http_server_request_duration_seconds" in expr and 'http_route=~"$route"' not in expr:
        c.fail(where, f"request traffic query ignores the route variable: {expr!r}")
    if "$service" not in expr:
        c.fail(where, f"query ignores the service variable: {expr!r}")
    if "histogram_quantile" in expr and target.get("exemplar") is not True:
        c.fail(where, 'latency target without "exemplar": true')
    return expr


def check_variables(c, dashboard):
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    for name in ("service", "route", "severity"):
        if name not in variables:
            c.fail("templating", f"variable {name!r} missing")
    for name, needle in (("service", "label_values(http_server_request_duration_seconds_count, job)"),
                         ("route", 'label_values(http_server_request_duration_seconds_count{job=~"$service"}, http_route)')):
        v = variables.get(name)
        if not v:
            continue
        query = v.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if query != needle:
            c.fail(f"variable {name}", f"query {query!r}, expected {needle!r}")
        if v.get("datasource", {}).get("uid") != "prometheus":
            c.fail(f"variable {name}", "datasource uid is not prometheus")
        if not (v.get("multi") and v.get("includeAll") and v.get("allValue") == ".+"):
            c.fail(f"variable {name}", 'must be multi, includeAll with allValue ".+"')
    sev = variables.get("severity")
    if sev and (sev.get("type") != "custom" or not sev.get("query")):
        c.fail("variable severity", "must be a custom variable with values")


def check_dashboard(c, path):
    try:
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
    except (OSError, ValueError) as e:
        c.fail(path, f"not valid JSON: {e}")
        return []
    name = os.path.basename(path)
    for key in ("uid", "title"):
        if not isinstance(dashboard.get(key), str) or not dashboard[key]:
            c.fail(name, f"missing {key}")
    schema = dashboard.get("schemaVersion")
    if not isinstance(schema, int) or schema < 39:
        c.fail(name, f"schemaVersion {schema!r}: Grafana 11 dashboards use 39 or later")
    if not isinstance(dashboard.get("panels"), list) or not dashboard["panels"]:
        c.fail(name, "no panels")
        return []
    check_variables(c, dashboard)

    ids, titles, exprs = set(), set(), []
    for panel in all_panels(dashboard["panels"]):
        title = panel.get("title")
        where = f"{name}: panel {title!r}"
        pid = panel.get("id")
        if not isinstance(pid, int) or pid in ids:
            c.fail(where, f"panel id {pid!r} missing or not unique")
        ids.add(pid)
        if not title or title in titles:
            c.fail(where, "panel title empty or not unique")
        titles.add(title)
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")) or grid["x"] + grid["w"] > 24:
            c.fail(where, f"bad gridPos {grid!r}")
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets")
        if not targets:
            c.fail(where, "no targets")
            continue
        ds = panel.get("datasource", {})
        if ds.get("uid") not in DATASOURCES:
            c.fail(where, f"panel datasource {ds!r} is not one of {sorted(DATASOURCES)}")
        refids = [t.get("refId") for t in targets]
        if len(set(refids)) != len(refids) or not all(refids):
            c.fail(where, f"refIds {refids!r} missing or not unique")
        for t in targets:
            tds = t.get("datasource", {})
            uid = tds.get("uid")
            if uid not in DATASOURCES or tds.get("type") != uid:
                c.fail(where, f"target {t.get('refId')}: datasource {tds!r} must be "
                       '{"type": X, "uid": X} with X one of prometheus, loki, tempo')
                continue
            if uid == "prometheus":
                expr = check_prometheus_target(c, f"{where} {t.get('refId')}", t)
                if expr:
                    exprs.append((title, t.get("refId"), expr))
            elif uid == "loki":
                expr = t.get("expr", "")
                if not re.match(r'^\{service_name=~"\$service"\}', expr):
                    c.fail(where, f'Loki query must select {{service_name=~"$service"}}: {expr!r}')
            elif uid == "tempo":
                if t.get("queryType") != "traceql" or "$service" not in t.get("query", ""):
                    c.fail(where, "Tempo target must be a TraceQL query on $service")
    return exprs


def check_parses(c, promtool, exprs):
    """promtool check rules on the exprs as recording rules: a parse check."""
    lines = ["groups:", "  - name: dashboard-exprs", "    rules:"]
    for i, (title, refid, expr) in enumerate(exprs):
        for var, value in SUBSTITUTIONS:
            expr = expr.replace(var, value)
        lines.append(f"      - record: dashboard_expr_{i}")
        lines.append(f"        expr: {json.dumps(expr)}")
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "dashboard-exprs.yml")
        with open(rules, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        run = subprocess.run([promtool, "check", "rules", rules], capture_output=True, text=True)
        if run.returncode != 0:
            output = run.stdout + run.stderr
            for i, (title, refid, expr) in enumerate(exprs):
                if f"\"dashboard_expr_{i}\"" in output:
                    c.fail(f"panel {title!r} {refid}", f"expr does not parse: {expr!r}")
            c.fail("promtool check rules", output.strip())


def check_provider(c, path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        c.fail(path, str(e))
        return
    try:
        import yaml  # Debian: python3-yaml; optional
    except ImportError:
        for needle in ("apiVersion: 1", "folder: obs", "path: /var/lib/grafana/dashboards"):
            if needle not in text:
                c.fail(path, f"{needle!r} missing")
        return
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        c.fail(path, f"not valid YAML: {e}")
        return
    providers = (doc or {}).get("providers") or []
    if doc.get("apiVersion") != 1 or len(providers) != 1:
        c.fail(path, "expected apiVersion 1 and one provider")
        return
    p = providers[0]
    if p.get("folder") != "obs" or p.get("type") != "file" or \
            (p.get("options") or {}).get("path") != "/var/lib/grafana/dashboards":
        c.fail(path, 'provider must be type file, folder "obs", options.path /var/lib/grafana/dashboards')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promtool", help="promtool, to check that every Prometheus expr parses")
    parser.add_argument("--provider", help="Grafana dashboard provisioning file to check")
    parser.add_argument("dashboards", nargs="+")
    args = parser.parse_args()

    c = Checker()
    exprs = []
    for path in args.dashboards:
        exprs += check_dashboard(c, path)
    if args.promtool and exprs:
        check_parses(c, args.promtool, exprs)
    if args.provider:
        check_provider(c, args.provider)
    if c.problems:
        for p in c.problems:
            print(p, file=sys.stderr)
        print(f"FAILED: {len(c.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"OK: {len(args.dashboards)} dashboard(s), {len(exprs)} Prometheus expressions"
          + (" (all parse)" if args.promtool else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
