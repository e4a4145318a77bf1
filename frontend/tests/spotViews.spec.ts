import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import type { VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Router } from 'vue-router'
import { defineComponent } from 'vue'
import QRCode from 'qrcode'
import { i18n, setI18nLanguage } from '@/locales'
import { loadInspectMessages } from '@/locales/spot/inspect'
import { loadJoinMessages } from '@/locales/spot/join'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY } from '@/stores/auth'
import type { UserOut } from '@/api/types'
import type { DrawVerification, SpotBoard, SpotOut } from '@/api/spot'
import { DEVICE_KEY } from '@/utils/spotJoin'
import SpotJoinView from '@/views/spot/SpotJoinView.vue'
import SpotSessionView from '@/views/inspect/SpotSessionView.vue'
import SpotQrCode from '@/components/spot/SpotQrCode.vue'
import { apiError, FakeServer, json, settle } from './fakeServer'

vi.mock('vant/es/button/style/index', () => ({}))
vi.mock('vant/es/loading/style/index', () => ({}))
vi.mock('vant/es/icon/style/index', () => ({}))
vi.mock('vant/es/popup/style/index', () => ({}))
vi.mock('vant/es/toast/style/index', () => ({}))
// The join page asks again every few seconds while nothing is drawn: quicker here.
vi.mock('@/utils/spotJoin', async (original) => ({ ...(await original<object>()), JOIN_RETRY_MS: 300 }))

function user(role: string): UserOut {
  return {
    id: 1,
    username: 'u',
    police_number: 'P001',
    name: '某人',
    role,
    unit_id: 1,
    unit_name: '东川县人民法院',
    must_change_password: false,
    language: 'zh-CN',
  }
}

const Blank = defineComponent({ template: '<div />' })

function makeRouter(): Router {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: Blank },
      { path: '/spot/join', name: 'spot-join', component: SpotJoinView },
      { path: '/attempt/:attemptId(\\d+)', name: 'quiz', component: Blank },
      { path: '/inspect', name: 'inspect', component: Blank },
      { path: '/inspect/sessions/:spotId(\\d+)', name: 'inspect-session', component: SpotSessionView },
    ],
  })
}

async function mountAt(pinia: Pinia, path: string): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = makeRouter()
  await router.push(path)
  await router.isReady()
  const App = defineComponent({ template: '<router-view />' })
  const wrapper = mount(App, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
  await settle(40)
  return { wrapper, router }
}

const byTestId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)

function session(extra: Partial<SpotOut> = {}): SpotOut {
  return {
    id: 7,
    title: '东川法院现场抽测',
    code: '048213',
    unit_id: 3,
    unit_name: '东川县人民法院',
    include_subunits: true,
    mode: 'phone',
    draw_count: 2,
    status: 'lobby',
    quiz_id: 40,
    seed_commitment: 'ab'.repeat(32),
    roster_hash: 'cd'.repeat(32),
    roster_size: 3,
    seed: null,
    drawn: null,
    created_by: '检查员',
    created_at: '2024-05-01T08:00:00Z',
    drawn_at: null,
    closed_at: null,
    join_path: '/spot/join?code=048213',
    ...extra,
  }
}

function lobbyBoard(): SpotBoard {
  return { session: session(), participants: [], questions: [], oral: [], version: 0 }
}

function runningBoard(joined: number): SpotBoard {
  const people = [
    ['P003', '王五', 3],
    ['P001', '张三', 1],
  ] as const
  return {
    session: session({ status: 'running', seed: 'ef'.repeat(32), drawn: ['P003', 'P001'], drawn_at: '2024-05-01T08:05:00Z' }),
    participants: people.map(([number, name, id], i) => ({
      user_id: id,
      name,
      police_number: number,
      unit_name: '东川县人民法院',
      drawn: true,
      joined_at: i < joined ? '2024-05-01T08:06:00Z' : null,
      late: false,
      excused: false,
      excuse_reason: null,
      answered: i < joined ? 1 : 0,
      total: i < joined ? 3 : 0,
      finished: false,
      score_percent: null,
    })),
    questions: [
      {
        question_id: 501,
        stem: '三个规定要求如何处理过问案件？',
        type: 'single',
        served: joined,
        answered: joined,
        correct: 1,
        options: [
          { id: 'o1', text: '如实记录', count: 1, correct: true },
          { id: 'o2', text: '不予理会', count: joined - 1, correct: false },
        ],
      },
    ],
    oral: [],
    version: 0,
  }
}

/** A WebSocket stand-in: the page's live board connects through it. */
class FakeWebSocket {
  static all: FakeWebSocket[] = []
  sent: string[] = []
  onopen: ((e: unknown) => void) | null = null
  onmessage: ((e: { data: unknown }) => void) | null = null
  onclose: ((e: { code: number }) => void) | null = null
  onerror: ((e: unknown) => void) | null = null
  constructor(readonly url: string) {
    FakeWebSocket.all.push(this)
  }
  send(data: string): void {
    this.sent.push(data)
  }
  close(): void {
    // the page left
  }
}

describe('spot session pages', { timeout: 20000 }, () => {
  let pinia: Pinia
  let wrapper: VueWrapper | null = null

  function loginAs(role: string): void {
    localStorage.setItem(ACCESS_KEY, 'access-1')
    localStorage.setItem(REFRESH_KEY, 'refresh-1')
    localStorage.setItem(USER_KEY, JSON.stringify(user(role)))
    pinia = createPinia()
    setActivePinia(pinia)
  }

  beforeEach(async () => {
    await setI18nLanguage('zh-CN')
    await loadInspectMessages('zh-CN')
    FakeWebSocket.all = []
    vi.stubGlobal('WebSocket', FakeWebSocket)
  })

  afterEach(() => {
    if (wrapper) wrapper.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  describe('officer joins', () => {
    beforeEach(() => loginAs('officer'))

    it('waits while nothing is drawn, asking again by itself, then opens the quiz screen with the attempt', async () => {
      const fake = new FakeServer()
      let calls = 0
      fake.on('POST', /^\/spot\/join$/, () => {
        calls += 1
        if (calls === 1) return apiError(409, 'spot_not_started')
        return json({ session_id: 7, title: '抽测', mode: 'phone', status: 'running', late: false, attempt_id: 55 })
      })
      fake.install()
      const mounted = await mountAt(pinia, '/spot/join?code=048213')
      wrapper = mounted.wrapper
      expect(byTestId(wrapper, 'spot-join-error').attributes('data-code')).toBe('spot_not_started')
      expect(byTestId(wrapper, 'spot-join-error').text()).toContain('评估组还没有开始抽取')
      expect(byTestId(wrapper, 'spot-join-retrying').exists()).toBe(true)
      expect(mounted.router.currentRoute.value.name).toBe('spot-join')
      await new Promise((r) => setTimeout(r, 400))
      await settle(40)
      expect(mounted.router.currentRoute.value.name).toBe('quiz')
      expect(mounted.router.currentRoute.value.params.attemptId).toBe('55')
      const bodies = fake.callsTo('POST', /^\/spot\/join$/).map((c) => c.body as { code: string; device_id: string })
      expect(bodies.length).toBe(2)
      // The same phone both times: the device id kept in this browser.
      expect(bodies[0]!.code).toBe('048213')
      expect(bodies[0]!.device_id).toBe(localStorage.getItem(DEVICE_KEY))
      expect(bodies[1]!.device_id).toBe(bodies[0]!.device_id)
    })

    const refusals: [string, number, string][] = [
      ['spot_not_drawn', 403, '您没有被抽中'],
      ['spot_out_of_scope', 403, '面向其他单位'],
      ['spot_other_device', 409, '另一部手机'],
      ['spot_code_invalid', 404, '抽测码无效'],
    ]
    for (const [code, status, text] of refusals) {
      it(`says why when refused: ${code}, and does not ask again`, async () => {
        const fake = new FakeServer()
        fake.on('POST', /^\/spot\/join$/, () => apiError(status, code))
        fake.install()
        wrapper = (await mountAt(pinia, '/spot/join?code=123456')).wrapper
        const error = byTestId(wrapper, 'spot-join-error')
        expect(error.attributes('data-code')).toBe(code)
        expect(error.text()).toContain(text)
        expect(byTestId(wrapper, 'spot-join-retrying').exists()).toBe(false)
        await new Promise((r) => setTimeout(r, 450))
        expect(fake.callsTo('POST', /^\/spot\/join$/)).toHaveLength(1)
      })
    }

    it('joins by a typed code and waits on this page in oral mode', async () => {
      const fake = new FakeServer()
      fake.on('POST', /^\/spot\/join$/, () =>
        json({ session_id: 8, title: '现场提问', mode: 'oral', status: 'running', late: true, attempt_id: null }),
      )
      fake.install()
      const mounted = await mountAt(pinia, '/spot/join')
      wrapper = mounted.wrapper
      expect(byTestId(wrapper, 'spot-join').attributes('data-state')).toBe('entry')
      await byTestId(wrapper, 'spot-join-code').setValue('12345')
      await byTestId(wrapper, 'spot-join-submit').trigger('click')
      await wrapper.find('form').trigger('submit')
      await settle(20)
      expect(byTestId(wrapper, 'spot-join-code-problem').exists()).toBe(true)
      expect(fake.calls).toHaveLength(0)
      await byTestId(wrapper, 'spot-join-code').setValue('048 213')
      await wrapper.find('form').trigger('submit')
      await settle(40)
      expect(mounted.router.currentRoute.value.fullPath).toBe('/spot/join?code=048213')
      expect((fake.calls[0]!.body as { code: string }).code).toBe('048213')
      expect(byTestId(wrapper, 'spot-join-waiting').text()).toContain('现场提问')
      expect(byTestId(wrapper, 'spot-join-waiting').text()).toContain('迟到')
    })
  })

  describe('texts loaded with the pages', () => {
    afterEach(async () => {
      await setI18nLanguage('zh-CN')
    })

    it('merge into each language without losing the main texts', async () => {
      await setI18nLanguage('en')
      expect(i18n.global.te('inspect.title', 'en')).toBe(false)
      await loadInspectMessages('en')
      await loadJoinMessages('en')
      const t = i18n.global.t
      expect(t('inspect.title')).toBe('Yingzhi · Spot sessions')
      expect(t('spot.join.errors.spot_not_drawn')).toContain('not drawn')
      // The home entry's texts (main bundle) are still there next to the merged ones.
      expect(t('spot.joinEntry')).toBe('Join a spot session')
      await setI18nLanguage('zh-CN')
      expect(t('inspect.title')).toBe('应知 · 现场抽测')
      expect(t('spot.joinEntry')).toBe('加入现场抽测')
    })
  })

  describe('the QR code', () => {
    it('encodes the join link: the same SVG as the library makes for that URL', async () => {
      const url = 'http://127.0.0.1:8000/spot/join?code=048213'
      wrapper = mount(SpotQrCode, { props: { url }, global: { plugins: [i18n] }, attachTo: document.body })
      await settle(40)
      const box = wrapper.find('[data-testid="spot-qr"]')
      expect(box.attributes('data-url')).toBe(url)
      expect(box.attributes('data-ready')).toBe('true')
      // The modules are the path data: compare them with what the library makes for the URL.
      const modules = (svg: string): string[] =>
        Array.from(new DOMParser().parseFromString(svg, 'image/svg+xml').querySelectorAll('path')).map(
          (p) => p.getAttribute('d') || '',
        )
      const shown = Array.from(box.element.querySelectorAll('svg path')).map((p) => p.getAttribute('d') || '')
      const options = { type: 'svg', errorCorrectionLevel: 'M', margin: 2 } as const
      expect(shown.length).toBe(2)
      expect(shown).toEqual(modules(await QRCode.toString(url, options)))
      expect(shown).not.toEqual(modules(await QRCode.toString(url.replace('048213', '048214'), options)))
    })
  })

  describe('inspector', () => {
    beforeEach(() => loginAs('inspector'))

    it('shows the lobby, draws, verifies, and follows the live socket', async () => {
      const fake = new FakeServer()
      let current: SpotBoard = lobbyBoard()
      fake.on('GET', /^\/spot\/sessions\/7\/board$/, () => json(current))
      fake.on('GET', /^\/spot\/sessions\/7\/audit$/, () => json([]))
      fake.on('POST', /^\/spot\/sessions\/7\/draw$/, () => {
        current = runningBoard(0)
        return json(current.session)
      })
      const verification: DrawVerification = {
        ok: true,
        checks: [
          { name: 'seed_commitment', ok: true, expected: 'ab'.repeat(32), actual: 'ab'.repeat(32) },
          { name: 'roster_hash', ok: true, expected: 'cd'.repeat(32), actual: 'cd'.repeat(32) },
          { name: 'drawn', ok: true, expected: 'P003,P001', actual: 'P003,P001' },
        ],
      }
      fake.on('GET', /^\/spot\/sessions\/7\/draw-record\/verify$/, () => json(verification))
      fake.install()
      wrapper = (await mountAt(pinia, '/inspect/sessions/7')).wrapper

      // Lobby: the code, the QR code of the absolute join link, the commitment and roster hash.
      expect(byTestId(wrapper, 'spot-session').attributes('data-status')).toBe('lobby')
      expect(byTestId(wrapper, 'spot-code').attributes('data-code')).toBe('048213')
      expect(byTestId(wrapper, 'spot-qr').attributes('data-url')).toBe(window.location.origin + '/spot/join?code=048213')
      expect(byTestId(wrapper, 'spot-commitment').attributes('data-value')).toBe('ab'.repeat(32))
      expect(byTestId(wrapper, 'spot-roster-hash').attributes('data-value')).toBe('cd'.repeat(32))
      expect(byTestId(wrapper, 'spot-seed').exists()).toBe(false)

      // The socket: authenticated with the access token first.
      const socket = FakeWebSocket.all[0]!
      expect(socket.url).toBe(window.location.origin.replace(/^http/, 'ws') + '/api/v1/spot/sessions/7/live')
      socket.onopen!({})
      expect(JSON.parse(socket.sent[0]!)).toEqual({ type: 'auth', token: 'access-1' })

      // Draw (confirmed): the drawn in draw order, the seed, then the verification's checks.
      await byTestId(wrapper, 'spot-draw').trigger('click')
      await settle(10)
      await wrapper.find('[data-testid="confirm-ok"]').trigger('click')
      await settle(40)
      expect(fake.callsTo('POST', /^\/spot\/sessions\/7\/draw$/)).toHaveLength(1)
      expect(byTestId(wrapper, 'spot-session').attributes('data-status')).toBe('running')
      expect(byTestId(wrapper, 'spot-seed').attributes('data-value')).toBe('ef'.repeat(32))
      const drawn = wrapper.findAll('[data-testid^="spot-drawn-P"]').map((d) => d.attributes('data-testid'))
      expect(drawn).toEqual(['spot-drawn-P003', 'spot-drawn-P001'])
      await byTestId(wrapper, 'spot-verify').trigger('click')
      await settle(20)
      expect(byTestId(wrapper, 'spot-verify-result').attributes('data-ok')).toBe('true')
      for (const name of ['seed_commitment', 'roster_hash', 'drawn']) {
        expect(byTestId(wrapper, 'spot-check-' + name).attributes('data-ok')).toBe('true')
      }

      // A snapshot over the socket: joins, progress and the answer spread show at once.
      socket.onmessage!({ data: JSON.stringify({ type: 'snapshot', seq: 1, board: runningBoard(2) }) })
      await settle(5)
      expect(byTestId(wrapper, 'spot-live-mode').attributes('data-mode')).toBe('live')
      expect(byTestId(wrapper, 'spot-count-joined').attributes('data-value')).toBe('2')
      expect(byTestId(wrapper, 'spot-progress-P003').attributes('data-answered')).toBe('1')
      expect(byTestId(wrapper, 'spot-progress-P003').attributes('data-total')).toBe('3')
      expect(byTestId(wrapper, 'spot-option-501-o1').attributes('data-correct')).toBe('true')
      expect(byTestId(wrapper, 'spot-option-501-o2').attributes('data-count')).toBe('1')
    })

    it('oral mode: draws an officer and a question, shows the key only here, marks with a note', async () => {
      const fake = new FakeServer()
      const oralSession = session({ mode: 'oral', status: 'running', seed: 'ef'.repeat(32), drawn: ['P003', 'P001'] })
      const base = runningBoard(2)
      let current: SpotBoard = { ...base, session: oralSession, questions: [] }
      const asked = {
        id: 31,
        user_id: 3,
        name: '王五',
        question_id: 601,
        question: {
          type: 'multiple' as const,
          stem: '下列哪些属于三个规定？',
          options: [
            { id: 'x1', text: '领导干部干预司法活动' },
            { id: 'x2', text: '公开审判' },
            { id: 'x3', text: '司法机关内部人员过问案件' },
          ],
          answer: ['x1', 'x3'],
          explanation: '三个规定的前两项。',
        },
        result: null,
        note: '',
        asked_at: '2024-05-01T08:10:00Z',
        marked_at: null,
      }
      fake.on('GET', /^\/spot\/sessions\/7\/board$/, () => json(current))
      fake.on('GET', /^\/spot\/sessions\/7\/audit$/, () => json([]))
      fake.on('POST', /^\/spot\/sessions\/7\/oral$/, () => {
        current = { ...current, oral: [asked] }
        return json(asked, 201)
      })
      fake.on('POST', /^\/spot\/sessions\/7\/oral\/31\/mark$/, (c) => {
        const body = c.body as { result: 'partly'; note: string }
        current = { ...current, oral: [{ ...asked, result: body.result, note: body.note }] }
        return json(current.oral[0])
      })
      fake.install()
      wrapper = (await mountAt(pinia, '/inspect/sessions/7')).wrapper
      expect(byTestId(wrapper, 'spot-questions').exists()).toBe(false)
      expect(byTestId(wrapper, 'spot-oral-current').exists()).toBe(false)
      await byTestId(wrapper, 'spot-oral-officer').setValue('3')
      await byTestId(wrapper, 'spot-oral-draw').trigger('click')
      await settle(40)
      expect(fake.callsTo('POST', /\/oral$/).map((c) => c.body)).toEqual([{ user_id: 3 }])
      const current_ = byTestId(wrapper, 'spot-oral-current')
      expect(current_.attributes('data-check-id')).toBe('31')
      expect(byTestId(wrapper, 'spot-oral-stem').text()).toBe('下列哪些属于三个规定？')
      expect(byTestId(wrapper, 'spot-oral-key').text()).toContain('A. 领导干部干预司法活动；C. 司法机关内部人员过问案件')
      expect(byTestId(wrapper, 'spot-oral-explanation').text()).toContain('三个规定的前两项。')
      await byTestId(wrapper, 'spot-oral-note').setValue('只答出一项')
      await byTestId(wrapper, 'spot-oral-mark-partly').trigger('click')
      await settle(40)
      expect(fake.callsTo('POST', /\/oral\/31\/mark$/).map((c) => c.body)).toEqual([{ result: 'partly', note: '只答出一项' }])
      expect(byTestId(wrapper, 'spot-oral-row-31').attributes('data-result')).toBe('partly')
      expect(byTestId(wrapper, 'spot-oral-tally').text()).toContain('部分正确 1')
    })

    it('refuses an excusal without a reason, and sends the reason given', async () => {
      const fake = new FakeServer()
      let current = runningBoard(1)
      fake.on('GET', /^\/spot\/sessions\/7\/board$/, () => json(current))
      fake.on('GET', /^\/spot\/sessions\/7\/audit$/, () => json([]))
      fake.on('POST', /^\/spot\/sessions\/7\/participants\/1\/excuse$/, () => {
        current = runningBoard(1)
        current.participants[1]!.excused = true
        return json(null, 204)
      })
      fake.install()
      wrapper = (await mountAt(pinia, '/inspect/sessions/7')).wrapper
      await byTestId(wrapper, 'spot-excuse-P001').trigger('click')
      await settle(10)
      expect(document.querySelector('[data-testid="spot-reason-dialog"]')).not.toBeNull()
      ;(document.querySelector('[data-testid="spot-reason-ok"]') as HTMLElement).click()
      await settle(10)
      expect(document.querySelector('[data-testid="spot-reason-problem"]')).not.toBeNull()
      expect(fake.callsTo('POST', /excuse$/)).toHaveLength(0)
      const input = document.querySelector('[data-testid="spot-reason-input"]') as HTMLTextAreaElement
      input.value = '出警执行任务'
      input.dispatchEvent(new Event('input'))
      ;(document.querySelector('[data-testid="spot-reason-ok"]') as HTMLElement).click()
      await settle(40)
      expect(fake.callsTo('POST', /excuse$/).map((c) => c.body)).toEqual([{ reason: '出警执行任务' }])
      expect(byTestId(wrapper, 'spot-participant-P001').attributes('data-state')).toBe('excused')
      expect(byTestId(wrapper, 'spot-count-excused').attributes('data-value')).toBe('1')
    })
  })
})
