import { describe, expect, it } from 'vitest'
import type { ParticipantOut, QuestionLive, SpotBoard, SpotOut, OralCheckOut } from '@/api/spot'
import type { UnitOut } from '@/api/types'
import { canHostSpot } from '@/utils/spot'
import { DEVICE_KEY, deviceId, isJoinRefusal, joinRetries, parseJoinCode } from '@/utils/spotJoin'
import {
  auditPairs,
  boardCounts,
  drawnOfficers,
  emptySpotForm,
  groupHex,
  joinUrl,
  notYetAsked,
  openOralCheck,
  optionShares,
  oralTally,
  participantState,
  percent,
  questionTotal,
  spacedCode,
  spotCreateBody,
  spotFormProblem,
  unitChoices,
} from '@/utils/spotBoard'
import type { SpotForm } from '@/utils/spotBoard'

function session(extra: Partial<SpotOut> = {}): SpotOut {
  return {
    id: 7,
    title: '现场抽测',
    code: '048213',
    unit_id: 3,
    unit_name: '东川县人民法院',
    include_subunits: true,
    mode: 'phone',
    draw_count: 3,
    status: 'running',
    quiz_id: 40,
    seed_commitment: 'a'.repeat(64),
    roster_hash: 'b'.repeat(64),
    roster_size: 5,
    seed: 'c'.repeat(64),
    drawn: ['P003', 'P001', 'P005'],
    created_by: '检查员',
    created_at: '2024-05-01T08:00:00Z',
    drawn_at: '2024-05-01T08:05:00Z',
    closed_at: null,
    join_path: '/spot/join?code=048213',
    ...extra,
  }
}

function person(n: number, extra: Partial<ParticipantOut> = {}): ParticipantOut {
  return {
    user_id: n,
    name: '干警' + n,
    police_number: 'P00' + n,
    unit_name: '东川县人民法院',
    drawn: true,
    joined_at: null,
    late: false,
    excused: false,
    excuse_reason: null,
    answered: 0,
    total: 0,
    finished: false,
    score_percent: null,
    ...extra,
  }
}

function board(s: SpotOut, participants: ParticipantOut[], oral: OralCheckOut[] = []): SpotBoard {
  return { session: s, participants, questions: [], oral, version: 0 }
}

function check(id: number, userId: number, result: OralCheckOut['result']): OralCheckOut {
  return {
    id,
    user_id: userId,
    name: '干警' + userId,
    question_id: 100 + id,
    question: { type: 'single', stem: '题' + id, options: [], answer: 'a', explanation: null },
    result,
    note: '',
    asked_at: '2024-05-01T08:10:00Z',
    marked_at: null,
  }
}

describe('who hosts spot sessions', () => {
  it('lets inspectors and administrators in, nobody else', () => {
    expect(canHostSpot('inspector')).toBe(true)
    expect(canHostSpot('admin')).toBe(true)
    expect(canHostSpot('officer')).toBe(false)
    expect(canHostSpot('unit_admin')).toBe(false)
    expect(canHostSpot(null)).toBe(false)
  })
})

describe('join code', () => {
  it('reads six digits typed, spaced or in a scanned link', () => {
    expect(parseJoinCode('048213')).toBe('048213')
    expect(parseJoinCode(' 048 213 ')).toBe('048213')
    expect(parseJoinCode('048-213')).toBe('048213')
    expect(parseJoinCode('https://yz.example.cn/spot/join?code=048213')).toBe('048213')
    expect(parseJoinCode('/spot/join?x=1&code=123456#top')).toBe('123456')
  })

  it('refuses anything else', () => {
    expect(parseJoinCode('')).toBeNull()
    expect(parseJoinCode(null)).toBeNull()
    expect(parseJoinCode('04821')).toBeNull()
    expect(parseJoinCode('0482134')).toBeNull()
    expect(parseJoinCode('04821a')).toBeNull()
    expect(parseJoinCode('/spot/join?code=1234567')).toBeNull()
  })
})

describe('device id', () => {
  it('is made once and kept in localStorage', () => {
    const first = deviceId()
    expect(first).toMatch(/^web-[0-9a-f]{32}$/)
    expect(localStorage.getItem(DEVICE_KEY)).toBe(first)
    expect(deviceId()).toBe(first)
  })

  it('differs between browsers (fresh storage)', () => {
    const a = deviceId()
    localStorage.clear()
    const b = deviceId()
    expect(b).not.toBe(a)
  })

  it('replaces a stored value the server would refuse (length 8-64)', () => {
    localStorage.setItem(DEVICE_KEY, 'short')
    const made = deviceId()
    expect(made).not.toBe('short')
    expect(made.length).toBeGreaterThanOrEqual(8)
    expect(made.length).toBeLessThanOrEqual(64)
  })
})

describe('join refusals', () => {
  it('retries by itself only when waiting may help', () => {
    expect(joinRetries('spot_not_started')).toBe(true)
    expect(joinRetries('network_error')).toBe(true)
    expect(joinRetries('spot_not_drawn')).toBe(false)
    expect(joinRetries('spot_code_invalid')).toBe(false)
    expect(joinRetries('spot_other_device')).toBe(false)
    expect(joinRetries('spot_out_of_scope')).toBe(false)
  })

  it('knows the five refusals with their own message', () => {
    for (const code of ['spot_code_invalid', 'spot_not_started', 'spot_not_drawn', 'spot_out_of_scope', 'spot_other_device']) {
      expect(isJoinRefusal(code)).toBe(true)
    }
    expect(isJoinRefusal('validation_error')).toBe(false)
  })
})

describe('the create form', () => {
  function valid(extra: Partial<SpotForm> = {}): SpotForm {
    return { ...emptySpotForm('抽测'), unitId: 3, ...extra }
  }

  it('names the first problem', () => {
    expect(spotFormProblem(valid())).toBeNull()
    expect(spotFormProblem(valid({ title: '  ' }))).toBe('title')
    expect(spotFormProblem(valid({ unitId: null }))).toBe('unit')
    expect(spotFormProblem(valid({ drawCount: 0 }))).toBe('drawCount')
    expect(spotFormProblem(valid({ drawCount: 2.5 }))).toBe('drawCount')
    expect(spotFormProblem(valid({ drawSome: false, drawCount: null }))).toBeNull()
    expect(spotFormProblem(valid({ rules: [] }))).toBe('noRules')
    expect(spotFormProblem(valid({ rules: [{ type: 'single', count: null, areaId: null }] }))).toBe('ruleCount')
    expect(spotFormProblem(valid({ rules: [{ type: 'single', count: 501, areaId: null }] }))).toBe('ruleCount')
    expect(spotFormProblem(valid({ sessionMinutes: 0 }))).toBe('sessionMinutes')
    expect(spotFormProblem(valid({ limitKind: 'question', questionSeconds: null }))).toBe('questionSeconds')
    // Oral sessions have no time limit to check.
    expect(spotFormProblem(valid({ mode: 'oral', sessionMinutes: null }))).toBeNull()
    expect(spotFormProblem(valid({ passPercent: 101 }))).toBe('passPercent')
    expect(spotFormProblem(valid({ lateMinutes: -1 }))).toBe('lateMinutes')
  })

  it('becomes the API body: minutes to seconds, any type as null, everyone as null', () => {
    const body = spotCreateBody(
      valid({
        title: ' 现场抽测 ',
        drawSome: false,
        rules: [
          { type: '', count: 2, areaId: null },
          { type: 'multiple', count: 1, areaId: 9 },
        ],
        sessionMinutes: 15,
        lateMinutes: 3,
        passPercent: 80,
      }),
    )
    expect(body).toEqual({
      title: '现场抽测',
      unit_id: 3,
      include_subunits: true,
      mode: 'phone',
      draw_count: null,
      rules: [
        { question_type: null, count: 2, knowledge_area_id: null },
        { question_type: 'multiple', count: 1, knowledge_area_id: 9 },
      ],
      time_limit_seconds: 900,
      seconds_per_question: null,
      pass_percent: 80,
      late_after_seconds: 180,
      allow_repeat_oral: false,
    })
  })

  it('sends exactly one limit for phones, none for oral sessions', () => {
    const perQuestion = spotCreateBody(valid({ limitKind: 'question', questionSeconds: 45, drawCount: 3 }))
    expect(perQuestion.time_limit_seconds).toBeNull()
    expect(perQuestion.seconds_per_question).toBe(45)
    expect(perQuestion.draw_count).toBe(3)
    const oral = spotCreateBody(valid({ mode: 'oral', allowRepeatOral: true }))
    expect(oral.time_limit_seconds).toBeNull()
    expect(oral.seconds_per_question).toBeNull()
    expect(oral.allow_repeat_oral).toBe(true)
    // The repeat switch means nothing on phones.
    expect(spotCreateBody(valid({ allowRepeatOral: true })).allow_repeat_oral).toBe(false)
  })

  it('counts the questions per officer', () => {
    expect(questionTotal({ rules: [{ type: '', count: 2, areaId: null }, { type: 'single', count: 3, areaId: null }] })).toBe(5)
    expect(questionTotal({ rules: [{ type: '', count: null, areaId: null }] })).toBe(0)
  })

  it('indents units below the shallowest one shown', () => {
    const unit = (id: number, depth: number, name: string): UnitOut => ({
      id,
      parent_id: null,
      code: 'U' + id,
      name,
      kind: 'other',
      depth,
      path: '/' + id,
      sort_order: 0,
      officer_count: 1,
      subtree_officer_count: id * 10,
    })
    expect(unitChoices([unit(2, 1, '东川县'), unit(4, 2, '法院')])).toEqual([
      { id: 2, label: '东川县', depth: 0, officers: 20 },
      { id: 4, label: '法院', depth: 1, officers: 40 },
    ])
  })
})

describe('the board', () => {
  it("gives each officer's state, excused before everything", () => {
    expect(participantState(person(1))).toBe('absent')
    expect(participantState(person(1, { joined_at: 'x' }))).toBe('joined')
    expect(participantState(person(1, { joined_at: 'x', answered: 1, total: 5 }))).toBe('answering')
    expect(participantState(person(1, { joined_at: 'x', answered: 5, total: 5, finished: true }))).toBe('finished')
    expect(participantState(person(1, { joined_at: 'x', finished: true, excused: true }))).toBe('excused')
  })

  it('counts a drawn session over the drawn officers', () => {
    const counts = boardCounts(
      board(session(), [
        person(1, { joined_at: 'x', answered: 5, total: 5, finished: true, score_percent: 80 }),
        person(3, { joined_at: 'x', late: true, answered: 2, total: 5 }),
        person(5, { excused: true, excuse_reason: '出警' }),
      ]),
    )
    expect(counts).toEqual({
      expected: 3,
      joined: 2,
      late: 1,
      excused: 1,
      finished: 1,
      absent: 0,
      answered: 7,
      total: 10,
      meanScore: 80,
    })
  })

  it('counts an open session over the whole roster (absent officers have no row yet)', () => {
    const counts = boardCounts(
      board(session({ draw_count: null, drawn: null, roster_size: 5 }), [
        person(1, { drawn: false, joined_at: 'x', finished: true, score_percent: 50 }),
        person(2, { drawn: false, joined_at: 'x', finished: true, score_percent: 75 }),
      ]),
    )
    expect(counts.expected).toBe(5)
    expect(counts.joined).toBe(2)
    expect(counts.absent).toBe(3)
    expect(counts.meanScore).toBe(62.5)
  })

  it('expects as many as will be drawn before the draw', () => {
    const lobby = session({ status: 'lobby', drawn: null, seed: null, draw_count: 3, roster_size: 5 })
    expect(boardCounts(board(lobby, [])).expected).toBe(3)
    expect(boardCounts(board({ ...lobby, draw_count: 9 }, [])).expected).toBe(5)
    expect(boardCounts(board({ ...lobby, draw_count: 9 }, [])).absent).toBe(0)
  })

  it('has no mean before anyone finished', () => {
    expect(boardCounts(board(session(), [person(1, { joined_at: 'x' })])).meanScore).toBeNull()
  })

  it('shares the answers over the options', () => {
    const q: QuestionLive = {
      question_id: 1,
      stem: '题',
      type: 'single',
      served: 4,
      answered: 3,
      correct: 2,
      options: [
        { id: 'a', text: '甲', count: 2, correct: true },
        { id: 'b', text: '乙', count: 1, correct: false },
        { id: 'c', text: '丙', count: 0, correct: false },
      ],
    }
    expect(optionShares(q)).toEqual([
      { id: 'a', share: 67 },
      { id: 'b', share: 33 },
      { id: 'c', share: 0 },
    ])
    expect(percent(1, 0)).toBe(0)
  })

  it('lists the drawn in draw order with the names the board knows', () => {
    const drawn = drawnOfficers(session(), [person(1), person(5)])
    expect(drawn.map((d) => [d.order, d.policeNumber, d.name])).toEqual([
      [1, 'P003', null],
      [2, 'P001', '干警1'],
      [3, 'P005', '干警5'],
    ])
    expect(drawnOfficers(session({ drawn: null }), [])).toEqual([])
  })

  it('shows hashes, codes and the join link for people', () => {
    expect(groupHex('0123456789abcdef01', 8)).toBe('01234567 89abcdef 01')
    expect(groupHex(null)).toBe('')
    expect(spacedCode('048213')).toBe('048 213')
    expect(joinUrl('https://yz.example.cn/', session())).toBe('https://yz.example.cn/spot/join?code=048213')
    expect(joinUrl('http://127.0.0.1:8000', session({ join_path: '' }))).toBe('http://127.0.0.1:8000/spot/join?code=048213')
  })
})

describe('oral mode', () => {
  it('finds the check waiting for a mark and tallies the marks', () => {
    const checks = [check(1, 1, 'correct'), check(2, 3, null), check(3, 5, 'wrong')]
    expect(openOralCheck(checks)!.id).toBe(2)
    expect(openOralCheck([check(1, 1, 'partly')])).toBeNull()
    expect(oralTally(checks)).toEqual({ correct: 1, partly: 0, wrong: 1, open: 1 })
  })

  it('knows who has not been asked (the excused are not asked)', () => {
    const people = [person(1), person(3), person(5, { excused: true })]
    expect(notYetAsked(people, [check(1, 1, 'correct')]).map((p) => p.user_id)).toEqual([3])
  })
})

describe('audit details', () => {
  it('shows text as is and the rest as compact JSON', () => {
    expect(auditPairs({ reason: '出警', count: 3, late: false, drawn: ['P1', 'P2'], before: { excused: true }, x: null })).toEqual([
      { key: 'reason', value: '出警' },
      { key: 'count', value: '3' },
      { key: 'late', value: 'false' },
      { key: 'drawn', value: '["P1","P2"]' },
      { key: 'before', value: '{"excused":true}' },
      { key: 'x', value: '—' },
    ])
    expect(auditPairs({ late: true, excused: false }, { yes: '是', no: '否' })).toEqual([
      { key: 'late', value: '是' },
      { key: 'excused', value: '否' },
    ])
  })
})
