namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// XLM-RoBERTa (model_type "xlm-roberta"): RoBERTa's network and config.json keys — Hugging Face's
/// XLMRobertaForSequenceClassification keeps RoBERTa's module names ("roberta.…", "classifier.dense", "classifier.out_proj")
/// — with a SentencePiece Unigram vocabulary (<see cref="Text.XlmRobertaTokenizer"/>: &lt;s&gt;=0, &lt;pad&gt;=1, &lt;/s&gt;=2,
/// &lt;unk&gt;=3, the pieces shifted by one, &lt;mask&gt; last). Defaults are xlm-roberta-base's.
/// </summary>
public sealed class XlmRobertaConfig : RobertaConfig
{
    public XlmRobertaConfig()
    {
        VocabSize = 250002;
    }

    /// <summary>Hugging Face's model_type of XLM-RoBERTa.</summary>
    public new const string Type = "xlm-roberta";

    public override string ModelType => Type;
    protected override string Architecture => "XLMRobertaForSequenceClassification";

    /// <summary>A small XLM-RoBERTa for tests and from-scratch runs (FFN 4 × hidden).</summary>
    public static new XlmRobertaConfig Tiny(int vocabSize, int numLabels = 2, int hidden = 64, int layers = 2, int heads = 4, int maxLength = 128) => new()
    {
        VocabSize = vocabSize,
        HiddenSize = hidden,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        IntermediateSize = 4 * hidden,
        MaxPositionEmbeddings = maxLength + 2,
        Labels = DefaultLabels(numLabels),
    };
}
