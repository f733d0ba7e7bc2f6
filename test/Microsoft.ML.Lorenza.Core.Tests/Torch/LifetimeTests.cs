using System.Runtime.InteropServices;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>Native memory is freed deterministically: by Dispose, by dispose scopes, never leaked per step.</summary>
[TestClass]
public sealed class LifetimeTests
{
    // Managed garbage (tensor wrappers) is collected first so that only native growth is measured.
    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("VmRSS not found");
    }

    // glibc's count of bytes handed out by malloc (in use now): exact, unlike resident memory, which
    // moves by a few MB as glibc arenas and the GC heap settle.
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 NativeMallInfo();

    private static long MallocInUseBytes()
    {
        var info = NativeMallInfo();
        return (long)(info.Uordblks + info.Hblkhd);
    }

    [TestMethod]
    public void TenThousandCreateDisposeCyclesOfOneMegabyteKeepResidentMemoryFlat()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Reads /proc/self/status and glibc's mallinfo2.");
        var data = new float[256 * 1024]; // 1 MiB
        // An explicit Scalar: TorchSharp's implicit one (t.mul(2)) can be finalized mid-call (docs/engine.md, "TorchSharp notes").
        using var two = 2.ToScalar();
        void Cycle()
        {
            using var t = torch.tensor(data);
            using var u = t.mul(two);
        }
        for (var i = 0; i < 10_000; i++) Cycle(); // warm up: libtorch and glibc pools, GC budgets, JIT tiers
        // Earlier tests' garbage and finalizers settle first, so the figures are this loop's, not theirs.
        Settle();
        var residentBefore = ResidentBytes();
        var mallocBefore = MallocInUseBytes();
        for (var i = 0; i < 10_000; i++) Cycle();
        Settle();
        var residentGrowth = ResidentBytes() - residentBefore;
        var mallocGrowth = MallocInUseBytes() - mallocBefore;
        // A leak of the tensors would be 20 GB; of a TensorImpl alone (~200 bytes) 2 MB. The .NET runtime
        // mallocs too (JIT, GC bookkeeping), which accounts for the few tens of KB seen between runs.
        Assert.IsTrue(mallocGrowth < 1 << 20, $"native heap in use grew by {mallocGrowth} bytes over 10,000 cycles");
        // Resident memory also holds what glibc's other arenas keep (earlier tests that score from 8 threads leave several,
        // and a thread may move between them): 37–75 MiB were seen after those tests, against 20 GB for the leak it guards.
        Assert.IsTrue(residentGrowth < 256 << 20, $"resident memory grew by {residentGrowth / 1048576.0:F1} MiB over 10,000 cycles of 2 MiB");
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [TestMethod]
    public void ScopeFreesEverythingCreatedInsideExceptWhatMovesOut()
    {
        Tensor kept, dropped;
        using (var outer = torch.NewDisposeScope())
        {
            using (var inner = torch.NewDisposeScope())
            {
                dropped = torch.ones([3]);
                kept = (dropped * 2).MoveToOuterDisposeScope();
                Assert.IsTrue(inner.Contains(dropped), "dropped stays");
                Assert.IsFalse(inner.Contains(kept), "kept moved out");
            }
            Assert.IsTrue(dropped.IsInvalid);
            Assert.IsFalse(kept.IsInvalid);
            Assert.AreEqual(6f, kept.sum().item<float>());
        }
        Assert.IsTrue(kept.IsInvalid, "the outer scope freed it");
    }

    [TestMethod]
    public void DetachedTensorsOutliveScopesAndDisposeRemovesFromScope()
    {
        Tensor detached;
        using (var scope = torch.NewDisposeScope())
        {
            detached = torch.ones([2]).DetachFromDisposeScope();
            var explicitlyDisposed = torch.ones([2]);
            explicitlyDisposed.Dispose();
            Assert.IsFalse(scope.Contains(detached));
            Assert.IsFalse(scope.Contains(explicitlyDisposed));
        }
        Assert.IsFalse(detached.IsInvalid);
        detached.Dispose();
    }

    [TestMethod]
    public void GradientsFlowAndNoGradStopsThem()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new double[] { 1, 2, 3 }).requires_grad_();
        (x * x).sum().backward();
        CollectionAssert.AreEqual(new double[] { 2, 4, 6 }, x.grad!.ToArray<double>());
        using (torch.no_grad())
        {
            Assert.IsFalse(torch.is_grad_enabled());
            Assert.IsFalse((x * 2).requires_grad);
        }
        Assert.IsTrue(torch.is_grad_enabled());
        x.grad = null;
        Assert.IsNull(x.grad);
    }

    [TestMethod]
    public void ModuleMovesKeepHuggingFaceNamesAndTheNewParametersTrain()
    {
        // TorchSharp's Module.to replaces parameters; SideBranchLinear must register the replacements under the same names.
        using var layer = new SideBranchLinear(3, 2);
        layer.to(ScalarType.Float64);
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, layer.named_parameters().Select(p => p.name).ToArray());
        Assert.IsTrue(layer.parameters().All(p => p.dtype == ScalarType.Float64 && p.requires_grad));
        Assert.AreSame(layer.weight, layer.named_parameters().First().parameter, "the property and the registration are one tensor");
        using var scope = torch.NewDisposeScope();
        layer.call(torch.ones([4, 3], ScalarType.Float64)).sum().backward();
        Assert.IsNotNull(layer.weight.grad);
    }
}
