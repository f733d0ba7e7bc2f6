using System.Reflection;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>
/// Marks a property of an option group of <see cref="TrainingOptions"/> (<see cref="ModelOptions"/>, <see cref="DataOptions"/>,
/// <see cref="OptimizerOptions"/>, <see cref="LoopOptions"/>, <see cref="ComputeOptions"/>) as a user-facing option: its
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

/// <summary>On an enum: the command line writes its values as one lowercase word ("adamw"), not in kebab-case ("adam-w").</summary>
[AttributeUsage(AttributeTargets.Enum)]
public sealed class OneWordValuesAttribute : Attribute;

/// <summary>A user-facing option where it sits: a group of <see cref="TrainingOptions"/> and the group's property.</summary>
public sealed record OptionProperty(PropertyInfo Group, PropertyInfo Property, OptionAttribute Attribute)
{
    /// <summary>Every option: the <see cref="OptionAttribute"/> properties of each group, in declaration order.</summary>
    public static IEnumerable<OptionProperty> All() =>
        from g in typeof(TrainingOptions).GetProperties()
        from p in g.PropertyType.GetProperties()
        let attribute = p.GetCustomAttribute<OptionAttribute>()
        where attribute is not null
        select new OptionProperty(g, p, attribute);

    public object? GetValue(TrainingOptions options) => Property.GetValue(Group.GetValue(options));

    public void SetValue(TrainingOptions options, object? value) => Property.SetValue(Group.GetValue(options), value);
}
