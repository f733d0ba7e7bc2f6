// Reads {"tokenizer": path to tokenizer.json, "cases": [{"text": str, "pair": str|null}]} on stdin and encodes each case
// with Hugging Face's Rust tokenizers (special tokens added, no truncation). Prints {"results": [{"ids", "type_ids", "tokens"}]}.
const { Tokenizer } = require('@anush008/tokenizers');
const chunks = [];
process.stdin.on('data', c => chunks.push(c));
process.stdin.on('end', async () => {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const tokenizer = Tokenizer.fromFile(request.tokenizer);
  const results = [];
  for (const c of request.cases) {
    const e = await tokenizer.encode(c.text, c.pair ?? null, { addSpecialTokens: true });
    results.push({ ids: e.getIds(), type_ids: e.getTypeIds(), tokens: e.getTokens() });
  }
  process.stdout.write(JSON.stringify({ results }));
});
