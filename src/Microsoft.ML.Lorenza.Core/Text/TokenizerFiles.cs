using Microsoft.ML.Lorenza.Modeling;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>Which tokenizer a model folder's files make, per model family (see <see cref="ModelFolder.LoadTokenizer"/>).</summary>
public static class TokenizerFiles
{
    /// <summary>
    /// The folder's tokenizer for <paramref name="family"/> (null: no config.json, the files decide): the family's slow
    /// files when present, else tokenizer.json, else an error naming the files the family needs.
    /// </summary>
    public static ITextTokenizer Load(string folder, ModelFamily? family)
    {
        if (family is null)
        {
            if (BertWordPieceTokenizer.IsIn(folder)) return BertWordPieceTokenizer.FromFolder(folder);
            if (RobertaTokenizer.IsIn(folder)) return RobertaTokenizer.FromFolder(folder);
            if (XlmRobertaTokenizer.IsIn(folder)) return XlmRobertaTokenizer.FromFolder(folder);
            if (TokenizerJson.IsIn(folder)) return TokenizerJson.Load(Path.Combine(folder, TokenizerJson.FileName), null);
            throw new FileNotFoundException($"{folder} has no tokenizer: none of {BertWordPieceTokenizer.VocabFile} (BERT), {RobertaTokenizer.VocabFile} + {RobertaTokenizer.MergesFile} (RoBERTa), {XlmRobertaTokenizer.ModelFile} (XLM-RoBERTa) or {TokenizerJson.FileName}.", Path.Combine(folder, ModelFolder.ConfigFile));
        }
        switch (family.ModelType)
        {
            case RobertaConfig.Type when RobertaTokenizer.IsIn(folder):
                return RobertaTokenizer.FromFolder(folder);
            case XlmRobertaConfig.Type when XlmRobertaTokenizer.IsIn(folder):
                return XlmRobertaTokenizer.FromFolder(folder);
            case BertConfig.Type or DistilBertConfig.Type or ElectraConfig.Type when BertWordPieceTokenizer.IsIn(folder):
                return BertWordPieceTokenizer.FromFolder(folder);
        }
        if (TokenizerJson.IsIn(folder)) return TokenizerJson.Load(Path.Combine(folder, TokenizerJson.FileName), family);
        var needs = string.Join(" + ", family.SlowTokenizerFiles[0].Where(f => f != BertWordPieceTokenizer.ConfigFile));
        var hint = family.ModelType == RobertaConfig.Type && BertWordPieceTokenizer.IsIn(folder)
            ? "; it has a vocab.txt: if this is a BERT model, set \"model_type\": \"bert\" in config.json"
            : $"; copy the model's tokenizer files ({needs}, or {TokenizerJson.FileName}) into it";
        throw new FileNotFoundException($"{folder}: config.json says model_type '{family.ModelType}', but the folder has no {needs} and no {TokenizerJson.FileName}{hint}.",
            Path.Combine(folder, family.SlowTokenizerFiles[0][0]));
    }
}
