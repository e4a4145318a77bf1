// Response shapes of the Yingzhi API (app/*/schemas.py). Dates are ISO 8601 strings (UTC).

export type Language = 'zh-CN' | 'en'

export interface UserOut {
  id: number
  username: string
  police_number: string | null
  name: string
  role: string
  unit_id: number
  unit_name: string
  must_change_password: boolean
  language: string
}

export interface TokenPair {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
  user: UserOut
}

export type QuizState = 'upcoming' | 'open' | 'in_progress' | 'finished' | 'closed'

export interface MyQuiz {
  id: number
  title: string
  description: string
  opens_at: string | null
  closes_at: string | null
  time_limit_seconds: number
  question_count: number
  max_score: number | null
  pass_percent: number
  attempts_allowed: number
  attempts_used: number
  state: QuizState
  can_start: boolean
  attempt_in_progress_id: number | null
  last_score: number | null
  last_passed: boolean | null
  best_score: number | null
}

export type QuestionType = 'single' | 'multiple' | 'true_false' | 'fill_blank'

export interface OptionOut {
  id: string
  text: string
}

/** single: option id; multiple: option ids; true_false: boolean; fill_blank: one text per blank. */
export type ResponseValue = string | string[] | boolean | null

export interface ItemOut {
  id: number
  position: number
  type: QuestionType
  stem: string
  options: OptionOut[]
  blanks: number
  points: number
  response: ResponseValue
  seq: number | null
}

export type Outcome = 'correct' | 'partial' | 'wrong' | 'blank'

/** A key: single → option id; multiple → ids; true_false → boolean; fill_blank → alternatives per blank. */
export type CorrectResponse = string | string[] | boolean | string[][] | null

export interface ReviewItem extends ItemOut {
  outcome: Outcome | null
  awarded: number | null
  correct_response: CorrectResponse
  explanation: string | null
}

export type FinishReason = 'submitted' | 'timeout' | 'closed'

export interface AttemptResult {
  attempt_id: number
  quiz_id: number
  status: string
  finish_reason: FinishReason | null
  finished_at: string | null
  score: number
  max_score: number
  passed: boolean
  review_policy: string
  shows_correctness: boolean
  shows_answers: boolean
  items: ReviewItem[]
}

export interface AttemptOut {
  id: number
  quiz_id: number
  quiz_title: string
  number: number
  status: 'in_progress' | 'finished'
  started_at: string
  deadline: string
  server_time: string
  save_grace_seconds: number
  items: ItemOut[]
  result: AttemptResult | null
}

export interface SaveIn {
  response: ResponseValue
  seq: number
}

export interface SaveOut {
  item_id: number
  seq: number
  saved_at: string
  accepted: boolean
  server_time: string
}

// Practice (contract in the practice issue)

export interface PracticeArea {
  id: number
  name: string
  full_name: string
  depth: number
  questions: number
  answered: number
  mastery: number | null
}

export type PracticeMode = 'area' | 'weak' | 'wrong_book'

export interface PracticeFeedback {
  item_id: number
  outcome: Outcome
  awarded: number
  correct_response: CorrectResponse
  explanation: string | null
}

export interface PracticeItem extends ItemOut {
  feedback?: PracticeFeedback | null
}

export interface PracticeSession {
  id: number
  mode: PracticeMode
  items: PracticeItem[]
}

export interface WrongBookItem {
  question_id: number
  type: QuestionType
  stem: string
  options: OptionOut[]
  correct_response: CorrectResponse
  explanation: string | null
  knowledge_area: string | null
  wrong_count: number
  right_streak: number
  last_wrong_at: string | null
  due_at: string | null
}

export interface WrongBook {
  items: WrongBookItem[]
  total: number
}

// Administration (app/bank, app/units and app/imports schemas; the admin area only)

export type Role = 'officer' | 'inspector' | 'unit_admin' | 'admin'

export interface BankOut {
  id: number
  name: string
  description: string
  created_at: string
  question_count: number
  retired_count: number
}

export interface AreaOut {
  id: number
  parent_id: number | null
  name: string
  full_name: string
  path: string
  depth: number
  question_count: number
  subtree_question_count: number
}

export type QuestionStatus = 'active' | 'retired'

export interface QuestionOut {
  id: number
  bank_id: number
  knowledge_area_id: number
  knowledge_area_full_name: string
  type: QuestionType
  stem: string
  options: OptionOut[]
  /** Stored form: single → option id; multiple → ids; true_false → boolean; fill_blank → texts per blank. */
  answer: CorrectResponse
  /** Choice questions: the answer as 0-based indexes into `options`. */
  answer_indexes: number | number[] | null
  explanation: string
  difficulty: number
  points: number
  status: QuestionStatus
  version: number
  tags: string[]
  created_at: string
  updated_at: string
}

export interface QuestionPage {
  items: QuestionOut[]
  total: number
}

/** Authoring form: single → option index; multiple → indexes (≥ 2); true_false → boolean; fill_blank → texts per blank. */
export type AuthoringAnswer = number | number[] | boolean | string[][]

export interface QuestionUpdate {
  knowledge_area_id?: number
  type?: QuestionType
  stem?: string
  options?: string[]
  answer?: AuthoringAnswer
  explanation?: string
  difficulty?: number
  points?: number
  tags?: string[]
}

/** One version of a question as it was (GET /questions/{id}/versions, the current one first). */
export interface QuestionVersion {
  version: number
  current?: boolean
  /** When this version was made. */
  made_at?: string | null
  bank_id?: number
  knowledge_area_id?: number
  knowledge_area_full_name: string | null
  type: QuestionType
  stem: string
  /** That version's options; its answer refers to their ids. */
  options: (string | OptionOut)[]
  answer: unknown
  explanation: string
  difficulty: number
  points: number
  tags: string[]
  changed_by?: string | { id: number; name: string } | null
}

export interface QuestionFilters {
  bank_id?: number | null
  knowledge_area_id?: number | null
  type?: QuestionType | null
  difficulty?: number | null
  status?: QuestionStatus | null
  q?: string | null
}

export type ExportFormat = 'xlsx' | 'json' | 'gift'

export interface UnitOut {
  id: number
  parent_id: number | null
  code: string
  name: string
  kind: string
  depth: number
  path: string
  sort_order: number
  officer_count: number
  subtree_officer_count: number
}

export interface UserAdminOut {
  id: number
  username: string
  police_number: string | null
  name: string
  phone: string | null
  role: Role
  unit_id: number
  unit_name: string
  is_active: boolean
  must_change_password: boolean
  created_at: string
  deactivated_at: string | null
}

export interface UserPage {
  items: UserAdminOut[]
  total: number
}

// Imports (contract of issue 3)

export type ImportKind = 'bank' | 'roster'
export type ImportStatus = 'previewed' | 'committed' | 'discarded'

/** One problem in an imported file; `message` is zh-CN, `message_en` English. */
export interface ImportIssue {
  code: string
  message: string
  message_en: string
  line: number | null
  row: number | null
  field: string | null
  params: Record<string, unknown>
}

export interface BankImportCounts {
  total: number
  valid: number
  errors: number
  duplicates_in_file: number
  duplicates_in_bank: number
  to_import: number
}

export interface RosterImportCounts {
  total: number
  valid: number
  errors: number
  new_units: number
  create: number
  update: number
  deactivate: number
  unchanged: number
}

export interface ImportDuplicate {
  line: number | null
  row: number | null
  stem: string
  kind: 'in_file' | 'in_bank'
  first_line: number | null
  first_row: number | null
  question_id: number | null
}

export interface InitialPassword {
  police_number: string
  name: string
  password: string
}

export interface BankImportResult {
  created: number
  skipped_duplicates: number
  areas_created: number
}

export interface RosterImportResult {
  units_created: number
  created: number
  updated: number
  deactivated: number
  initial_passwords?: InitialPassword[]
}

export interface PersonRef {
  id: number
  name: string
}

export interface ImportJob {
  id: number
  kind: ImportKind
  status: ImportStatus
  file_name: string
  file_sha256: string
  file_size: number
  format: string
  encoding: string | null
  bank_id: number | null
  bank_name: string | null
  default_area: string | null
  deactivate_missing: boolean
  created_by: PersonRef | null
  created_at: string
  committed_at: string | null
  committed_by: PersonRef | null
  valid_only: boolean
  counts: Partial<BankImportCounts & RosterImportCounts>
  errors?: ImportIssue[]
  warnings?: ImportIssue[]
  duplicates?: ImportDuplicate[]
  new_knowledge_areas?: string[]
  new_units?: string[]
  result: (Partial<BankImportResult & RosterImportResult> & Record<string, unknown>) | null
}

export interface ImportJobPage {
  items: ImportJob[]
  total: number
}

export type BankItemStatus = 'valid' | 'error' | 'duplicate'
export type RosterItemStatus = 'create' | 'update' | 'deactivate' | 'unchanged' | 'error'
export type ItemStatusFilter = 'all' | BankItemStatus | RosterItemStatus

/** One row or question of a preview; bank and roster fields side by side (each kind fills its own). */
export interface PreviewItem {
  line?: number | null
  row?: number | null
  status: BankItemStatus | RosterItemStatus
  issues: ImportIssue[]
  // bank
  type?: string | null
  stem?: string | null
  options?: string[]
  answer?: string | null
  area?: string | null
  difficulty?: number | string | null
  points?: number | string | null
  // roster
  unit?: string | null
  police_number?: string | null
  name?: string | null
  phone?: string | null
  role?: string | null
  active?: boolean | null
  changes?: Record<string, [unknown, unknown]>
}

export interface PreviewItemPage {
  items: PreviewItem[]
  total: number
}

/** A refused file (422): the code, the zh-CN detail and the English message. */
export interface FileRejection {
  code: string
  detail: string
  message_en: string | null
}
