import { ApiError } from '@/api/http'
import { i18n } from '@/locales'

/**
 * A message for an error: the first of `prefixes` with a message for its code (e.g.
 * "home.quiz_closed"), else a general one for the code, else a generic one.
 */
export function errorMessage(err: unknown, ...prefixes: string[]): string {
  const t = i18n.global.t
  const te = i18n.global.te
  const code = err instanceof ApiError ? err.code : 'unknown'
  for (const prefix of prefixes) {
    if (te(prefix + '.' + code)) return t(prefix + '.' + code)
  }
  if (te('errors.' + code)) return t('errors.' + code)
  if (err instanceof ApiError && err.status >= 500) return t('errors.server_busy')
  return t('errors.unknown')
}

/** The endpoint itself does not exist (yet): the server's JSON 404 for unknown /api paths. */
export function isMissingEndpoint(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && err.code === 'not_found'
}
