// Shared helpers of the offline mini-program checks: where the committed build is, which pages
// app.json declares, and a small runtime that loads uni-app pages into miniprogram-simulate with
// a stubbed `wx` whose requests are answered from fixtures.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

/** The mp-weixin build under test (MP_DIST overrides, e.g. to check a deliberately broken copy). */
function distRoot() {
  return path.resolve(process.env.MP_DIST || path.join(__dirname, '../../assets/member/dist/mp-weixin'))
}

/** app.json of the build, parsed. */
function appJson(root = distRoot()) {
  return JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'))
}

/** Every page path app.json declares: main package first, then each subpackage's pages under its root. */
function allPages(app) {
  const subs = app.subPackages || app.subpackages || []
  return [...app.pages, ...subs.flatMap(s => s.pages.map(p => path.posix.join(s.root, p)))]
}

/** Every file under `root` whose name ends with `ext`, as posix paths relative to `root`. */
function filesWith(root, ext) {
  const out = []
  const walk = rel => {
    for (const ent of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${ent.name}` : ent.name
      if (ent.isDirectory()) walk(p)
      else if (ent.name.endsWith(ext)) out.push(p)
    }
  }
  walk('')
  return out.sort()
}

// The placeholder the server replaces with the installation's address when it zips the package.
const API_PREFIX = '@@GONGHUI_API_BASE@@/api/v1/app'

/**
 * A mini-program runtime in one Node process: jsdom for the render tree, miniprogram-simulate's
 * `Component` and `wx` mocks, and the uni-app app instance (app.js) created through our `App`.
 * `routes` maps `"GET /me"` (path with query, as the client sends it) to a response body's `data`
 * or to a function `(req) => ({ status, body })`; anything else answers 404 with the server's
 * error shape, so a page that asks for something unexpected shows it. Navigation, toasts and
 * every request are recorded (`requests` as keys, `log` with headers); console errors and
 * unhandled rejections are collected so a test can require that none happened.
 */
function createRuntime({ routes = {}, signedIn = true } = {}) {
  const { JSDOM } = require('jsdom')
  const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'https://servicewechat.com/' })
  // Node has its own Event/CustomEvent; jsdom's elements accept only jsdom's, so all of these are replaced.
  for (const k of ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent', 'TouchEvent', 'MutationObserver', 'getComputedStyle']) {
    Object.defineProperty(global, k, { value: k === 'window' ? dom.window : dom.window[k], configurable: true, writable: true })
  }

  const errors = []
  const origError = console.error
  console.error = (...args) => {
    errors.push(args.map(String).join(' '))
    origError(...args)
  }
  process.on('unhandledRejection', e => errors.push(`unhandled rejection: ${e && e.stack ? e.stack : e}`))

  // Installs global Component/Behavior and the `wx` mock; our stubs then replace what the pages use.
  const simulate = require('miniprogram-simulate')
  const storage = new Map()
  if (signedIn) storage.set('gonghui.tokens', { access_token: 'test-access', refresh_token: 'test-refresh' })
  const requests = []
  const log = []
  const navigations = []
  const toasts = []
  const nav = kind => o => {
    navigations.push({ kind, url: o && o.url })
    setTimeout(() => o && typeof o.success === 'function' && o.success({ errMsg: `${kind}:ok` }), 0)
  }
  Object.assign(global.wx, {
    getStorageSync: k => (storage.has(k) ? storage.get(k) : ''),
    setStorageSync: (k, v) => void storage.set(k, v),
    removeStorageSync: k => void storage.delete(k),
    arrayBufferToBase64: b => Buffer.from(b).toString('base64'),
    navigateTo: nav('navigateTo'),
    redirectTo: nav('redirectTo'),
    switchTab: nav('switchTab'),
    reLaunch: nav('reLaunch'),
    navigateBack: nav('navigateBack'),
    showToast: o => void toasts.push(o.title),
    stopPullDownRefresh: () => {},
    request(o) {
      if (!String(o.url).startsWith(API_PREFIX)) {
        // The page would swallow the throw into a toast; record it so the test fails.
        errors.push(`request outside the API: ${o.url}`)
        throw new Error(`request outside the API: ${o.url}`)
      }
      const req = { method: o.method || 'GET', path: o.url.slice(API_PREFIX.length), header: o.header || {}, data: o.data, responseType: o.responseType }
      const key = `${req.method} ${req.path}`
      requests.push(key)
      log.push(req)
      const route = routes[key]
      const res = route === undefined
        ? { status: 404, body: { error: { code: 'not_found', message: '未找到' } } }
        : typeof route === 'function' ? route(req) : { status: 200, body: { data: route } }
      // Like the real wx.request: asynchronous, and the page decides what a status means.
      const timer = setTimeout(() => {
        const r = { statusCode: res.status, data: res.body, header: {}, errMsg: 'request:ok' }
        if (typeof o.success === 'function') o.success(r)
        if (typeof o.complete === 'function') o.complete(r)
      }, 0)
      return { abort: () => clearTimeout(timer), onHeadersReceived() {}, offHeadersReceived() {} }
    },
  })

  let app = null
  global.App = options => {
    app = options
    if (typeof options.onLaunch === 'function') options.onLaunch.call(options, { path: 'pages/home/index', query: {}, scene: 1001 })
  }
  global.getApp = () => app
  const stack = []
  global.getCurrentPages = () => stack.slice()
  // uni-app registers pages through Component(); a bare Page() call would be a build change worth failing on.
  global.Page = () => {
    throw new Error('Page() called: uni-app pages are expected to register through Component()')
  }

  const root = distRoot()
  require(path.join(root, 'app.js'))
  if (!app || !app.$vm) throw new Error('app.js did not register the app through App()')

  /** Loads, attaches and shows the page at `route` (e.g. `pages/me/card`) with `query`. */
  function openPage(route, query = {}) {
    // wcc's output for the whole package is read through a pipe; 1 MB (the default) is too tight to grow into.
    const id = simulate.load(path.join(root, route), 'page', { rootPath: root, compilerOptions: { maxBuffer: 64 * 1024 * 1024 } })
    const comp = simulate.render(id)
    const page = comp.instance
    // What the base library sets on a page instance; uni-app tells pages from components by `route`.
    page.route = route
    page.__route__ = route
    page.options = query
    comp.attach(document.createElement('parent-wrapper'))
    stack.push(page)
    page.onLoad(query)
    page.onShow()
    return {
      comp,
      page,
      text: () => comp.dom.textContent.replace(/\s+/g, ' ').trim(),
      close() {
        if (!stack.includes(page)) return
        page.onUnload()
        comp.detach()
        stack.splice(stack.indexOf(page), 1)
      },
    }
  }

  /** Resolves once `predicate()` holds, or rejects after `ms` with what the page shows. */
  async function until(predicate, describe, ms = 3000) {
    const end = Date.now() + ms
    while (!predicate()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${describe()}`)
      await simulate.sleep(10)
    }
  }

  return { simulate, app, openPage, until, requests, log, navigations, toasts, errors, storage }
}

module.exports = { distRoot, appJson, allPages, filesWith, createRuntime, API_PREFIX }
