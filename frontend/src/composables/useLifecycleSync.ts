// Page lifecycle on phones: back online, back in the foreground, restored from the back/forward
// cache (bfcache). Each time, pending answers are sent and the state is re-synced.
import { onBeforeUnmount, onMounted } from 'vue'
import { useAuthStore } from '@/stores/auth'
import { useAttemptStore } from '@/stores/attempt'
import { useSettingsStore } from '@/stores/settings'
import { online } from '@/utils/network'

export function useLifecycleSync(onRestored?: () => void): void {
  const auth = useAuthStore()
  const attempt = useAttemptStore()
  const settings = useSettingsStore()

  function flushAll(): void {
    if (auth.isLoggedIn) void attempt.flush(true)
  }

  function onOnline(): void {
    online.value = true
    flushAll()
  }
  function onOffline(): void {
    online.value = false
  }
  function onVisibility(): void {
    if (document.visibilityState !== 'visible') return
    auth.syncFromStorage()
    if (!auth.isLoggedIn) return
    // The countdown's offset and the answers may have moved while the phone slept.
    if (attempt.attempt && !attempt.isFinished) void attempt.resync()
    else flushAll()
  }
  function onPageShow(event: PageTransitionEvent): void {
    if (event.persisted) {
      // Restored from bfcache: the JS state is as it was when the page was left; storage,
      // server and clock have moved on.
      auth.syncFromStorage()
      void settings.init()
      if (auth.isLoggedIn && attempt.attempt && !attempt.isFinished) void attempt.resync()
      if (onRestored) onRestored()
    }
    flushAll()
  }

  onMounted(() => {
    window.addEventListener('online', onOnline)
    window.addEventListener('offline', onOffline)
    document.addEventListener('visibilitychange', onVisibility)
    window.addEventListener('pageshow', onPageShow)
    // On load (and reload): whatever an earlier visit left in the outbox goes now.
    flushAll()
  })
  onBeforeUnmount(() => {
    window.removeEventListener('online', onOnline)
    window.removeEventListener('offline', onOffline)
    document.removeEventListener('visibilitychange', onVisibility)
    window.removeEventListener('pageshow', onPageShow)
  })
}
