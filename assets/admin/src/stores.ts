import { defineStore } from 'pinia'
import { get, post, tokens } from './api'

/** Effective data scope of one permission, as `/me` reports it. */
export interface ScopeOut { kind: 'all' | 'limited'; org_ids: number[]; subtree_org_ids: number[]; own: boolean }
export interface Me { id: number; username: string; name: string; org_id: number; org_name: string; roles: { id: number; name: string }[]; permissions: string[]; must_change_password: boolean; scopes: Record<string, ScopeOut>; whole_tree: string[] }

export const useAuth = defineStore('auth', {
  state: () => ({ me: null as Me | null }),
  getters: {
    can: (s) => (code?: string) => !code || !!s.me?.permissions.includes(code),
    /** True when `code` is held over the whole org tree: what changing shared settings needs. */
    canShared: (s) => (code: string) => !!s.me?.whole_tree?.includes(code),
  },
  actions: {
    async login(username: string, password: string) {
      const d = await post('/auth/login', { username, password })
      tokens.set(d.access_token, d.refresh_token)
      this.me = { ...d.admin, must_change_password: d.must_change_password }
      return d.must_change_password as boolean
    },
    async load() {
      if (!tokens.access && !tokens.refresh) return null
      if (!this.me) this.me = await get<Me>('/me')
      return this.me
    },
    async logout() {
      try { await post('/auth/logout') } catch { /* token may already be gone */ }
      tokens.clear()
      this.me = null
    },
  },
})
