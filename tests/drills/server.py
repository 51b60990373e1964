"""Shared by the fuzz run and the drills: start the real gonghui binary on a data dir and a
free loopback port, talk JSON to it with the standard library only, seed a small installation.

Nothing here fakes the server: every call is HTTP to the binary, every id comes from its answers.
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

ADMIN_PW = "Admin#2026pw"
STAFF_PW = "Clerk#2026pw"
STAFF_PW2 = "Changed#2026pw"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(root):
    """$GH_TEST_BIN, else the debug build of the checkout."""
    b = os.environ.get("GH_TEST_BIN")
    if b:
        return b
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    return os.path.join(target, "debug", "gonghui")


class Server:
    """One gonghui process. `log` collects its stderr (SMS codes of the `log` provider)."""

    def __init__(self, bin_path, data_dir, log_path, env=None, port=None):
        self.bin = bin_path
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # GONGHUI_* variables are the server's configuration: none leaks in from the caller.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GONGHUI_")}
        self.env.update({"GONGHUI_ADMIN_PASSWORD": ADMIN_PW, "RUST_LOG": "warn", "NO_COLOR": "1"})
        self.env.update(env or {})
        self.proc = None

    def start(self, timeout=60):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.bin, "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=self.env,
        )
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gonghui exited with {self.proc.returncode}; log: {self.log_path}")
            try:
                status, _ = call(self.base, "GET", "/healthz", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gonghui did not answer /healthz in time")

    def alive(self):
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            return call(self.base, "GET", "/healthz", timeout=10)[0] == 200
        except OSError:
            return False

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def check(self):
        """`gonghui check` on the data dir (server stopped): exit code and output."""
        r = subprocess.run(
            [self.bin, "--data-dir", self.data_dir, "check"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=300,
        )
        return r.returncode, r.stdout + r.stderr


def call(base, method, path, token=None, body=None, timeout=30):
    """One JSON request: (status, parsed body or raw text)."""
    data = None
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def must(base, method, path, token=None, body=None, want=(200, 201)):
    status, out = call(base, method, path, token, body)
    if status not in want:
        raise RuntimeError(f"{method} {path}: {status} {out}")
    return out["data"] if isinstance(out, dict) and "data" in out else out


def login(base, username, password):
    return must(base, "POST", "/api/v1/admin/auth/login", body={"username": username, "password": password})[
        "access_token"
    ]


def sms_code(log_path, after):
    """The newest SMS code the `log` provider wrote after byte offset `after`."""
    for _ in range(100):
        with open(log_path, "rb") as f:
            f.seek(after)
            text = re.sub(r"\x1b\[[0-9;]*m", "", f.read().decode(errors="replace"))
        codes = re.findall(r"code[=:\"\s]+\"?(\d{6})", text)
        if codes:
            return codes[-1]
        time.sleep(0.05)
    raise RuntimeError("no SMS code in the server log")


def member_login(srv, phone):
    """Sign a member in by SMS (the code read from the server's log); the token pair."""
    offset = os.path.getsize(srv.log_path)
    must(srv.base, "POST", "/api/v1/app/auth/sms/send", body={"phone": phone})
    code = sms_code(srv.log_path, offset)
    return must(srv.base, "POST", "/api/v1/app/auth/sms/login", body={"phone": phone, "code": code})


WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(n):
    """A valid 18-digit resident ID number, distinct for each n < 3,650,000."""
    day = time.gmtime(315532800 + (n // 1000) * 86400)  # from 1980-01-01
    body = f"110105{day.tm_year:04d}{day.tm_mon:02d}{day.tm_mday:02d}{n % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]
    return body + check


def join_union(base, member_token, staff_token, org, n, name="张三"):
    """Consent to the sensitive-data rules, real-name registration, a membership application and its approval."""
    must(base, "POST", "/api/v1/app/me/consents", member_token, {"kind": "sensitive", "version": "2026-01"})
    must(base, "POST", "/api/v1/app/me/realname", member_token, {"name": name, "id_number": id_number(3_000_000 + n)})
    app_ = must(base, "POST", "/api/v1/app/membership/applications", member_token, {"org_id": org, "work_unit": "县第一中学"})
    must(base, "POST", f"/api/v1/admin/membership/applications/{app_['id']}/approve", staff_token, {})


def rfc3339(offset_secs):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + offset_secs))


def seed(srv, phone="13800138000"):
    """Root → county → grassroots; a county admin; an approved member of the grassroots org;
    published news, an activity the member can sign up for, a message. Tokens and ids."""
    b = srv.base
    root = login(b, "admin", ADMIN_PW)
    me = must(b, "GET", "/api/v1/admin/me", root)
    root_org = me.get("org_id") or me.get("org", {}).get("id")
    county = must(b, "POST", "/api/v1/admin/orgs", root,
                  {"parent_id": root_org, "name": "测试县总工会", "code": "fz-county", "kind": "county"})["id"]
    grass = must(b, "POST", "/api/v1/admin/orgs", root,
                 {"parent_id": county, "name": "县第一中学工会", "code": "fz-school", "kind": "grassroots"})["id"]
    # Built-in role 4: 县级工会管理员 (org_and_below).
    must(b, "POST", "/api/v1/admin/accounts", root,
         {"username": "fz_county", "name": "县管理员", "org_id": county, "role_ids": [4], "password": STAFF_PW})
    t = login(b, "fz_county", STAFF_PW)
    must(b, "POST", "/api/v1/admin/auth/password", t, {"old_password": STAFF_PW, "new_password": STAFF_PW2})
    county_t = login(b, "fz_county", STAFF_PW2)
    member = member_login(srv, phone)
    mt = member["access_token"]
    join_union(b, mt, county_t, grass, 0)
    cats = must(b, "GET", "/api/v1/admin/news-categories", root)
    cat = (cats["items"] if isinstance(cats, dict) else cats)[0]["id"]
    for k in range(3):
        n = must(b, "POST", "/api/v1/admin/news", county_t,
                 {"org_id": county, "category_id": cat, "title": f"工会新闻{k}", "body_html": f"<p>正文{k}</p>"})
        must(b, "POST", f"/api/v1/admin/news/{n['id']}/publish", county_t, {})
    act = must(b, "POST", "/api/v1/admin/activities", county_t, {
        "org_id": county, "title": "职工健步走", "category": "sports", "description": "<p>欢迎参加</p>",
        "location_name": "县体育场", "lat": 25.0406, "lng": 102.7123, "checkin_radius_m": 200,
        "starts_at": rfc3339(86400), "ends_at": rfc3339(90000),
        "signup_starts_at": rfc3339(-3600), "signup_ends_at": rfc3339(80000),
        "quota": 100000, "members_only": True, "needs_review": False, "points": 5})
    must(b, "POST", f"/api/v1/admin/activities/{act['id']}/publish", county_t, {})
    must(b, "POST", "/api/v1/admin/messages", county_t,
         {"title": "通知", "content": "周五开会", "audience": {"org_ids": [county], "include_descendants": True}})
    return {"root": root, "county": county_t, "member": mt, "member_refresh": member.get("refresh_token"),
            "orgs": {"root": root_org, "county": county, "grassroots": grass}, "activity": act["id"], "category": cat}
