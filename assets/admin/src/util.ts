import { ElMessage, ElMessageBox } from 'element-plus'
import { ApiError } from './api'

/** Show an API error; copy its field messages into `fields` for el-form-item :error. */
export function showError(e: unknown, fields?: Record<string, string>) {
  if (fields) for (const k of Object.keys(fields)) delete fields[k]
  if (e instanceof ApiError) {
    if (e.status === 401) return
    if (fields && e.fields) Object.assign(fields, e.fields)
    let msg = e.message
    if (e.status === 423) msg = e.message || '账号已锁定，请 15 分钟后再试'
    if (e.status === 429) msg = e.message || '操作过于频繁，请稍后再试'
    ElMessage.error(msg)
  } else {
    ElMessage.error('操作失败，请稍后再试')
  }
}

export async function confirm(text: string, title = '请确认'): Promise<boolean> {
  try {
    await ElMessageBox.confirm(text, title, { type: 'warning', confirmButtonText: '确定', cancelButtonText: '取消' })
    return true
  } catch { return false }
}

const pad = (n: number) => String(n).padStart(2, '0')
/** 2026年11月23日 14:05 style, in the browser's zone (the office is in +08:00). */
export function fmtTime(s?: string | null): string {
  if (!s) return '—'
  const d = new Date(s)
  if (isNaN(d.getTime())) return s
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
export function fmtDate(s?: string | null): string {
  if (!s) return '—'
  const d = new Date(s)
  if (isNaN(d.getTime())) return s
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`
}
/** RFC 3339 with +08:00 from a Date picked in the UI. */
export function toRfc(d: Date | string | null | undefined): string | undefined {
  if (!d) return undefined
  const x = typeof d === 'string' ? new Date(d) : d
  const t = new Date(x.getTime() + 8 * 3600 * 1000)
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}+08:00`
}

export const memberStatus: Record<string, [string, string]> = {
  registered: ['已注册', 'info'], pending: ['待审核', 'warning'], active: ['正式会员', 'success'],
  rejected: ['已驳回', 'danger'], left: ['已退会', 'info'],
}
export const orgKinds: Record<string, string> = { prefecture: '州（市）总工会', county: '县（市）总工会', grassroots: '基层工会', other: '其他' }

/** Element Plus tag type for a status code in any list: one colour per meaning everywhere. */
export type TagType = 'success' | 'warning' | 'danger' | 'info' | 'primary'
const TAG_TYPES: Record<string, TagType> = {
  active: 'success', approved: 'success', published: 'success', done: 'success', ok: 'success', sent: 'success', success: 'success', checked_in: 'success',
  pending: 'warning', running: 'warning', scheduled: 'warning', draft: 'info', registered: 'info',
  rejected: 'danger', failed: 'danger', failure: 'danger', cancelled: 'danger', dead: 'danger', locked: 'danger',
  left: 'info', withdrawn: 'info', finished: 'info', disabled: 'info',
}
export function tagType(code?: string | null): TagType {
  return (code && TAG_TYPES[code]) || 'info'
}

/** Chinese names of the statuses and kinds shown across the lists (the 字典管理 page shows them all). */
export const dictionaries: { code: string; name: string; items: Record<string, string> }[] = [
  { code: 'member_status', name: '会员状态', items: { registered: '已注册', pending: '待审核', active: '正式会员', rejected: '已驳回', left: '已退会' } },
  { code: 'application_status', name: '入会申请状态', items: { pending: '待审核', approved: '已通过', rejected: '已驳回', withdrawn: '已撤回' } },
  { code: 'activity_status', name: '活动状态', items: { draft: '草稿', published: '已发布', cancelled: '已取消', finished: '已结束' } },
  { code: 'news_status', name: '资讯状态', items: { draft: '草稿', scheduled: '定时发布', published: '已发布', withdrawn: '已撤回' } },
  { code: 'import_status', name: '导入任务状态', items: { running: '导入中', done: '已完成', failed: '失败' } },
  { code: 'org_kind', name: '组织类型', items: orgKinds },
  { code: 'data_scope', name: '数据范围', items: { all: '全部数据', org_and_below: '本级及下级', org: '仅本级', custom: '自定义组织', self: '仅本人' } },
  { code: 'file_purpose', name: '文件用途', items: { attachment: '附件', avatar: '头像', image: '图片', import: '导入文件' } },
  { code: 'consent_kind', name: '同意类型', items: { privacy: '隐私政策', sensitive: '敏感个人信息' } },
  { code: 'outbox_status', name: '订阅消息发送状态', items: { pending: '待发送', sent: '已发送', failed: '失败', skipped: '已跳过' } },
]

/** Notice events (the outbox's `event`, the subscription-template settings) in Chinese. */
export const eventNames: Record<string, string> = {
  'membership.approved': '入会申请通过', 'membership.rejected': '入会申请驳回', 'member.transferred': '会员转移组织', 'member.left': '会员退会',
  'activity.registered': '活动报名成功', 'activity.approved': '活动报名通过', 'activity.rejected': '活动报名驳回', 'activity.cancelled': '活动取消', 'activity.reminder': '活动开始提醒',
}
/** Outbox row kinds. */
export const outboxKinds: Record<string, string> = { subscribe: '订阅消息', broadcast: '群发消息', direct: '单发消息', event: '事件通知' }
/** Why an outbox row was not sent, when the server gives only the code. */
export const outboxReasons: Record<string, string> = {
  skipped_no_template: '未配置订阅消息模板', skipped_no_openid: '会员未绑定微信', skipped_no_credit: '会员未授权订阅',
  skipped_not_configured: '未配置微信小程序', unsupported_kind: '不支持的消息类型', bad_payload: '消息内容无效',
  wechat_rejected: '微信拒绝发送', max_attempts: '多次重试仍失败',
}

/** Ticket statuses: label and tag type. */
export const ticketStatus: Record<string, [string, string]> = { open: ['办理中', 'warning'], resolved: ['已办结', 'success'], closed: ['已关闭', 'info'] }
