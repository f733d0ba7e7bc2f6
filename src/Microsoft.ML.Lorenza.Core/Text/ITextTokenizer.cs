namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// One encoded text or pair, special tokens included: the ids and each id's token type (segment): 0 for the
/// first text and its specials, 1 for the second text and its closing separator (BERT); all 0 for RoBERTa,
/// whose tokenizer has no token types.
/// </summary>
public sealed record EncodedText(int[] Ids, int[] TypeIds)
{
    public int Length => Ids.Length;
}

/// <summary>
/// What the engine needs from a tokenizer, whatever its algorithm: RoBERTa's byte-level BPE
/// (<see cref="RobertaTokenizer"/>) or BERT's WordPiece (<see cref="BertWordPieceTokenizer"/>).
/// </summary>
public interface ITextTokenizer
{
    /// <summary>"bpe" or "wordpiece".</summary>
    string Kind { get; }

    /// <summary>The id padding positions get.</summary>
    int PadId { get; }

    /// <summary>One more than the largest id (the embedding table's row count must be at least this).</summary>
    int VocabSize { get; }

    /// <summary>The files <see cref="SaveTo"/> writes (e.g. vocab.json and merges.txt; vocab.txt and tokenizer_config.json).</summary>
    IReadOnlyList<string> FileNames { get; }

    /// <summary>
    /// A text (or a pair when <paramref name="pair"/> is not null) with its special tokens, truncated to
    /// <paramref name="maxLength"/> ids (pairs: the longer side loses tokens first, as Hugging Face's longest_first).
    /// </summary>
    EncodedText EncodeSequence(string text, string? pair, int? maxLength);

    /// <summary>Encodes many texts (or pairs) and pads them into one batch (right padding, attention mask, token types).</summary>
    EncodedBatch EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string?>? pairs, int maxLength);

    /// <summary>Writes the tokenizer's files into <paramref name="folder"/> (loadable here and by transformers).</summary>
    void SaveTo(string folder);
}
