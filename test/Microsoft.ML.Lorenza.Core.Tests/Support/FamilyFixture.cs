using System.Collections.Concurrent;
using System.Text.Json;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// The reference models of the families added after BERT (test/reference/families_reference.py, an independent float64
/// implementation per family under Debian's PyTorch): a small random DistilBERT, XLM-RoBERTa or ELECTRA as a Hugging Face
/// folder with its logits, hidden states and gradients, made once per test run and family (Inconclusive without
/// python3-torch).
/// </summary>
public static class FamilyFixture
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Folders = new();

    /// <summary>The reference folder of <paramref name="family"/> (a model_type): config.json, model.safetensors, pytorch_model.bin, expected.json.</summary>
    public static string Reference(string family) => Folders.GetOrAdd(family, f => new Lazy<string>(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"lorenza-{f}-reference-{Environment.ProcessId}");
        using var reply = PythonReference.RunScript("families_reference.py", new { family = f, @out = dir, seed = 7 });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        return dir;
    })).Value;

    public static JsonElement Expected(string family) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Reference(family), "expected.json"))).RootElement;

    /// <summary>The committed tiny multilingual SentencePiece Unigram model (test/fixtures/xlmr-tiny; made by sentencepiece_reference.py).</summary>
    public static string XlmrTinyFolder => Path.Combine(SharedData.RepoRoot, "test", "fixtures", "xlmr-tiny");
}
