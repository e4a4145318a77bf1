// Who may open which admin page (the server checks again). Kept apart from the admin helpers:
// the router and the officer screens need only this, and it stays in the main bundle.
import type { Role } from '@/api/types'

/** Question banks and their imports: administrators. */
export const BANK_ROLES: Role[] = ['admin']
/** The roster, the unit tree and import history: administrators and unit administrators. */
export const ROSTER_ROLES: Role[] = ['admin', 'unit_admin']
/** Statistics and the acceptance report: all staff (inspectors read them too). */
export const STATS_ROLES: Role[] = ['admin', 'unit_admin', 'inspector']
/** Evaluations (targets): administrators. */
export const EVALUATION_ROLES: Role[] = ['admin']

export function roleAllowed(role: string | null | undefined, allowed: Role[] | undefined): boolean {
  if (!allowed) return true
  return !!role && (allowed as string[]).indexOf(role) >= 0
}

/** May open the admin area at all. */
export function canManage(role: string | null | undefined): boolean {
  return roleAllowed(role, ROSTER_ROLES)
}

/** May open the admin area for its statistics (inspectors: statistics only). */
export function canSeeStats(role: string | null | undefined): boolean {
  return roleAllowed(role, STATS_ROLES)
}
