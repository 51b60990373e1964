import { reactive, ref } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError, get } from './api'
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

export interface OrgNode { id: number; parent_id: number | null; name: string; code: string; kind: string; status: 'active' | 'disabled'; sort: number; children: OrgNode[] }
const orgCache = ref<OrgNode[]>([])
/** The org tree within the caller's scope (shared; `reload` after edits). */
export function useOrgs() {
  async function reload() {
    try { orgCache.value = await get<OrgNode[]>('/orgs') } catch (e) { showError(e) }
  }
  if (!orgCache.value.length) reload()
  return { orgs: orgCache, reload }
}

/**
 * Server field errors (`error.fields` of a 400) shown under the matching form item instead of
 * a toast: bind `:error="fe.name"` on each `el-form-item` and call `catchFields(e)` in the
 * `catch`. Errors for fields the form does not show still get a toast, so none is swallowed.
 */
export function useFieldErrors(shown?: string[]) {
  const fe = reactive<Record<string, string>>({})
  function clear() { for (const k of Object.keys(fe)) delete fe[k] }
  function catchFields(e: unknown) {
    clear()
    if (e instanceof ApiError && e.status === 400 && Object.keys(e.fields).length) {
      const keys = Object.keys(e.fields)
      const atField = shown ? keys.filter(k => shown.includes(k)) : keys
      for (const k of atField) fe[k] = e.fields[k]
      const rest = keys.filter(k => !atField.includes(k))
      // Without a list of shown fields every message is also toasted, so none can go unseen.
      if (rest.length) ElMessage.error(rest.map(k => e.fields[k]).join('；'))
      else if (!shown) ElMessage.warning(keys.map(k => e.fields[k]).join('；'))
      else ElMessage.warning('请按提示修改标红的项目')
      return
    }
    showError(e)
  }
  return { fe, clear, catchFields }
}

export type TagColor = 'primary' | 'success' | 'warning' | 'danger' | 'info'
export interface DictItem { code: string; name: string; color: TagColor; default_color: TagColor }
export interface Dictionary { code: string; name: string; builtin: boolean; managed_on: string | null; items: DictItem[] }
const dicts = ref<Dictionary[]>([])
let dictsLoading: Promise<void> | null = null
/**
 * Every dictionary with the tag colour of each item (字典管理), fetched once when the first
 * tag that needs it is shown (not on the first load after login) and shared by all lists.
 */
export function useDictionaries() {
  function reload(): Promise<void> {
    dictsLoading = get<Dictionary[]>('/dictionaries').then(d => { dicts.value = d }).catch(e => { dictsLoading = null; showError(e) })
    return dictsLoading
  }
  function ensure() { return dictsLoading || reload() }
  /** The colour of `code` in `dict`, or `fallback` until loaded or when unknown. */
  function colorOf(dict: string, code: string | null | undefined, fallback: string): string {
    const d = dicts.value.find(x => x.code === dict)
    return d?.items.find(i => i.code === code)?.color || fallback
  }
  return { dicts, reload, ensure, colorOf }
}
