// What several admin pages read: the banks and the knowledge areas (loaded once, reloaded after
// an import or an edit may have changed them).
import { ref } from 'vue'
import { defineStore } from 'pinia'
import { bankAdminApi } from '@/api/admin'
import type { AreaOut, BankOut } from '@/api/types'

export const useAdminStore = defineStore('admin', () => {
  const banks = ref<BankOut[]>([])
  const areas = ref<AreaOut[]>([])
  let banksLoaded = false
  let areasLoaded = false

  async function loadBanks(force = false): Promise<BankOut[]> {
    if (!banksLoaded || force) {
      banks.value = await bankAdminApi.banks()
      banksLoaded = true
    }
    return banks.value
  }

  async function loadAreas(force = false): Promise<AreaOut[]> {
    if (!areasLoaded || force) {
      areas.value = await bankAdminApi.areas()
      areasLoaded = true
    }
    return areas.value
  }

  /** After a commit or an edit: read both again next time they are needed. */
  function invalidate(): void {
    banksLoaded = false
    areasLoaded = false
  }

  return { banks, areas, loadBanks, loadAreas, invalidate }
})
