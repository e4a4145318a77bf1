import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { UserOut } from '@/api/types'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY } from '@/stores/auth'
import { canManage, canSeeStats } from '@/utils/roles'

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

async function landing(path: string): Promise<string | undefined> {
  vi.resetModules()
  setActivePinia(createPinia())
  const { router } = await import('@/router')
  await router.push(path).catch(() => undefined)
  return router.currentRoute.value.name as string | undefined
}

describe('statistics routes', { timeout: 30000 }, () => {
  beforeEach(() => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"detail":"x","code":"not_found"}', { status: 404 })))
  })

  it('lets an administrator into the dashboard, item analysis, the report and evaluations', async () => {
    loginAs('admin')
    expect(await landing('/admin/stats')).toBe('admin-stats')
    expect(await landing('/admin/stats/5?quiz_id=1')).toBe('admin-stats')
    expect(await landing('/admin/stats/quizzes/3')).toBe('admin-item-analysis')
    expect(await landing('/admin/report/5?quiz_id=1')).toBe('admin-report')
    expect(await landing('/admin/evaluations')).toBe('admin-evaluations')
  })

  it('lets a unit administrator read statistics but not edit evaluations', async () => {
    loginAs('unit_admin')
    expect(await landing('/admin/stats/5')).toBe('admin-stats')
    expect(await landing('/admin/report/5?quiz_id=1')).toBe('admin-report')
    expect(await landing('/admin/stats/quizzes/3')).toBe('admin-item-analysis')
    expect(await landing('/admin/evaluations')).toBe('admin-units')
  })

  it('opens the admin area to inspectors for the statistics only', async () => {
    loginAs('inspector')
    expect(await landing('/admin')).toBe('admin-stats')
    expect(await landing('/admin/report/5?quiz_id=1')).toBe('admin-report')
    expect(await landing('/admin/evaluations')).toBe('home')
    expect(await landing('/admin/roster')).toBe('home')
  })

  it('keeps officers out', async () => {
    loginAs('officer')
    expect(await landing('/admin/stats')).toBe('home')
    expect(await landing('/admin/report/1?quiz_id=1')).toBe('home')
  })

  it('tells who may see statistics apart from who may manage', () => {
    expect(canSeeStats('inspector')).toBe(true)
    expect(canSeeStats('unit_admin')).toBe(true)
    expect(canSeeStats('admin')).toBe(true)
    expect(canSeeStats('officer')).toBe(false)
    expect(canSeeStats(null)).toBe(false)
    expect(canManage('inspector')).toBe(false)
  })
})
