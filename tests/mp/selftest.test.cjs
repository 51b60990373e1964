// The checks must catch a broken package: each case copies the build, breaks one thing the way a
// bad build or a bad hand edit would, runs the check that should notice against the copy
// (MP_DIST) and requires it to fail with the tool's own message.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { distRoot } = require('./harness.cjs')

function edit(root, file, from, to) {
  const p = path.join(root, file)
  const s = fs.readFileSync(p, 'utf8')
  assert.ok(s.includes(from), `${file} no longer contains ${from}: update this self-test`)
  fs.writeFileSync(p, s.replace(from, to))
}

const cases = [
  {
    name: 'a page in app.json whose files are missing',
    check: ['pages.test.cjs', 'app.json passes'],
    breakIt: root => edit(root, 'app.json', '"pages/me/data"', '"pages/me/gone"'),
    expect: /could not find the corresponding file: "pages\/me\/gone\.wxml"/,
  },
  {
    name: 'a component path that leads nowhere',
    check: ['pages.test.cjs', 'getPageJSON'],
    breakIt: root => edit(root, 'pages/home/index.json', 'uni-badge/uni-badge"', 'uni-badge/uni-gone"'),
    expect: /component not found in the path/,
  },
  {
    name: 'an unclosed WXML tag',
    check: ['compile.test.cjs', 'wcc'],
    breakIt: root => edit(root, 'pages/me/card.wxml', '</view></view></view>', '</view></view>'),
    expect: /pages\/me\/card\.wxml:\d+:\d+: end tag missing/,
  },
  {
    name: 'a WXSS syntax error',
    check: ['compile.test.cjs', 'wcsc'],
    breakIt: root => fs.appendFileSync(path.join(root, 'pages/home/index.wxss'), '\n.broken { color: red;\n'),
    expect: /pages\/home\/index\.wxss\(\d+:\d+\)/,
  },
  {
    name: 'the card page asking for the wrong endpoint',
    check: ['simulate.test.cjs', 'member card shows the card'],
    breakIt: root => edit(root, 'pages/me/card.js', 'get("/me/card")', 'get("/me/cards")'),
    expect: /timed out waiting for the card to load/,
  },
  {
    name: 'a subpackage page whose script fails as it loads',
    check: ['simulate.test.cjs', 'every page of app.json'],
    breakIt: root => edit(root, 'aid/detail.js', '"use strict";', '"use strict";require("./gone.js");'),
    expect: /Cannot find module '\.\/gone\.js'/,
  },
]

for (const c of cases) {
  test(`fails on ${c.name}`, t => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-mp-broken-'))
    t.after(() => fs.rmSync(copy, { recursive: true, force: true }))
    fs.cpSync(distRoot(), copy, { recursive: true })
    c.breakIt(copy)
    const [file, pattern] = c.check
    // A fresh test run, not a child of this one (node:test skips nested runs it can detect).
    const env = { ...process.env, MP_DIST: copy }
    delete env.NODE_TEST_CONTEXT
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', `--test-name-pattern=${pattern}`, path.join(__dirname, file)], {
      encoding: 'utf8',
      timeout: 120_000,
      env,
    })
    const out = `${run.stdout}\n${run.stderr}`
    assert.notEqual(run.status, 0, `${file} passed on a build with ${c.name}:\n${out}`)
    assert.match(out, c.expect)
  })
}
