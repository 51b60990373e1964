// Every WXML and WXSS file of the build compiles with WeChat's own compilers (wcc and wcsc, the
// Linux binaries shipped in miniprogram-compiler), as the developer tool compiles them before
// upload, and every page's and component's template comes out of wcc.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const wcc = require('miniprogram-compiler/src/wcc')
const wcsc = require('miniprogram-compiler/src/wcsc')
const { distRoot, filesWith } = require('./harness.cjs')

const root = distRoot()
const stem = f => f.replace(/\.[a-z]+$/, '')

test('wcc compiles every .wxml (and .wxs) of the build', () => {
  const wxml = filesWith(root, '.wxml')
  const wxs = filesWith(root, '.wxs')
  assert.ok(wxml.length > 0, 'the build has WXML files')
  // Throws with wcc's message (file:line:column) when a template does not compile.
  const code = wcc(root, wxml.map(stem), wxs, { maxBuffer: 64 * 1024 * 1024 })
  // The output is the JS the base library runs; it must at least be valid JS that yields $gwx.
  // Evaluated with a stand-in for the webview's `window`, which the output only reads flags from.
  const gwx = new Function('window', `${code}; return $gwx;`)({ __webview_engine_version__: 0.02 })
  assert.equal(typeof gwx, 'function')
  for (const f of wxml) assert.equal(typeof gwx(f), 'function', `wcc produced no template for ${f}`)
})

test('wcsc compiles every .wxss of the build', () => {
  const wxss = filesWith(root, '.wxss')
  assert.ok(wxss.length > 0, 'the build has WXSS files')
  // miniprogram-compiler returns (does not throw) an Error when wcsc fails.
  const out = wcsc(root, wxss.map(stem), { maxBuffer: 64 * 1024 * 1024 })
  assert.ok(!(out instanceof Error), out instanceof Error ? out.message : '')
  for (const f of wxss) {
    assert.ok(typeof out[f] === 'string' && out[f].length > 0, `wcsc produced nothing for ${f}`)
  }
  assert.equal(typeof out.comm, 'string', 'wcsc produced the common style code')
})
