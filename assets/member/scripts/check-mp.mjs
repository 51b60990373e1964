// Sanity check of the mini-program build without WeChat's tool: every page and component that
// app.json (main package and subpackages) and the page configs name exists (js + json + wxml), tab pages are pages, the API
// placeholder the server fills in is present, and the main package is under WeChat's 2 MB limit.
// Usage: node scripts/check-mp.mjs dist/mp-weixin
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'

const root = process.argv[2] || 'dist/mp-weixin'
const LIMIT = 2 * 1024 * 1024
const TARGET = 1024 * 1024
const problems = []
const app = JSON.parse(readFileSync(join(root, 'app.json'), 'utf8'))

function checkComponent(base, from) {
  for (const ext of ['js', 'json', 'wxml']) {
    if (!existsSync(join(root, `${base}.${ext}`))) problems.push(`${from}: 缺少 ${base}.${ext}`)
  }
  const json = join(root, `${base}.json`)
  if (!existsSync(json)) return
  const cfg = JSON.parse(readFileSync(json, 'utf8'))
  for (const [name, path] of Object.entries(cfg.usingComponents || {})) {
    if (String(path).startsWith('plugin://')) continue
    const target = String(path).startsWith('/') ? String(path).slice(1) : posix.join(posix.dirname(base), String(path))
    if (!seen.has(target)) {
      seen.add(target)
      checkComponent(target, `${base} 的组件 ${name}`)
    }
  }
}
const seen = new Set()
if (!Array.isArray(app.pages) || !app.pages.length) problems.push('app.json 没有页面')
for (const page of app.pages || []) checkComponent(page, 'app.json')
// Subpackage pages (benefits, points, the mall) are named relative to their package root.
const subPages = (app.subPackages || app.subpackages || []).flatMap(s => (s.pages || []).map(p => posix.join(s.root, p)))
for (const page of subPages) checkComponent(page, 'app.json subPackages')
for (const tab of app.tabBar?.list || []) {
  if (!app.pages.includes(tab.pagePath)) problems.push(`tabBar 页面 ${tab.pagePath} 不在 pages 中`)
}

function size(dir) {
  let n = 0
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    n += statSync(p).isDirectory() ? size(p) : statSync(p).size
  }
  return n
}
const subRoots = (app.subPackages || app.subpackages || []).map(s => s.root)
let main = 0
for (const name of readdirSync(root)) {
  if (subRoots.some(r => r.replace(/\/$/, '') === name)) continue
  if (name === 'project.config.json' || name === 'project.private.config.json') continue
  const p = join(root, name)
  main += statSync(p).isDirectory() ? size(p) : statSync(p).size
}
if (main > LIMIT) problems.push(`主包 ${main} 字节，超过微信 2 MB 限制`)

const client = join(root, 'api', 'client.js')
if (!existsSync(client) || !readFileSync(client, 'utf8').includes('@@GONGHUI_API_BASE@@')) {
  problems.push('api/client.js 中缺少接口地址占位符 @@GONGHUI_API_BASE@@（服务端打包时写入）')
}

if (problems.length) {
  for (const p of problems) console.error(`✗ ${p}`)
  process.exit(1)
}
console.log(`小程序检查通过：${app.pages.length} 个主包页面，${subPages.length} 个分包页面，${seen.size} 个组件，主包 ${(main / 1024).toFixed(1)} KB（目标 ≤ ${TARGET / 1024} KB，上限 ${LIMIT / 1024} KB）`)
