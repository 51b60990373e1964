// The left menu: each item needs a permission code, as `/me` reports them (no OpenAPI lookup).
// `shared`: the permission must cover the whole org tree (installation-wide pages).
export interface MenuItem { path: string; title: string; perm?: string; shared?: boolean }
export interface MenuGroup { title: string; icon: string; items: MenuItem[] }

export const menu: MenuGroup[] = [
  { title: '工作台', icon: 'Odometer', items: [{ path: '/dashboard', title: '工作台' }] },
  { title: '会员管理', icon: 'User', items: [
    { path: '/members', title: '会员列表', perm: 'member:read' },
    { path: '/members/applications', title: '入会审核', perm: 'member:review' },
    { path: '/members/import', title: '批量导入', perm: 'member:import' },
    { path: '/members/verify', title: '会员证核验', perm: 'member:read' },
  ] },
  { title: '活动管理', icon: 'Calendar', items: [
    { path: '/activities', title: '活动列表', perm: 'activity:read' },
    { path: '/activities/templates', title: '报名表单模板', perm: 'activity:read' },
  ] },
  { title: '权益与积分', icon: 'Present', items: [
    { path: '/benefits', title: '权益管理', perm: 'benefit:read' },
    { path: '/mall', title: '积分商城', perm: 'benefit:read' },
  ] },
  { title: '帮扶服务', icon: 'Promotion', items: [
    { path: '/aid', title: '帮扶审批', perm: 'aid:read' },
    { path: '/aid/proxy', title: '代申请', perm: 'aid:write' },
    { path: '/aid/register', title: '困难职工档案', perm: 'aid:read' },
    { path: '/aid/stats', title: '帮扶统计', perm: 'aid:read' },
    { path: '/aid/types', title: '帮扶类型与流程', perm: 'aid:type', shared: true },
  ] },
  { title: '互动', icon: 'ChatDotRound', items: [
    { path: '/tickets', title: '职工诉求', perm: 'ticket:read' },
    { path: '/tickets/stats', title: '诉求统计', perm: 'ticket:read' },
    { path: '/tickets/categories', title: '诉求分类', perm: 'ticket:category' },
    { path: '/safety/moderation', title: '内容审核', perm: 'safety:manage' },
    { path: '/safety/words', title: '敏感词库', perm: 'safety:manage' },
  ] },
  { title: '资讯消息', icon: 'Reading', items: [
    { path: '/news', title: '资讯管理', perm: 'news:read' },
    { path: '/news/categories', title: '资讯栏目', perm: 'news:read' },
    { path: '/messages', title: '站内消息', perm: 'message:read' },
    { path: '/outbox', title: '订阅消息发送记录', perm: 'message:read' },
  ] },
  { title: '数据统计', icon: 'Odometer', items: [{ path: '/stats', title: '数据统计', perm: 'stats:read' }] },
  { title: '系统管理', icon: 'Setting', items: [
    { path: '/system/orgs', title: '组织机构', perm: 'org:read' },
    { path: '/system/accounts', title: '管理员账号', perm: 'account:read' },
    { path: '/system/roles', title: '角色权限', perm: 'role:read' },
    { path: '/system/audit', title: '操作日志', perm: 'audit:read' },
    { path: '/system/login-logs', title: '登录日志', perm: 'loginlog:read' },
    { path: '/system/settings', title: '订阅消息模板', perm: 'setting:read' },
    { path: '/system/backups', title: '数据备份', perm: 'backup:manage' },
    { path: '/system/sessions', title: '在线会话', perm: 'account:read' },
    { path: '/system/dictionaries', title: '字典管理' },
    { path: '/system/config', title: '参数设置', perm: 'setting:read', shared: true },
    { path: '/system/diag', title: '系统诊断', perm: 'setting:read', shared: true },
  ] },
]
