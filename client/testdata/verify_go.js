#!/usr/bin/env node
// Checks a vectors file with tweetnacl, the way Misakey's web client reads
// boxes: every key pair, message, invitation split and file must decrypt or
// recombine to the plaintext it records. With no argument it reads
// go_vectors.json (written by the Go client's tests); the Go test
// TestTweetnaclDecryptsGo passes it a file of fresh Go ciphertexts.
//
//   node verify_go.js [vectors.json]
//
// Prints one OK line per vector and exits 1 at the first mismatch.
'use strict';

const fs = require('fs');
const path = require('path');
const nacl = require('tweetnacl');
const util = require('tweetnacl-util');

const FILE_ALGORITHM = 'com.misakey.secretbox-file-enc';

// Unpadded url-safe base64, the form of box keys and link shares.
function encodeUrl64(bytes) {
  return util.encodeBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeUrl64(what, s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) {
    throw new Error(`${what}: not unpadded url-safe base64: ${JSON.stringify(s)}`);
  }
  let std = s.replace(/-/g, '+').replace(/_/g, '/');
  while (std.length % 4 !== 0) std += '=';
  return decodeStd64(what, std);
}

function decodeStd64(what, s) {
  try {
    return util.decodeBase64(s);
  } catch (e) {
    throw new Error(`${what}: not standard base64: ${JSON.stringify(s)}`);
  }
}

function wantLength(what, bytes, n) {
  if (bytes.length !== n) throw new Error(`${what}: want ${n} bytes, got ${bytes.length}`);
  return bytes;
}

function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// A {"type":"Uint8Array","encoding":"base64","value":…} field, as Misakey's
// deserializer accepts it: exactly these three keys.
function decodeField(cryptogram, name) {
  const f = cryptogram[name];
  if (f === null || typeof f !== 'object') throw new Error(`${name}: missing`);
  const keys = Object.keys(f).sort().join(',');
  if (keys !== 'encoding,type,value' || f.type !== 'Uint8Array' || f.encoding !== 'base64') {
    throw new Error(`${name}: not a {type: Uint8Array, encoding: base64, value} field`);
  }
  return decodeStd64(name, f.value);
}

// Opens an `encrypted` string (or a file's msg_encrypted_content).
function decryptForBox(boxSecretKey, encrypted) {
  const json = util.encodeUTF8(decodeStd64('encrypted', encrypted));
  const cryptogram = JSON.parse(json);
  const ephemeral = wantLength('ephemeralSenderPublicKey',
    decodeField(cryptogram, 'ephemeralSenderPublicKey'), nacl.box.publicKeyLength);
  const nonce = wantLength('nonce', decodeField(cryptogram, 'nonce'), nacl.box.nonceLength);
  const ciphertext = decodeField(cryptogram, 'ciphertext');
  const secret = wantLength('boxSecretKey', decodeUrl64('boxSecretKey', boxSecretKey), 32);
  const plaintext = nacl.box.open(ciphertext, nonce, ephemeral, secret);
  if (plaintext === null) throw new Error('nacl.box.open failed');
  return plaintext;
}

function checkBox(v) {
  const secret = wantLength('secretKey', decodeUrl64('secretKey', v.secretKey), 32);
  const derived = encodeUrl64(nacl.box.keyPair.fromSecretKey(secret).publicKey);
  if (derived !== v.publicKey) throw new Error(`public key: tweetnacl derives ${derived}, file has ${v.publicKey}`);
}

function checkMessage(v) {
  const got = decryptForBox(v.boxSecretKey, v.encrypted);
  if (!equalBytes(got, util.decodeUTF8(v.plaintext))) throw new Error('plaintext differs');
}

function checkInvitation(v) {
  const shareOne = wantLength('shareOne', decodeUrl64('shareOne', v.shareOne), 32);
  const misakeyShare = wantLength('misakeyShare', decodeStd64('misakeyShare', v.misakeyShare), 32);
  const secret = shareOne.map((b, i) => b ^ misakeyShare[i]);
  if (encodeUrl64(secret) !== v.secretKey) throw new Error('recombined secret key differs');
  if (encodeUrl64(nacl.hash(shareOne)) !== v.otherShareHash) throw new Error('otherShareHash differs');
}

function checkFile(v) {
  const info = JSON.parse(util.encodeUTF8(decryptForBox(v.boxSecretKey, v.encryptedContent)));
  if (info.fileName !== v.fileName) throw new Error(`fileName: got ${JSON.stringify(info.fileName)}`);
  if (info.fileType !== v.fileType) throw new Error(`fileType: got ${JSON.stringify(info.fileType)}`);
  const data = decodeStd64('data', v.data);
  if (info.fileSize !== data.length) throw new Error(`fileSize: got ${info.fileSize}, want ${data.length}`);
  const enc = info.encryption || {};
  if (enc.algorithm !== FILE_ALGORITHM) throw new Error(`encryption.algorithm: got ${JSON.stringify(enc.algorithm)}`);
  const nonce = wantLength('encryption.nonce', decodeStd64('encryption.nonce', enc.nonce), nacl.secretbox.nonceLength);
  const key = wantLength('encryption.fileKey', decodeStd64('encryption.fileKey', enc.fileKey), nacl.secretbox.keyLength);
  const plain = nacl.secretbox.open(decodeStd64('encryptedFile', v.encryptedFile), nonce, key);
  if (plain === null) throw new Error('nacl.secretbox.open failed');
  if (!equalBytes(plain, data)) throw new Error('file bytes differ');
}

// verify checks every vector and returns how many it checked; it throws at
// the first failure, naming the vector.
function verify(vectors) {
  const groups = [
    ['boxes', checkBox],
    ['messages', checkMessage],
    ['invitations', checkInvitation],
    ['files', checkFile],
  ];
  let n = 0;
  for (const [group, check] of groups) {
    const list = vectors[group];
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${group}: none in the file`);
    for (const v of list) {
      try {
        check(v);
      } catch (e) {
        throw new Error(`${group} "${v.name}": ${e.message}`);
      }
      console.log(`OK ${group}: ${v.name}`);
      n += 1;
    }
  }
  return n;
}

module.exports = { verify };

if (require.main === module) {
  const file = process.argv[2] || path.join(__dirname, 'go_vectors.json');
  try {
    const n = verify(JSON.parse(fs.readFileSync(file, 'utf8')));
    console.log(`OK: tweetnacl ${require('tweetnacl/package.json').version} checked ${n} vectors of ${file}`);
  } catch (e) {
    console.error(`FAIL: ${file}: ${e.message}`);
    process.exit(1);
  }
}
