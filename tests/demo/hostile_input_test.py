#!/usr/bin/env python3
"""The demo services against what an attacker or a careless operator sends
them: deep and huge JSON bodies, a second instance on a taken port, SIGHUP,
and a stranger asking /health/ready how the system is built."""
import argparse
import json
import signal
import sys
import unittest

import demo_service
from demo_service import request

ARGS = None
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port


def user_svc(env=None, wait=True):
    return demo_service.Service(demo_service.binary(ARGS.bin, "user_svc"),
                                dict({"JOB_SVC_URL": UNREACHABLE}, **(env or {})), wait=wait)


def post_json(url, body):
    return request("POST", url, body=body, headers={"Content-Type": "application/json"})


class HostileInputTest(unittest.TestCase):
    def setUp(self):
        self.svc = user_svc()

    def tearDown(self):
        self.svc.close()

    def alive(self):
        status, body, _ = request("GET", self.svc.url + "/health")
        self.assertEqual(status, 200, body)

    def test_deeply_nested_json_is_refused_and_the_service_lives(self):
        deep = b"[" * 30000 + b"]" * 30000  # within the size limit: refused for its depth
        for path in ("/users", "/users/1/jobs"):
            if path == "/users/1/jobs":  # the route looks the user up first
                status, _, _ = post_json(self.svc.url + "/users", b'{"name":"ada","email":"ada@example.org"}')
                self.assertEqual(status, 201)
            status, body, _ = post_json(self.svc.url + path, deep)
            self.assertEqual(status, 400, body)
            self.assertIn("deeper than 32 levels", json.loads(body)["error"])
            self.alive()
        # The body that once overflowed the stack (85 000 deep) is also over the size limit.
        status, body, _ = post_json(self.svc.url + "/users", b"[" * 85000 + b"]" * 85000)
        self.assertEqual(status, 413, body)
        self.alive()
        # Nesting inside a string is text, not nesting.
        status, body, _ = post_json(self.svc.url + "/users",
                                    json.dumps({"name": "[" * 100, "email": "x@example.org"}).encode())
        self.assertEqual(status, 201, body)

    def test_an_oversized_json_body_is_refused(self):
        status, body, _ = post_json(self.svc.url + "/users", b'{"name":"' + b"x" * (70 * 1024) + b'"}')
        self.assertEqual(status, 413, body)
        self.assertIn("at most 65536", json.loads(body)["error"])
        status, body, _ = post_json(self.svc.url + "/users", b"{not json")
        self.assertEqual(status, 400, body)
        self.assertIn("not valid JSON", json.loads(body)["error"])
        self.alive()

    def test_job_svc_refuses_the_same_bodies(self):
        job_svc = demo_service.Service(demo_service.binary(ARGS.bin, "job_svc"),
                                       {"DATABASE_URL": "postgresql://obs@127.0.0.1:9/none", "IMAGE_SVC_URL": UNREACHABLE})
        try:
            status, body, _ = post_json(job_svc.url + "/jobs", b"[" * 30000 + b"]" * 30000)
            self.assertEqual(status, 400, body)
            self.assertIn("deeper than 32 levels", json.loads(body)["error"])
            status, body, _ = post_json(job_svc.url + "/jobs", b"[" * 85000 + b"]" * 85000)
            self.assertEqual(status, 413, body)
            status, body, _ = request("GET", job_svc.url + "/health")
            self.assertEqual(status, 200, body)
            self.assertEqual(job_svc.stop(), 0)
        finally:
            job_svc.close()

    def test_a_second_instance_on_the_same_port_fails_clearly(self):
        second = user_svc({"PORT": str(self.svc.port)}, wait=False)
        try:
            self.assertNotEqual(second.proc.wait(timeout=20), 0)
            self.assertIn(f"cannot listen on 127.0.0.1:{self.svc.port}", second.stderr())
        finally:
            second.close()
        self.alive()

    def test_sighup_stops_cleanly_with_telemetry_flushed(self):
        self.assertEqual(self.svc.stop(signal.SIGHUP), 0)
        self.assertIn("stopped (SIGHUP)", self.svc.stderr())

    def test_readiness_on_the_api_port_shows_no_addresses(self):
        status, body, _ = request("GET", self.svc.url + "/health/ready")
        self.assertEqual(status, 503, body)
        text = body.decode()
        self.assertIn("unreachable", text)
        self.assertNotIn("127.0.0.1", text)
        self.assertNotIn(":9", text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", action="append", default=[])
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
