// Spot sessions (issue 5): response shapes of /spot/* (app/spot/schemas.py) and their typed calls.
// The officer's join screen and the inspector's pages load this; the officer's main bundle does not.
import { api } from './http'
import type { AreaOut, QuestionType, UnitOut } from './types'

export type SpotMode = 'phone' | 'oral'
export type SpotStatus = 'lobby' | 'running' | 'closed'
export type OralResult = 'correct' | 'partly' | 'wrong'

/** One draw rule, as quizzes have them (app/quizzes/schemas.py RuleIn). */
export interface SpotRuleIn {
  question_type: QuestionType | null
  count: number
  knowledge_area_id: number | null
  include_subareas?: boolean
  points?: number | null
}

export interface SpotCreate {
  title: string
  unit_id: number
  include_subunits: boolean
  mode: SpotMode
  /** null: nobody is drawn, everyone in the unit may join. */
  draw_count: number | null
  rules: SpotRuleIn[]
  time_limit_seconds: number | null
  seconds_per_question: number | null
  pass_percent: number
  late_after_seconds: number
  allow_repeat_oral: boolean
}

export interface SpotOut {
  id: number
  title: string
  code: string
  unit_id: number
  unit_name: string
  include_subunits: boolean
  mode: SpotMode
  draw_count: number | null
  status: SpotStatus
  quiz_id: number | null
  seed_commitment: string
  roster_hash: string
  roster_size: number
  /** Revealed after the draw. */
  seed: string | null
  /** Police numbers in draw order, after the draw (null when open to all). */
  drawn: string[] | null
  created_by: string
  created_at: string
  drawn_at: string | null
  closed_at: string | null
  /** Where the QR code leads: "/spot/join?code=123456". */
  join_path: string
}

export interface DrawRecord {
  algorithm: string
  seed_commitment: string
  roster_hash: string
  /** [police number, user id], by police number. */
  roster: [string, number][]
  count: number | null
  seed: string | null
  drawn: string[] | null
}

export interface DrawCheck {
  name: string
  ok: boolean
  expected: string
  actual: string
}

export interface DrawVerification {
  ok: boolean
  checks: DrawCheck[]
}

export interface JoinOut {
  session_id: number
  title: string
  mode: SpotMode
  status: SpotStatus
  late: boolean
  /** Phone mode: answer this attempt with the ordinary quiz screens. */
  attempt_id: number | null
}

export interface ParticipantOut {
  user_id: number
  name: string
  police_number: string | null
  unit_name: string
  drawn: boolean
  joined_at: string | null
  late: boolean
  excused: boolean
  excuse_reason: string | null
  answered: number
  total: number
  finished: boolean
  score_percent: number | null
}

export interface OptionCount {
  id: string
  text: string
  count: number
  correct: boolean
}

export interface QuestionLive {
  question_id: number
  stem: string
  type: QuestionType
  served: number
  answered: number
  correct: number
  options: OptionCount[]
}

/** An oral question as asked, key and explanation included (the inspector's screen only). */
export interface OralQuestion {
  type: QuestionType
  stem: string
  options: { id: string; text: string }[]
  answer: unknown
  explanation: string | null
}

export interface OralCheckOut {
  id: number
  user_id: number
  name: string
  question_id: number
  question: OralQuestion
  result: OralResult | null
  note: string
  asked_at: string
  marked_at: string | null
}

export interface SpotBoard {
  session: SpotOut
  participants: ParticipantOut[]
  questions: QuestionLive[]
  oral: OralCheckOut[]
  version: number
}

export interface AuditEntry {
  at: string
  actor: string | null
  action: string
  detail: Record<string, unknown>
}

export type OverrideIn =
  | { kind: 'excuse'; user_id: number; excused: boolean; note?: string; reason: string }
  | { kind: 'oral'; check_id: number; result: OralResult; note?: string; reason: string }

/** A rule the bank cannot satisfy (422 quiz_rules_unsatisfiable, `detail` is a list of these). */
export interface RuleShortage {
  rule: number
  needed: number
  available: number
  matching: number
  message: string
}

const base = (id: number) => `/spot/sessions/${id}`

export const spotApi = {
  create: (body: SpotCreate) => api.post<SpotOut>('/spot/sessions', body),
  list: () => api.get<SpotOut[]>('/spot/sessions'),
  get: (id: number) => api.get<SpotOut>(base(id)),
  draw: (id: number) => api.post<SpotOut>(base(id) + '/draw'),
  drawRecord: (id: number) => api.get<DrawRecord>(base(id) + '/draw-record'),
  verify: (id: number) => api.get<DrawVerification>(base(id) + '/draw-record/verify'),
  board: (id: number) => api.get<SpotBoard>(base(id) + '/board', { timeoutMs: 10000 }),
  excuse: (id: number, userId: number, reason: string) =>
    api.post<void>(base(id) + `/participants/${userId}/excuse`, { reason }),
  releaseDevice: (id: number, userId: number) => api.post<void>(base(id) + `/participants/${userId}/release-device`),
  oralDraw: (id: number, userId: number | null) =>
    api.post<OralCheckOut>(base(id) + '/oral', { user_id: userId }),
  oralMark: (id: number, checkId: number, result: OralResult, note: string) =>
    api.post<OralCheckOut>(base(id) + `/oral/${checkId}/mark`, { result, note }),
  close: (id: number) => api.post<SpotOut>(base(id) + '/close'),
  override: (id: number, body: OverrideIn) => api.post<void>(base(id) + '/overrides', body),
  audit: (id: number) => api.get<AuditEntry[]>(base(id) + '/audit'),
  /** The units the inspector may pick (their subtree; administrators: all), in tree order. */
  units: () => api.get<UnitOut[]>('/units'),
  /** Knowledge areas for the draw rules. */
  areas: () => api.get<AreaOut[]>('/knowledge-areas'),
  /** The officer joins by code from this phone (device id): the attempt to answer, or a waiting page. */
  join: (code: string, deviceId: string) => api.post<JoinOut>('/spot/join', { code, device_id: deviceId }),
}
