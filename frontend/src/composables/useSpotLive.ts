// The live board of one spot session in a page: the socket (with HTTP polling as fallback) from
// mount to unmount, tried again at once when the device is back online or in the foreground.
import { onBeforeUnmount, onMounted, ref, shallowRef } from 'vue'
import type { Ref, ShallowRef } from 'vue'
import { spotApi } from '@/api/spot'
import type { SpotBoard } from '@/api/spot'
import { useAuthStore } from '@/stores/auth'
import { SpotLive, liveUrl } from '@/utils/spotLive'
import type { LiveMode, SocketLike } from '@/utils/spotLive'

export interface SpotLiveHandle {
  board: ShallowRef<SpotBoard | null>
  mode: Ref<LiveMode>
  pollError: ShallowRef<unknown | null>
  /** Read the board now (after an action); resolves when it has been read. */
  refresh: () => Promise<void>
}

export function useSpotLive(spotId: number): SpotLiveHandle {
  const auth = useAuthStore()
  const board = shallowRef<SpotBoard | null>(null)
  const mode = ref<LiveMode>('stopped')
  const pollError = shallowRef<unknown | null>(null)

  const live = new SpotLive({
    url: liveUrl(window.location, spotId),
    openSocket: typeof WebSocket === 'undefined' ? null : (url) => new WebSocket(url) as unknown as SocketLike,
    fetchBoard: () => spotApi.board(spotId),
    getToken: () => auth.accessToken,
    refreshToken: (used) => auth.refresh(used),
    onBoard: (next) => {
      board.value = next
    },
    onMode: (next) => {
      mode.value = next
    },
    onPollError: (err) => {
      pollError.value = err
    },
  })

  function onWake(): void {
    if (document.visibilityState === 'visible') live.wake()
  }

  onMounted(() => {
    live.start()
    window.addEventListener('online', onWake)
    document.addEventListener('visibilitychange', onWake)
  })
  onBeforeUnmount(() => {
    window.removeEventListener('online', onWake)
    document.removeEventListener('visibilitychange', onWake)
    live.stop()
  })

  return { board, mode, pollError, refresh: () => live.refresh() }
}
