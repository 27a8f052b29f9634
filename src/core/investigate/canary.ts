import { accountIdFromKeyId } from '../detect/accountId';

/**
 * AWS accounts that issue canary tokens: keys planted to be found, which alert their owner the
 * moment anyone uses them (a GetCallerIdentity is enough). Using one of these "to check it" tells
 * the canary's owner that you found it. Account numbers as published by Thinkst's canarytokens.org
 * and recognised by trufflehog (pkg/detectors/aws/access_keys/canary.go); the account is decoded
 * from the key id offline, so recognising a canary needs no call.
 */
const THINKST = ['052310077262', '171436882533', '534261010715', '595918472158', '717712589309', '819147034852', '992382622183', '730335385048', '266735846894', '893192397702'];
const LOOKALIKES = [
  '044858866125', '251535659677', '344043088457', '351906852752', '390477818340', '426127672474', '427150556519', '439872796651',
  '445142720921', '465867158099', '637958123769', '693412236332', '732624840810', '735421457923', '959235150393', '982842642351',
];
const CANARY = new Map<string, string>([...THINKST.map((a): [string, string] => [a, 'a canary token from canarytokens.org']), ...LOOKALIKES.map((a): [string, string] => [a, 'a canary token (a canarytokens.org look-alike)'])]);

/** What the key is, when its account is a known canary issuer. */
export function canaryOf(keyId: string): { account: string; what: string } | undefined {
  const account = accountIdFromKeyId(keyId);
  const what = account ? CANARY.get(account) : undefined;
  return account && what ? { account, what } : undefined;
}
