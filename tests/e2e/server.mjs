// The real binary for browser tests: a temp data dir, a free loopback port, the log kept for
// the SMS code and the one-time admin password, and the process stopped however the run ends.
// Shared by run.mjs (admin UI) and member.mjs (member H5).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const freePort = () => new Promise((res, rej) => {
  const s = createServer()
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)) })
  s.on('error', rej)
})

/** Polls `fn` until it returns something truthy, or fails naming `what` after `ms`. */
export async function waitFor(fn, what, ms = 30000, every = 200) {
  const end = Date.now() + ms
  for (;;) {
    try { const v = await fn(); if (v) return v } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`等待超时: ${what}`)
    await new Promise(r => setTimeout(r, every))
  }
}

/** Starts `bin` and waits for /healthz and the initial admin password in its log; `env` adds
 * variables for the server only (e.g. a `GONGHUI_*` setting the suite wants overridden). */
export async function startServer(bin, prefix, env = {}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const dataDir = mkdtempSync(join(tmpdir(), prefix))
  let logs = ''
  // The server reads GONGHUI_* variables as configuration, so the runner's own must not leak in.
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GONGHUI_')))
  const server = spawn(bin, ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
    env: { ...childEnv, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  server.stdout.on('data', d => { logs += d })
  server.stderr.on('data', d => { logs += d })
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    try { server.kill('SIGTERM') } catch { /* already gone */ }
    try { rmSync(dataDir, { recursive: true, force: true }) } catch { /* best effort */ }
  }
  process.on('exit', stop)
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stop(); process.exit(130) })
  const plain = () => logs.replace(/\x1b\[[0-9;]*m/g, '')
  server.on('exit', c => { if (!stopped) { console.error(plain()); console.error(`gonghui 意外退出 (${c})`); process.exit(1) } })
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'server /healthz')
  const initialPassword = await waitFor(() => /初始密码:\s*(\S+)/.exec(plain())?.[1], 'initial admin password')
  return { base, dataDir, plain, stop, initialPassword }
}

/** One JSON API call; a non-2xx answer throws with the status and body. */
export function apiCaller(base) {
  return async function call(method, path, token, body) {
    const r = await fetch(base + path, {
      method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const j = await r.json().catch(() => ({}))
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(j)}`)
    return j.data
  }
}
