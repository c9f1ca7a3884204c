#!/usr/bin/env node
// Streams PNG images through scan.v1.ClassificationService/ClassifyStream and checks every answer: each item
// answered exactly once under its own id, with a label and an exit in 1..exitCount, the same answer as the
// unary Classify call, and bad items answered with INVALID_ARGUMENT while the stream goes on.
//
// Usage: node classify-stream.js HOST:PORT [FOLDER_OF_PNGS]
// Without a folder it sends synthetic PNGs. Exits 0 when every check passes, 1 otherwise.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'protos');
const READY_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 60_000;

function loadClient(address) {
  const definition = protoLoader.loadSync('scan/v1/scan.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const scan = grpc.loadPackageDefinition(definition).scan.v1;
  return new scan.ClassificationService(address, grpc.credentials.createInsecure());
}

// A minimal PNG encoder (8-bit greyscale), so the client needs no image library.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function greyPng(width, height, valueAt) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: greyscale
  const rows = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = valueAt(x, y);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function syntheticImages() {
  const shapes = [
    (x, y) => (x > 8 && x < 20 ? 200 : 0), // a vertical bar
    (x, y) => (y > 8 && y < 20 ? 220 : 0), // a horizontal bar
    (x, y) => ((x - 14) ** 2 + (y - 14) ** 2 < 80 ? 255 : 0), // a disc
    (x, y) => (x + y) * 4, // a gradient
    (x, y) => ((x >> 2) + (y >> 2)) % 2 ? 180 : 30, // a chequerboard
    (x, y) => (Math.abs(x - y) < 3 ? 250 : 10), // a diagonal
  ];
  return shapes.map((shape, i) => ({ name: `synthetic-${i}.png`, data: greyPng(28, 28, shape) }));
}

function folderImages(folder) {
  const names = fs.readdirSync(folder).filter((n) => n.toLowerCase().endsWith('.png')).sort();
  if (names.length === 0) throw new Error(`no .png files in ${folder}`);
  return names.map((name) => ({ name, data: fs.readFileSync(path.join(folder, name)) }));
}

function deadline() {
  return new Date(Date.now() + CALL_TIMEOUT_MS);
}

function classify(client, request) {
  return new Promise((resolve, reject) =>
    client.classify(request, { deadline: deadline() }, (error, response) => (error ? reject(error) : resolve(response))));
}

// Sends every item, then half-closes; resolves with all answers once the server ends the call with OK.
function classifyStream(client, items) {
  return new Promise((resolve, reject) => {
    const answers = [];
    const call = client.classifyStream({ deadline: deadline() });
    call.on('data', (answer) => answers.push(answer));
    call.on('error', reject);
    call.on('status', (status) => {
      if (status.code === grpc.status.OK) resolve(answers);
    });
    for (const item of items) call.write(item);
    call.end();
  });
}

async function main() {
  const [address, folder] = process.argv.slice(2);
  if (!address) {
    console.error('usage: node classify-stream.js HOST:PORT [FOLDER_OF_PNGS]');
    return 2;
  }
  const images = folder ? folderImages(folder) : syntheticImages();
  const client = loadClient(address);
  await new Promise((resolve, reject) =>
    client.waitForReady(new Date(Date.now() + READY_TIMEOUT_MS), (error) => (error ? reject(error) : resolve())));

  const failures = [];
  const check = (condition, message) => {
    if (!condition) failures.push(message);
  };

  // Valid items before and after the bad ones: the stream must go on past them.
  const valid = [];
  images.forEach((image, i) => {
    valid.push({ id: `default-${i}`, image: image.data, options: { topK: 3 } });
    valid.push({ id: `first-exit-${i}`, image: image.data, options: { maxExit: 1 } });
  });
  const bad = [
    { id: 'bad-image', image: Buffer.from('this is not an image'), options: {} },
    { id: 'bad-operating-point', image: images[0].data, options: { operatingPoint: 'no-such-point' } },
    { id: 'bad-max-exit', image: images[0].data, options: { maxExit: 99 } },
    { id: 'bad-empty-image', image: Buffer.alloc(0), options: {} },
  ];
  const middle = Math.floor(valid.length / 2);
  const items = [...valid.slice(0, middle), ...bad, ...valid.slice(middle)];

  const answers = await classifyStream(client, items);

  const byId = new Map();
  for (const answer of answers) {
    check(!byId.has(answer.id), `id ${answer.id} answered more than once`);
    byId.set(answer.id, answer);
  }
  check(answers.length === items.length, `${items.length} items sent, ${answers.length} answers received`);

  for (const item of valid) {
    const answer = byId.get(item.id);
    if (!answer) {
      failures.push(`no answer for ${item.id}`);
      continue;
    }
    if (answer.outcome !== 'result') {
      failures.push(`${item.id}: expected a classification, got ${JSON.stringify(answer.error)}`);
      continue;
    }
    const r = answer.result;
    check(typeof r.label === 'string' && r.label.length > 0, `${item.id}: no label`);
    check(r.exitCount >= 1 && r.exit >= 1 && r.exit <= r.exitCount, `${item.id}: exit ${r.exit} not in 1..${r.exitCount}`);
    if (item.options.maxExit === 1) check(r.exit === 1, `${item.id}: max_exit 1 answered at exit ${r.exit}`);
    if (item.options.topK === 3) check(r.topK.length === 3 && r.topK[0].classIndex === r.classIndex, `${item.id}: top_k does not lead with the answer`);
  }
  for (const item of bad) {
    const answer = byId.get(item.id);
    check(answer && answer.outcome === 'error' && answer.error.code === grpc.status.INVALID_ARGUMENT,
      `${item.id}: expected an INVALID_ARGUMENT error answer, got ${JSON.stringify(answer)}`);
  }

  // The stream answers as a unary call does.
  for (let i = 0; i < images.length; i++) {
    const unary = await classify(client, { id: `unary-${i}`, image: images[i].data, options: { topK: 3 } });
    const streamed = byId.get(`default-${i}`);
    if (streamed && streamed.outcome === 'result') {
      check(unary.classification.label === streamed.result.label && unary.classification.exit === streamed.result.exit,
        `${images[i].name}: the stream answered ${streamed.result.label}@${streamed.result.exit}, Classify ${unary.classification.label}@${unary.classification.exit}`);
    }
  }

  const exits = answers.filter((a) => a.outcome === 'result').map((a) => a.result.exit);
  console.log(`${items.length} items (${images.length} images, ${bad.length} bad) streamed to ${address}: ` +
    `${answers.length} answers, exits ${JSON.stringify(countBy(exits))}, model ${answers.find((a) => a.result)?.result.modelVersion}`);
  client.close();
  if (failures.length > 0) {
    for (const failure of failures) console.error(`FAIL ${failure}`);
    return 1;
  }
  console.log('all checks passed');
  return 0;
}

function countBy(values) {
  return values.reduce((counts, v) => ({ ...counts, [v]: (counts[v] ?? 0) + 1 }), {});
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  });
