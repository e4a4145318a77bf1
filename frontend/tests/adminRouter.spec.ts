import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { UserOut } from '@/api/types'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY } from '@/stores/auth'

// Vant's stylesheets (imported by the component auto-import) mean nothing to Node: skip them.
vi.mock('vant/es/button/style/index', () => ({}))
vi.mock('vant/es/icon/style/index', () => ({}))
vi.mock('vant/es/loading/style/index', () => ({}))
vi.mock('vant/es/popup/style/index', () => ({}))
vi.mock('vant/es/pull-refresh/style/index', () => ({}))
vi.mock('vant/es/tabbar/style/index', () => ({}))
vi.mock('vant/es/tabbar-item/style/index', () => ({}))
vi.mock('vant/es/toast/style/index', () => ({}))

function loginAs(role: string): void {
  const user: UserOut = {
    id: 1,
    username: 'u',
    police_number: null,
    name: '某人',
    role,
    unit_id: 1,
    unit_name: '江川市',
    must_change_password: false,
    language: 'zh-CN',
  }
  localStorage.setItem(ACCESS_KEY, 'access-1')
  localStorage.setItem(REFRESH_KEY, 'refresh-1')
  localStorage.setItem(USER_KEY, JSON.stringify(user))
}

/** Where the app's router ends up for `path` with the stored login (a fresh router each time). */
async function landing(path: string): Promise<string | undefined> {
  vi.resetModules()
  setActivePinia(createPinia())
  const { router } = await import('@/router')
  await router.push(path).catch(() => undefined)
  return router.currentRoute.value.name as string | undefined
}

// The first navigation compiles every lazily loaded admin page: give it time.
describe('admin area guard', { timeout: 30000 }, () => {
  beforeEach(() => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"detail":"x","code":"not_found"}', { status: 404 })))
  })

  it('lets an administrator into every admin page', async () => {
    loginAs('admin')
    expect(await landing('/admin')).toBe('admin-bank')
    expect(await landing('/admin/bank/import')).toBe('admin-bank-import')
    expect(await landing('/admin/questions/5')).toBe('admin-question')
    expect(await landing('/admin/roster')).toBe('admin-roster')
    expect(await landing('/admin/units')).toBe('admin-units')
    expect(await landing('/admin/imports/3')).toBe('admin-import')
  })

  it('keeps a unit administrator to the roster, units and imports', async () => {
    loginAs('unit_admin')
    expect(await landing('/admin')).toBe('admin-units')
    expect(await landing('/admin/roster')).toBe('admin-roster')
    expect(await landing('/admin/imports')).toBe('admin-imports')
    expect(await landing('/admin/bank')).toBe('admin-units')
    expect(await landing('/admin/questions/5')).toBe('admin-units')
  })

  it('sends officers and inspectors home, and strangers to the login', async () => {
    loginAs('officer')
    expect(await landing('/admin/roster')).toBe('home')
    expect(await landing('/admin')).toBe('home')
    loginAs('inspector')
    expect(await landing('/admin/units')).toBe('home')
    localStorage.clear()
    expect(await landing('/admin/bank')).toBe('login')
  })
})
