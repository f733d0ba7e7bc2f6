namespace Microsoft.ML.Lorenza.Training;

/// <summary>
/// Marks a property of <see cref="TrainingOptions"/> or <see cref="Optimizers.OptimizerOptions"/> as a user-facing option: its
/// command-line name and help. The `lorenza` CLI builds its options from these (names, help, defaults read from a fresh
/// instance), the ML.NET <c>LorenzaTrainer.Options</c> has a field of the same name (or <see cref="MlNetName"/>), and
/// the options tests fail when a default differs between the three or an option is missing from one of them.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string? commandLine, string help) : Attribute
{
    /// <summary>The command-line name, e.g. "--rank"; null: set by the CLI another way (<see cref="NotInCli"/>).</summary>
    public string? CommandLine { get; } = commandLine;

    /// <summary>How the CLI sets it when it has no option of its own (<see cref="CommandLine"/> null).</summary>
    public string? NotInCli { get; init; }

    /// <summary>One line for `--help`.</summary>
    public string Help { get; } = help;

    /// <summary>The ML.NET Options field when its name differs (MaxEpochs: ML.NET's TextClassification trainer's name).</summary>
    public string? MlNetName { get; init; }

    /// <summary>Why ML.NET has no field for it (null: it has one).</summary>
    public string? NotInMlNet { get; init; }

    /// <summary>Only these CLI commands take it (null: every training command: train and demo).</summary>
    public string? OnlyCommand { get; init; }
}

/// <summary>A public property of the options that is not a user-facing option, and why (the options tests require a reason).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NotAnOptionAttribute(string reason) : Attribute
{
    public string Reason { get; } = reason;
}
