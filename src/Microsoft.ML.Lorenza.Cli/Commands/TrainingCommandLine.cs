using System.CommandLine;
using System.CommandLine.Parsing;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// The training options of `train` and `demo`, generated from the engine's <see cref="OptionAttribute"/>s on the groups of
/// <see cref="TrainingOptions"/> (<see cref="OptionProperty.All"/>): the name and help come from the attribute, the
/// default from <c>defaults</c> (a fresh <see cref="TrainingOptions"/> unless a command changes some), and
/// <see cref="Read"/> writes the values back into a new <see cref="TrainingOptions"/>. An option added to the engine
/// appears here, in `--help`, with nothing to write.
/// </summary>
internal sealed partial class TrainingCommandLine
{
    private readonly List<Binding> bindings;

    /// <summary>One engine option and its command-line option.</summary>
    private sealed record Binding(OptionProperty Engine, Option Option, Func<ParseResult, object?> Value);

    public TrainingCommandLine(string command, TrainingOptions? defaults = null)
    {
        defaults ??= new TrainingOptions();
        bindings = [.. Properties(command).Select(p =>
        {
            var bind = typeof(TrainingCommandLine).GetMethod(nameof(Bind), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(p.Property.PropertyType);
            var (option, read) = ((Option, Func<ParseResult, object?>))bind.Invoke(null, [p.Attribute.CommandLine!, p.Attribute.Help, p.GetValue(defaults)])!;
            return new Binding(p, option, read);
        })];
    }

    /// <summary>The engine's options a training command takes: every <see cref="OptionAttribute"/> with a command-line name, group by group.</summary>
    public static IEnumerable<OptionProperty> Properties(string command) =>
        OptionProperty.All().Where(p => p.Attribute.CommandLine is not null && (p.Attribute.OnlyCommand is null || p.Attribute.OnlyCommand == command));

    /// <summary>The option bound to an engine property (by its name, e.g. nameof(LoopOptions.Epochs)).</summary>
    public Option OptionFor(string propertyName) => bindings.Single(b => b.Engine.Property.Name == propertyName).Option;

    public void AddTo(Command command)
    {
        foreach (var binding in bindings) command.Options.Add(binding.Option);
    }

    public TrainingOptions Read(ParseResult result)
    {
        var options = new TrainingOptions();
        foreach (var binding in bindings) binding.Engine.SetValue(options, binding.Value(result));
        // --preset trains from scratch instead of fine-tuning --model's default; both given is a contradiction.
        if (result.GetResult(OptionFor(nameof(ModelOptions.Preset))) is { Implicit: false }
            && result.GetResult(OptionFor(nameof(ModelOptions.PretrainedModelPath))) is { Implicit: false })
            throw new ArgumentException($"--model {options.Model.PretrainedModelPath} and --preset {options.Model.Preset?.Name} are both given: --model fine-tunes a pretrained model, --preset trains one from scratch. Give only one.");
        return options;
    }

    private static (Option, Func<ParseResult, object?>) Bind<T>(string name, string help, T defaultValue)
    {
        var option = new Option<T>(name) { Description = help };
        if ((Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T)) is { IsEnum: true } enumType)
        {
            // Enums read and show as kebab-case ("zeroth-order"), or one word ("adamw", [OneWordValues]), in the help too,
            // where System.CommandLine would print "ZerothOrder".
            option.CustomParser = argument => ParseEnum(argument, name, enumType) is { } value ? (T)value : default!;
            option.HelpName = string.Join('|', Enum.GetValues(enumType).Cast<Enum>().Select(ValueName));
            if (defaultValue is not null) option.Description += $" [default: {ValueName((Enum)(object)defaultValue)}]";
            return (option, r => r.GetResult(option) is null ? defaultValue : r.GetValue(option));
        }
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        if (typeof(T) == typeof(ComputeDevice)) option.CustomParser = argument => (T)(object)ParseDevice(argument);
        return (option, r => r.GetValue(option));
    }

    /// <summary>--device for the commands that load a model (evaluate, predict): the same parsing and default as training's.</summary>
    public static Option<ComputeDevice> DeviceOption()
    {
        var help = typeof(ComputeOptions).GetProperty(nameof(ComputeOptions.Device))!.GetCustomAttribute<OptionAttribute>()!;
        return new Option<ComputeDevice>(help.CommandLine!) { Description = help.Help, DefaultValueFactory = _ => new TrainingOptions().Compute.Device, CustomParser = ParseDevice };
    }

    /// <summary>--precision for the commands that predict (evaluate, predict); not given: the precision the model was trained in.</summary>
    public static (Option Option, Func<ParseResult, ComputePrecision?> Read) PrecisionOption()
    {
        var (option, read) = Bind<ComputePrecision?>("--precision", "auto (bf16 where the device has it natively), none (float32), bf16 or fp16 (default: what the model was trained with)", null);
        return (option, r => (ComputePrecision?)read(r));
    }

    private static ComputeDevice ParseDevice(ArgumentResult argument)
    {
        var text = argument.Tokens.Count == 1 ? argument.Tokens[0].Value : "";
        if (ComputeDevice.TryParse(text, out var device)) return device;
        argument.AddError(ComputeDevice.UnknownMessage(text));
        return ComputeDevice.Auto;
    }

    /// <summary>An enum value by its name ("zeroth-order", "macro-f1", "adamw"), any case, with or without '-' or '_'.</summary>
    private static object? ParseEnum(ArgumentResult argument, string option, Type enumType)
    {
        var text = argument.Tokens.Count == 1 ? argument.Tokens[0].Value : "";
        static string Bare(string s) => s.Replace("-", "").Replace("_", "");
        foreach (var value in Enum.GetValues(enumType))
            if (string.Equals(Bare(text), value.ToString(), StringComparison.OrdinalIgnoreCase))
                return value;
        var names = Enum.GetValues(enumType).Cast<Enum>().Select(ValueName).ToList();
        argument.AddError($"{option} '{text}' is unknown: use {string.Join(", ", names[..^1])} or {names[^1]}.");
        return null;
    }

    /// <summary>An enum value as the command line writes it: "zeroth-order", or "adamw" for a [OneWordValues] enum.</summary>
    public static string ValueName(Enum value) =>
        value.GetType().IsDefined(typeof(OneWordValuesAttribute), false) ? value.ToString().ToLowerInvariant() : KebabCase(value.ToString());

    /// <summary>"ZerothOrder" → "zeroth-order".</summary>
    public static string KebabCase(string name) => WordStart().Replace(name, "-$1").ToLowerInvariant();

    [GeneratedRegex("(?<=[a-z0-9])([A-Z])")]
    private static partial Regex WordStart();
}
