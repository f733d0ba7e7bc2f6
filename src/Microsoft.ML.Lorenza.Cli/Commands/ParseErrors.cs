using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// Command-line mistakes as one `error:` line each and exit code 2 (usage), without the whole help;
/// a value of the wrong type is said in words ("--lr expects a number, got 'fast'").
/// </summary>
internal static partial class ParseErrors
{
    public const int ExitCode = 2;

    public static int Report(ParseResult result)
    {
        var errors = result.Errors.DistinctBy(e => e.Message).ToList();
        // "lorenza trian": the unknown word says more than "Required command was not provided".
        if (errors.Count > 1) errors.RemoveAll(e => e.Message.StartsWith("Required command", StringComparison.Ordinal));
        foreach (var error in errors)
            Console.Error.WriteLine($"error: {Describe(error)}");
        var command = result.CommandResult.Command;
        Console.Error.WriteLine($"(see: lorenza {(command is RootCommand ? "" : command.Name + " ")}--help)");
        return ExitCode;
    }

    private static string Describe(ParseError error)
    {
        var match = CannotParse().Match(error.Message);
        if (!match.Success) return error.Message;
        var (value, name) = (match.Groups["value"].Value, match.Groups["name"].Value);
        var type = error.SymbolResult switch
        {
            OptionResult o => o.Option.ValueType,
            ArgumentResult a => a.Argument.ValueType,
            _ => typeof(string),
        };
        return $"{name} expects {Words(Nullable.GetUnderlyingType(type) ?? type)}, got '{value}'.";
    }

    private static string Words(Type type) =>
        type == typeof(double) || type == typeof(float) ? "a number (e.g. 0.001 or 1e-3)"
        : type == typeof(ulong) || type == typeof(uint) ? "a whole number >= 0"
        : type == typeof(int) || type == typeof(long) ? "a whole number"
        : type == typeof(bool) ? "true or false"
        : $"a {type.Name}";

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|command|argument) '(?<name>[^']*)'")]
    private static partial Regex CannotParse();
}
