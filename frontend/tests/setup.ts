import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { beforeEach } from 'vitest'
import { resetForTests } from '@/offline/outbox'

// Every test starts with an empty IndexedDB and empty localStorage.
beforeEach(() => {
  resetForTests()
  globalThis.indexedDB = new IDBFactory()
  window.localStorage.clear()
})
