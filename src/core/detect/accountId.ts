const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Decodes the AWS account id embedded in an access key id, offline.
 * The 16 characters after the 4-character prefix are base32; the first 6 bytes, big-endian,
 * masked with 0x7fffffffff80 and shifted right by 7, give the 12-digit account id.
 * Old ids whose fifth character is I or J predate this encoding: returns undefined.
 */
export function accountIdFromKeyId(keyId: string): string | undefined {
  if (!/^(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}$/.test(keyId)) return undefined;
  if (keyId[4] === 'I' || keyId[4] === 'J') return undefined;
  const body = keyId.slice(4);
  let bits = 0n;
  for (const ch of body) bits = (bits << 5n) | BigInt(BASE32.indexOf(ch));
  // 16 chars * 5 bits = 80 bits; the first 48 bits are the 6 bytes we need.
  const first6 = bits >> 32n;
  const account = (first6 & 0x7fffffffff80n) >> 7n;
  // Account ids have 12 digits; a larger value means the id is not a real one (or not this encoding).
  if (account > 999_999_999_999n) return undefined;
  return account.toString().padStart(12, '0');
}
