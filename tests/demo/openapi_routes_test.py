#!/usr/bin/env python3
"""Each demo service's OpenAPI document lists exactly the routes it serves.

For every service: the document (demo/<name>/openapi.json) is valid JSON and
OpenAPI 3.0-shaped; its operations equal the routes the binary registers
(--list-routes); the running service serves the same document at
/openapi.json and an HTML page at /docs; and each documented operation,
sent to the running service, is matched by a route: the instrumentation
labels it with its template in http_server_request_duration_seconds (an
unrouted request gets no http_route label at all).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import unittest

import demo_service
from demo_service import request

ARGS = None
METHODS = {"get", "post", "put", "delete", "patch", "options", "head"}


def binary(name):
    return demo_service.binary(ARGS.bin, name)


class Service(demo_service.Service):
    """The service on a free loopback port, stopped (SIGTERM) on exit."""

    def __init__(self, name, env):
        super().__init__(binary(name), env)

    def stop(self):
        rc = super().stop()
        self.close()
        return rc


def instantiate(template):
    return re.sub(r"\{[^}]*\}", "1", template)


def served_routes(name):
    out = subprocess.run([binary(name), "--list-routes"], check=True, capture_output=True, text=True).stdout
    routes = set()
    for line in out.splitlines():
        method, path = line.split(" ", 1)
        routes.add((method.lower(), path))
    return routes


def documented_routes(doc):
    return {(m, path) for path, item in doc["paths"].items() for m in item if m in METHODS}


class OpenApiTest(unittest.TestCase):
    def check_service(self, name, env):
        with open(os.path.join(ARGS.source_dir, "demo", name, "openapi.json")) as f:
            text = f.read()
        doc = json.loads(text)
        self.assertTrue(doc["openapi"].startswith("3.0."), name)
        self.assertEqual(doc["info"]["title"], name)
        for path, item in doc["paths"].items():
            self.assertTrue(path.startswith("/"), path)
            for method, op in item.items():
                self.assertIn(method, METHODS, f"{name} {path}")
                self.assertTrue(op.get("summary"), f"{name} {method} {path} has no summary")
                self.assertTrue(op.get("responses"), f"{name} {method} {path} has no responses")
                for param in re.findall(r"\{([^}]*)\}", path):
                    names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "path"]
                    self.assertIn(param, names, f"{name} {method} {path}: path parameter {param} undocumented")
        # Every $ref resolves.
        for ref in re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', text):
            self.assertIn(ref, doc["components"]["schemas"], f"{name}: dangling $ref {ref}")

        documented = documented_routes(doc)
        served = served_routes(name)
        self.assertEqual(documented - served, set(), f"{name}: documented but not served")
        self.assertEqual(served - documented, set(), f"{name}: served but not documented")

        svc = Service(name, env)
        try:
            status, body, headers = request("GET", svc.url + "/openapi.json")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body), doc)
            status, body, headers = request("GET", svc.url + "/docs")
            self.assertEqual(status, 200)
            self.assertIn("text/html", headers.get("Content-Type", ""))
            for method, path in sorted(documented):
                self.assertIn(path.encode(), body, f"{name}: /docs does not show {path}")
            # Each documented operation reaches its route. Bodies are
            # deliberately minimal: a 4xx from the handler still proves the
            # route matched.
            for method, path in sorted(documented):
                if path == "/error":
                    continue  # answers 500 by design; checked below with the rest
                status, _, _ = request(method.upper(), svc.url + instantiate(path),
                                       body=b"{}" if method == "post" else None,
                                       headers={"Content-Type": "application/json"})
                # httplib answers an unrouted request 404: none of these may
                # (their ids exist, or the failing dependency answers 5xx).
                self.assertNotIn(status, (404, 405), f"{name} {method} {path}")
            status, _, _ = request("GET", svc.url + "/error")
            self.assertEqual(status, 500)
            _, metrics, _ = request("GET", svc.url + "/metrics")
            metrics = metrics.decode()
            labelled = set(re.findall(
                r'http_server_request_duration_seconds_count\{[^}]*http_request_method="([A-Z]+)"[^}]*'
                r'http_route="([^"]*)"', metrics))
            labelled |= {(m, r) for r, m in re.findall(
                r'http_server_request_duration_seconds_count\{[^}]*http_route="([^"]*)"[^}]*'
                r'http_request_method="([A-Z]+)"', metrics)}
            for method, path in documented:
                if path == "/metrics":
                    continue  # the scrape that reads the metrics is counted after it
                self.assertIn((method.upper(), path), labelled, f"{name}: {method} {path} was not routed")
            unrouted = [line for line in metrics.splitlines()
                        if line.startswith("http_server_request_duration_seconds_count") and "http_route=" not in line]
            self.assertEqual(unrouted, [], f"{name}: a documented request was unrouted")
        finally:
            self.assertEqual(svc.stop(), 0, f"{name} did not stop cleanly")

    def test_user_svc(self):
        self.check_service("user_svc", {"JOB_SVC_URL": "http://127.0.0.1:9"})

    def test_job_svc(self):
        # No database and no image_svc: its routes still answer (503/502).
        self.check_service("job_svc", {"DATABASE_URL": "postgresql://obs@127.0.0.1:9/none",
                                       "IMAGE_SVC_URL": "http://127.0.0.1:9"})

    def test_image_svc(self):
        self.check_service("image_svc", {})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--bin", action="append", default=[])
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
