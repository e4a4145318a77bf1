import { ref } from 'vue'

/** navigator.onLine, kept current by the lifecycle listeners (a hint only: saves are the truth). */
export const online = ref(typeof navigator === 'undefined' || navigator.onLine !== false)
