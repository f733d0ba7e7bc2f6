namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// Learns a byte-level BPE vocabulary (GPT-2 style) from texts, for models trained from scratch when
/// no pretrained vocabulary is at hand. Ids follow roberta-base's layout: &lt;s&gt;=0, &lt;pad&gt;=1,
/// &lt;/s&gt;=2, &lt;unk&gt;=3, then the 256 byte symbols, then one id per merge, then &lt;mask&gt;.
/// Deterministic: ties between equally frequent pairs go to the ordinally smallest pair.
/// </summary>
public static class BpeTrainer
{
    public static RobertaTokenizer Train(IEnumerable<string> texts, int merges, int minFrequency = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(merges);
        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var (start, length) in GptPreTokenizer.Split(text))
            {
                var word = string.Concat(System.Text.Encoding.UTF8.GetBytes(text.Substring(start, length)).Select(b => ByteUnicodeMap.ByteToChar[b]));
                wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
            }

        var words = wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: kv.Key.Select(c => c.ToString()).ToList(), Count: kv.Value)).ToList();
        var learned = new List<(string, string)>();
        for (var m = 0; m < merges; m++)
        {
            var pairCounts = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in words)
                for (var k = 0; k + 1 < symbols.Count; k++)
                    pairCounts[(symbols[k], symbols[k + 1])] = pairCounts.GetValueOrDefault((symbols[k], symbols[k + 1])) + count;
            if (pairCounts.Count == 0) break;
            var best = pairCounts.OrderByDescending(kv => kv.Value)
                .ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).First();
            if (best.Value < minFrequency) break;
            learned.Add(best.Key);
            var merged = best.Key.Item1 + best.Key.Item2;
            foreach (var (symbols, _) in words)
                for (var k = 0; k + 1 < symbols.Count; k++)
                    if (symbols[k] == best.Key.Item1 && symbols[k + 1] == best.Key.Item2)
                    {
                        symbols[k] = merged;
                        symbols.RemoveAt(k + 1);
                    }
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal) { ["<s>"] = 0, ["<pad>"] = 1, ["</s>"] = 2, ["<unk>"] = 3 };
        foreach (var c in ByteUnicodeMap.ByteToChar) vocab.TryAdd(c.ToString(), vocab.Count);
        foreach (var (left, right) in learned) vocab.TryAdd(left + right, vocab.Count);
        vocab["<mask>"] = vocab.Count;
        return RobertaTokenizer.FromVocabulary(vocab, learned);
    }
}
