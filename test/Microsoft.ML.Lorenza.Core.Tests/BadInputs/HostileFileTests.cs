using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// Damaged and hostile files whose refusal no CLI run shows (see also <see cref="BadInputCases"/> and <see cref="MutationTests"/>);
/// hostile pickles in HostileFileTests.Pickles.cs.
/// </summary>
[TestClass]
public sealed partial class HostileFileTests
{
    [TestMethod]
    public void ADamagedCheckpoint_IsRefusedWhole()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-checkpoint-").FullName;
        try
        {
            BertFixture.WriteTiny(folder, hidden: 16, layers: 1, maxLength: 32);
            var (model, _) = ModelFolder.Load(folder);
            using var _model = model;
            var parameters = model.named_parameters().Select(p => new OptimizedParameter(p.name, p.parameter, null, false)).ToList();
            using var optimizer = OptimizerFactory.Create("adamw", parameters, new OptimizerOptions { LearningRate = 1e-3 }, new ConstantSchedule(1e-3));
            var report = new TrainingReport();
            var path = Path.Combine(folder, TrainingCheckpoint.FileName);
            TrainingCheckpoint.Save(path, model, optimizer, new TrainingPosition(1, 3, 3), report, "same run");
            Assert.AreEqual(3, TrainingCheckpoint.Load(path, model, optimizer, report, "same run").Step, "the intact checkpoint resumes");

            // One bit of one weight: the safetensors framing is intact, only the digest can tell.
            var bytes = File.ReadAllBytes(path);
            bytes[^5] ^= 0x10;
            File.WriteAllBytes(path, bytes);
            var e = Assert.ThrowsExactly<InvalidDataException>(() => TrainingCheckpoint.Load(path, model, optimizer, report, "same run"));
            StringAssert.Contains(e.Message, "is damaged (its contents do not match the digest written with it)");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
