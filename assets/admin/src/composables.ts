import { reactive, ref } from 'vue'
import { get } from './api'
import { showError } from './util'

/** A paginated list: `{items,total,page,page_size}` from `path` with the filter in `query`. */
export function useList<T = any>(path: string, query: Record<string, any> = {}) {
  const items = ref<T[]>([])
  const total = ref(0)
  const loading = ref(false)
  const page = ref(1)
  const pageSize = ref(20)
  const q = reactive({ ...query })
  async function load() {
    loading.value = true
    try {
      const d = await get(path, { ...q, page: page.value, page_size: pageSize.value })
      items.value = d.items
      total.value = d.total
    } catch (e) { showError(e) } finally { loading.value = false }
  }
  function search() { page.value = 1; load() }
  function reset() { for (const k of Object.keys(q)) q[k] = query[k]; search() }
  return { items, total, loading, page, pageSize, q, load, search, reset }
}

export interface OrgNode { id: number; parent_id: number | null; name: string; code: string; kind: string; children: OrgNode[] }
const orgCache = ref<OrgNode[]>([])
/** The org tree within the caller's scope (shared; `reload` after edits). */
export function useOrgs() {
  async function reload() {
    try { orgCache.value = await get<OrgNode[]>('/orgs') } catch (e) { showError(e) }
  }
  if (!orgCache.value.length) reload()
  return { orgs: orgCache, reload }
}
