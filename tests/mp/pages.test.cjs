// Every page app.json names resolves the way WeChat's developer tool resolves it: miniprogram-ci
// (the tool's compiler core, run offline) reads and validates app.json, each page's JSON and the
// JSON of every custom component those pages use; its code-quality check then reports package
// sizes and files nothing uses.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ci, offlineProject } = require('./ci-project.cjs')
const { appJson, allPages, distRoot } = require('./harness.cjs')

// The issue's budget for the main package; WeChat refuses uploads over 2 MB.
const MAIN_BUDGET = 1024 * 1024

const project = offlineProject()

test('app.json passes miniprogram-ci\'s checks (pages, subpackages and tab bar all resolve)', async () => {
  const app = await ci.getAppJSON(project)
  const mine = appJson()
  assert.deepEqual(allPages(app), allPages(mine), 'miniprogram-ci sees the same pages as app.json declares')
  assert.ok(app.pages.length > 0)
  assert.ok(app.tabBar.list.every(tab => app.pages.includes(tab.pagePath)))
})

test('every page and every component it uses resolves through getPageJSON', async t => {
  const app = await ci.getAppJSON(project)
  const seen = new Set()
  const queue = allPages(app).map(p => ({ p, from: 'app.json' }))
  while (queue.length) {
    const { p, from } = queue.shift()
    if (seen.has(p)) continue
    seen.add(p)
    let json
    try {
      // Throws (with the tool's message) on a missing or malformed JSON and on any
      // usingComponents entry whose component files are not there.
      json = await ci.getPageJSON(project, { miniprogramRoot: '', pagePath: p })
    } catch (e) {
      assert.fail(`${p}（${from} 引用）：${e.message}`)
    }
    for (const [tag, target] of Object.entries(json.usingComponents || {})) {
      if (String(target).startsWith('plugin://')) continue
      const resolved = String(target).startsWith('/') ? String(target).slice(1) : path.posix.join(path.posix.dirname(p), String(target))
      queue.push({ p: resolved, from: `${p} 的 <${tag}>` })
    }
  }
  t.diagnostic(`${allPages(app).length} pages and ${seen.size - allPages(app).length} components resolved`)
})

test('code quality: main package within budget, no dead or misplaced code', t => {
  const run = spawnSync(process.execPath, [path.join(__dirname, 'quality.cjs')], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MP_DIST: distRoot() } })
  assert.equal(run.status, 0, run.stderr)
  const lines = run.stdout.trim().split('\n')
  const result = JSON.parse(lines[lines.length - 1])
  const byName = Object.fromEntries(result.map(r => [r.name, r]))
  const sizes = byName.PACKAGE_SIZE_LIMIT.detail
  assert.ok(sizes.__APP__ > 0, 'main package measured')
  assert.ok(sizes.__APP__ <= MAIN_BUDGET, `main package ${sizes.__APP__} bytes, over the 1 MB budget`)
  // WXML/WXSS compression are switches of the upload in the developer tool, not of the build.
  const ignored = new Set(['WXML_COMPRESS_OPEN', 'WXSS_COMPRESS_OPEN'])
  for (const r of result) {
    if (!ignored.has(r.name)) assert.ok(r.success, `${r.name}: ${r.text} ${JSON.stringify(r.detail || '')}`)
  }
  // Shown in the test output so CI logs carry the sizes the developer tool would show.
  const kb = n => `${(n / 1024).toFixed(1)} KB`
  t.diagnostic(`package sizes: ${Object.entries(sizes).map(([k, v]) => `${k === '__APP__' ? 'main' : k} ${kb(v)}`).join(', ')}`)
})
