import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import Layout from './Layout.vue'

const p = (f: () => Promise<any>) => f
const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: p(() => import('./pages/Login.vue')), meta: { title: '登录', public: true } },
  { path: '/change-password', name: 'change-password', component: p(() => import('./pages/ChangePassword.vue')), meta: { title: '修改密码' } },
  { path: '/activities/:id/checkin', name: 'checkin', component: p(() => import('./pages/CheckinScreen.vue')), meta: { title: '签到二维码', perm: 'activity:checkin' } },
  {
    path: '/', component: Layout, redirect: '/dashboard', children: [
      { path: 'dashboard', component: p(() => import('./pages/Dashboard.vue')), meta: { title: '工作台' } },
      { path: 'members', component: p(() => import('./pages/Members.vue')), meta: { title: '会员列表', group: '会员管理', perm: 'member:read' } },
      { path: 'members/applications', component: p(() => import('./pages/Applications.vue')), meta: { title: '入会审核', group: '会员管理', perm: 'member:review' } },
      { path: 'members/import', component: p(() => import('./pages/MemberImport.vue')), meta: { title: '批量导入', group: '会员管理', perm: 'member:import' } },
      { path: 'members/verify', component: p(() => import('./pages/VerifyCard.vue')), meta: { title: '会员证核验', group: '会员管理', perm: 'member:read' } },
      { path: 'members/:id(\\d+)', component: p(() => import('./pages/MemberDetail.vue')), meta: { title: '会员详情', group: '会员管理', perm: 'member:read' } },
      { path: 'activities', component: p(() => import('./pages/Activities.vue')), meta: { title: '活动列表', group: '活动管理', perm: 'activity:read' } },
      { path: 'activities/templates', component: p(() => import('./pages/FormTemplates.vue')), meta: { title: '报名表单模板', group: '活动管理', perm: 'activity:read' } },
      { path: 'activities/:id(\\d+)/registrations', component: p(() => import('./pages/Registrations.vue')), meta: { title: '报名管理', group: '活动管理', perm: 'activity:read' } },
      { path: 'activities/:id(\\d+)/stats', component: p(() => import('./pages/ActivityStats.vue')), meta: { title: '活动统计', group: '活动管理', perm: 'activity:read' } },
      { path: 'benefits', component: p(() => import('./pages/Benefits.vue')), meta: { title: '权益管理', group: '权益与积分', perm: 'benefit:read' } },
      { path: 'benefits/:id(\\d+)/claims', component: p(() => import('./pages/BenefitClaims.vue')), meta: { title: '领取记录', group: '权益与积分', perm: 'benefit:read' } },
      { path: 'tickets', component: p(() => import('./pages/Tickets.vue')), meta: { title: '职工诉求', group: '互动', perm: 'ticket:read' } },
      { path: 'tickets/stats', component: p(() => import('./pages/TicketStats.vue')), meta: { title: '诉求统计', group: '互动', perm: 'ticket:read' } },
      { path: 'tickets/:id(\\d+)', component: p(() => import('./pages/TicketDetail.vue')), meta: { title: '诉求办理', group: '互动', perm: 'ticket:read' } },
      { path: 'tickets/categories', component: p(() => import('./pages/TicketCategories.vue')), meta: { title: '诉求分类', group: '互动', perm: 'ticket:category' } },
      { path: 'safety/moderation', component: p(() => import('./pages/Moderation.vue')), meta: { title: '内容审核', group: '互动', perm: 'safety:manage' } },
      { path: 'safety/words', component: p(() => import('./pages/SensitiveWords.vue')), meta: { title: '敏感词库', group: '互动', perm: 'safety:manage' } },
      { path: 'mall', component: p(() => import('./pages/Mall.vue')), meta: { title: '积分商城', group: '权益与积分', perm: 'benefit:read' } },
      { path: 'aid', component: p(() => import('./pages/AidApplications.vue')), meta: { title: '帮扶审批', group: '帮扶服务', perm: 'aid:read' } },
      { path: 'aid/proxy', component: p(() => import('./pages/AidProxy.vue')), meta: { title: '代申请', group: '帮扶服务', perm: 'aid:write' } },
      { path: 'aid/register', component: p(() => import('./pages/AidRegister.vue')), meta: { title: '困难职工档案', group: '帮扶服务', perm: 'aid:read' } },
      { path: 'aid/stats', component: p(() => import('./pages/AidStats.vue')), meta: { title: '帮扶统计', group: '帮扶服务', perm: 'aid:read' } },
      { path: 'aid/types', component: p(() => import('./pages/AidTypes.vue')), meta: { title: '帮扶类型与流程', group: '帮扶服务', perm: 'aid:type', shared: true } },
      { path: 'news', component: p(() => import('./pages/News.vue')), meta: { title: '资讯管理', group: '资讯消息', perm: 'news:read' } },
      { path: 'news/edit/:id?', component: p(() => import('./pages/NewsEditor.vue')), meta: { title: '编辑资讯', group: '资讯消息', perm: 'news:write' } },
      { path: 'news/categories', component: p(() => import('./pages/NewsCategories.vue')), meta: { title: '资讯栏目', group: '资讯消息', perm: 'news:read' } },
      { path: 'messages', component: p(() => import('./pages/Messages.vue')), meta: { title: '站内消息', group: '资讯消息', perm: 'message:read' } },
      { path: 'outbox', component: p(() => import('./pages/Outbox.vue')), meta: { title: '订阅消息发送记录', group: '资讯消息', perm: 'message:read' } },
      { path: 'stats', component: p(() => import('./pages/Stats.vue')), meta: { title: '数据统计', group: '数据统计', perm: 'stats:read' } },
      { path: 'system/orgs', component: p(() => import('./pages/Orgs.vue')), meta: { title: '组织机构', group: '系统管理', perm: 'org:read' } },
      { path: 'system/accounts', component: p(() => import('./pages/Accounts.vue')), meta: { title: '管理员账号', group: '系统管理', perm: 'account:read' } },
      { path: 'system/roles', component: p(() => import('./pages/Roles.vue')), meta: { title: '角色权限', group: '系统管理', perm: 'role:read' } },
      { path: 'system/audit', component: p(() => import('./pages/AuditLogs.vue')), meta: { title: '操作日志', group: '系统管理', perm: 'audit:read' } },
      { path: 'system/login-logs', component: p(() => import('./pages/LoginLogs.vue')), meta: { title: '登录日志', group: '系统管理', perm: 'loginlog:read' } },
      { path: 'system/backups', component: p(() => import('./pages/Backups.vue')), meta: { title: '数据备份', group: '系统管理', perm: 'backup:manage' } },
      { path: 'system/settings', component: p(() => import('./pages/Settings.vue')), meta: { title: '订阅消息模板', group: '系统管理', perm: 'setting:read' } },
      { path: 'system/sessions', component: p(() => import('./pages/Sessions.vue')), meta: { title: '在线会话', group: '系统管理', perm: 'account:read' } },
      { path: 'system/dictionaries', component: p(() => import('./pages/Dictionaries.vue')), meta: { title: '字典管理', group: '系统管理' } },
      { path: 'system/config', component: p(() => import('./pages/ConfigView.vue')), meta: { title: '参数设置', group: '系统管理', perm: 'setting:read', shared: true } },
      { path: 'system/diag', component: p(() => import('./pages/Diag.vue')), meta: { title: '系统诊断', group: '系统管理', perm: 'setting:read', shared: true } },
      { path: 'profile', component: p(() => import('./pages/Profile.vue')), meta: { title: '个人中心' } },
      { path: ':rest(.*)*', component: p(() => import('./pages/NotFound.vue')), meta: { title: '页面不存在' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory('/admin/'), routes })

router.beforeEach(async (to) => {
  document.title = `${to.meta.title || ''} - 工会管理后台`
  if (to.meta.public) return true
  const { useAuth } = await import('./stores')
  const auth = useAuth()
  let me = null
  try { me = await auth.load() } catch { me = null }
  if (!me) return { name: 'login', query: { redirect: to.fullPath } }
  if (me.must_change_password && to.name !== 'change-password') return { name: 'change-password', query: { redirect: to.fullPath } }
  if (to.meta.perm && !auth.can(to.meta.perm as string)) return { path: '/dashboard' }
  if (to.meta.shared && !auth.canShared(to.meta.perm as string)) return { path: '/dashboard' }
  return true
})
