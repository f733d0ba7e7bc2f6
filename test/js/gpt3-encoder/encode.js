// Reads a JSON array of texts on stdin and encodes each with gpt-3-encoder (its encode() is quadratic
// in the length of one string, so long documents are given as lines). Prints
// {"ids": [[...], ...], "seconds": encode time, excluding start-up and reading}.
const { encode } = require('gpt-3-encoder');
const chunks = [];
process.stdin.on('data', c => chunks.push(c));
process.stdin.on('end', () => {
  const texts = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const start = process.hrtime.bigint();
  const ids = texts.map(t => encode(t));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ ids, seconds }));
});
