// Pure helpers of the inspector's spot-session pages: the create form to the API body, the board's
// counts, each officer's state, the answer distribution, the draw in draw order, the audit details.
import type { QuestionType, UnitOut } from '@/api/types'
import type {
  OralCheckOut,
  OralResult,
  ParticipantOut,
  QuestionLive,
  SpotBoard,
  SpotCreate,
  SpotMode,
  SpotOut,
} from '@/api/spot'

// ---------------------------------------------------------------- the create form

export interface RuleForm {
  /** '' = any type. */
  type: QuestionType | ''
  count: number | null
  /** null = any knowledge area. */
  areaId: number | null
}

export type LimitKind = 'session' | 'question'

export interface SpotForm {
  title: string
  unitId: number | null
  includeSubunits: boolean
  mode: SpotMode
  /** false: nobody is drawn, everyone in the unit may join. */
  drawSome: boolean
  drawCount: number | null
  rules: RuleForm[]
  limitKind: LimitKind
  /** Whole session, minutes. */
  sessionMinutes: number | null
  /** Per question, seconds. */
  questionSeconds: number | null
  passPercent: number | null
  /** Joining later than this (minutes after the draw) is marked late. */
  lateMinutes: number | null
  allowRepeatOral: boolean
}

export function emptyRule(): RuleForm {
  return { type: '', count: 5, areaId: null }
}

export function emptySpotForm(title = ''): SpotForm {
  return {
    title,
    unitId: null,
    includeSubunits: true,
    mode: 'phone',
    drawSome: true,
    drawCount: 5,
    rules: [emptyRule()],
    limitKind: 'session',
    sessionMinutes: 10,
    questionSeconds: 60,
    passPercent: 60,
    lateMinutes: 5,
    allowRepeatOral: false,
  }
}

function positiveInt(value: number | null | undefined): number | null {
  if (value === null || value === undefined || typeof value !== 'number' || !isFinite(value)) return null
  const n = Math.floor(value)
  return n === value && n > 0 ? n : null
}

function wholeInRange(value: number | null | undefined, min: number, max: number): number | null {
  if (value === null || value === undefined || typeof value !== 'number' || !isFinite(value)) return null
  return Math.floor(value) === value && value >= min && value <= max ? value : null
}

/** The first problem of a create form (a spot.create.problems.* key), or null when it can be sent. */
export function spotFormProblem(form: SpotForm): string | null {
  if (!form.title.trim()) return 'title'
  if (form.unitId === null) return 'unit'
  if (form.drawSome && positiveInt(form.drawCount) === null) return 'drawCount'
  if (form.rules.length === 0) return 'noRules'
  if (form.rules.some((r) => positiveInt(r.count) === null || (r.count as number) > 500)) return 'ruleCount'
  if (form.mode === 'phone') {
    if (form.limitKind === 'session' && wholeInRange(form.sessionMinutes, 1, 240) === null) return 'sessionMinutes'
    if (form.limitKind === 'question' && wholeInRange(form.questionSeconds, 1, 3600) === null) return 'questionSeconds'
  }
  if (wholeInRange(form.passPercent, 0, 100) === null) return 'passPercent'
  if (wholeInRange(form.lateMinutes, 0, 24 * 60) === null) return 'lateMinutes'
  return null
}

/** The POST /spot/sessions body of a valid form (check spotFormProblem first). */
export function spotCreateBody(form: SpotForm): SpotCreate {
  const phone = form.mode === 'phone'
  return {
    title: form.title.trim(),
    unit_id: form.unitId as number,
    include_subunits: form.includeSubunits,
    mode: form.mode,
    draw_count: form.drawSome ? (form.drawCount as number) : null,
    rules: form.rules.map((r) => ({
      question_type: r.type === '' ? null : r.type,
      count: r.count as number,
      knowledge_area_id: r.areaId,
    })),
    time_limit_seconds: phone && form.limitKind === 'session' ? (form.sessionMinutes as number) * 60 : null,
    seconds_per_question: phone && form.limitKind === 'question' ? (form.questionSeconds as number) : null,
    pass_percent: form.passPercent as number,
    late_after_seconds: (form.lateMinutes as number) * 60,
    allow_repeat_oral: form.mode === 'oral' && form.allowRepeatOral,
  }
}

/** How many questions each officer gets. */
export function questionTotal(form: Pick<SpotForm, 'rules'>): number {
  return form.rules.reduce((sum, r) => sum + (positiveInt(r.count) || 0), 0)
}

/** Units for a picker: depth relative to the shallowest one shown (indentation), in tree order. */
export function unitChoices(units: UnitOut[]): { id: number; label: string; depth: number; officers: number }[] {
  let min = Infinity
  for (const u of units) min = Math.min(min, u.depth)
  return units.map((u) => ({
    id: u.id,
    label: u.name,
    depth: u.depth - (min === Infinity ? 0 : min),
    officers: u.subtree_officer_count,
  }))
}

// ---------------------------------------------------------------- the board

export type ParticipantState = 'excused' | 'finished' | 'answering' | 'joined' | 'absent'

/** One officer's state on the board: excused first, then finished, answering, joined, not here. */
export function participantState(p: ParticipantOut): ParticipantState {
  if (p.excused) return 'excused'
  if (p.finished) return 'finished'
  if (!p.joined_at) return 'absent'
  return p.answered > 0 ? 'answering' : 'joined'
}

export interface BoardCounts {
  /** Officers expected: the drawn ones, or (open to all) everyone on the roster. */
  expected: number
  joined: number
  late: number
  excused: number
  finished: number
  /** Expected, not excused, not joined. */
  absent: number
  /** Answers given over answers to give, of those who joined. */
  answered: number
  total: number
  /** Mean score (percent) of the finished, null when nobody finished. */
  meanScore: number | null
}

export function boardCounts(board: SpotBoard): BoardCounts {
  const session = board.session
  const people = board.participants
  // Before the draw nobody is drawn yet: as many as will be (never more than the roster).
  const expected =
    session.draw_count === null
      ? session.roster_size
      : session.status === 'lobby'
        ? Math.min(session.draw_count, session.roster_size)
        : people.filter((p) => p.drawn).length
  let joined = 0
  let late = 0
  let excused = 0
  let finished = 0
  let absentAmongKnown = 0
  let answered = 0
  let total = 0
  const scores: number[] = []
  for (const p of people) {
    if (p.joined_at) joined += 1
    if (p.late) late += 1
    if (p.excused) excused += 1
    if (p.finished) finished += 1
    if (!p.joined_at && !p.excused) absentAmongKnown += 1
    answered += p.answered
    total += p.total
    if (p.finished && p.score_percent !== null) scores.push(p.score_percent)
  }
  // Open to all: those on the roster who never joined have no participant row yet.
  const unknown = session.draw_count === null ? Math.max(0, session.roster_size - people.length) : 0
  return {
    expected,
    joined,
    late,
    excused,
    finished,
    absent: absentAmongKnown + unknown,
    answered,
    total,
    meanScore: scores.length ? Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 10) / 10 : null,
  }
}

/** A whole percentage of `part` in `whole` (0 when whole is 0). */
export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part * 100) / whole) : 0
}

/** Each option's share of the answers to the question, in percent (bar widths). */
export function optionShares(question: QuestionLive): { id: string; share: number }[] {
  return question.options.map((o) => ({ id: o.id, share: percent(o.count, question.answered) }))
}

/** Letters for the options of a question (A, B, ...). */
export function optionLetter(index: number): string {
  return 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.charAt(index) || String(index + 1)
}

export interface DrawnOfficer {
  order: number
  policeNumber: string
  name: string | null
  unitName: string | null
}

/** The drawn officers in draw order, named from the board where it knows them. */
export function drawnOfficers(session: SpotOut, participants: ParticipantOut[]): DrawnOfficer[] {
  const byNumber: Record<string, ParticipantOut> = {}
  for (const p of participants) if (p.police_number) byNumber[p.police_number] = p
  return (session.drawn || []).map((number, i) => {
    const p = byNumber[number]
    return { order: i + 1, policeNumber: number, name: p ? p.name : null, unitName: p ? p.unit_name : null }
  })
}

/** A 64-digit hash in groups of `size` for reading aloud and comparing by eye. */
export function groupHex(hash: string | null | undefined, size = 8): string {
  if (!hash) return ''
  const groups: string[] = []
  for (let i = 0; i < hash.length; i += size) groups.push(hash.slice(i, i + size))
  return groups.join(' ')
}

/** The absolute link the QR code carries: this site's origin + the session's join path. */
export function joinUrl(origin: string, session: Pick<SpotOut, 'code' | 'join_path'>): string {
  const path = session.join_path || '/spot/join?code=' + session.code
  return origin.replace(/\/+$/, '') + (path.charAt(0) === '/' ? path : '/' + path)
}

/** "123 456": the code as people read it out. */
export function spacedCode(code: string): string {
  return code.length === 6 ? code.slice(0, 3) + ' ' + code.slice(3) : code
}

// ---------------------------------------------------------------- oral mode

/** The check still waiting for a mark (the newest unmarked one), or null. */
export function openOralCheck(checks: OralCheckOut[]): OralCheckOut | null {
  for (let i = checks.length - 1; i >= 0; i -= 1) if (checks[i]!.result === null) return checks[i]!
  return null
}

export function oralTally(checks: OralCheckOut[]): Record<OralResult | 'open', number> {
  const out: Record<OralResult | 'open', number> = { correct: 0, partly: 0, wrong: 0, open: 0 }
  for (const c of checks) out[c.result || 'open'] += 1
  return out
}

/** Officers not asked yet (the next oral draw picks among them unless repeats are allowed). */
export function notYetAsked(participants: ParticipantOut[], checks: OralCheckOut[]): ParticipantOut[] {
  const asked: Record<number, true> = {}
  for (const c of checks) asked[c.user_id] = true
  return participants.filter((p) => !p.excused && !asked[p.user_id])
}

// ---------------------------------------------------------------- the audit log

/**
 * An audit entry's details as "key: value" pairs: text as is, yes/no in words, the rest as
 * compact JSON.
 */
export function auditPairs(
  detail: Record<string, unknown>,
  words: { yes: string; no: string } = { yes: 'true', no: 'false' },
): { key: string; value: string }[] {
  return Object.keys(detail).map((key) => {
    const value = detail[key]
    let text: string
    if (value === null || value === undefined) text = '—'
    else if (typeof value === 'string') text = value
    else if (typeof value === 'boolean') text = value ? words.yes : words.no
    else if (typeof value === 'number') text = String(value)
    else text = JSON.stringify(value)
    return { key, value: text }
  })
}
