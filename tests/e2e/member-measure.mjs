// Measures the member H5 as a phone would load it: bytes transferred on a cold first load
// (what the network carried, compressed), and time to first contentful paint with the CPU
// slowed 4× (Chrome DevTools Protocol), for a new visitor (login page) and a signed-in member
// (home: news feed, activities, unread count, profile).
// Usage: GH_TEST_BIN=target/debug/gonghui node tests/e2e/member-measure.mjs
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const BIN = process.env.GH_TEST_BIN
const port = await new Promise(res => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)) }) })
const BASE = `http://127.0.0.1:${port}`
const dir = mkdtempSync(join(tmpdir(), 'gonghui-measure-'))
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GONGHUI_')))
const srv = spawn(BIN, ['--data-dir', dir, '--listen', `127.0.0.1:${port}`], { env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
let logs = ''
srv.stdout.on('data', d => { logs += d }); srv.stderr.on('data', d => { logs += d })
const stop = () => { try { srv.kill('SIGTERM') } catch { /* gone */ } rmSync(dir, { recursive: true, force: true }) }
process.on('exit', stop)
for (let i = 0; i < 100; i++) { try { if ((await fetch(`${BASE}/healthz`)).ok) break } catch { /* starting */ } await new Promise(r => setTimeout(r, 100)) }

// A signed-in member, by SMS code from the log provider.
await fetch(`${BASE}/api/v1/app/auth/sms/send`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ phone: '13700137000' }) })
await new Promise(r => setTimeout(r, 300))
const code = /verification code.*?code[=:]\s*"?(\d{6})/.exec(logs)?.[1]
const login = await (await fetch(`${BASE}/api/v1/app/auth/sms/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ phone: '13700137000', code }) })).json()

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] })
async function measure(label, tokens, wait) {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  if (tokens) await ctx.addInitScript(t => localStorage.setItem('gonghui.tokens', JSON.stringify({ type: 'object', data: t })), tokens)
  const page = await ctx.newPage()
  const cdp = await ctx.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 })
  let bytes = 0, requests = 0
  const enc = {}
  cdp.on('Network.responseReceived', e => { enc[e.requestId] = e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '-' })
  cdp.on('Network.loadingFinished', e => { bytes += e.encodedDataLength; requests++ })
  const t0 = Date.now()
  await page.goto(`${BASE}/h5/`)
  await page.locator(wait).first().waitFor()
  const ready = Date.now() - t0
  await page.waitForTimeout(500)
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime || 0)
  const encodings = [...new Set(Object.values(enc))].join(',')
  console.log(`${label}: ${requests} 个请求，传输 ${(bytes / 1024).toFixed(1)} KB（编码 ${encodings}），4× CPU 降速下首次内容绘制 ${fcp.toFixed(0)} ms，主要内容出现 ${ready} ms`)
  await ctx.close()
}
await measure('新访客首次打开（登录页）', null, 'uni-button:has-text("登录")')
await measure('已登录职工打开首页', { access_token: login.data.access_token, refresh_token: login.data.refresh_token }, '.section-title')
await browser.close()
stop()
