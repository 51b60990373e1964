// Subscription-message opt-in, asked at the moments that matter (after registering, after
// applying for membership). WeChat shows its own prompt; H5 has none and skips quietly.
import { get, post } from './api/client'
import { platform } from './platform'

let cache: Record<string, string> | null = null

/** Ask the member to accept the templates configured for `events` (at most 3, WeChat's limit). */
export async function askSubscribe(events: string[]): Promise<void> {
  if (!platform.isWechat) return
  try {
    if (!cache) {
      const d = await get<{ items: { event: string; template_id: string }[] }>('/subscriptions/templates')
      cache = Object.fromEntries(d.items.map(t => [t.event, t.template_id]))
    }
    const ids = [...new Set(events.map(e => cache![e]).filter(Boolean))].slice(0, 3)
    if (!ids.length) return
    const accepted = await platform.subscribe(ids)
    if (accepted.length) await post('/subscriptions', { template_ids: accepted })
  } catch {
    // Declining or a failed prompt must never spoil the action the member just completed.
  }
}
