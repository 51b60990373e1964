// Small display helpers shared by the pages.
import { signedIn } from './api/client'
import { toLogin } from './router'

/** `2026-12-01T09:00:00+08:00` → `12月1日 09:00`. */
export function fmtTime(s?: string | null): string {
  if (!s) return ''
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(s)
  return m ? `${Number(m[2])}月${Number(m[3])}日 ${m[4]}:${m[5]}` : s
}

/** `2026-12-01T…` → `2026年12月1日`. */
export function fmtDate(s?: string | null): string {
  if (!s) return ''
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s)
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : s
}

/** Chinese name of a member's status. */
export const MEMBER_STATUS: Record<string, string> = {
  registered: '未入会',
  pending: '入会审核中',
  active: '正式会员',
  rejected: '入会申请未通过',
  left: '已退会',
}

/** Chinese name of a registration's status. */
export const REG_STATUS: Record<string, string> = {
  pending: '待审核',
  approved: '报名成功',
  rejected: '未通过',
  cancelled: '已取消',
  checked_in: '已签到',
}

/** Chinese name of an activity's status. */
export const ACTIVITY_STATUS: Record<string, string> = {
  draft: '草稿',
  published: '报名中',
  cancelled: '已取消',
  finished: '已结束',
}

/** True when signed in; otherwise opens the login page (returning here afterwards). */
export function needLogin(from: string): boolean {
  if (signedIn()) return true
  toLogin(from)
  return false
}

/** Make `<em>` marks of search highlights visible inside rich-text. */
export function highlight(html: string): string {
  return html.replace(/<em>/g, '<em style="color:#c8161d;font-style:normal">')
}

/** Chinese texts of uni-ui's load-more footer. */
export const LOAD_TEXT = { contentdown: '上拉加载更多', contentrefresh: '加载中…', contentnomore: '没有更多了' }

/** Chinese name of a benefit's kind. */
export const BENEFIT_KIND: Record<string, string> = { goods: '实物', voucher: '券', service: '服务' }

/** Chinese name of a benefit claim's status. */
export const CLAIM_STATUS: Record<string, string> = { claimed: '待核销', redeemed: '已核销' }

/** Chinese name of a mall order's status. */
export const ORDER_STATUS: Record<string, string> = { pending: '待提货', fulfilled: '已提货', cancelled: '已取消' }

/** Short Chinese label of why a benefit cannot be claimed (the API's `reason_code`). */
export const CLAIM_REFUSAL: Record<string, string> = {
  out_of_stock: '已领完',
  limit_reached: '已达领取上限',
  claim_closed: '已截止',
  not_eligible: '不符合条件',
}

/** Sanitised HTML from the API made fit for rich-text: `/files/…` images get the full address
 * (the mini-program needs it) and never overflow a phone screen. */
export function richHtml(html: string | null | undefined, origin: string): string {
  return (html || '').replace(/src="\/files\//g, `src="${origin}/files/`).replace(/<img /g, '<img style="max-width:100%;height:auto" ')
}

/** Ticket statuses. */
export const TICKET_STATUS: Record<string, string> = { open: '办理中', resolved: '已办结', closed: '已关闭' }

/** Aid application statuses (帮扶申请). */
export const AID_STATUS: Record<string, string> = {
  draft: '草稿',
  pending: '审批中',
  returned: '退回补充',
  approved: '已通过',
  rejected: '未通过',
  cancelled: '已撤销',
}

/** Usual kinds of aid evidence (佐证材料); the member may also type their own. */
export const AID_EVIDENCE = ['户口本', '身份证', '诊断证明', '收入证明', '住院费用清单', '录取通知书', '其他材料']
