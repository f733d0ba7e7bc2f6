using Microsoft.ML;
using System.Reflection;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// The engine's options (the groups of <see cref="TrainingOptions"/>: model, data, optimizer, loop, compute) are the one
/// place defaults live: every one is reachable from ML.NET's <see cref="LorenzaTrainer.Options"/>, under its name, with the
/// same default. (The CLI's side: CliOptionsTests in the engine's tests, which run `lorenza train --help`.)
/// </summary>
[TestClass]
public sealed class OptionSurfacesTests
{
    /// <summary>The groups: the properties of TrainingOptions whose type is one of the engine's option classes.</summary>
    private static IEnumerable<PropertyInfo> Groups() =>
        typeof(TrainingOptions).GetProperties().Where(p => p.PropertyType.IsClass && p.PropertyType.Assembly == typeof(TrainingOptions).Assembly);

    private static IEnumerable<(PropertyInfo Group, PropertyInfo Property, OptionAttribute Option)> EngineOptions() =>
        from g in Groups()
        from p in g.PropertyType.GetProperties()
        let option = p.GetCustomAttribute<OptionAttribute>()
        where option is not null
        select (g, p, option);

    private static object? EngineValue(TrainingOptions engine, PropertyInfo group, PropertyInfo property) => property.GetValue(group.GetValue(engine));

    private static FieldInfo MlNetField(PropertyInfo property, OptionAttribute option) =>
        typeof(LorenzaTrainer.Options).GetField(option.MlNetName ?? property.Name)
        ?? throw new AssertFailedException($"{property.DeclaringType!.Name}.{property.Name} has no ML.NET Options field {option.MlNetName ?? property.Name}.");

    [TestMethod]
    public void EveryPublicEngineProperty_IsAnOption_OrSaysWhyNot()
    {
        CollectionAssert.AreEqual(new[] { "Model", "Data", "Optimizer", "Loop", "Compute" }, Groups().Select(g => g.Name).ToArray(), "the option groups");
        var loose = typeof(TrainingOptions).GetProperties().Except(Groups()).Where(p => p.CanWrite).Select(p => p.Name).ToList();
        Assert.AreEqual(0, loose.Count, $"settable outside a group: {string.Join(", ", loose)}");
        var settable = Groups().SelectMany(g => g.PropertyType.GetProperties()).Where(p => p.CanWrite).ToList();
        Assert.IsTrue(settable.Count > 40, $"found {settable.Count} properties");
        var unmarked = settable.Where(p => p.GetCustomAttribute<OptionAttribute>() is null && p.GetCustomAttribute<NotAnOptionAttribute>() is not { Reason.Length: > 10 }).Select(p => p.Name).ToList();
        Assert.AreEqual(0, unmarked.Count, $"neither [Option] nor [NotAnOption(reason)]: {string.Join(", ", unmarked)}");
        var names = EngineOptions().Select(o => o.Option.MlNetName ?? o.Property.Name).ToList();
        CollectionAssert.AllItemsAreUnique(names, "one ML.NET name per option");
    }

    [TestMethod]
    public void EveryEngineOption_HasAnMlNetField_WithTheEnginesDefault()
    {
        var engine = new TrainingOptions();
        var mlNet = new LorenzaTrainer.Options();
        var checkedCount = 0;
        foreach (var (group, property, option) in EngineOptions())
        {
            if (option.NotInMlNet is not null) continue;
            var field = MlNetField(property, option);
            Assert.AreEqual(Normalize(EngineValue(engine, group, property)), Normalize(field.GetValue(mlNet)), $"default of {group.Name}.{property.Name} (ML.NET {field.Name})");
            checkedCount++;
        }
        Assert.IsTrue(checkedCount >= 40, $"only {checkedCount} options compared");
    }

    [TestMethod]
    public void TheDefaultModel_IsMiniLM_AndArchitectureTrainsFromScratch()
    {
        var defaults = new LorenzaTrainer.Options();
        Assert.AreEqual("minilm", defaults.PretrainedModelPath);
        Assert.IsNull(defaults.Architecture);
        Assert.AreEqual("minilm", LorenzaTrainer.ToTrainingOptions(defaults, ["a", "b"]).Model.Pretrained);
        var scratch = LorenzaTrainer.ToTrainingOptions(new LorenzaTrainer.Options { Architecture = ModelPreset.Small }, ["a", "b"]);
        Assert.IsTrue(scratch.Model.FromScratch);
        Assert.IsNull(scratch.Model.Pretrained);
        var both = Assert.ThrowsExactly<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.Lorenza(new LorenzaTrainer.Options { PretrainedModelPath = AppContext.BaseDirectory, Architecture = ModelPreset.Tiny }));
        StringAssert.Contains(both.Message, "Set only one (--model or --preset; ML.NET: PretrainedModelPath or Architecture)");
    }

    [TestMethod]
    public void EveryMlNetField_ReachesItsEngineOption()
    {
        // Change every field from its default and read it back on the engine's side: a field the mapping forgets stays at the default.
        var changed = new LorenzaTrainer.Options();
        var fields = EngineOptions().Where(o => o.Option.NotInMlNet is null).Select(o => (o.Group, o.Property, Field: MlNetField(o.Property, o.Option))).ToList();
        foreach (var (_, _, field) in fields) field.SetValue(changed, Changed(field.GetValue(changed), field.FieldType));
        var engine = LorenzaTrainer.ToTrainingOptions(changed, ["a", "b"]);
        foreach (var (group, property, field) in fields)
            Assert.AreEqual(Normalize(field.GetValue(changed)), Normalize(EngineValue(engine, group, property)), $"{field.Name} → {group.Name}.{property.Name}");
    }

    [TestMethod]
    public void EnumOptions_AreTheEnginesEnums_InMlNet()
    {
        // Nothing is mapped by name: the optimizer, the preset and every other choice is the engine's own type.
        var enums = EngineOptions().Where(o => o.Option.NotInMlNet is null && (Nullable.GetUnderlyingType(o.Property.PropertyType) ?? o.Property.PropertyType).IsEnum).ToList();
        Assert.IsTrue(enums.Count >= 7, $"{enums.Count} enum options");
        foreach (var (_, property, option) in enums)
            Assert.AreEqual(property.PropertyType, MlNetField(property, option).FieldType, property.Name);
        Assert.AreEqual(typeof(OptimizerAlgorithm), typeof(LorenzaTrainer.Options).GetField(nameof(LorenzaTrainer.Options.Optimizer))!.FieldType);
        Assert.AreEqual(typeof(ModelPreset?), typeof(LorenzaTrainer.Options).GetField(nameof(LorenzaTrainer.Options.Architecture))!.FieldType);
    }

    [TestMethod]
    public void CatalogShortcut_HasTheOptionsDefaults()
    {
        // C# needs constants for optional parameters; this keeps the shortcut's equal to the Options' (the engine's).
        var method = typeof(LorenzaCatalog).GetMethods().Single(m => m.Name == nameof(LorenzaCatalog.Lorenza) && m.GetParameters().Length > 2);
        var options = new LorenzaTrainer.Options();
        var compared = 0;
        foreach (var parameter in method.GetParameters().Skip(1))
        {
            var field = typeof(LorenzaTrainer.Options).GetFields().SingleOrDefault(f => string.Equals(f.Name, parameter.Name, StringComparison.OrdinalIgnoreCase))
                        ?? typeof(LorenzaTrainer.Options).GetField(parameter.Name switch { "outputColumnName" => "PredictedLabelColumnName", "validationSet" => "ValidationSet", _ => "" });
            Assert.IsNotNull(field, $"parameter {parameter.Name} has no Options field");
            Assert.AreEqual(field.GetValue(options), parameter.DefaultValue, parameter.Name);
            compared++;
        }
        Assert.AreEqual(12, compared);
    }

    [TestMethod]
    public void Weights_AreOffByDefault_OnEverySurface()
    {
        // ML.NET's name and default for the example weight column; class weights are an engine option (--class-weights).
        Assert.IsNull(new LorenzaTrainer.Options().ExampleWeightColumnName);
        Assert.IsNull(typeof(LorenzaCatalog).GetMethods().Single(m => m.Name == nameof(LorenzaCatalog.Lorenza) && m.GetParameters().Length > 2)
            .GetParameters().Single(p => p.Name == "exampleWeightColumnName").DefaultValue);
        Assert.AreEqual(ClassWeighting.None, new TrainingOptions().Data.ClassWeights);
        Assert.AreEqual(ClassWeighting.None, new LorenzaTrainer.Options().ClassWeights);
        Assert.AreEqual(ClassWeighting.Balanced, LorenzaTrainer.ToTrainingOptions(new LorenzaTrainer.Options { ClassWeights = ClassWeighting.Balanced }, ["a", "b"]).Data.ClassWeights);
    }

    /// <summary>Values compared across the surfaces: enums by lower-case name, integers as long.</summary>
    private static object? Normalize(object? value) => value switch
    {
        null => null,
        Enum e => e.ToString().ToLowerInvariant(),
        string s => s.ToLowerInvariant(),
        int or long or ulong or uint => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        _ => value,
    };

    /// <summary>A value of <paramref name="type"/> other than <paramref name="current"/>.</summary>
    private static object Changed(object? current, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t.IsEnum)
        {
            var values = Enum.GetValues(t);
            return current is null ? values.GetValue(values.Length - 1)! : values.GetValue((Array.IndexOf(values, current) + 1) % values.Length)!;
        }
        return t == typeof(int) ? (current is int i ? i + 3 : 7)
            : t == typeof(double) ? (current is double d ? d * 0.5 + 0.0123 : 0.0456)
            : t == typeof(bool) ? !(current is true)
            : t == typeof(string) ? (object)("changed-" + current)   // object: a string would otherwise convert to ComputeDevice below
            : t == typeof(Runtime.ComputeDevice) ? (current is Runtime.ComputeDevice { Name: "cuda:1" } ? Runtime.ComputeDevice.Cpu : Runtime.ComputeDevice.Cuda(1))
            : throw new AssertFailedException($"no changed value for {type.Name}");
    }
}
