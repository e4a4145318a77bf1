import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { UserOut } from '@/api/types'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY } from '@/stores/auth'

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
async function landing(path: string): Promise<{ name: string | undefined; fullPath: string; redirect: unknown }> {
  vi.resetModules()
  setActivePinia(createPinia())
  const { router } = await import('@/router')
  await router.push(path).catch(() => undefined)
  const route = router.currentRoute.value
  return { name: route.name as string | undefined, fullPath: route.fullPath, redirect: route.query.redirect }
}

describe('spot session routes', { timeout: 30000 }, () => {
  beforeEach(() => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"detail":"x","code":"not_found"}', { status: 404 })))
  })

  it('lets inspectors and administrators run sessions', async () => {
    loginAs('inspector')
    expect((await landing('/inspect')).name).toBe('inspect')
    expect((await landing('/inspect/new')).name).toBe('inspect-new')
    expect((await landing('/inspect/sessions/7')).name).toBe('inspect-session')
    loginAs('admin')
    expect((await landing('/inspect/sessions/7')).name).toBe('inspect-session')
  })

  it('keeps officers and unit administrators out of the inspector pages', async () => {
    loginAs('officer')
    expect((await landing('/inspect')).name).toBe('home')
    expect((await landing('/inspect/sessions/7')).name).toBe('home')
    loginAs('unit_admin')
    expect((await landing('/inspect/new')).name).not.toMatch(/^inspect/)
  })

  it('opens the join link for any logged-in user, and sends strangers to log in first and back', async () => {
    loginAs('officer')
    const officer = await landing('/spot/join?code=048213')
    expect([officer.name, officer.fullPath]).toEqual(['spot-join', '/spot/join?code=048213'])
    localStorage.clear()
    const stranger = await landing('/spot/join?code=048213')
    expect(stranger.name).toBe('login')
    expect(stranger.redirect).toBe('/spot/join?code=048213')
  })
})
