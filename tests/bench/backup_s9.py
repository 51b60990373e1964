#!/usr/bin/env python3
"""S9-style measurement of `gonghui backup` on a seeded installation while writes continue.

Usage: tests/bench/backup_s9.py BINARY [MEMBERS [REPORT.json]]   (default 100000; build with --release)

Seeds MEMBERS members straight into SQLite (encrypted-field columns filled with random
base64 of the app's ciphertext length, so sizes and compressibility match), starts the
server, keeps 8 writers creating orgs through the HTTP API, and reports: write latency
without a backup, during a plain and during an encrypted backup (p50/p99, errors), backup
seconds (snapshot+archive, and with the verification that follows), archive sizes, and the
time to copy the database file for comparison, and the two S9 ratios (backup seconds ÷ copy
seconds, target <= 3; write p99 during the backup ÷ without, target <= 2), also as JSON to
REPORT.json when given. Standard library only.

Each kind of backup (plain, encrypted) runs ROUNDS times, alternating, and the ratio uses
the median of its times: one backup is a second or two, and a single stall of the disk or
the scheduler moves it by half. The copy is timed under the same write load, right before
each backup (a copy of the live file, then fsync of the copy, as the backup syncs its
archive), and the ratio uses the median of those copies; a copy after the writers stopped
is reported for context. Write latency during a kind of backup pools the writes started
while any of its runs (with their verification) went on.
"""
import base64, http.client, json, os, re, secrets, shutil, signal, socket, sqlite3
import statistics, subprocess, sys, tempfile, threading, time

BIN = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
PW = "Admin#2026pw"
PASS = "bench backup passphrase"
ROUNDS = 3


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def start(data, port):
    env = dict(os.environ, GONGHUI_ADMIN_PASSWORD=PW, RUST_LOG="warn", GONGHUI_BACKUP__SCHEDULE_ENABLED="false")
    p = subprocess.Popen([BIN, "--data-dir", data, "--listen", f"127.0.0.1:{port}", "serve"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2); c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return p
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def call(conn, method, path, token=None, body=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse(); data = r.read()
    return r.status, (json.loads(data) if data else None)


def seed(db):
    c = sqlite3.connect(db)
    c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
    orgs = [r[0] for r in c.execute("SELECT id FROM orgs")]
    now = int(time.time())
    b64 = lambda n: base64.b64encode(secrets.token_bytes(n)).decode()
    rows = ((
        "active", orgs[i % len(orgs)], f"BM{i:09d}", now, "测试单位", f"职工{i}",
        "k1:" + b64(39), secrets.token_hex(32), f"{i % 10000:04d}", f"138****{i % 10000:04d}",
        "k1:" + b64(46), secrets.token_hex(32), "110105**********002X", f"职工{i}", now, now)
        for i in range(N))
    c.executemany("""INSERT INTO members (status, org_id, member_no, joined_at, work_unit, real_name,
        phone_enc, phone_bidx, phone_last4, phone_masked, id_enc, id_bidx, id_masked, nickname, created_at, updated_at)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", rows)
    c.commit(); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()


class Load:
    def __init__(self, port, token, root, writers=8):
        self.port, self.token, self.root = port, token, root
        self.samples, self.errors, self.stop = [], 0, False
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(w,)) for w in range(writers)]

    def run(self, w):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = 0
        while not self.stop:
            code = f"b{w}-{i}-{secrets.token_hex(3)}"; i += 1
            t0 = time.monotonic()
            try:
                st, _ = call(conn, "POST", "/api/v1/admin/orgs", self.token,
                             {"parent_id": self.root, "name": "压测" + code, "code": code, "kind": "grassroots"})
            except OSError:
                st = 0; conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            t1 = time.monotonic()
            with self.lock:
                if st == 201:
                    self.samples.append((t0, t1 - t0))
                else:
                    self.errors += 1

    def window(self, a, b):
        """Writes started in [a, b): count, rate, p50/p99 in ms (None without samples)."""
        return self.windows([(a, b)])

    def windows(self, spans):
        """Writes started in any of the [a, b) spans, as `window`."""
        with self.lock:
            lat = sorted(d for t, d in self.samples if any(a <= t < b for a, b in spans))
        if not lat:
            return None
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        secs = sum(b - a for a, b in spans)
        return {"writes": len(lat), "per_sec": len(lat) / secs, "p50_ms": p(0.5), "p99_ms": p(0.99)}


def fmt(w):
    if w is None:
        return "no samples"
    return f"{w['writes']} writes, {w['per_sec']:.0f}/s, p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms"


def backup(data, out, env):
    t0 = time.monotonic()
    o = subprocess.run([BIN, "--data-dir", data, "backup", "--to", out], env=dict(os.environ, RUST_LOG="warn", **env),
                       capture_output=True, text=True)
    t1 = time.monotonic()
    if o.returncode != 0:
        raise SystemExit(o.stdout + o.stderr)
    m = re.search(r"已写入 (\S+)（([\d.]+) MiB，.*?([\d.]+) 秒）", o.stdout)
    return t0, t1, m.group(1), float(m.group(2)), float(m.group(3))


def copy_secs(db, dst):
    """Seconds to copy the file `db` to `dst` and fsync the copy (then the copy is removed)."""
    t = time.monotonic()
    shutil.copyfile(db, dst)
    fd = os.open(dst, os.O_RDONLY); os.fsync(fd); os.close(fd)
    c = time.monotonic() - t
    os.remove(dst)
    return c


def main():
    tmp = tempfile.mkdtemp(prefix="gh-s9-")
    data, out = os.path.join(tmp, "data"), os.path.join(tmp, "out")
    port = free_port()
    p = start(data, port); p.send_signal(signal.SIGTERM); p.wait()
    t = time.monotonic(); seed(os.path.join(data, "gonghui.db"))
    print(f"seeded {N} members in {time.monotonic() - t:.1f} s; db {os.path.getsize(os.path.join(data, 'gonghui.db')) / 2**20:.1f} MiB")
    p = start(data, port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        _, r = call(conn, "POST", "/api/v1/admin/auth/login", body={"username": "admin", "password": PW})
        token = r["data"]["access_token"]
        _, r = call(conn, "GET", "/api/v1/admin/orgs", token)
        root = next(o["id"] for o in r["data"] if o.get("parent_id") is None) if isinstance(r["data"], list) else 1
        load = Load(port, token, root)
        for th in load.threads:
            th.start()
        time.sleep(2)
        a = time.monotonic(); time.sleep(10); b = time.monotonic()
        quiet = load.window(a, b)
        print("writes without backup:", fmt(quiet))
        runs = {"plain": [], "encrypted": []}
        db = os.path.join(data, "gonghui.db")
        copies = []
        for _ in range(ROUNDS):
            for label, env in (("plain", {}), ("encrypted", {"GONGHUI_BACKUP__PASSPHRASE": PASS})):
                copies.append(copy_secs(db, os.path.join(tmp, "copy.db")))
                time.sleep(3)
                t0, t1, path, mib, secs = backup(data, out, env)
                print(f"{label} backup: archive {mib:.1f} MiB, snapshot+archive {secs:.1f} s, with verification {t1 - t0:.1f} s")
                print(f"  writes during it:", fmt(load.window(t0, t1)))
                runs[label].append({"archive_mib": mib, "backup_secs": secs, "with_verification_secs": t1 - t0,
                                    "span": (t0, t1)})
                # Archives are not kept: a dozen of them would crowd the disk and page cache.
                os.remove(os.path.join(out, os.path.basename(path)))
                time.sleep(3)
        print("copies of the database file under the same load:", ", ".join(f"{c:.2f} s" for c in copies))
        # The same writers again after the backups, so drift over the run shows up.
        a = time.monotonic(); time.sleep(10); b = time.monotonic()
        after = load.window(a, b)
        print("writes without backup, afterwards:", fmt(after))
        load.stop = True
        for th in load.threads:
            th.join()
        print("write errors:", load.errors)
        idle = copy_secs(db, os.path.join(tmp, "copy.db"))
        c = statistics.median(copies)
        db_mib = os.path.getsize(db) / 2**20
        print(f"copy of the database file ({db_mib:.1f} MiB) with fsync: median under load {c:.2f} s, "
              f"after the writers stopped {idle:.2f} s")
        base_p99 = max(1e-9, (quiet["p99_ms"] + after["p99_ms"]) / 2) if quiet and after else None
        ratios, summary = {}, {}
        for label, rs in runs.items():
            secs = statistics.median(r["backup_secs"] for r in rs)
            with_v = statistics.median(r["with_verification_secs"] for r in rs)
            during = load.windows([r["span"] for r in rs])
            summary[label] = {"archive_mib": rs[-1]["archive_mib"], "backup_secs_median": secs,
                              "backup_secs": [r["backup_secs"] for r in rs],
                              "with_verification_secs_median": with_v, "writes_during": during}
            ratios[label] = {
                "backup_secs_over_copy_secs": secs / c,
                "with_verification_over_copy_secs": with_v / c,
                "write_p99_during_over_without": (during["p99_ms"] / base_p99)
                if base_p99 and during else None,
            }
            times = ", ".join(f"{r['backup_secs']:.1f}" for r in rs)
            print(f"S9 {label}: backup s (median of {times}) ÷ copy s "
                  f"{ratios[label]['backup_secs_over_copy_secs']:.2f} (target <= 3; "
                  f"with verification {ratios[label]['with_verification_over_copy_secs']:.2f}), write p99 during ÷ "
                  f"without {ratios[label]['write_p99_during_over_without'] or float('nan'):.2f} (target <= 2)")
        report = {"members": N, "db_mib": db_mib, "copy_secs": c, "copies_under_load_secs": copies,
                  "copy_secs_idle": idle, "writes_without_backup": quiet,
                  "writes_without_backup_after": after, "backups": summary, "write_errors": load.errors,
                  "ratios": ratios}
        if len(sys.argv) > 3:
            with open(sys.argv[3], "w") as f:
                json.dump(report, f, ensure_ascii=False, indent=2)
    finally:
        p.send_signal(signal.SIGTERM); p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


main()
