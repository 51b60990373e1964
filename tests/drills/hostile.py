#!/usr/bin/env python3
"""Slow and hostile clients (run by hand, numbers for the release note; not in CI).

While each attack runs, a well-behaved client keeps calling `/healthz` and a signed-in list;
the drill reports its latencies, so "the server keeps answering others" is a number.
1. slowloris: N connections each sending a request header one byte every second;
2. oversized headers: requests with a 1 MiB header (must be refused, not buffered);
3. many connections: N idle open sockets;
4. flood: one IP sending requests as fast as it can on K threads.

Usage: python3 tests/drills/hostile.py [--conns 500] [--secs 15]
"""

import argparse
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server as gh  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def probe(base, token, stop, lat, errs):
    while not stop.is_set():
        t = time.time()
        try:
            st1, _ = gh.call(base, "GET", "/healthz", timeout=10)
            st2, _ = gh.call(base, "GET", "/api/v1/admin/orgs", token, timeout=10)
            if st1 == 200 and st2 in (200, 429):
                lat.append(time.time() - t)
            else:
                errs.append(f"{st1}/{st2}")
        except OSError as e:
            errs.append(type(e).__name__)
        time.sleep(0.05)


def measured(name, base, token, attack, secs):
    stop, lat, errs = threading.Event(), [], []
    p = threading.Thread(target=probe, args=(base, token, stop, lat, errs), daemon=True)
    p.start()
    extra = attack(secs)
    stop.set()
    p.join()
    lat.sort()
    if lat:
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        print(f"{name}: probe {len(lat)} ok, {len(errs)} failed, p50 {p50:.1f} ms, p99 {p99:.1f} ms; {extra}", flush=True)
    else:
        print(f"{name}: probe 0 ok, {len(errs)} failed {errs[:5]}; {extra}", flush=True)
    return not errs


def open_conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=500)
    ap.add_argument("--secs", type=int, default=15)
    a = ap.parse_args()
    import tempfile
    work = tempfile.mkdtemp(prefix="gonghui-hostile-")
    srv = gh.Server(gh.binary(ROOT), os.path.join(work, "data"), os.path.join(work, "server.log"))
    srv.start()
    token = gh.login(srv.base, "admin", gh.ADMIN_PW)
    port = srv.port
    ok = True

    def slowloris(secs):
        socks, closed = [], 0
        for _ in range(a.conns):
            try:
                s = open_conn(port)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                break
        end = time.time() + secs
        while time.time() < end:
            for s in list(socks):
                try:
                    s.sendall(b"X-a: b\r\n")
                except OSError:
                    socks.remove(s)
                    closed += 1
            time.sleep(1)
        for s in socks:
            s.close()
        return f"{a.conns} slow connections, {closed} closed by the server within {secs} s"

    def big_headers(secs):
        codes = {}
        end = time.time() + secs
        while time.time() < end:
            try:
                s = open_conn(port)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
                resp = s.recv(64)
                code = resp.split(b" ")[1].decode() if resp.startswith(b"HTTP/") else "closed"
            except OSError:
                code = "reset"
            finally:
                s.close()
            codes[code] = codes.get(code, 0) + 1
        return f"1 MiB header answers: {codes}"

    def idle(secs):
        socks = []
        for _ in range(a.conns * 2):
            try:
                socks.append(open_conn(port))
            except OSError:
                break
        time.sleep(secs)
        n = len(socks)
        for s in socks:
            s.close()
        return f"{n} idle connections held"

    def flood(secs):
        count, codes = [0], {}
        lock = threading.Lock()
        end = time.time() + secs

        def one():
            while time.time() < end:
                try:
                    st, _ = gh.call(srv.base, "POST", "/api/v1/admin/auth/login", body={"username": "x", "password": "y"}, timeout=10)
                except OSError:
                    st = "err"
                with lock:
                    count[0] += 1
                    codes[st] = codes.get(st, 0) + 1

        ts = [threading.Thread(target=one) for _ in range(16)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return f"login flood {count[0]} requests ({count[0] / secs:.0f}/s): {codes}"

    try:
        for name, attack in [("slowloris", slowloris), ("oversized headers", big_headers), ("idle connections", idle), ("flood", flood)]:
            ok &= measured(name, srv.base, token, attack, a.secs)
        ok &= srv.alive()
    finally:
        srv.stop()
    print(f"hostile: {1 if ok else 0} passed, {0 if ok else 1} failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
