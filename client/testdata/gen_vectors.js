#!/usr/bin/env node
// Writes tweetnacl_vectors.json: ciphertexts made by tweetnacl exactly the
// way Misakey's web client makes them, for the Go client's tests to open and
// to reproduce byte for byte. Every key, nonce and share is hard-coded below,
// so running it again writes the same file.
//
//   npm ci && node gen_vectors.js [out.json]
//
// out.json defaults to tweetnacl_vectors.json beside this script.
'use strict';

const fs = require('fs');
const path = require('path');
const nacl = require('tweetnacl');
const util = require('tweetnacl-util');
const { verify } = require('./verify_go');

const FILE_ALGORITHM = 'com.misakey.secretbox-file-enc';

const hex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
const std64 = (bytes) => util.encodeBase64(bytes);
const url64 = (bytes) => std64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

// Misakey's serialisation: every Uint8Array becomes
// {"type":"Uint8Array","encoding":"base64","value":<std base64>}.
function serialize(obj) {
  return JSON.stringify(obj, (key, value) => (value instanceof Uint8Array
    ? { type: 'Uint8Array', encoding: 'base64', value: std64(value) }
    : value));
}

// The `encrypted` field of a box message: nacl.box with an ephemeral sender
// key, serialised, UTF-8, then std base64.
function encryptForBox(boxPublicKey, plaintext, ephemeralSecretKey, nonce, extra = {}) {
  const ephemeral = nacl.box.keyPair.fromSecretKey(ephemeralSecretKey);
  const ciphertext = nacl.box(plaintext, nonce, boxPublicKey, ephemeral.secretKey);
  const cryptogram = { ephemeralSenderPublicKey: ephemeral.publicKey, nonce, ciphertext, ...extra };
  return std64(util.decodeUTF8(serialize(cryptogram)));
}

const boxA = nacl.box.keyPair.fromSecretKey(hex('8d737c86083fc2137d4c3145c08a740b82e9dbd3100e623532f9e5067f22a17e'));
const boxB = nacl.box.keyPair.fromSecretKey(hex('4ab8820d3037d78c07eb3f3926d3afe1c95007573922b238e62b268b2ea2e1ba'));

// About 5 KB of text, the same on every run.
const longText = Array.from({ length: 80 }, (_, i) => `ligne ${String(i).padStart(2, '0')}: Portez ce vieux whisky au juge blond qui fume.\n`)
  .join('')
  .slice(0, 5120);

const texts = [
  {
    name: 'ascii',
    plaintext: 'Hello from tweetnacl: the quick brown fox jumps over the lazy dog.',
    ephemeral: 'eb42a7b55f250cee208524078eeff990acc32e007c4b1704f3c1ae9e7eed7d14',
    nonce: '604dbd8c476f5c6207667ceb0ccd0df7425344fd1b497024',
  },
  {
    name: 'utf-8 with accents and emoji',
    plaintext: 'Bonjour Élodie, ça va ? « Déjà vu » 日本語 👋🏽🎉 <b>&amp;</b>',
    ephemeral: '56067202251d7833326b921f0168568ce886e77e2af348717ec6cb39cc641491',
    nonce: 'ee45dda345c32157d7d004db2940def3697c7cbd1e67a51a',
  },
  {
    name: 'empty',
    plaintext: '',
    ephemeral: 'b499c6842bc3cabf1fcb202ab6fc1fe5f1fbcaba659296d99354f4bd8bca7cdf',
    nonce: '7e3c5557f52e0255ccd7a1d285e77d3b4baf33be767b63c4',
  },
  {
    name: 'long (5 KB)',
    plaintext: longText,
    ephemeral: 'af0a9b56a6a90193a3312dfb9b19aee0ffd76423cca8aafea66ba1b0814bce60',
    nonce: '433227202b33ab86c26e76f3da8f8d26ce2760d6426a8f89',
  },
];

const messages = texts.map((t) => ({
  name: t.name,
  boxPublicKey: url64(boxA.publicKey),
  boxSecretKey: url64(boxA.secretKey),
  plaintext: t.plaintext,
  encrypted: encryptForBox(boxA.publicKey, util.decodeUTF8(t.plaintext), hex(t.ephemeral), hex(t.nonce)),
  pinned: { ephemeralSecretKey: std64(hex(t.ephemeral)), nonce: std64(hex(t.nonce)) },
}));

// Misakey's client can also attach the recipient's public key; readers
// ignore it. Not pinned: the Go client never writes that field.
messages.push({
  name: 'with recipientPublicKey attached',
  boxPublicKey: url64(boxB.publicKey),
  boxSecretKey: url64(boxB.secretKey),
  plaintext: 'a cryptogram with an extra field',
  encrypted: encryptForBox(boxB.publicKey, util.decodeUTF8('a cryptogram with an extra field'),
    hex('f345fbd33522964b253836cf9627665a4dc1589cc4cf14387f21345471eee347'),
    hex('b6f1e4c3e27b301f160dd5e7de80a93ea2ff17ce67e3f921'),
    { recipientPublicKey: boxB.publicKey }),
});

function invitation(name, secretKey, shareOne) {
  return {
    name,
    secretKey: url64(secretKey),
    shareOne: url64(shareOne),
    misakeyShare: std64(secretKey.map((b, i) => b ^ shareOne[i])),
    otherShareHash: url64(nacl.hash(shareOne)),
  };
}

const invitations = [
  invitation('box A', boxA.secretKey, hex('7e4ca6d5a43298b9a2e2b1cff0dcd3059bb71825e4b5800ed5c19e297274ea01')),
  invitation('box B', boxB.secretKey, hex('d349f1441d21dd0e4d0beae631b06a330af4e3a6bbd1ce897edb62dc9978eae4')),
];

// A file: secretbox under a fresh file key, and a box message carrying the
// file's name, size, type and key (the upload's msg_encrypted_content).
function encryptFile(f) {
  const data = util.decodeUTF8(f.text);
  const fileKey = hex(f.fileKey);
  const fileNonce = hex(f.fileNonce);
  const info = {
    fileName: f.fileName,
    fileSize: data.length,
    fileType: f.fileType,
    encryption: { algorithm: FILE_ALGORITHM, nonce: std64(fileNonce), fileKey: std64(fileKey) },
  };
  return {
    name: f.name,
    boxPublicKey: url64(boxB.publicKey),
    boxSecretKey: url64(boxB.secretKey),
    fileName: f.fileName,
    fileType: f.fileType,
    data: std64(data),
    encryptedFile: std64(nacl.secretbox(data, fileNonce, fileKey)),
    encryptedContent: encryptForBox(boxB.publicKey, util.decodeUTF8(JSON.stringify(info)),
      hex(f.ephemeral), hex(f.messageNonce)),
    pinned: {
      fileKey: std64(fileKey),
      fileNonce: std64(fileNonce),
      ephemeralSecretKey: std64(hex(f.ephemeral)),
      messageNonce: std64(hex(f.messageNonce)),
    },
  };
}

const files = [
  {
    name: 'small text file',
    fileName: 'Compte-rendu & <notes> réunion.txt',
    fileType: 'text/plain',
    text: 'Ordre du jour :\n1. Budget 2024 — 12 500 €\n2. Questions diverses 🙂\n',
    fileKey: 'e3299cfa3b17892d362cc008555e00dfeab3194952aa8ca395ea1a604defc836',
    fileNonce: 'a294c4e79dbc363a4f024f35476379271bc6774afe93df0f',
    ephemeral: 'b9bb4c9776365cf6fecf0f858daf3c3cdfaabb639773174cffd9825d9dbdc6ff',
    messageNonce: '1604d5af0c32dde963c01993dfdf2793f478bde50ec2957a',
  },
  {
    name: 'empty file',
    fileName: 'empty.bin',
    fileType: 'application/octet-stream',
    text: '',
    fileKey: 'eb162a427d1c0c62ab6ba3fcea1f8b63e412dde0963e2f29aeb93141498fbcdf',
    fileNonce: '451d564445e2149620d0ef1a2fb34f373f1de66ac39c9169',
    ephemeral: '1faecbce6d3159a4567c49dec191dd69fbafc2435f5d08dfd290d58e87462a89',
    messageNonce: '63750b9b5ebabe2fdea6e503afa063c31ebf08ce29523f37',
  },
].map(encryptFile);

const vectors = {
  about: 'Made by gen_vectors.js with tweetnacl, the Misakey way; the Go client must open and reproduce them. Do not edit: regenerate.',
  generator: `tweetnacl ${require('tweetnacl/package.json').version}, tweetnacl-util ${require('tweetnacl-util/package.json').version}`,
  boxes: [
    { name: 'box A', publicKey: url64(boxA.publicKey), secretKey: url64(boxA.secretKey) },
    { name: 'box B', publicKey: url64(boxB.publicKey), secretKey: url64(boxB.secretKey) },
  ],
  messages,
  invitations,
  files,
};

verify(vectors);
const out = process.argv[2] || path.join(__dirname, 'tweetnacl_vectors.json');
fs.writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${out}`);
