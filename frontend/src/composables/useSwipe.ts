// Horizontal swipe on an element: left → next, right → previous. Vertical scrolling and taps
// are left alone. The element may appear later (after loading): listeners follow the ref.
import { onBeforeUnmount, watch } from 'vue'
import type { Ref } from 'vue'

export interface SwipeHandlers {
  onLeft(): void
  onRight(): void
}

export const SWIPE_MIN_PX = 60

export function useSwipe(target: Ref<HTMLElement | null>, handlers: SwipeHandlers): void {
  let startX = 0
  let startY = 0
  let startT = 0
  let tracking = false

  function onStart(e: TouchEvent): void {
    const t = e.touches[0]
    if (e.touches.length !== 1 || !t) {
      tracking = false
      return
    }
    startX = t.clientX
    startY = t.clientY
    startT = Date.now()
    tracking = true
  }
  function onEnd(e: TouchEvent): void {
    if (!tracking) return
    tracking = false
    const t = e.changedTouches[0]
    if (!t) return
    const dx = t.clientX - startX
    const dy = t.clientY - startY
    if (Math.abs(dx) < SWIPE_MIN_PX || Math.abs(dx) < Math.abs(dy) * 1.5 || Date.now() - startT > 1000) return
    if (dx < 0) handlers.onLeft()
    else handlers.onRight()
  }
  function onCancel(): void {
    tracking = false
  }

  function attach(el: HTMLElement): void {
    el.addEventListener('touchstart', onStart, { passive: true })
    el.addEventListener('touchend', onEnd, { passive: true })
    el.addEventListener('touchcancel', onCancel, { passive: true })
  }
  function detach(el: HTMLElement): void {
    el.removeEventListener('touchstart', onStart)
    el.removeEventListener('touchend', onEnd)
    el.removeEventListener('touchcancel', onCancel)
  }

  const stop = watch(
    target,
    (el, old) => {
      if (old) detach(old)
      if (el) attach(el)
    },
    { immediate: true, flush: 'post' },
  )
  onBeforeUnmount(() => {
    stop()
    if (target.value) detach(target.value)
  })
}
