namespace Microsoft.ML.Lorenza.Text;

/// <summary>Hugging Face's fast-tokenizer file (tokenizer.json).</summary>
public static partial class TokenizerJson
{
    public const string FileName = "tokenizer.json";

    /// <summary>True when <paramref name="folder"/> holds a tokenizer.json.</summary>
    public static bool IsIn(string folder) => File.Exists(Path.Combine(folder, FileName));
}

public static partial class TokenizerJson
{
    /// <summary>Reads a tokenizer.json (stub).</summary>
    public static ITextTokenizer Load(string path, Modeling.ModelFamily? family) => throw new NotSupportedException(path);
}
