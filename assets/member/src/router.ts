// Every page path in one place: pages.json declares them, code navigates only through here,
// so a new domain (benefits, hardship aid, tickets) adds its pages in these two files.

/** Page paths, as declared in pages.json. */
export const PAGES = {
  home: '/pages/home/index',
  news: '/pages/news/list',
  newsSearch: '/pages/news/search',
  newsDetail: '/pages/news/detail',
  activities: '/pages/activities/list',
  activityDetail: '/pages/activities/detail',
  activityRegister: '/pages/activities/register',
  myActivities: '/pages/activities/mine',
  me: '/pages/me/index',
  login: '/pages/login/index',
  realname: '/pages/me/realname',
  membership: '/pages/membership/apply',
  card: '/pages/me/card',
  messages: '/pages/messages/index',
  myData: '/pages/me/data',
  // Benefits, points and the mall live in a subpackage: the mini-program downloads them on
  // first use, so the main package stays small.
  benefits: '/benefits/list',
  benefitDetail: '/benefits/detail',
  myClaims: '/benefits/mine',
  points: '/benefits/points',
  mall: '/benefits/mall',
  myOrders: '/benefits/orders',
  // Tickets (职工诉求), a subpackage too.
  tickets: '/tickets/list',
  ticketNew: '/tickets/new',
  ticketDetail: '/tickets/detail',
  // Hardship aid (帮扶申请), a subpackage too.
  aid: '/aid/list',
  aidApply: '/aid/apply',
  aidDetail: '/aid/detail',
} as const

/** A page name. */
export type Page = keyof typeof PAGES

const TABS: Page[] = ['home', 'news', 'activities', 'me']

function url(page: Page, query?: Record<string, string | number>): string {
  const q = query ? Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&') : ''
  return q ? `${PAGES[page]}?${q}` : PAGES[page]
}

/** Open a page (tab pages are switched to, others pushed). */
export function go(page: Page, query?: Record<string, string | number>) {
  if (TABS.includes(page)) uni.switchTab({ url: PAGES[page] })
  else uni.navigateTo({ url: url(page, query) })
}

/** Replace the current page. */
export function replace(page: Page, query?: Record<string, string | number>) {
  if (TABS.includes(page)) uni.switchTab({ url: PAGES[page] })
  else uni.redirectTo({ url: url(page, query) })
}

/** Back one page, or home when this page was opened directly (a deep link). */
export function back() {
  if (getCurrentPages().length > 1) uni.navigateBack({ delta: 1 })
  else uni.switchTab({ url: PAGES.home })
}

/** Send the member to sign in; they come back to `from` afterwards. */
export function toLogin(from?: string) {
  uni.navigateTo({ url: from ? `${PAGES.login}?from=${encodeURIComponent(from)}` : PAGES.login })
}
