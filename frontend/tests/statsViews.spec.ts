import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import type { VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Router } from 'vue-router'
import { defineComponent } from 'vue'
import type { Component } from 'vue'
import { i18n, setI18nLanguage } from '@/locales'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY } from '@/stores/auth'
import type { UserOut } from '@/api/types'
import type { UnitReport } from '@/api/stats'
import StatsDashboardView from '@/views/admin/StatsDashboardView.vue'
import UnitReportView from '@/views/admin/UnitReportView.vue'
import EvaluationsView from '@/views/admin/EvaluationsView.vue'
import ItemAnalysisView from '@/views/admin/ItemAnalysisView.vue'
import { apiError, FakeServer, json, settle } from './fakeServer'
import { analysis, cityReport, county1, evaluation, figures, trendPoints, units } from './statsFixtures'

vi.mock('vant/es/button/style/index', () => ({}))
vi.mock('vant/es/loading/style/index', () => ({}))
vi.mock('vant/es/icon/style/index', () => ({}))
vi.mock('vant/es/toast/style/index', () => ({}))

// ECharts needs a real canvas: a stand-in records each chart and reports "finished" like ECharts.
interface FakeChart {
  options: unknown[]
  renderer: string | undefined
  width: number | undefined
  disposed: boolean
}
const charts: FakeChart[] = []
vi.mock('@/components/admin/stats/loadECharts', () => ({
  loadECharts: async () => (_el: HTMLElement, _theme: unknown, opts: { renderer?: string; width?: number }) => {
    const handlers: Record<string, () => void> = {}
    const chart: FakeChart = { options: [], renderer: opts.renderer, width: opts.width, disposed: false }
    charts.push(chart)
    return {
      on: (event: string, handler: () => void) => (handlers[event] = handler),
      setOption: (option: unknown) => {
        chart.options.push(option)
        setTimeout(() => handlers.finished && handlers.finished(), 0)
      },
      resize: () => undefined,
      dispose: () => (chart.disposed = true),
    }
  },
}))

function user(role: string, unitId = 1): UserOut {
  return {
    id: 1,
    username: 'u',
    police_number: null,
    name: '某人',
    role,
    unit_id: unitId,
    unit_name: '江川市',
    must_change_password: false,
    language: 'zh-CN',
  }
}

const Blank = defineComponent({ template: '<div />' })

function makeRouter(): Router {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/admin/stats/:unitId(\\d+)?', name: 'admin-stats', component: StatsDashboardView },
      { path: '/admin/stats/quizzes/:quizId(\\d+)', name: 'admin-item-analysis', component: ItemAnalysisView },
      { path: '/admin/report/:unitId(\\d+)', name: 'admin-report', component: UnitReportView },
      { path: '/admin/evaluations', name: 'admin-evaluations', component: EvaluationsView },
      { path: '/admin/questions/:questionId(\\d+)', name: 'admin-question', component: Blank },
    ],
  })
}

/** The page at `path` (the router picks the view; `view` names it for the reader). */
async function mountAt(pinia: Pinia, view: Component, path: string): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = makeRouter()
  await router.push(path)
  await router.isReady()
  expect(router.currentRoute.value.matched[0]!.components!.default).toBe(view)
  const App = defineComponent({ template: '<router-view />' })
  const wrapper = mount(App, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
  await settle(40)
  return { wrapper, router }
}

const byTestId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)

/** A report for any unit: the city's, or a county's (its own officers, no children). */
function reportFor(unitId: number, extra: Partial<UnitReport> = {}): UnitReport {
  if (unitId === 2) {
    return cityReport({
      unit: { id: 2, name: '东川县', full_name: '江川市/东川县' },
      summary: county1,
      own: figures({ unit_id: 2, name: '东川县' }),
      children: [figures({ unit_id: 4, name: '东川县人民法院' })],
      ...extra,
    })
  }
  return cityReport(extra)
}

function statsServer(): FakeServer {
  const fake = new FakeServer()
  fake.on('GET', /^\/units$/, () => json(units))
  fake.on('GET', /^\/quizzes$/, () =>
    json([
      { id: 12, title: '草稿测试', status: 'draft', opens_at: null, closes_at: null, published_at: null },
      { id: 11, title: '应知应会第一次测试', status: 'published', opens_at: null, closes_at: null, published_at: null },
    ]),
  )
  fake.on('GET', /^\/evaluations$/, () => json([evaluation]))
  fake.on('GET', /^\/stats\/units\/(\d+)\/report\?/, (c) => json(reportFor(Number(/units\/(\d+)/.exec(c.path)![1]))))
  fake.on('GET', /^\/stats\/units\/\d+\/trend\?/, () => json(trendPoints))
  fake.on('GET', /^\/stats\/quizzes\/11\/item-analysis\?/, () => json(analysis))
  fake.install()
  return fake
}

describe('statistics pages', { timeout: 20000 }, () => {
  let pinia: Pinia
  let wrapper: VueWrapper | null = null

  function loginAs(role: string, unitId = 1): void {
    localStorage.setItem(ACCESS_KEY, 'access-1')
    localStorage.setItem(REFRESH_KEY, 'refresh-1')
    localStorage.setItem(USER_KEY, JSON.stringify(user(role, unitId)))
    pinia = createPinia()
    setActivePinia(pinia)
  }

  beforeEach(async () => {
    charts.length = 0
    loginAs('admin')
    await setI18nLanguage('zh-CN')
  })

  afterEach(() => {
    if (wrapper) wrapper.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it("shows the caller's unit over the selection: the summary, each unit row, the charts' data", async () => {
    const fake = statsServer()
    wrapper = (await mountAt(pinia, StatsDashboardView, '/admin/stats?quiz_id=11')).wrapper
    expect(fake.callsTo('GET', /^\/stats\/units\/1\/report\?quiz_id=11&attempts=first$/)).toHaveLength(1)
    expect(fake.callsTo('GET', /^\/stats\/units\/1\/trend\?quiz_id=11&attempts=first&bucket=day$/)).toHaveLength(1)
    expect(byTestId(wrapper, 'stats-unit-name').text()).toBe('江川市')
    expect(byTestId(wrapper, 'stats-summary-participation').text()).toContain('70.0%')
    expect(byTestId(wrapper, 'stats-summary-mean').text()).toContain('78.8%')
    expect(byTestId(wrapper, 'stats-summary-pass-rate').text()).toContain('92.9%')
    expect(byTestId(wrapper, 'stats-summary-roster').attributes('data-value')).toBe('40')
    // Own officers first, then each county; small samples marked, never hidden.
    const rows = wrapper.findAll('[data-testid^="stats-unit-row-"]').map((r) => r.attributes('data-testid'))
    expect(rows).toEqual(['stats-unit-row-own', 'stats-unit-row-2', 'stats-unit-row-3', 'stats-unit-row-total'])
    const east = byTestId(wrapper, 'stats-unit-row-2')
    expect(east.text()).toContain('66.7%')
    expect(east.text()).toContain('81.3%')
    expect(east.find('[data-testid="stats-small-sample"]').exists()).toBe(false)
    const west = byTestId(wrapper, 'stats-unit-row-3')
    expect(west.find('[data-testid="stats-small-sample"]').exists()).toBe(true)
    expect(west.find('[data-testid="stats-cell-participation"]').text()).toBe('—')
    expect(byTestId(wrapper, 'stats-unit-row-own').text()).toContain('江川市（本级）')
    // The charts got the same figures (canvas on screen).
    const bars = charts.find((c) => JSON.stringify(c.options).indexOf('参与率') >= 0)!
    expect(bars.renderer).toBe('canvas')
    expect(JSON.stringify(bars.options[0])).toContain('[80,66.7,null]')
    // No targets without an evaluation; spot sessions said to be none.
    expect(wrapper.find('[data-testid="stats-summary-targets"]').exists()).toBe(false)
    expect(byTestId(wrapper, 'stats-spot-sessions-empty').text()).toContain('无现场抽查记录')
    expect(byTestId(wrapper, 'stats-person-900').text()).toContain('周八')
    // Weakest questions lead administrators to the bank.
    expect(byTestId(wrapper, 'stats-weak-link-501').attributes('href')).toBe('/admin/questions/501')
  })

  it('drills down into a child unit and back up through the breadcrumb, keeping the selection', async () => {
    const fake = statsServer()
    const mounted = await mountAt(pinia, StatsDashboardView, '/admin/stats?quiz_id=11&attempts=best')
    wrapper = mounted.wrapper
    expect(byTestId(wrapper, 'stats-breadcrumb').text()).toBe('江川市')
    await byTestId(wrapper, 'stats-drill-2').trigger('click')
    await settle(40)
    expect(mounted.router.currentRoute.value.fullPath).toBe('/admin/stats/2?quiz_id=11&attempts=best')
    expect(fake.callsTo('GET', /^\/stats\/units\/2\/report\?quiz_id=11&attempts=best$/)).toHaveLength(1)
    expect(byTestId(wrapper, 'stats-unit-name').text()).toBe('江川市/东川县')
    expect(byTestId(wrapper, 'stats-breadcrumb').text().replace(/\s+/g, '')).toBe('江川市›东川县')
    expect(byTestId(wrapper, 'stats-unit-row-4').exists()).toBe(true)
    await byTestId(wrapper, 'stats-crumb-1').trigger('click')
    await settle(40)
    expect(mounted.router.currentRoute.value.fullPath).toBe('/admin/stats/1?quiz_id=11&attempts=best')
    expect(byTestId(wrapper, 'stats-unit-row-3').exists()).toBe(true)
  })

  it('starts a unit admin at their own unit, the breadcrumb from there', async () => {
    loginAs('unit_admin', 2)
    const fake = statsServer()
    fake.on('GET', /^\/units$/, () => json(units.filter((u) => u.id === 2 || u.id === 4)))
    wrapper = (await mountAt(pinia, StatsDashboardView, '/admin/stats?quiz_id=11')).wrapper
    expect(fake.callsTo('GET', /^\/stats\/units\/2\/report/)).toHaveLength(1)
    expect(fake.callsTo('GET', /^\/stats\/units\/1\//)).toHaveLength(0)
    expect(byTestId(wrapper, 'stats-breadcrumb').text()).toBe('东川县')
    // Not an administrator: the weakest questions are not links to the bank.
    expect(wrapper.find('[data-testid="stats-weak-link-501"]').exists()).toBe(false)
  })

  it("says so when the unit is outside the caller's subtree (404), showing no figures", async () => {
    const fake = statsServer()
    fake.on('GET', /^\/stats\/units\/9\/report/, () => apiError(404, 'unit_not_found'))
    wrapper = (await mountAt(pinia, StatsDashboardView, '/admin/stats/9?quiz_id=11')).wrapper
    const error = byTestId(wrapper, 'stats-error')
    expect(error.attributes('data-code')).toBe('unit_not_found')
    expect(error.text()).toContain('不在您的管辖范围内')
    expect(wrapper.find('[data-testid="stats-summary-participation"]').exists()).toBe(false)
  })

  it('chooses the newest quiz that is not a draft when the address has no selection', async () => {
    const fake = statsServer()
    const mounted = await mountAt(pinia, StatsDashboardView, '/admin/stats')
    wrapper = mounted.wrapper
    expect(mounted.router.currentRoute.value.query).toEqual({ quiz_id: ['11'] })
    expect(fake.callsTo('GET', /^\/stats\/units\/1\/report\?quiz_id=11&attempts=first$/)).toHaveLength(1)
  })

  it('applies a selection from the bar: several quizzes, dates in order, another attempt rule', async () => {
    const fake = statsServer()
    const mounted = await mountAt(pinia, StatsDashboardView, '/admin/stats?quiz_id=11')
    wrapper = mounted.wrapper
    await byTestId(wrapper, 'stats-quiz-12').setValue(true)
    await byTestId(wrapper, 'stats-from').setValue('2026-11-30')
    await byTestId(wrapper, 'stats-to').setValue('2026-11-01')
    await byTestId(wrapper, 'stats-attempts-last').trigger('click')
    await byTestId(wrapper, 'stats-selection').trigger('submit')
    await settle(40)
    expect(mounted.router.currentRoute.value.query).toEqual({
      quiz_id: ['11', '12'],
      from: '2026-11-01',
      to: '2026-11-30',
      attempts: 'last',
    })
    expect(
      fake.callsTo('GET', /^\/stats\/units\/1\/report\?quiz_id=11&quiz_id=12&from=2026-11-01&to=2026-11-30&attempts=last$/),
    ).toHaveLength(1)
  })

  it('refuses an empty selection in the bar without asking the server', async () => {
    const fake = statsServer()
    wrapper = (await mountAt(pinia, StatsDashboardView, '/admin/stats?quiz_id=11')).wrapper
    await byTestId(wrapper, 'stats-clear').trigger('click')
    await byTestId(wrapper, 'stats-selection').trigger('submit')
    await settle()
    expect(byTestId(wrapper, 'stats-selection-problem').text()).toContain('请至少选择')
    expect(fake.callsTo('GET', /report/)).toHaveLength(1)
  })

  it("shows met / not met per unit with an evaluation's targets", async () => {
    const fake = statsServer()
    const met = { met: true, checks: [{ name: 'participation' as const, threshold: 60, value: 66.7, met: true }] }
    const unmet = { met: false, checks: [{ name: 'participation' as const, threshold: 90, value: 70, met: false }] }
    fake.on('GET', /^\/stats\/units\/1\/report\?evaluation_id=4$/, () =>
      json(
        cityReport({
          evaluation: { id: 4, name: evaluation.name, min_participation_percent: 90, min_pass_rate_percent: 80, min_mean_percent: null },
          summary: { ...cityReport().summary, targets: unmet },
          children: [{ ...county1, targets: met }],
        }),
      ),
    )
    wrapper = (await mountAt(pinia, StatsDashboardView, '/admin/stats?evaluation_id=4')).wrapper
    const summary = byTestId(wrapper, 'stats-summary-targets')
    expect(summary.attributes('data-met')).toBe('false')
    expect(summary.text()).toContain('未达标')
    expect(summary.text()).toContain('参与率 要求 ≥ 90.0%，实际 70.0%')
    expect(byTestId(wrapper, 'stats-unit-row-2').text()).toContain('达标')
  })

  it('renders the A4 report with SVG charts at paper width, then lets it print', async () => {
    const fake = statsServer()
    const print = vi.fn()
    vi.stubGlobal('print', print)
    wrapper = (await mountAt(pinia, UnitReportView, '/admin/report/1?quiz_id=11')).wrapper
    await settle(40)
    expect(byTestId(wrapper, 'report-title').text()).toBe('江川市应知应会测试评估验收报告')
    expect(byTestId(wrapper, 'report-scope').text()).toContain('江川市（含下级单位）')
    expect(byTestId(wrapper, 'report-summary-participation').text()).toContain('70.0%')
    expect(byTestId(wrapper, 'report-spot-sessions-empty').text()).toContain('无现场抽查记录')
    expect(byTestId(wrapper, 'report-signatures').text()).toContain('评估验收组（签字）')
    // One quiz: its item analysis for this unit and attempt rule; flagged questions listed.
    expect(fake.callsTo('GET', /^\/stats\/quizzes\/11\/item-analysis\?attempts=first&unit_id=1$/)).toHaveLength(1)
    const flagged = byTestId(wrapper, 'report-flagged').text()
    expect(flagged).toContain('最难的一道题')
    expect(flagged).toContain('最容易的一道题')
    expect(flagged).not.toContain('正常的一道题')
    expect(charts).toHaveLength(2)
    for (const chart of charts) {
      expect(chart.renderer).toBe('svg')
      expect(chart.width).toBe(680)
      expect((chart.options[0] as { animation: boolean }).animation).toBe(false)
    }
    expect(byTestId(wrapper, 'report-page').attributes('data-ready')).toBe('true')
    await byTestId(wrapper, 'report-print').trigger('click')
    expect(print).toHaveBeenCalledTimes(1)
  })

  it('says in the report that item analysis needs a single quiz, and lists spot sessions apart', async () => {
    const fake = statsServer()
    const spot = {
      kind: 'spot_session',
      label: '现场抽查',
      id: 3,
      title: '东川县法院现场抽查',
      unit: '东川县人民法院',
      mode: 'oral',
      status: 'closed',
      drawn_at: '2026-11-20T02:00:00Z',
      closed_at: null,
      participants: 5,
      joined: 5,
      scored: 0,
      mean_percent: null,
      oral: { correct: 3, wrong: 2 },
    }
    fake.on('GET', /^\/stats\/units\/1\/report\?from=/, () =>
      json(cityReport({ selection: { ...cityReport().selection, quiz_ids: [11, 12] }, spot_sessions: [spot] })),
    )
    wrapper = (await mountAt(pinia, UnitReportView, '/admin/report/1?from=2026-11-01')).wrapper
    expect(byTestId(wrapper, 'report-items').text()).toContain('单个测试')
    expect(fake.callsTo('GET', /item-analysis/)).toHaveLength(0)
    const sessions = byTestId(wrapper, 'report-spot-sessions')
    expect(sessions.attributes('data-count')).toBe('1')
    expect(byTestId(wrapper, 'spot-session-3').text()).toContain('答对 3、答错 2')
    expect(byTestId(wrapper, 'report-page').attributes('data-ready')).toBe('true')
  })

  it('shows the item analysis with flagged questions highlighted and linked to the bank', async () => {
    const fake = statsServer()
    fake.on('GET', /^\/stats\/quizzes\/11\/item-analysis\?/, () => json(analysis))
    wrapper = (await mountAt(pinia, ItemAnalysisView, '/admin/stats/quizzes/11?unit_id=1&attempts=best')).wrapper
    expect(fake.callsTo('GET', /^\/stats\/quizzes\/11\/item-analysis\?attempts=best&unit_id=1$/)).toHaveLength(1)
    expect(byTestId(wrapper, 'item-analysis-test-cic').text()).toContain('71.2%')
    expect(byTestId(wrapper, 'item-analysis-test-skewness').text()).toContain('-0.400')
    const hard = byTestId(wrapper, 'item-analysis-q-501')
    expect(hard.attributes('data-flags')).toBe('too_hard not_discriminating')
    expect(hard.classes()).toContain('st-row-too_hard')
    expect(hard.text()).toContain('过难')
    expect(hard.text()).toContain('区分度低')
    expect(byTestId(wrapper, 'item-analysis-link-501').attributes('href')).toBe('/admin/questions/501')
    expect(byTestId(wrapper, 'item-analysis-q-503').classes().filter((c) => c.startsWith('st-row-'))).toEqual([])
    await byTestId(wrapper, 'item-analysis-flagged-only').setValue(true)
    expect(wrapper.find('[data-testid="item-analysis-q-503"]').exists()).toBe(false)
  })

  it('creates an evaluation and edits its thresholds', async () => {
    const fake = statsServer()
    fake.on('POST', /^\/evaluations$/, (c) => json({ ...(c.body as object), id: 5, created_at: '2026-11-27T00:00:00Z' }, 201))
    fake.on('PATCH', /^\/evaluations\/4$/, (c) => json({ ...evaluation, ...(c.body as object) }))
    wrapper = (await mountAt(pinia, EvaluationsView, '/admin/evaluations')).wrapper
    expect(byTestId(wrapper, 'evaluation-4').text()).toContain('≥ 90%')
    expect(byTestId(wrapper, 'evaluation-4').text()).toContain('不检查')

    await byTestId(wrapper, 'evaluation-new').trigger('click')
    await byTestId(wrapper, 'evaluation-form').trigger('submit')
    expect(byTestId(wrapper, 'evaluation-problem').text()).toContain('名称')
    await byTestId(wrapper, 'evaluation-name').setValue('第二次评估')
    await byTestId(wrapper, 'evaluation-quiz-11').setValue(true)
    await byTestId(wrapper, 'evaluation-min-pass-rate').setValue('85')
    await byTestId(wrapper, 'evaluation-form').trigger('submit')
    await settle()
    expect(fake.callsTo('POST', /^\/evaluations$/)[0]!.body).toEqual({
      name: '第二次评估',
      quiz_ids: [11],
      date_from: null,
      date_to: null,
      attempts: 'first',
      min_participation_percent: null,
      min_pass_rate_percent: 85,
      min_mean_percent: null,
    })
    expect(byTestId(wrapper, 'evaluation-5').exists()).toBe(true)

    await byTestId(wrapper, 'evaluation-edit-4').trigger('click')
    expect((byTestId(wrapper, 'evaluation-min-participation').element as HTMLInputElement).value).toBe('90')
    await byTestId(wrapper, 'evaluation-min-participation').setValue('')
    await byTestId(wrapper, 'evaluation-min-mean').setValue('75')
    await byTestId(wrapper, 'evaluation-form').trigger('submit')
    await settle()
    expect(fake.callsTo('PATCH', /^\/evaluations\/4$/)[0]!.body).toMatchObject({
      min_participation_percent: null,
      min_mean_percent: 75,
    })
    expect(byTestId(wrapper, 'evaluation-4').text()).toContain('≥ 75%')
  })

  it('speaks English throughout when the UI is in English (data stays as it is)', async () => {
    await setI18nLanguage('en')
    statsServer()
    const dashboard = await mountAt(pinia, StatsDashboardView, '/admin/stats?quiz_id=11')
    wrapper = dashboard.wrapper
    const cjk = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/
    for (const id of ['stats-apply', 'stats-attempts-best', 'stats-summary-participation', 'stats-spot-sessions-empty']) {
      expect(byTestId(wrapper, id).text(), id).not.toMatch(cjk)
    }
    expect(byTestId(wrapper, 'stats-spot-sessions-empty').text()).toContain('No on-site spot check records')
    for (const head of wrapper.findAll('th')) expect(head.text()).not.toMatch(cjk)
    wrapper.unmount()
    wrapper = (await mountAt(pinia, UnitReportView, '/admin/report/1?quiz_id=11')).wrapper
    for (const heading of wrapper.findAll('h2')) expect(heading.text()).not.toMatch(cjk)
    expect(byTestId(wrapper, 'report-signatures').text()).toContain('Evaluation team (signature)')
    await setI18nLanguage('zh-CN')
  })
})
