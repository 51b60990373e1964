#!/usr/bin/env python3
"""Schema fuzzing of every route: Schemathesis against the served /api/openapi.json of the real
binary, on a seeded installation, once per role (root admin, county admin, member).

A failure is any 5xx, any response whose status, content type or body does not match the
document, or a server that no longer answers /healthz after a role's run. Fixed seed; bounded
example count (CI, about 5 minutes on 2 cores) or --deep for release checks.

Usage: tests/fuzz/run.sh [--deep] [--role root|county|member] [--keep]
"""

import argparse
import hashlib
import http.server
import threading
import urllib.parse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "drills"))
import server as gh  # noqa: E402

SEED = 20261204
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Operations that end the fuzzing principal's own session or account: run by the API tests,
# not here, because after them every later request of the run would only test a 401.
EXCLUDE = [
    ("POST", "/api/v1/admin/auth/logout"),
    ("POST", "/api/v1/admin/auth/password"),
    ("DELETE", "/api/v1/app/me"),
]
# Per role: examples per operation in CI and in --deep, and the time budget (seconds).
BUDGET = {"root": (25, 200, 110), "county": (25, 200, 90), "member": (60, 400, 70)}


def run_role(venv, srv, role, token, deep, report_dir):
    n, n_deep, secs = BUDGET[role]
    if deep:
        secs *= 6
    report = os.path.join(report_dir, f"{role}.json")
    cmd = [
        os.path.join(venv, "bin", "schemathesis"), "run", f"{srv.base}/api/openapi.json",
        "--url", srv.base,
        "-H", f"Authorization: Bearer {token}",
        "--seed", str(SEED),
        "--max-examples", str(n_deep if deep else n),
        "--max-time", str(secs),
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing,stateful",
        "--workers", "1",  # 2 trips a CPython 3.11 AST race inside Schemathesis
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--no-shrink",
        "--report", "json,ndjson", "--report-json-path", report,
        "--report-ndjson-path", os.path.join(report_dir, f"{role}.ndjson"),
        "--warnings", "off",
    ]
    doc = gh.call(srv.base, "GET", "/api/openapi.json")[1]
    for method, path in EXCLUDE:
        op_id = doc["paths"].get(path, {}).get(method.lower(), {}).get("operationId")
        if op_id:
            cmd += ["--exclude-operation-id", op_id]
    if role == "member":
        # A member token is refused on every staff route by one check; spend the budget where
        # the member's own data is.
        cmd += ["--include-path-regex", "^/api/v1/app/"]
    print(f"== {role}: schemathesis, seed {SEED}", flush=True)
    t0 = time.time()
    log_from = os.path.getsize(srv.log_path)
    # Run in the report dir: Schemathesis keeps its crash cache (.schemathesis/) in the working dir.
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=report_dir)
    with open(os.path.join(report_dir, f"{role}.log"), "w") as f:
        f.write(out.stdout + out.stderr)
    alive = srv.alive()
    requests = access_lines(srv.log_path, log_from)
    try:
        with open(report) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        doc = {}
    ops = doc.get("operations", {}).get("tested", 0)
    cases = doc.get("test_cases", {}).get("generated", 0)
    failures = doc.get("failures", [])
    errors = doc.get("errors", [])
    n_fail = sum(g.get("count", 1) for g in failures) + sum(g.get("count", 1) for g in errors)
    print("\n".join(out.stdout.strip().splitlines()[-40:]))
    print(
        f"fuzz {role}: {ops} operations, {cases} test cases, {requests} requests, {n_fail} failures, "
        f"{'server alive' if alive else 'SERVER DOWN'}, {time.time() - t0:.0f} s",
        flush=True,
    )
    for g in failures + errors:
        print("  FAIL", g.get("title"), g.get("operations", ""), "x", g.get("count"))
    ok = out.returncode == 0 and n_fail == 0 and alive and ops > 0
    return ok, ops, requests, n_fail


def access_lines(log_path, offset):
    """Requests the server logged (target `access`) after byte `offset`."""
    with open(log_path, "rb") as f:
        f.seek(offset)
        return sum(1 for line in f if b"access" in line and b"request" in line)


class FakeWechat(http.server.BaseHTTPRequestHandler):
    """The WeChat server API on loopback, so the routes behind it are fuzzed past their 503
    "小程序未配置" answer: every `wx.login` code is valid (a member per code), phone codes are
    refused as WeChat refuses an unknown one, content checks pass."""

    def _send(self, body, ctype="application/json"):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.startswith("/sns/jscode2session"):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            code = q.get("js_code", [""])[0]
            self._send({"openid": "fz" + hashlib.sha1(code.encode()).hexdigest()[:24], "session_key": "k=="})
        else:
            self._send({"errcode": 40001, "errmsg": "invalid path"})

    def do_POST(self):  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        if self.path.startswith("/cgi-bin/stable_token"):
            self._send({"access_token": "FAKE_TOKEN", "expires_in": 7200})
        elif self.path.startswith("/wxa/business/getuserphonenumber"):
            self._send({"errcode": 40029, "errmsg": "invalid code"})
        elif self.path.startswith("/wxa/msg_sec_check"):
            self._send({"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}, "detail": []})
        else:
            self._send({"errcode": 0, "errmsg": "ok"})

    def log_message(self, *args):
        pass


def fake_wechat():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deep", action="store_true", help="release check: 8x examples, 6x time")
    ap.add_argument("--role", choices=list(BUDGET), action="append")
    ap.add_argument("--keep", action="store_true", help="keep the data dir and reports")
    ap.add_argument("--venv", default=os.path.join(ROOT, "target", "fuzz-venv"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gonghui-fuzz-")
    report_dir = os.path.join(ROOT, "target", "fuzz-report")
    os.makedirs(report_dir, exist_ok=True)
    srv = gh.Server(gh.binary(ROOT), os.path.join(work, "data"), os.path.join(report_dir, "server.log"))
    open(srv.log_path, "w").close()
    # Login attempts per IP are limited; the fuzzer signs in many times from one address.
    srv.env["GONGHUI_AUTH__LOGIN_PER_IP_PER_MINUTE"] = "100000"
    wx = fake_wechat()
    srv.env.update({
        "GONGHUI_WECHAT__APPID": "wxfuzz0000000000",
        "GONGHUI_WECHAT__SECRET": "fuzz-secret",
        "GONGHUI_WECHAT__API_BASE": f"http://127.0.0.1:{wx.server_address[1]}",
    })
    # The access log counts the requests each role sent.
    srv.env["RUST_LOG"] = "warn,access=info"
    srv.start()
    results = {}
    try:
        seeded = gh.seed(srv)
        for role in a.role or list(BUDGET):
            results[role] = run_role(a.venv, srv, role, seeded[role], a.deep, report_dir)
            if not srv.alive():
                break
    finally:
        srv.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    total_fail = sum(r[3] for r in results.values())
    ok = all(r[0] for r in results.values()) and len(results) == len(a.role or BUDGET)
    line = ", ".join(f"{k} {r[1]} ops/{r[2]} requests" for k, r in results.items())
    print(f"fuzz summary: {line}; {total_fail} failures")
    print(f"fuzz: {sum(1 for r in results.values() if r[0])} passed, {sum(1 for r in results.values() if not r[0])} failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
