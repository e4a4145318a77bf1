// The statistics pages' styles (screen and print), injected once when such a page opens, like
// admin.css: the officer's stylesheet does not carry them.
import statsCss from '@/views/admin/stats.css?inline'

const STYLE_ID = 'yz-stats-style'

export function injectStatsStyle(): void {
  if (typeof document === 'undefined' || document.getElementById(STYLE_ID)) return
  const style = document.createElement('style')
  style.id = STYLE_ID
  style.textContent = statsCss
  document.head.appendChild(style)
}
