import { mkdir } from 'node:fs/promises'
import { LevelDatastore } from 'datastore-level'
import type { Datastore } from 'interface-datastore'

/** Opens (creating if needed, mode 0700) a LevelDB datastore for the peerstore and DHT records. */
export async function openDatastore (dir: string): Promise<Datastore> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const store = new LevelDatastore(dir)
  await store.open()
  return store
}
