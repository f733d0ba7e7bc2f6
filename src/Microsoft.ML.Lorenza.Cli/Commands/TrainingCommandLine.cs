using System.CommandLine;
using System.CommandLine.Parsing;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// The training options of `train` and `demo`, generated from the engine's <see cref="OptionAttribute"/>s on
/// <see cref="TrainingOptions"/> and <see cref="OptimizerOptions"/>: the name and help come from the attribute, the
/// default from <c>defaults</c> (a fresh <see cref="TrainingOptions"/> unless a command changes some), and
/// <see cref="Read"/> writes the values back into a new <see cref="TrainingOptions"/>. An option added to the engine
/// appears here, in `--help`, with nothing to write.
/// </summary>
internal sealed partial class TrainingCommandLine
{
    private readonly List<Binding> bindings;

    /// <summary>One engine property and its command-line option.</summary>
    private sealed record Binding(PropertyInfo Property, bool OfOptimizer, Option Option, Func<ParseResult, object?> Value);

    public TrainingCommandLine(string command, TrainingOptions? defaults = null)
    {
        defaults ??= new TrainingOptions();
        bindings = [.. Properties(command).Select(p =>
        {
            var value = p.Property.GetValue(p.OfOptimizer ? defaults.OptimizerOptions : defaults);
            var bind = typeof(TrainingCommandLine).GetMethod(nameof(Bind), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(p.Property.PropertyType);
            var (option, read) = ((Option, Func<ParseResult, object?>))bind.Invoke(null, [p.Attribute.CommandLine!, p.Attribute.Help, value])!;
            return new Binding(p.Property, p.OfOptimizer, option, read);
        })];
    }

    /// <summary>The engine's options a training command takes: every <see cref="OptionAttribute"/> with a command-line name, TrainingOptions' first.</summary>
    public static IEnumerable<(PropertyInfo Property, OptionAttribute Attribute, bool OfOptimizer)> Properties(string command) =>
        Annotated(typeof(TrainingOptions), false).Concat(Annotated(typeof(OptimizerOptions), true))
            .Where(p => p.Attribute.CommandLine is not null && (p.Attribute.OnlyCommand is null || p.Attribute.OnlyCommand == command));

    private static IEnumerable<(PropertyInfo Property, OptionAttribute Attribute, bool OfOptimizer)> Annotated(Type type, bool ofOptimizer) =>
        type.GetProperties().Select(p => (Property: p, Attribute: p.GetCustomAttribute<OptionAttribute>()!, OfOptimizer: ofOptimizer)).Where(p => p.Attribute is not null);

    /// <summary>The option bound to an engine property (by its name, e.g. nameof(TrainingOptions.Epochs)).</summary>
    public Option OptionFor(string propertyName) => bindings.Single(b => b.Property.Name == propertyName).Option;

    public void AddTo(Command command)
    {
        foreach (var binding in bindings) command.Options.Add(binding.Option);
    }

    public TrainingOptions Read(ParseResult result)
    {
        var options = new TrainingOptions();
        foreach (var binding in bindings)
            binding.Property.SetValue(binding.OfOptimizer ? options.OptimizerOptions : options, binding.Value(result));
        // An explicit --preset without --model trains from scratch, also where --model has a default (demo: minilm).
        if (result.GetResult(OptionFor(nameof(TrainingOptions.Preset))) is { Implicit: false }
            && result.GetResult(OptionFor(nameof(TrainingOptions.PretrainedModelPath))) is null or { Implicit: true })
            options.PretrainedModelPath = null;
        return options;
    }

    private static (Option, Func<ParseResult, object?>) Bind<T>(string name, string help, T defaultValue)
    {
        var option = new Option<T>(name) { Description = help };
        if ((Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T)) is { IsEnum: true } enumType)
        {
            // Enums read and show as kebab-case ("zeroth-order"), in the help too, where System.CommandLine would print "ZerothOrder".
            option.CustomParser = argument => ParseEnum(argument, name, enumType) is { } value ? (T)value : default!;
            option.HelpName = string.Join('|', Enum.GetNames(enumType).Select(KebabCase));
            if (defaultValue is not null) option.Description += $" [default: {KebabCase(defaultValue.ToString()!)}]";
            return (option, r => r.GetResult(option) is null ? defaultValue : r.GetValue(option));
        }
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        if (typeof(T) == typeof(ComputeDevice)) option.CustomParser = argument => (T)(object)ParseDevice(argument);
        return (option, r => r.GetValue(option));
    }

    /// <summary>--device for the commands that load a model (evaluate, predict): the same parsing and default as training's.</summary>
    public static Option<ComputeDevice> DeviceOption()
    {
        var help = typeof(TrainingOptions).GetProperty(nameof(TrainingOptions.Device))!.GetCustomAttribute<OptionAttribute>()!;
        return new Option<ComputeDevice>(help.CommandLine!) { Description = help.Help, DefaultValueFactory = _ => new TrainingOptions().Device, CustomParser = ParseDevice };
    }

    private static ComputeDevice ParseDevice(ArgumentResult argument)
    {
        var text = argument.Tokens.Count == 1 ? argument.Tokens[0].Value : "";
        if (ComputeDevice.TryParse(text, out var device)) return device;
        argument.AddError(ComputeDevice.UnknownMessage(text));
        return ComputeDevice.Auto;
    }

    /// <summary>An enum value by its kebab-case name ("zeroth-order", "macro-f1"), any case, with or without '-' or '_'.</summary>
    private static object? ParseEnum(ArgumentResult argument, string option, Type enumType)
    {
        var text = argument.Tokens.Count == 1 ? argument.Tokens[0].Value : "";
        static string Bare(string s) => s.Replace("-", "").Replace("_", "");
        foreach (var value in Enum.GetValues(enumType))
            if (string.Equals(Bare(text), value.ToString(), StringComparison.OrdinalIgnoreCase))
                return value;
        var names = Enum.GetNames(enumType).Select(KebabCase).ToList();
        argument.AddError($"{option} '{text}' is unknown: use {string.Join(", ", names[..^1])} or {names[^1]}.");
        return null;
    }

    /// <summary>"ZerothOrder" → "zeroth-order".</summary>
    public static string KebabCase(string name) => WordStart().Replace(name, "-$1").ToLowerInvariant();

    [GeneratedRegex("(?<=[a-z0-9])([A-Z])")]
    private static partial Regex WordStart();
}
