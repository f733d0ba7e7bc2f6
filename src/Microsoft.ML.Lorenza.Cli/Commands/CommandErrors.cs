namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>Runs a verb's body; expected failures print one clear line (no stack trace) and exit 1, bad options exit 2.</summary>
internal static class CommandErrors
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ArgumentException e)
        {
            // .NET appends "(Parameter 'x')" and "Actual value was …" to the sentence: print only the sentence.
            var message = System.Text.RegularExpressions.Regex.Replace(e.Message.Split('\n')[0], @"\s*\(Parameter '[^']*'\)$", "");
            Console.Error.WriteLine($"error: {message}");
            return 2;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException
                                      or UnauthorizedAccessException or InvalidOperationException or System.Runtime.InteropServices.ExternalException or OperationCanceledException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
