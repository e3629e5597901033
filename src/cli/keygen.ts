/**
 * `libp2pd-keygen` (p2p-keygen compatible): writes a protobuf-encoded private key with mode
 * 0400 and prints `Peer ID: <id>`. Flags: `-f <file>` (default identity), `-t ed25519|rsa|secp256k1`,
 * `-b <bits>` for RSA.
 */
import { writeNewPrivateKey } from '../host/identity.js'
import type { KeyType } from '../host/identity.js'

/** Runs keygen; returns the exit code. */
export async function keygen (argv: string[]): Promise<number> {
  let file = 'identity'
  let type = 'ed25519'
  let bits = 2048
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(argv[i])
    if (m == null) { process.stderr.write(`unexpected argument: ${argv[i]}\n`); return 2 }
    const value = m[2] ?? argv[++i]
    if (m[1] === 'h' || m[1] === 'help') {
      process.stdout.write('Usage: libp2pd-keygen [-f file] [-t ed25519|rsa|secp256k1] [-b bits]\n')
      return 0
    }
    if (value === undefined) { process.stderr.write(`flag needs an argument: -${m[1]}\n`); return 2 }
    if (m[1] === 'f') file = value
    else if (m[1] === 't') type = value.toLowerCase()
    else if (m[1] === 'b') bits = Number(value)
    else { process.stderr.write(`flag provided but not defined: -${m[1]}\n`); return 2 }
  }
  if (!['ed25519', 'rsa', 'secp256k1'].includes(type)) { process.stderr.write(`invalid key type "${type}": ed25519, rsa or secp256k1\n`); return 2 }
  if (!Number.isInteger(bits) || bits < 2048 || bits > 8192) { process.stderr.write(`invalid RSA size ${bits}: 2048 to 8192\n`); return 2 }
  try {
    const id = await writeNewPrivateKey(file, type as KeyType, bits)
    process.stdout.write(`Peer ID: ${id}\n`)
    return 0
  } catch (err: any) {
    process.stderr.write(err.code === 'EEXIST' ? `${file} already exists; not overwriting\n` : `cannot write ${file}: ${err.message}\n`)
    return 1
  }
}
