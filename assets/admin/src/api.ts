// HTTP client for /api/v1/admin: bearer token, one refresh attempt on 401, Chinese errors.
import { router } from './router'

export class ApiError extends Error {
  status: number
  code: string
  fields: Record<string, string>
  constructor(status: number, code: string, message: string, fields?: Record<string, string>) {
    super(message)
    this.status = status
    this.code = code
    this.fields = fields || {}
  }
}

const ACCESS = 'gh_access'
const REFRESH = 'gh_refresh'
export const tokens = {
  get access() { return localStorage.getItem(ACCESS) || '' },
  get refresh() { return localStorage.getItem(REFRESH) || '' },
  set(a: string, r: string) { localStorage.setItem(ACCESS, a); localStorage.setItem(REFRESH, r) },
  clear() { localStorage.removeItem(ACCESS); localStorage.removeItem(REFRESH) },
}

const BASE = '/api/v1/admin'
let refreshing: Promise<boolean> | null = null

async function tryRefresh(): Promise<boolean> {
  if (!tokens.refresh) return false
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const r = await fetch(BASE + '/auth/refresh', {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: tokens.refresh }),
        })
        if (!r.ok) return false
        const d = (await r.json()).data
        tokens.set(d.access_token, d.refresh_token)
        return true
      } catch { return false } finally { setTimeout(() => { refreshing = null }, 0) }
    })()
  }
  return refreshing
}

function sessionExpired() {
  tokens.clear()
  const cur = router.currentRoute.value
  if (cur.name !== 'login') router.replace({ name: 'login', query: { redirect: cur.fullPath, expired: '1' } })
}

async function toError(r: Response): Promise<ApiError> {
  let body: any = null
  try { body = await r.json() } catch { /* not JSON */ }
  const e = body?.error
  if (e) return new ApiError(r.status, e.code, e.message, e.fields)
  const msg = r.status === 413 ? '文件过大' : r.status >= 500 ? '服务器繁忙，请稍后再试' : `请求失败（${r.status}）`
  return new ApiError(r.status, 'http_' + r.status, msg)
}

/** Low-level request; path is relative to /api/v1/admin. */
export async function raw(method: string, path: string, body?: unknown, retried = false): Promise<Response> {
  const headers: Record<string, string> = {}
  if (tokens.access) headers.Authorization = 'Bearer ' + tokens.access
  let payload: BodyInit | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body) }
  let r: Response
  try {
    r = await fetch(BASE + path, { method, headers, body: payload })
  } catch {
    throw new ApiError(0, 'network', '网络连接失败，请检查网络')
  }
  if (r.status === 401 && !path.startsWith('/auth/login')) {
    if (!retried && await tryRefresh()) return raw(method, path, body, true)
    sessionExpired()
    throw new ApiError(401, 'unauthenticated', '登录已过期，请重新登录')
  }
  if (!r.ok) throw await toError(r)
  return r
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await raw(method, path, body)
  const j = await r.json()
  return j.data as T
}

export const get = <T = any>(p: string, q?: Record<string, any>) => api<T>('GET', p + qs(q))
export const post = <T = any>(p: string, b?: unknown) => api<T>('POST', p, b ?? {})
export const patch = <T = any>(p: string, b: unknown) => api<T>('PATCH', p, b)
export const put = <T = any>(p: string, b: unknown) => api<T>('PUT', p, b)
export const del = <T = any>(p: string) => api<T>('DELETE', p)

export function qs(q?: Record<string, any>): string {
  if (!q) return ''
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v))
  const s = u.toString()
  return s ? '?' + s : ''
}

/** Download a file endpoint (xlsx) with the bearer token and save it. */
export async function download(path: string, fallbackName: string) {
  const r = await raw('GET', path)
  const blob = await r.blob()
  const cd = r.headers.get('content-disposition') || ''
  const m = /filename\*=UTF-8''([^;]+)/i.exec(cd) || /filename="?([^";]+)"?/i.exec(cd)
  const name = m ? decodeURIComponent(m[1]) : fallbackName
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 10000)
}

/** Upload with progress (XHR: fetch has no upload progress). */
export function upload(path: string, form: FormData, onProgress: (pct: number) => void, retried = false): Promise<any> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest()
    x.open('POST', BASE + path)
    if (tokens.access) x.setRequestHeader('Authorization', 'Bearer ' + tokens.access)
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100)) }
    x.onerror = () => reject(new ApiError(0, 'network', '网络连接失败，请检查网络'))
    x.onload = async () => {
      let body: any = null
      try { body = JSON.parse(x.responseText) } catch { /* ignore */ }
      if (x.status === 401 && !retried) {
        if (await tryRefresh()) { upload(path, form, onProgress, true).then(resolve, reject); return }
        sessionExpired()
      }
      if (x.status >= 200 && x.status < 300) resolve(body?.data)
      else {
        const e = body?.error
        reject(new ApiError(x.status, e?.code || 'http_' + x.status, e?.message || (x.status === 413 ? '文件过大' : `上传失败（${x.status}）`), e?.fields))
      }
    }
    x.send(form)
  })
}

