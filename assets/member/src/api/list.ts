// Endless lists paged by cursor: the member lists answer `{items, next_cursor}` and never count
// rows, so the client asks for the next slice until `next_cursor` is null.
import { onPullDownRefresh, onReachBottom } from '@dcloudio/uni-app'
import { reactive } from 'vue'
import { get, showError } from './client'

/** One cursor slice as the API answers it. */
export interface Slice<T> {
  items: T[]
  next_cursor: string | null
}

/** State of an endless list. */
export interface CursorList<T> {
  items: T[]
  loading: boolean
  done: boolean
  loaded: boolean
  error: string
  /** Start over (pull-down refresh, changed filter). */
  reload: () => Promise<void>
  /** Fetch the next slice unless one is loading or the list is done. */
  more: () => Promise<void>
}

/** A list over `path` with extra query values from `query()` (read at each fetch). */
export function cursorList<T>(path: string, query: () => Record<string, string | number | undefined> = () => ({})): CursorList<T> {
  let cursor: string | null = null
  let generation = 0
  const list = reactive({
    items: [] as T[],
    loading: false,
    done: false,
    loaded: false,
    error: '',
    async reload() {
      generation++
      cursor = null
      list.items = []
      list.done = false
      list.loaded = false
      list.loading = false
      await list.more()
    },
    async more() {
      if (list.loading || list.done) return
      const gen = generation
      list.loading = true
      list.error = ''
      try {
        const s = await get<Slice<T>>(path, { ...query(), cursor: cursor ?? undefined })
        if (gen !== generation) return
        ;(list.items as T[]).push(...s.items)
        cursor = s.next_cursor
        list.done = !s.next_cursor
      } catch (e: any) {
        if (gen !== generation) return
        list.error = e?.message || '加载失败'
        showError(e)
      } finally {
        if (gen === generation) {
          list.loading = false
          list.loaded = true
        }
      }
    },
  })
  return list as CursorList<T>
}

/** Wires a list page's scroll-to-bottom (next slice) and pull-down refresh to `list`; call it
 *  in the page's setup. `refresh` replaces `list.reload()` where the page refreshes more. */
export function pageEvents(list: CursorList<unknown>, refresh: () => Promise<unknown> = () => list.reload()) {
  onReachBottom(() => list.more())
  onPullDownRefresh(async () => {
    await refresh()
    uni.stopPullDownRefresh()
  })
}
