using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// Locates the repository and the ../shared folder beside it (data sets, fixtures). Tests that need
/// ../shared call <see cref="RequirePath"/>, which reports Inconclusive with one line when it is absent
/// (a user's clone); CI has it, so there they run for real.
/// </summary>
public static class SharedData
{
    /// <summary>The repository root (the folder holding Microsoft.ML.Lorenza.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared next to the repository, or LORENZA_SHARED_DIR; null when neither exists.</summary>
    public static string? Root
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("LORENZA_SHARED_DIR");
            if (!string.IsNullOrEmpty(fromEnv) && Directory.Exists(fromEnv)) return fromEnv;
            var beside = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            return Directory.Exists(beside) ? beside : null;
        }
    }

    /// <summary>The full path of a file or folder under ../shared, or Inconclusive when it is missing.</summary>
    public static string RequirePath(params string[] parts)
    {
        var root = Root;
        if (root is null)
            Assert.Inconclusive("../shared (reference data and fixtures) is not beside this clone; this test runs in CI.");
        var path = Path.Combine([root, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
            Assert.Inconclusive($"{Path.Combine(parts)} is missing from ../shared; this test runs in CI.");
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.Lorenza.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find Microsoft.ML.Lorenza.sln above " + AppContext.BaseDirectory);
    }
}
