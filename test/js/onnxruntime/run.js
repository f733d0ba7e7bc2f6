// Runs an ONNX model in ONNX Runtime (onnxruntime-node). Reads on stdin
// {"model": path, "input_ids": [[...]], "attention_mask": [[...]]}; prints {"logits": [[...]], "probabilities": [[...]]}.
const ort = require('onnxruntime-node');
const chunks = [];
process.stdin.on('data', c => chunks.push(c));
process.stdin.on('end', async () => {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const session = await ort.InferenceSession.create(request.model);
  const tensor = rows => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const out = await session.run({ input_ids: tensor(request.input_ids), attention_mask: tensor(request.attention_mask) });
  const matrix = t => { const [b, k] = t.dims; return Array.from({ length: b }, (_, i) => Array.from(t.data.slice(i * k, (i + 1) * k))); };
  process.stdout.write(JSON.stringify({ logits: matrix(out.logits), probabilities: matrix(out.probabilities) }));
});
