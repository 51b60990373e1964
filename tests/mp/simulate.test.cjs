// Smoke test of the committed mini-program build in miniprogram-simulate: the real app.js,
// common/vendor.js (uni-app runtime + Vue) and page code run in Node, templates compiled by the
// official wcc, `wx` stubbed with fixture answers shaped like the server's. The home page and the
// member-card page must render what the member expects, and navigation must go where it should.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { allPages, appJson, createRuntime } = require('./harness.cjs')

// Requests answered by the stub, keyed as the client sends them; tests change entries in place.
const routes = {}
const rt = createRuntime({ routes })

// A real 1×1 PNG, so the card's data URL can be compared byte for byte.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg==', 'base64')

const ME = {
  id: 42,
  nickname: '张师傅',
  avatar_url: null,
  phone_masked: '138****5678',
  status: 'active',
  org_id: 3,
  member_no: 'GH2026000123',
  realname_verified: true,
  identity_confirmed: true,
}

function iso(ms) {
  // The server's format: RFC 3339 in China Standard Time.
  return new Date(ms + 8 * 3600e3).toISOString().replace(/\.\d{3}Z$/, '+08:00')
}

function card(expiresInMs) {
  return {
    member_no: 'GH2026000123',
    name: '张三',
    org_name: '城关镇总工会',
    joined_at: '2026-03-01T09:00:00+08:00',
    qr_payload: 'GHM:42.1765000000.sig',
    qr_expires_at: iso(Date.now() + expiresInMs),
  }
}

// Attributes of built-in components (image src, aria-label) live in the render tree, not the DOM.
function attr(node, name) {
  const hit = node && node.toJSON().attrs.find(a => a.name === name)
  return hit ? hit.value : undefined
}

function tap(opened, selector, text) {
  const hit = opened.comp.querySelectorAll(selector).find(c => c.dom.textContent.trim() === text)
  assert.ok(hit, `no ${selector} showing「${text}」`)
  hit.dispatchEvent('tap')
}

test('app.js registers the app and the uni-app runtime', () => {
  assert.ok(rt.app.$vm, 'app instance has its Vue root')
  assert.equal(typeof wx.createPage, 'function', 'vendor.js installs wx.createPage')
})

test('home page shows the member, unread badge, pinned news and upcoming activities', async t => {
  Object.assign(routes, {
    'GET /me': ME,
    'GET /news?limit=5': {
      items: [{ id: 7, org_id: 1, org_name: '县总工会', category_id: 2, category_name: '工会要闻', title: '县总工会召开十四届三次全委会', summary: '', cover_file_id: null, cover_url: null, status: 'published', pinned: true, published_at: '2026-12-01T10:00:00+08:00' }],
      next_cursor: null,
    },
    'GET /activities?status=upcoming&limit=3': {
      items: [{ id: 3, title: '职工健步走', starts_at: '2026-12-20T09:00:00+08:00', location_name: '人民公园', remaining: 40 }],
      next_cursor: null,
    },
    'GET /messages/unread-count': { count: 2 },
  })
  const from = rt.requests.length
  const home = rt.openPage('pages/home/index')
  t.after(() => home.close())
  await rt.until(() => home.text().includes('职工健步走'), () => `the home page to load, it shows: ${home.text()}`)
  const text = home.text()
  for (const want of ['您好，张师傅', '正式会员', '会员卡', '要闻', '置顶', '县总工会召开十四届三次全委会', '工会要闻 · 12月1日 10:00', '近期活动', '12月20日 09:00 · 人民公园', '剩余名额 40']) {
    assert.ok(text.includes(want), `home page lacks「${want}」: ${text}`)
  }
  const badge = home.comp.querySelector('.badge')
  assert.ok(badge, 'unread badge shown')
  assert.equal(badge.dom.textContent.trim(), '2')
  assert.deepEqual(rt.requests.slice(from).sort(), ['GET /activities?status=upcoming&limit=3', 'GET /me', 'GET /messages/unread-count', 'GET /news?limit=5'])
  for (const req of rt.log.slice(from)) assert.equal(req.header.Authorization, 'Bearer test-access', `${req.method} ${req.path} carries the token`)
  assert.ok(!text.includes('加载中'), 'loading state cleared')
  assert.deepEqual(rt.toasts, [], 'no error toast')

  tap(home, '.q', '会员卡')
  await rt.until(() => rt.navigations.length > 0, () => 'a navigation after tapping 会员卡')
  assert.deepEqual(rt.navigations.pop(), { kind: 'navigateTo', url: '/pages/me/card' })
  assert.deepEqual(rt.errors, [])
})

test('member card shows the card and its QR, and refreshes the QR before it expires', async t => {
  let served = 0
  routes['GET /me/card'] = () => {
    served += 1
    // First answer expires in 31.5 s, inside the page's 30 s margin after a tick: it must fetch again.
    return { status: 200, body: { data: card(served === 1 ? 31_500 : 300_000) } }
  }
  routes['GET /me/card/qr.png'] = req => {
    assert.equal(req.responseType, 'arraybuffer')
    return { status: 200, body: PNG.buffer.slice(PNG.byteOffset, PNG.byteOffset + PNG.length) }
  }
  const page = rt.openPage('pages/me/card')
  t.after(() => page.close())
  await rt.until(() => page.text().includes('会员编号'), () => `the card to load, it shows: ${page.text()}`)
  const text = page.text()
  for (const want of ['城关镇总工会', '张三', '会员编号 GH2026000123', '入会时间 2026年3月1日', '请向工作人员出示此码']) {
    assert.ok(text.includes(want), `card page lacks「${want}」: ${text}`)
  }
  assert.equal(attr(page.comp.querySelector('.qr'), 'src'), `data:image/png;base64,${PNG.toString('base64')}`)
  assert.equal(attr(page.comp.querySelector('.qr'), 'ariaLabel'), '会员卡二维码')

  await rt.until(() => served >= 2, () => `a second GET /me/card before the QR expires (served ${served})`, 4000)
  await rt.until(() => /二维码 2\d\d 秒后自动刷新/.test(page.text()), () => `the refreshed countdown, it shows: ${page.text()}`)
  page.page.onUnload()
  // The page stopped its timer on unload: no further fetches.
  const after = served
  await rt.simulate.sleep(1500)
  assert.equal(served, after, 'no refresh after the page was closed')
  assert.deepEqual(rt.errors, [])
})

test('member card shows the server\'s Chinese reason to a member who has not joined', async t => {
  routes['GET /me/card'] = () => ({ status: 409, body: { error: { code: 'not_member', message: '您还不是工会会员，入会审核通过后可使用电子会员证' } } })
  const page = rt.openPage('pages/me/card')
  t.after(() => page.close())
  await rt.until(() => page.text().includes('查看入会进度'), () => `the refusal, it shows: ${page.text()}`)
  assert.ok(page.text().includes('您还不是工会会员，入会审核通过后可使用电子会员证'), page.text())
  assert.equal(page.comp.querySelector('.member-card'), undefined)
  tap(page, '.btn', '查看入会进度')
  await rt.until(() => rt.navigations.length > 0, () => 'a navigation after tapping 查看入会进度')
  assert.deepEqual(rt.navigations.pop(), { kind: 'navigateTo', url: '/pages/membership/apply' })
  assert.deepEqual(rt.errors, [])
})

test('every page of app.json loads and renders in the simulator', async t => {
  // Every request answers 404 with the server's error shape: each page must still load its
  // script, render a state of its own (an empty list, a Chinese error) and raise no script error.
  for (const key of Object.keys(routes)) delete routes[key]
  const pages = allPages(appJson())
  for (const route of pages) {
    const page = rt.openPage(route, { id: '1' })
    t.after(() => page.close())
    await rt.simulate.sleep(50)
    assert.ok(page.text().length > 0, `${route} rendered nothing`)
    page.close()
  }
  t.diagnostic(`${pages.length} pages rendered`)
  assert.deepEqual(rt.errors, [])
})

test('signed out, the home page sends the member to login and back', async t => {
  rt.storage.delete('gonghui.tokens')
  const from = rt.requests.length
  const home = rt.openPage('pages/home/index')
  t.after(() => home.close())
  await rt.until(() => rt.navigations.length > 0, () => 'a redirect to login')
  assert.deepEqual(rt.navigations.pop(), { kind: 'navigateTo', url: '/pages/login/index?from=%2Fpages%2Fhome%2Findex' })
  assert.deepEqual(rt.requests.slice(from), [], 'no API request without a login')
  assert.deepEqual(rt.errors, [])
})
