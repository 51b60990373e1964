#!/usr/bin/env python3
"""Disk-full drill: the data dir on a small tmpfs, filled up while the server runs.

Phase 1 (the floor): with `limits.min_free_bytes` at 8 MiB, fill the disk to below it. Writes
answer 503 `disk_full` with 磁盘空间不足, reads answer 200, `/healthz` says `degraded`; free the
space and writes resume without a restart.
Phase 2 (the real failure): restart with the floor at 0 and fill the disk completely. Writes
(database rows with large bodies, uploads) either succeed or answer 503 `disk_full`, never 500;
at least one must hit the full disk. Free the space: writes resume. Then, server stopped: every
acknowledged write is there and no refused one is, `gonghui check` passes, the file store holds
exactly the acknowledged uploads, and the next start sweeps the upload temp dir.

Needs root (mount). Usage: python3 tests/drills/diskfull.py [--size-mb 48]
"""

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server as gh  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FAILS = []


def expect(cond, what):
    print(("  ok    " if cond else "  FAIL  ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def fill(path, leave_bytes):
    """Write a ballast file until the filesystem has at most `leave_bytes` free."""
    ballast = os.path.join(path, "ballast")
    with open(ballast, "ab") as f:
        chunk = b"\0" * (1 << 20)
        while True:
            st = os.statvfs(path)
            free = st.f_bavail * st.f_frsize
            if free <= leave_bytes:
                break
            n = min(len(chunk), max(4096, free - leave_bytes))
            try:
                f.write(chunk[:n])
                f.flush()
            except OSError:
                break
    return ballast


def free_of(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def png(seed, side=256):
    """A noisy RGB PNG (does not compress), about 3·side² bytes."""
    rnd = random.Random(seed)
    raw = b"".join(b"\0" + bytes(rnd.getrandbits(8) for _ in range(side * 3)) for _ in range(side))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def upload(base, token, data):
    boundary = "gonghuidrill%08x" % random.getrandbits(32)
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nattachment\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
        f"Content-Type: image/png\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/api/v1/admin/files", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            import json
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        import json
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def news(base, ctx, n, size):
    return gh.call(base, "POST", "/api/v1/admin/news", ctx["county"], {
        "org_id": ctx["orgs"]["county"], "category_id": ctx["category"], "title": f"满盘新闻{n}",
        "body_html": "<p>" + ("工会" * (size // 6)) + f"{n}</p>"}, timeout=60)


def is_disk_full(status, out):
    return (status == 503 and isinstance(out, dict) and out.get("error", {}).get("code") == "disk_full"
            and "磁盘空间不足" in out["error"].get("message", ""))


def files_in_store(data):
    root = os.path.join(data, "files")
    out = []
    for d, dirs, files in os.walk(root):
        if os.path.basename(d) == ".partial" or "/.partial" in d:
            continue
        out += [os.path.join(d, f) for f in files]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=48)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gonghui-diskfull-")
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={a.size_mb}m", "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        print("diskfull drill needs root to mount a tmpfs:", r.stderr.strip())
        sys.exit(1)
    data = os.path.join(mnt, "data")
    log = os.path.join(work, "server.log")
    open(log, "w").close()
    srv = None
    try:
        # Phase 1: the free-space floor.
        print("== phase 1: below limits.min_free_bytes (8 MiB)", flush=True)
        srv = gh.Server(gh.binary(ROOT), data, log, env={"GONGHUI_LIMITS__MIN_FREE_BYTES": str(8 << 20)})
        srv.start()
        ctx = gh.seed(srv)
        base = srv.base
        st, _ = news(base, ctx, 0, 100)
        expect(st == 201, f"a write with space left answers 201 (got {st})")
        ballast = fill(mnt, 2 << 20)
        time.sleep(0.6)  # the probe measures at most every 500 ms
        st, out = news(base, ctx, 1, 100)
        expect(is_disk_full(st, out), f"a write below the floor answers 503 disk_full 磁盘空间不足 (got {st} {out})")
        st, out = gh.call(base, "GET", "/api/v1/admin/news?page_size=5", ctx["county"])
        expect(st == 200, f"reads go on (GET news list {st})")
        st, out = gh.call(base, "GET", "/healthz")
        expect(st == 200 and out.get("status") == "degraded", f"/healthz reports degraded ({st} {out})")
        os.remove(ballast)
        time.sleep(0.6)
        st, out = news(base, ctx, 2, 100)
        expect(st == 201, f"after freeing space writes resume without a restart (got {st})")
        srv.stop()

        # Phase 2: no floor, the disk really full.
        print("== phase 2: floor 0, the disk filled completely", flush=True)
        srv = gh.Server(gh.binary(ROOT), data, log, env={"GONGHUI_LIMITS__MIN_FREE_BYTES": "0"}, port=srv.port)
        srv.start()
        for k in ("root", "county"):
            ctx[k] = gh.login(base, "admin", gh.ADMIN_PW) if k == "root" else gh.login(base, "fz_county", gh.STAFF_PW2)
        acked_news, refused_news, statuses = [], [], {}
        acked_files, refused_files = [], 0
        ballast = fill(mnt, 0)
        for n in range(100, 160):
            st, out = news(base, ctx, n, 60_000)
            statuses[st] = statuses.get(st, 0) + 1
            if st == 201:
                acked_news.append(out["data"]["id"])
            else:
                refused_news.append(n)
                if not is_disk_full(st, out):
                    expect(False, f"news write on a full disk: {st} {out}")
            if n % 10 == 0:
                st, out = upload(base, ctx["root"], png(n))
                statuses[f"upload {st}"] = statuses.get(f"upload {st}", 0) + 1
                if st == 201:
                    acked_files.append(out["data"]["id"])
                else:
                    refused_files += 1
                    if not is_disk_full(st, out):
                        expect(False, f"upload on a full disk: {st} {out}")
        print("  answers on the full disk:", statuses, flush=True)
        expect(len(refused_news) > 0, f"the full disk refused writes ({len(refused_news)} news refused)")
        expect(refused_files > 0, f"the full disk refused uploads ({refused_files} refused)")
        expect(not any(s == 500 or str(s).endswith(" 500") for s in statuses), "no 500 on a full disk")
        st, out = gh.call(base, "GET", "/healthz")
        expect(st == 200 and out.get("status") == "degraded", f"/healthz reports degraded ({st} {out})")
        st, out = gh.call(base, "GET", f"/api/v1/admin/news/{acked_news[0] if acked_news else 1}", ctx["county"])
        expect(st in (200, 404), f"reads go on ({st})")
        os.remove(ballast)
        time.sleep(0.6)
        st, out = news(base, ctx, 999, 100)
        expect(st == 201, f"after freeing space writes resume without a restart (got {st} {out})")
        if st == 201:
            acked_news.append(out["data"]["id"])
        st, out = upload(base, ctx["root"], png(999, 64))
        expect(st == 201, f"uploads resume (got {st})")
        if st == 201:
            acked_files.append(out["data"]["id"])
        time.sleep(11)
        st, out = gh.call(base, "GET", "/healthz")
        expect(out.get("status") == "ok", f"/healthz back to ok ({out})")
        srv.stop()
        rc, text = srv.check()
        expect(rc == 0, "gonghui check (integrity, audit chain) passes" + ("" if rc == 0 else "\n" + text[-2000:]))
        srv.start()
        ok = all(gh.call(base, "GET", f"/api/v1/admin/news/{i}", ctx["county"])[0] == 200 for i in acked_news)
        expect(ok, f"all {len(acked_news)} acknowledged news are there")
        listed = gh.must(base, "GET", "/api/v1/admin/news?q=" + urllib.parse.quote("满盘新闻") + "&page_size=100", ctx["county"])
        titles = {i["title"] for i in listed["items"]}
        stray = [n for n in refused_news if f"满盘新闻{n}" in titles]
        expect(not stray, f"no refused write was stored ({len(stray)} found)")
        ok = all(gh.call(base, "GET", f"/api/v1/admin/files/{i}", ctx["root"])[0] == 200 for i in acked_files)
        expect(ok, f"all {len(acked_files)} acknowledged uploads are there")
        stored = files_in_store(data)
        expect(len(stored) == len(acked_files), f"the file store holds exactly the acknowledged uploads ({len(stored)} files, {len(acked_files)} acknowledged)")
        partial = os.path.join(data, "files", ".partial")
        left = os.listdir(partial) if os.path.isdir(partial) else []
        expect(not left, f"no upload temp files after the restart ({len(left)})")
    finally:
        if srv:
            srv.stop()
        subprocess.run(["umount", "-l", mnt])
        shutil.rmtree(work, ignore_errors=True)
    print(f"diskfull drill: {len(FAILS)} failures")
    print(f"diskfull: {0 if FAILS else 1} passed, {1 if FAILS else 0} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
