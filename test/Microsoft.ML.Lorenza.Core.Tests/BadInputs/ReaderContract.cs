namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// What a reader may do with a damaged file besides reading it: refuse it with an <see cref="InvalidDataException"/> of one
/// line (from the hub: a <see cref="Microsoft.ML.Lorenza.Pretrained.PretrainedModelException"/> of one line). The mutation tests and the fuzz targets (test/Microsoft.ML.Lorenza.Fuzz) judge every exception by this.
/// </summary>
public static class ReaderContract
{
    /// <summary>Null when <paramref name="e"/> is a refusal the contract allows; otherwise what breaks it.</summary>
    public static string? Violation(Reader reader, Exception e) => e switch
    {
        InvalidDataException refusal => refusal.Message.Contains('\n') && !refusal.Message.Contains("does not match the model", StringComparison.Ordinal)
            ? $"a message of several lines: {refusal.Message}" : null,
        // The hub's refusals and failures are the pretrained models' one-line error (an IOException, as a failed download is).
        Microsoft.ML.Lorenza.Pretrained.PretrainedModelException hubRefusal when reader.Name.StartsWith("hub ", StringComparison.Ordinal) =>
            hubRefusal.Message.Contains('\n') ? $"a message of several lines: {hubRefusal.Message}" : null,
        // A damaged header line that no longer names the --text-col/--label-col columns is refused as a usage error (exit 2,
        // docs/bad-inputs.md), listing the columns the file has: either the options or the file may be what is wrong.
        ArgumentException a when reader.Name.StartsWith("data.", StringComparison.Ordinal) && a.Message.Contains(" column '", StringComparison.Ordinal) => null,
        _ => $"{e.GetType().Name}: {e.Message.Split('\n')[0]}\n    {e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("Lorenza", StringComparison.Ordinal))?.Trim()}",
    };

    /// <summary>Reads <paramref name="reader"/>'s file: what broke the contract (null when nothing did, a hang after <paramref name="hangAfter"/> too), and whether the file was refused.</summary>
    public static (string? Problem, bool Refused) Check(Reader reader, TimeSpan hangAfter)
    {
        var run = Task.Run(reader.Read);
        try
        {
            return run.Wait(hangAfter) ? (null, false) : ($"no answer after {hangAfter.TotalSeconds} s", false);
        }
        catch (AggregateException e)
        {
            return (Violation(reader, e.InnerException!), true);
        }
    }
}
