// The one adapter for platform features: WeChat login, phone number, code scanning, location
// and subscription messages. The mini-program gets the real WeChat calls; H5 uses the browser
// where it can (location) and otherwise refuses with a Chinese message. Browser tests replace
// any of these by setting `window.__gonghuiPlatform` before the app loads.

/** A platform feature the current target lacks. */
export class Unsupported extends Error {}

/** What the adapter offers. */
export interface Platform {
  /** True in the WeChat mini-program. */
  isWechat: boolean
  /** wx.login's code, for `/auth/wechat`. */
  wechatCode(): Promise<string>
  /** Scan a QR code; answers its text. */
  scan(): Promise<string>
  /** The device position (WGS-84 from the browser, GCJ-02 in WeChat). */
  location(): Promise<{ lat: number; lng: number }>
  /** Ask to accept subscription messages; answers the accepted template ids. */
  subscribe(templateIds: string[]): Promise<string[]>
  /** Choose up to `count` PDF documents (from a chat in WeChat, from the device in H5); their local paths. */
  chooseDocuments(count: number): Promise<string[]>
}

const H5_ONLY_WECHAT = '该功能需在微信小程序中使用'

function wxPromise<T>(fn: (o: any) => void, args: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve, reject) => fn({ ...args, success: resolve, fail: reject }))
}

// #ifdef MP-WEIXIN
const wechatPlatform: Platform = {
  isWechat: true,
  async wechatCode() {
    const r = await wxPromise<{ code: string }>(uni.login, { provider: 'weixin' })
    return r.code
  },
  async scan() {
    try {
      const r = await wxPromise<{ result: string }>(uni.scanCode, { onlyFromCamera: true, scanType: ['qrCode'] })
      return r.result
    } catch {
      throw new Unsupported('已取消扫码')
    }
  },
  async location() {
    try {
      const r = await wxPromise<{ latitude: number; longitude: number }>(uni.getLocation, { type: 'gcj02' })
      return { lat: r.latitude, lng: r.longitude }
    } catch {
      throw new Unsupported('无法获取位置，请在设置中允许使用位置信息')
    }
  },
  async subscribe(templateIds: string[]) {
    if (!templateIds.length) return []
    try {
      const r = await wxPromise<Record<string, string>>(uni.requestSubscribeMessage as any, { tmplIds: templateIds })
      return templateIds.filter(id => r[id] === 'accept')
    } catch {
      return []
    }
  },
  async chooseDocuments(count: number) {
    // A mini-program cannot browse the phone's files: WeChat offers the files of a chat.
    try {
      const r = await wxPromise<{ tempFiles: { path: string }[] }>(uni.chooseMessageFile as any, { count, type: 'file', extension: ['pdf'] })
      return r.tempFiles.map(f => f.path)
    } catch {
      return []
    }
  },
}
// #endif
// #ifndef MP-WEIXIN
const browserPlatform: Platform = {
  isWechat: false,
  async wechatCode() {
    throw new Unsupported('微信登录需在微信小程序中使用，网页版请用手机验证码登录')
  },
  async scan() {
    throw new Unsupported('网页版不能扫码，请在微信小程序中扫码签到，或使用位置签到')
  },
  location() {
    return new Promise((resolve, reject) => {
      if (typeof navigator === 'undefined' || !navigator.geolocation) {
        reject(new Unsupported('当前浏览器不支持定位'))
        return
      }
      navigator.geolocation.getCurrentPosition(
        p => resolve({ lat: p.coords.latitude, lng: p.coords.longitude }),
        () => reject(new Unsupported('无法获取位置，请允许浏览器使用位置信息')),
        { enableHighAccuracy: true, timeout: 10000 },
      )
    })
  },
  async subscribe() {
    // Subscription messages exist only in WeChat; H5 members read the message center.
    return []
  },
  async chooseDocuments(count: number) {
    try {
      const r = await wxPromise<{ tempFilePaths: string[] }>(uni.chooseFile as any, { count, extension: ['.pdf'] })
      return r.tempFilePaths
    } catch {
      return []
    }
  },
}
// #endif

// Conditional compilation keeps exactly one of the two in each build.
let real = null as unknown as Platform
// #ifdef MP-WEIXIN
real = wechatPlatform
// #endif
// #ifndef MP-WEIXIN
real = browserPlatform
// #endif

const stub = (globalThis as any).__gonghuiPlatform as Partial<Platform> | undefined

/** The platform in use (with a test's stubs, if any). */
export const platform: Platform = stub ? { ...real, ...stub } : real

/** Message of a failed platform call. */
export function platformError(e: unknown): string {
  return e instanceof Error && e.message ? e.message : H5_ONLY_WECHAT
}
