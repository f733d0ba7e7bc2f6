using System.Runtime.InteropServices;
using Microsoft.ML.Lorenza.Torch;
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
        void Cycle()
        {
            using var t = torch.tensor(data);
            using var u = t.mul(2);
        }
        for (var i = 0; i < 10_000; i++) Cycle(); // warm up: libtorch and glibc pools, GC budgets, JIT tiers
        var residentBefore = ResidentBytes();
        var mallocBefore = MallocInUseBytes();
        for (var i = 0; i < 10_000; i++) Cycle();
        var residentGrowth = ResidentBytes() - residentBefore;
        var mallocGrowth = MallocInUseBytes() - mallocBefore;
        // A leak of the tensors would be 20 GB; of a TensorImpl alone (~200 bytes) 2 MB. The .NET runtime
        // mallocs too (JIT, GC bookkeeping), which accounts for the few tens of KB seen between runs.
        Assert.IsTrue(mallocGrowth < 1 << 20, $"native heap in use grew by {mallocGrowth} bytes over 10,000 cycles");
        Assert.IsTrue(residentGrowth < 8 << 20, $"resident memory grew by {residentGrowth / 1048576.0:F1} MiB over 10,000 cycles of 2 MiB");
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
                Assert.AreEqual(1, inner.Count, "dropped stays, kept moved out");
            }
            Assert.IsTrue(dropped.IsDisposed);
            Assert.IsFalse(kept.IsDisposed);
            Assert.AreEqual(6f, kept.sum().item<float>());
        }
        Assert.IsTrue(kept.IsDisposed, "the outer scope freed it");
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
            Assert.AreEqual(0, scope.Count);
        }
        Assert.IsFalse(detached.IsDisposed);
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
    public void SetDataKeepsIdentityAcrossDtypeChange()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.ones([2, 2]).requires_grad_();
        using (var converted = p.detach().to(ScalarType.Float64)) p.set_data(converted);
        Assert.AreEqual(ScalarType.Float64, p.dtype);
        Assert.IsTrue(p.requires_grad);
    }
}
