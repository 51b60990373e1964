"""A fake WeChat server for the drills (127.0.0.1 only): token, login and subscription sends.

It answers as WECHAT.md documents for the calls the appliance makes during a drill:
`POST /cgi-bin/stable_token`, `GET /sns/jscode2session` (a code `<openid>.<anything>` logs in
as `<openid>`; a code is single use) and `POST /cgi-bin/message/subscribe/send` (needs the
current token; every accepted send is recorded). `POST /wxa/msg_sec_check` passes everything.
It lives in the drill's process, so it outlives the appliance it is killed under.
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

APPID = "wx_drill_app"
SECRET = "drill_secret_value"
TOKEN = "drill-access-token"


class FakeWechat:
    def __init__(self):
        self.lock = threading.Lock()
        self.sends = []  # accepted subscribe/send bodies, in arrival order
        self.used_codes = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, obj):
                body = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/sns/jscode2session":
                    return self.answer({"errcode": 40001, "errmsg": "unknown api"})
                if q.get("appid") != APPID or q.get("secret") != SECRET:
                    return self.answer({"errcode": 40013, "errmsg": "invalid appid"})
                code = q.get("js_code", "")
                with fake.lock:
                    if code in fake.used_codes or "." not in code:
                        return self.answer({"errcode": 40029, "errmsg": "invalid code"})
                    fake.used_codes.add(code)
                self.answer({"openid": code.split(".")[0], "session_key": "U0VTU0lPTl9LRVk="})

            def do_POST(self):
                url = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(n) or b"{}")
                except ValueError:
                    return self.answer({"errcode": 47001, "errmsg": "data format error"})
                if url.path == "/cgi-bin/stable_token":
                    if body.get("appid") != APPID or body.get("secret") != SECRET:
                        return self.answer({"errcode": 40013, "errmsg": "invalid appid"})
                    return self.answer({"access_token": TOKEN, "expires_in": 7200})
                if q.get("access_token") != TOKEN:
                    return self.answer({"errcode": 40001, "errmsg": "invalid credential"})
                if url.path == "/cgi-bin/message/subscribe/send":
                    if not body.get("touser") or not body.get("template_id"):
                        return self.answer({"errcode": 47003, "errmsg": "argument invalid"})
                    with fake.lock:
                        fake.sends.append(body)
                    return self.answer({"errcode": 0, "errmsg": "ok"})
                if url.path == "/wxa/msg_sec_check":
                    return self.answer({"errcode": 0, "errmsg": "ok",
                                        "result": {"suggest": "pass", "label": 100}, "detail": []})
                self.answer({"errcode": 40001, "errmsg": "unknown api"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def server_env(self):
        """The appliance's configuration pointing at this fake."""
        return {"GONGHUI_WECHAT__APPID": APPID, "GONGHUI_WECHAT__SECRET": SECRET,
                "GONGHUI_WECHAT__API_BASE": self.base}

    def sent(self):
        with self.lock:
            return list(self.sends)

    def close(self):
        self.httpd.shutdown()
