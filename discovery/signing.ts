import { peerIdFromString } from '@libp2p/peer-id';
import type { PrivateKey, PublicKey } from '@libp2p/interface';

/**
 * Signatures over a canonical encoding: a JSON array of a domain tag and the fields in a fixed order,
 * so that a signature made for one kind of message can never pass as another, and no two field sets
 * encode alike.
 */
export function canonicalBytes(domain: string, fields: readonly unknown[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([domain, ...fields]));
}

export async function signFields(key: PrivateKey, domain: string, fields: readonly unknown[]): Promise<string> {
  return Buffer.from(await key.sign(canonicalBytes(domain, fields))).toString('base64');
}

/**
 * The public key a cluster id embeds (Ed25519 and secp256k1 peer ids carry it), or undefined for a
 * string that is not such a peer id.
 */
export function publicKeyOfClusterId(clusterId: string): PublicKey | undefined {
  try {
    return peerIdFromString(clusterId).publicKey;
  } catch {
    return undefined;
  }
}

/** Whether `signature` (base64) is `clusterId`'s signature of the fields; never throws. */
export async function verifyFields(clusterId: string, domain: string, fields: readonly unknown[], signature: string): Promise<boolean> {
  const publicKey = publicKeyOfClusterId(clusterId);
  if (!publicKey || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return await publicKey.verify(canonicalBytes(domain, fields), new Uint8Array(Buffer.from(signature, 'base64')));
  } catch {
    return false;
  }
}
