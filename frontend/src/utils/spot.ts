// Who runs spot sessions: all the home screen and the router need (main bundle, so kept tiny;
// the join page's helpers are in spotJoin.ts).
import type { Role } from '@/api/types'

/** Who runs spot sessions (the server checks again): inspectors and administrators. */
export const SPOT_HOST_ROLES: Role[] = ['inspector', 'admin']

export function canHostSpot(role: string | null | undefined): boolean {
  return !!role && (SPOT_HOST_ROLES as string[]).indexOf(role) >= 0
}
