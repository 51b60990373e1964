// The one way pages talk to the server: the `{data}` / `{error}` envelope, Chinese error
// messages, the access token and its silent refresh. Pages never call uni.request themselves.
import { toLogin } from '../router'

/** API origin: '' on H5 (same origin); the mini-program package gets it written in. */
export const API_ORIGIN: string = __API_BASE__
const PREFIX = '/api/v1/app'
const TOKENS = 'gonghui.tokens'

/** An error the API answered (or a network failure, code `network`). */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public fields: Record<string, string> = {},
  ) {
    super(message)
  }
}

interface Tokens {
  access_token: string
  refresh_token: string
}

/** What a sign-in answers. */
export interface Login extends Tokens {
  expires_in: number
  member: { id: number; status: string }
}

function tokens(): Tokens | null {
  const t = uni.getStorageSync(TOKENS)
  return t && typeof t === 'object' ? (t as Tokens) : null
}

/** True when the member has signed in on this device. */
export function signedIn(): boolean {
  return tokens() !== null
}

/** Keep the tokens of a sign-in. */
export function saveLogin(l: Login) {
  uni.setStorageSync(TOKENS, { access_token: l.access_token, refresh_token: l.refresh_token })
}

/** Forget the tokens (sign-out, deleted account). */
export function clearLogin() {
  uni.removeStorageSync(TOKENS)
}

/** Full URL of an API path (`/me` → `/api/v1/app/me`). */
export function apiUrl(path: string): string {
  return API_ORIGIN + PREFIX + path
}

/** Full URL of a server path such as a file URL `/files/12`. */
export function serverUrl(path: string | null | undefined): string {
  if (!path) return ''
  return /^https?:/.test(path) ? path : API_ORIGIN + path
}

// wx.request has no PATCH, so the client offers none.
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

interface Raw {
  status: number
  body: any
}

function send(method: Method, path: string, body?: unknown, auth = true, binary = false): Promise<Raw> {
  const t = tokens()
  const header: Record<string, string> = {}
  if (body !== undefined) header['Content-Type'] = 'application/json'
  if (auth && t) header.Authorization = `Bearer ${t.access_token}`
  return new Promise((resolve, reject) => {
    uni.request({
      url: apiUrl(path),
      method,
      header,
      data: body as any,
      dataType: binary ? '' : 'json',
      responseType: binary ? 'arraybuffer' : 'text',
      success: r => resolve({ status: r.statusCode, body: r.data }),
      fail: () => reject(new ApiError(0, 'network', '网络连接失败，请检查网络后重试')),
    })
  })
}

function toError(r: Raw): ApiError {
  const e = r.body && typeof r.body === 'object' ? r.body.error : null
  if (e && typeof e.message === 'string') return new ApiError(r.status, e.code || 'error', e.message, e.fields || {})
  if (r.status === 413) return new ApiError(r.status, 'payload_too_large', '文件太大')
  if (r.status === 429) return new ApiError(r.status, 'rate_limited', '操作太频繁，请稍后再试')
  return new ApiError(r.status, 'error', `服务暂时不可用（${r.status}），请稍后重试`)
}

let refreshing: Promise<boolean> | null = null

/** Trade the refresh token for new tokens once, however many requests saw the 401. */
function refresh(): Promise<boolean> {
  if (!refreshing) {
    refreshing = (async () => {
      const t = tokens()
      if (!t) return false
      try {
        const r = await send('POST', '/auth/refresh', { refresh_token: t.refresh_token }, false)
        if (r.status === 200 && r.body?.data?.access_token) {
          saveLogin(r.body.data)
          return true
        }
      } catch {
        return false
      }
      clearLogin()
      return false
    })().finally(() => {
      refreshing = null
    })
  }
  return refreshing
}

function currentRoute(): string | undefined {
  const pages = getCurrentPages()
  const p: any = pages[pages.length - 1]
  if (!p) return undefined
  const q = p.options ? Object.entries(p.options).map(([k, v]) => `${k}=${v}`).join('&') : ''
  return '/' + p.route + (q ? `?${q}` : '')
}

async function call(method: Method, path: string, body?: unknown, binary = false): Promise<Raw> {
  let r = await send(method, path, body, true, binary)
  if (r.status === 401 && tokens() && (await refresh())) r = await send(method, path, body, true, binary)
  if (r.status === 401) {
    clearLogin()
    const from = currentRoute()
    if (!from?.startsWith('/pages/login')) toLogin(from)
    throw new ApiError(401, 'unauthenticated', '请先登录')
  }
  if (r.status < 200 || r.status >= 300) throw toError(binary ? { status: r.status, body: decode(r.body) } : r)
  return r
}

function decode(buf: ArrayBuffer): any {
  try {
    const bytes = new Uint8Array(buf)
    let s = ''
    for (const b of bytes) s += String.fromCharCode(b)
    return JSON.parse(decodeURIComponent(escape(s)))
  } catch {
    return null
  }
}

/** GET, answering `data`. */
export async function get<T>(path: string, query?: Record<string, string | number | undefined | null>): Promise<T> {
  const q = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
        .join('&')
    : ''
  return (await call('GET', q ? `${path}?${q}` : path)).body.data as T
}

/** POST JSON, answering `data`. */
export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return (await call('POST', path, body)).body?.data as T
}

/** PUT JSON (a whole replacement; the mini-program has no PATCH), answering `data`. */
export async function put<T>(path: string, body: unknown = {}): Promise<T> {
  return (await call('PUT', path, body)).body?.data as T
}

/** DELETE, answering `data`. */
export async function del<T>(path: string): Promise<T> {
  return (await call('DELETE', path)).body?.data as T
}

/** A sign-in call: no token is sent, and the answer's tokens are kept. */
export async function login(path: string, body: unknown): Promise<Login> {
  const r = await send('POST', path, body, false)
  if (r.status !== 200) throw toError(r)
  const l = r.body.data as Login
  saveLogin(l)
  return l
}

/** GET a binary resource (the card's QR image) as a displayable data URL. */
export async function image(path: string): Promise<string> {
  const r = await call('GET', path, undefined, true)
  return 'data:image/png;base64,' + uni.arrayBufferToBase64(r.body as ArrayBuffer)
}

/** Upload a picked file (`tempFilePath`) for `purpose`; answers the file record. */
export async function upload(filePath: string, purpose: string): Promise<{ id: number; url?: string }> {
  const once = () =>
    new Promise<Raw>((resolve, reject) => {
      const t = tokens()
      uni.uploadFile({
        url: apiUrl('/files'),
        filePath,
        name: 'file',
        formData: { purpose },
        header: t ? { Authorization: `Bearer ${t.access_token}` } : {},
        success: r => {
          let body: any = null
          try {
            body = JSON.parse(r.data as string)
          } catch {
            body = null
          }
          resolve({ status: r.statusCode, body })
        },
        fail: () => reject(new ApiError(0, 'network', '上传失败，请检查网络后重试')),
      })
    })
  let r = await once()
  if (r.status === 401 && (await refresh())) r = await once()
  if (r.status < 200 || r.status >= 300) throw toError(r)
  return r.body.data
}

/** Show an error to the member: field errors are left to the form, the rest as a toast. */
export function showError(e: unknown, fields?: Record<string, string>) {
  if (e instanceof ApiError) {
    if (e.code === 'unauthenticated' && e.status === 401) return
    if (fields && Object.keys(e.fields).length) {
      for (const k of Object.keys(fields)) delete fields[k]
      Object.assign(fields, e.fields)
    }
    uni.showToast({ title: e.message, icon: 'none', duration: 2500 })
    return
  }
  uni.showToast({ title: '操作失败，请稍后重试', icon: 'none' })
}
