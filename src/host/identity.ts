/**
 * Identity files: p2pd's format, a protobuf-encoded libp2p private key as raw bytes
 * (Ed25519, RSA and secp256k1 all load), and pre-shared keys for private networks.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { preSharedKey } from '@libp2p/pnet'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'

/** Raised when a key file is missing or not a key; the CLI reports it and exits 1. */
export class IdentityError extends Error {
  readonly code = 'ERR_BAD_IDENTITY'
  constructor (message: string) {
    super(message)
    this.name = 'IdentityError'
  }
}

/** Loads a protobuf-encoded private key file. */
export async function loadPrivateKey (file: string): Promise<PrivateKey> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (err: any) {
    throw new IdentityError(`cannot read identity file ${file}: ${err.code ?? err.message}`)
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err: any) {
    throw new IdentityError(`identity file ${file} does not hold a protobuf-encoded private key: ${err.message}`)
  }
}

/** Key types the keygen command can write. */
export type KeyType = 'ed25519' | 'rsa' | 'secp256k1'

/**
 * Generates a key and writes it to `file` with mode 0400, refusing to overwrite.
 *
 * @returns the peer ID of the new key
 */
export async function writeNewPrivateKey (file: string, type: KeyType, bits = 2048): Promise<string> {
  const key = type === 'rsa' ? await generateKeyPair('RSA', bits) : type === 'secp256k1' ? await generateKeyPair('secp256k1') : await generateKeyPair('Ed25519')
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o400, flag: 'wx' })
  return peerIdFromPrivateKey(key).toString()
}

/** Loads a go-ipfs `swarm.key` pre-shared key file as a libp2p connection protector. */
export async function loadPsk (file: string): Promise<ReturnType<typeof preSharedKey>> {
  let psk: Uint8Array
  try {
    psk = await readFile(file)
  } catch (err: any) {
    throw new IdentityError(`cannot read pre-shared key file ${file}: ${err.code ?? err.message}`)
  }
  const text = new TextDecoder().decode(psk)
  if (!text.startsWith('/key/swarm/psk/1.0.0/')) throw new IdentityError(`${file} is not a swarm.key file (first line must be /key/swarm/psk/1.0.0/)`)
  return preSharedKey({ psk })
}
