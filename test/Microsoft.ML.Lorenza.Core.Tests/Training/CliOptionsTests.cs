using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// The CLI's side of the one options model: `lorenza train --help` lists every engine option (<see cref="OptionAttribute"/> on
/// the groups of <see cref="TrainingOptions"/>) with the engine's default, and `demo` the same but for its two stated
/// departures. (ML.NET's side: OptionSurfacesTests in the ML.NET tests.)
/// </summary>
[TestClass]
public sealed partial class CliOptionsTests
{
    [TestMethod]
    public void TrainHelp_ListsEveryEngineOption_WithTheEnginesDefault() =>
        AssertHelpShowsTheDefaults("train", new TrainingOptions());

    [TestMethod]
    public void DemoHelp_ShowsTheEnginesDefaults_ButMiniLMAndItsRefreshInterval()
    {
        AssertHelpShowsTheDefaults("demo", new TrainingOptions { Optimizer = { RefreshInterval = 50 } });
    }

    [TestMethod]
    public void OptimizerHelp_NamesEveryRegisteredOptimizer()
    {
        var (_, stdout, _) = Cli.Run("train --help");
        var line = stdout.Split('\n').Single(l => l.TrimStart().StartsWith("--optimizer ", StringComparison.Ordinal));
        foreach (var name in OptimizerFactory.Names) StringAssert.Contains(line, name, "the --optimizer help");
    }

    [TestMethod]
    public void TrainHelp_HasTheWeightColumn_AndClassWeightsOffByDefault()
    {
        var (_, stdout, _) = Cli.Run("train --help");
        var lines = stdout.Split('\n');
        StringAssert.Contains(lines.Single(l => l.TrimStart().StartsWith("--weight-col ", StringComparison.Ordinal)), "column of example weights");
        StringAssert.Contains(lines.Single(l => l.TrimStart().StartsWith("--class-weights ", StringComparison.Ordinal)), "[default: none]");
    }

    private static void AssertHelpShowsTheDefaults(string command, TrainingOptions expected)
    {
        var (code, stdout, stderr) = Cli.Run($"{command} --help");
        Assert.AreEqual(0, code, stderr);
        var lines = stdout.Split('\n').Select(l => OptionLine().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["rest"].Value.TrimEnd());
        // Every option of every group (a property of TrainingOptions whose type is one of the engine's option classes).
        var options = typeof(TrainingOptions).GetProperties().Where(g => g.PropertyType.IsClass && g.PropertyType.Assembly == typeof(TrainingOptions).Assembly)
            .SelectMany(g => g.PropertyType.GetProperties().Select(p => (Property: p, Of: g.GetValue(expected)!)))
            .Select(p => (p.Property, p.Of, Attribute: p.Property.GetCustomAttribute<OptionAttribute>()))
            .Where(p => p.Attribute is { CommandLine: not null } a && (a.OnlyCommand is null || a.OnlyCommand == command)).ToList();
        Assert.IsTrue(options.Count >= 35, $"{options.Count} options");
        foreach (var (property, of, attribute) in options)
        {
            var name = attribute!.CommandLine!;
            Assert.IsTrue(lines.TryGetValue(name, out var line), $"`lorenza {command} --help` lacks {name} ({property.Name})");
            StringAssert.Contains(line, attribute.Help, $"{name}'s help");
            var shown = DefaultShown().Match(line) is { Success: true } m ? m.Groups["value"].Value : null;
            var value = property.GetValue(of);
            switch (value)
            {
                case null or false:
                    Assert.IsNull(shown, $"{name} shows a default ({shown}) where the engine has none");
                    break;
                case double or int or ulong:
                    Assert.IsNotNull(shown, $"{name} shows no default; the engine's is {value}");
                    Assert.AreEqual(Convert.ToDouble(value, CultureInfo.InvariantCulture), double.Parse(shown, CultureInfo.InvariantCulture), 0, $"{name}'s default");
                    break;
                case Enum e when e.GetType().IsDefined(typeof(OneWordValuesAttribute), false):
                    Assert.AreEqual(e.ToString().ToLowerInvariant(), shown, $"{name}'s default");
                    break;
                case Enum e:
                    Assert.AreEqual(Regex.Replace(e.ToString(), "(?<=[a-z0-9])([A-Z])", "-$1").ToLowerInvariant(), shown, $"{name}'s default");
                    break;
                default:
                    Assert.AreEqual(value.ToString(), shown, $"{name}'s default");
                    break;
            }
        }
    }

    [GeneratedRegex(@"^\s+(?:-\w, )?(?<name>--[a-z0-9-]+)(?: <[^>]*>)?\s+(?<rest>.*)$")]
    private static partial Regex OptionLine();

    [GeneratedRegex(@"\[default: (?<value>[^\]]*)\]$")]
    private static partial Regex DefaultShown();
}
