// The boxes' end-to-end crypto in the browser, with tweetnacl: the same
// formats as the Go client (client/crypto.go) and Misakey's web client.
// Keys and plaintext never leave this module's callers for the network.

const nacl = window.nacl;
export const FILE_ALGORITHM = 'com.misakey.secretbox-file-enc';

export function std(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
export function fromStd(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
export const url64 = (b) => std(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
export function fromURL64(s) {
  const t = s.replace(/-/g, '+').replace(/_/g, '/');
  return fromStd(t + '='.repeat((4 - (t.length % 4)) % 4));
}
function key(what, s) {
  const b = fromURL64(s || '');
  if (b.length !== 32) throw new Error(`${what}: want 32 bytes, got ${b.length}`);
  return b;
}

const field = (b) => ({ type: 'Uint8Array', encoding: 'base64', value: std(b) });
function unfield(what, f, n) {
  if (!f || f.type !== 'Uint8Array' || f.encoding !== 'base64') throw new Error(`${what}: not a base64 Uint8Array`);
  const b = fromStd(f.value);
  if (n >= 0 && b.length !== n) throw new Error(`${what}: want ${n} bytes, got ${b.length}`);
  return b;
}

export function newKeyPair() {
  const kp = nacl.box.keyPair();
  return { publicKey: url64(kp.publicKey), secretKey: url64(kp.secretKey) };
}

export const publicKeyOf = (secretKey) => url64(nacl.box.keyPair.fromSecretKey(key('secret key', secretKey)).publicKey);

// encryptBytes is a message's `encrypted` field: base64 of the JSON
// cryptogram, sealed with a fresh ephemeral key for the box's public key.
export function encryptBytes(boxPublicKey, plaintext) {
  const eph = nacl.box.keyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const ciphertext = nacl.box(plaintext, nonce, key('box public key', boxPublicKey), eph.secretKey);
  const json = JSON.stringify({ ephemeralSenderPublicKey: field(eph.publicKey), nonce: field(nonce), ciphertext: field(ciphertext) });
  return std(new TextEncoder().encode(json));
}

export function decryptBytes(boxSecretKey, encrypted) {
  const c = JSON.parse(new TextDecoder().decode(fromStd(encrypted)));
  const out = nacl.box.open(unfield('ciphertext', c.ciphertext, -1), unfield('nonce', c.nonce, 24),
    unfield('ephemeralSenderPublicKey', c.ephemeralSenderPublicKey, 32), key('box secret key', boxSecretKey));
  if (!out) throw new Error('decryption failed: wrong key or altered ciphertext');
  return out;
}

export const encryptText = (pub, text) => encryptBytes(pub, new TextEncoder().encode(text));
export const decryptText = (sec, enc) => new TextDecoder().decode(decryptBytes(sec, enc));

// splitSecretKey makes an invitation: shareOne goes in the link's
// #fragment only; the server files misakeyShare under otherShareHash.
export function splitSecretKey(secretKey) {
  const sec = key('secret key', secretKey);
  const one = nacl.randomBytes(32);
  const two = sec.map((b, i) => b ^ one[i]);
  return { shareOne: url64(one), misakeyShare: std(two), otherShareHash: url64(nacl.hash(one)) };
}

export const shareHash = (shareOne) => url64(nacl.hash(key('key share', shareOne)));

export function combineShares(shareOne, misakeyShare) {
  const one = key('key share', shareOne);
  const two = fromStd(misakeyShare);
  if (two.length !== 32) throw new Error('misakey_share: want 32 bytes');
  return url64(one.map((b, i) => b ^ two[i]));
}

// encryptFile seals a file under its own key; the key travels in the
// file's message, encrypted for the box (the key order is the Go client's).
export function encryptFile(boxPublicKey, name, type, data) {
  const fileKey = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const info = { fileName: name, fileSize: data.length, fileType: type,
    encryption: { algorithm: FILE_ALGORITHM, nonce: std(nonce), fileKey: std(fileKey) } };
  return { encryptedFile: nacl.secretbox(data, nonce, fileKey), encryptedContent: encryptText(boxPublicKey, JSON.stringify(info)) };
}

export const fileInfo = (boxSecretKey, encryptedContent) => JSON.parse(decryptText(boxSecretKey, encryptedContent));

export function decryptFile(info, encryptedFile) {
  if (info.encryption.algorithm !== FILE_ALGORITHM) throw new Error(`unknown file encryption ${info.encryption.algorithm}`);
  const out = nacl.secretbox.open(encryptedFile, fromStd(info.encryption.nonce), fromStd(info.encryption.fileKey));
  if (!out) throw new Error('the file does not decrypt: wrong key or altered file');
  return out;
}
