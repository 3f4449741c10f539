// HSS/LMS (RFC 8554) stateful hash-based signature keys on the host: the front door of
// host/keys/hss/. See hss/hss-signer.ts for how a leaf is never used twice.
export { HssLmsFileSigner, keygenHssLms } from "./hss/hss-signer.js";
export type { HssSignerOptions, HssKeygenOptions, HssKeygenResult } from "./hss/hss-signer.js";
export { readHssPrivateKey, hssKeyInfo, lowCountWarning } from "./hss/key-info.js";
export type { HssKeyInfo } from "./hss/key-info.js";
export { verifyHss, verifyLms } from "./hss/hss-verify.js";
export { hssPublicKeyToPem, hssCoseKey, isHssPublicKey, describeHssPublicKey, COSE_ALG_HSS_LMS, COSE_KTY_HSS_LMS } from "./hss/public-key.js";
export { loadHssPublicKey, hssPublicKeyFromText } from "./hss/load-public-key.js";
export { isHssPrivateKeyPem, HSS_PRIVATE_KEY_LABEL } from "./hss/private-key-file.js";
