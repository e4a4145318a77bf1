import { createRouter, createWebHistory } from 'vue-router'
import type { RouteRecordRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import type { Role } from '@/api/types'
import { BANK_ROLES, EVALUATION_ROLES, ROSTER_ROLES, STATS_ROLES, roleAllowed } from '@/utils/roles'
import { SPOT_HOST_ROLES } from '@/utils/spot'
// The screens an officer needs first (and during a quiz) are in the main bundle; the rest load on demand.
import LoginView from '@/views/LoginView.vue'
import HomeView from '@/views/HomeView.vue'
import QuizView from '@/views/QuizView.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without logging in. */
    public?: boolean
    /** Shows the bottom tab bar, with this tab active. */
    tab?: 'home' | 'practice' | 'profile'
    /** Only these roles may open the page (the admin area); others are sent elsewhere. */
    roles?: Role[]
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
  { path: '/', name: 'home', component: HomeView, meta: { tab: 'home' } },
  { path: '/attempt/:attemptId(\\d+)', name: 'quiz', component: QuizView },
  { path: '/attempt/:attemptId(\\d+)/result', name: 'result', component: () => import('@/views/ResultView.vue') },
  { path: '/change-password', name: 'password', component: () => import('@/views/ChangePasswordView.vue') },
  { path: '/practice', name: 'practice', component: () => import('@/views/PracticeView.vue'), meta: { tab: 'practice' } },
  {
    path: '/practice/session/:sessionId(\\d+)',
    name: 'practice-session',
    component: () => import('@/views/PracticeSessionView.vue'),
  },
  { path: '/wrong-book', name: 'wrong-book', component: () => import('@/views/WrongBookView.vue') },
  { path: '/profile', name: 'profile', component: () => import('@/views/ProfileView.vue'), meta: { tab: 'profile' } },
  // Spot sessions: the officer joins by code or QR link; the inspector's pages are lazy chunks of their own.
  { path: '/spot/join', name: 'spot-join', component: () => import('@/views/spot/SpotJoinView.vue') },
  {
    path: '/inspect',
    component: () => import('@/views/inspect/InspectLayout.vue'),
    meta: { roles: SPOT_HOST_ROLES },
    children: [
      { path: '', name: 'inspect', component: () => import('@/views/inspect/SpotListView.vue') },
      { path: 'new', name: 'inspect-new', component: () => import('@/views/inspect/SpotCreateView.vue') },
      {
        path: 'sessions/:spotId(\\d+)',
        name: 'inspect-session',
        component: () => import('@/views/inspect/SpotSessionView.vue'),
      },
    ],
  },
  // The admin area (desktop): its own lazily loaded chunks, so the officer's bundle stays as it is.
  {
    path: '/admin',
    component: () => import('@/views/admin/AdminLayout.vue'),
    meta: { roles: STATS_ROLES },
    children: [
      {
        path: '',
        name: 'admin',
        redirect: () => {
          const auth = useAuthStore()
          const role = auth.user ? auth.user.role : null
          if (role === 'admin') return { name: 'admin-bank' }
          return { name: role === 'unit_admin' ? 'admin-units' : 'admin-stats' }
        },
      },
      {
        path: 'bank',
        name: 'admin-bank',
        component: () => import('@/views/admin/BankBrowserView.vue'),
        meta: { roles: BANK_ROLES },
      },
      {
        path: 'bank/import',
        name: 'admin-bank-import',
        component: () => import('@/views/admin/BankImportView.vue'),
        meta: { roles: BANK_ROLES },
      },
      {
        path: 'questions/:questionId(\\d+)',
        name: 'admin-question',
        component: () => import('@/views/admin/QuestionEditView.vue'),
        meta: { roles: BANK_ROLES },
      },
      {
        path: 'roster',
        name: 'admin-roster',
        component: () => import('@/views/admin/RosterImportView.vue'),
        meta: { roles: ROSTER_ROLES },
      },
      {
        path: 'units',
        name: 'admin-units',
        component: () => import('@/views/admin/UnitTreeView.vue'),
        meta: { roles: ROSTER_ROLES },
      },
      {
        path: 'imports',
        name: 'admin-imports',
        component: () => import('@/views/admin/ImportHistoryView.vue'),
        meta: { roles: ROSTER_ROLES },
      },
      {
        path: 'imports/:importId(\\d+)',
        name: 'admin-import',
        component: () => import('@/views/admin/ImportPreviewView.vue'),
        meta: { roles: ROSTER_ROLES },
      },
      // Statistics (the unit in the path, the selection in the query) and the A4 report.
      {
        path: 'stats/:unitId(\\d+)?',
        name: 'admin-stats',
        component: () => import('@/views/admin/StatsDashboardView.vue'),
        meta: { roles: STATS_ROLES },
      },
      {
        path: 'stats/quizzes/:quizId(\\d+)',
        name: 'admin-item-analysis',
        component: () => import('@/views/admin/ItemAnalysisView.vue'),
        meta: { roles: STATS_ROLES },
      },
      {
        path: 'report/:unitId(\\d+)',
        name: 'admin-report',
        component: () => import('@/views/admin/UnitReportView.vue'),
        meta: { roles: STATS_ROLES },
      },
      {
        path: 'evaluations',
        name: 'admin-evaluations',
        component: () => import('@/views/admin/EvaluationsView.vue'),
        meta: { roles: EVALUATION_ROLES },
      },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (_to, _from, saved) => saved || { top: 0 },
})

router.beforeEach((to) => {
  const auth = useAuthStore()
  if (to.meta.public) {
    return auth.isLoggedIn && to.name === 'login' ? { name: 'home' } : true
  }
  if (!auth.isLoggedIn) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (auth.mustChangePassword && to.name !== 'password') {
    return { name: 'password', query: { redirect: to.fullPath } }
  }
  // Role checks of the admin area (the server checks again): every matched record must allow the role.
  const role = auth.user ? auth.user.role : null
  if (!to.matched.every((record) => roleAllowed(role, record.meta.roles))) {
    return roleAllowed(role, ROSTER_ROLES) ? { name: 'admin' } : { name: 'home' }
  }
  return true
})

// A new deployment removed the old hashed chunks this page still refers to: load afresh.
router.onError((err: unknown, to) => {
  const message = err instanceof Error ? err.message : String(err)
  if (/Failed to fetch|Loading chunk|Unable to preload|error loading|Importing a module script failed/i.test(message)) {
    window.location.assign(to.fullPath)
  }
})

export default router
