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
