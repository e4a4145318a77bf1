// Typed calls, one per endpoint the officer's app uses.
import { api } from './http'
import type {
  AttemptOut,
  AttemptResult,
  MyQuiz,
  PracticeArea,
  PracticeFeedback,
  PracticeMode,
  PracticeSession,
  ResponseValue,
  SaveOut,
  TokenPair,
  UserOut,
  WrongBook,
} from './types'

export const authApi = {
  login: (username: string, password: string) =>
    api.post<TokenPair>('/auth/login', { username, password }, { auth: false }),
  refresh: (refreshToken: string) =>
    api.post<TokenPair>('/auth/refresh', { refresh_token: refreshToken }, { auth: false }),
  logout: (refreshToken: string | null) =>
    api.post<void>('/auth/logout', { refresh_token: refreshToken }, { retry: false }),
  me: () => api.get<UserOut>('/me'),
  updateMe: (body: { language?: string }) => api.patch<UserOut>('/me', body),
  changePassword: (currentPassword: string, newPassword: string) =>
    api.post<void>('/me/password', { current_password: currentPassword, new_password: newPassword }),
}

export const quizApi = {
  myQuizzes: () => api.get<MyQuiz[]>('/me/quizzes'),
  start: (quizId: number) => api.post<AttemptOut>(`/quizzes/${quizId}/attempts`),
  attempt: (attemptId: number) => api.get<AttemptOut>(`/attempts/${attemptId}`),
  save: (attemptId: number, itemId: number, response: ResponseValue, seq: number) =>
    api.put<SaveOut>(`/attempts/${attemptId}/items/${itemId}`, { response, seq }, { timeoutMs: 15000 }),
  submit: (attemptId: number) => api.post<AttemptResult>(`/attempts/${attemptId}/submit`),
}

export const practiceApi = {
  areas: () => api.get<PracticeArea[]>('/practice/areas'),
  create: (mode: PracticeMode, knowledgeAreaId: number | null = null, count = 10) =>
    api.post<PracticeSession>('/practice/sessions', { mode, knowledge_area_id: knowledgeAreaId, count }),
  session: (sessionId: number) => api.get<PracticeSession>(`/practice/sessions/${sessionId}`),
  answer: (sessionId: number, itemId: number, response: ResponseValue) =>
    api.post<PracticeFeedback>(`/practice/sessions/${sessionId}/items/${itemId}/answer`, { response }),
  wrongBook: () => api.get<WrongBook>('/me/wrong-book'),
}
