using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// Runs every case of <see cref="BadInputCases"/> through the `lorenza` tool: one `error:` line holding the
/// expected message, the expected exit code, no stack trace, and the working folder exactly as it was
/// (nothing partial written). Also keeps docs/bad-inputs.md equal to the list.
/// </summary>
[TestClass]
public sealed class BadInputTableTests
{
    private static string DocsPath => Path.Combine(SharedData.RepoRoot, "docs", "bad-inputs.md");

    [TestMethod]
    public void EveryCaseGetsItsOneLineAndExitCode_AndLeavesNothingBehind()
    {
        var failures = new ConcurrentBag<string>();
        // Each case is its own process, mostly waiting on process start-up: three at a time.
        Parallel.ForEach(BadInputCases.All, new ParallelOptions { MaxDegreeOfParallelism = 3 }, c =>
        {
            var folder = Directory.CreateTempSubdirectory("lorenza-bad-input-").FullName;
            try
            {
                foreach (var (name, content) in c.Files)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, name))!);
                    File.WriteAllBytes(Path.Combine(folder, name), content);
                }
                var before = Snapshot(folder);
                var (code, _, stderr) = Cli.RunIn(folder, c.Arguments, timeoutSeconds: 120);
                var errors = stderr.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
                var problem =
                    code != c.ExitCode ? $"exit code {code}, expected {c.ExitCode}"
                    : errors.Count != 1 ? $"{errors.Count} error lines"
                    : !errors[0].Contains(c.Message, StringComparison.Ordinal) ? "message differs"
                    : stderr.Contains("   at ", StringComparison.Ordinal) || stderr.Length > 2000 ? "a stack trace or help text"
                    : Snapshot(folder) != before ? "the working folder changed" : null;
                if (problem is not null) failures.Add($"[{c.Kind}] {problem}: lorenza {c.Arguments}\n  expected: {c.Message}\n  stderr: {stderr.Trim()}");
            }
            finally
            {
                Directory.Delete(folder, true);
            }
        });
        Assert.IsEmpty(failures, string.Join("\n", failures));
    }

    [TestMethod]
    public void TheDocsTableIsTheCaseList_AndCountsThem()
    {
        var expected = Table();
        if (Environment.GetEnvironmentVariable("LORENZA_WRITE_DOCS") == "1") File.WriteAllText(DocsPath, expected);
        Assert.AreEqual(expected, File.Exists(DocsPath) ? File.ReadAllText(DocsPath) : "",
            "docs/bad-inputs.md differs from BadInputCases: run the test with LORENZA_WRITE_DOCS=1 to rewrite it");
        Assert.AreEqual(BadInputCases.All.Count, BadInputCases.All.Select(c => c.Kind).Distinct().Count(), "kinds are distinct");
        Assert.IsGreaterThanOrEqualTo(60, BadInputCases.All.Count + BadInputCases.Elsewhere.Count);
    }

    [TestMethod]
    public void EveryCaseShownElsewhereHasItsTest_AssertingItsMessage()
    {
        var sources = Directory.EnumerateFiles(Path.Combine(SharedData.RepoRoot, "test"), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText).ToList();
        foreach (var c in BadInputCases.Elsewhere)
        {
            var (type, method) = (c.Test.Split('.')[0], c.Test.Split('.')[1]);
            var source = sources.SingleOrDefault(s => s.Contains($"class {type}") && s.Contains($"void {method}("));
            Assert.IsNotNull(source, $"{c.Test} not found");
            StringAssert.Contains(source, c.Message, $"{c.Test} does not assert its message");
        }
    }

    private static string Table()
    {
        var text = new StringBuilder();
        text.Append("# Bad inputs and what `lorenza` says\n\n");
        text.Append("Generated from `test/Microsoft.ML.Lorenza.Core.Tests/BadInputs/BadInputCases.cs`: `BadInputTableTests` runs every row\n");
        text.Append("through the tool and fails when this file differs from the list (`LORENZA_WRITE_DOCS=1` rewrites it).\n");
        text.Append("Each refusal is one line on stderr, `error: ` and the message; exit code 2 for usage errors (options, columns),\n");
        text.Append("1 for bad data, files and the output folder; nothing is written. The command runs in a folder holding the\n");
        text.Append("row's files (`data.tsv`: a valid two-class file with a `text` and a `label` column, unless the row is about it).\n\n");
        text.Append("Every reader of outside bytes keeps one contract: model.safetensors (header and data), config.json of each family,\n");
        text.Append("vocab.json, merges.txt, vocab.txt, tokenizer_config.json, tokenizer.json, the TSV/CSV reader, lorenza.json, the\n");
        text.Append("training checkpoint and the pretrained converter's model.onnx either read a damaged or hostile file or refuse it with an\n");
        text.Append("`InvalidDataException` naming the file (and the key, line or byte where it applies), and the hub client any answer with\n");
        text.Append("a one-line `PretrainedModelException`; the tool prints either as one `error:` line with exit code 1 — never another\n");
        text.Append("exception, a hang, or an allocation sized by a number the file does not back. JSON is read with a depth limit (64) and\n");
        text.Append("refuses a key given twice; config.json is checked against model.safetensors' header (the layer count, the word-embedding\n");
        text.Append("table, and the least number of weights its sizes need) before a model is allocated; a safetensors shape must fit the\n");
        text.Append("bytes it spans; a checkpoint carries a SHA-256 digest of its tensors and metadata and is refused whole when it differs.\n");
        text.Append("pytorch_model.bin's pickle is read opcode by opcode before it is unpickled: it may name only what a state dict of tensors\n");
        text.Append("needs (collections.OrderedDict, torch._utils' tensor and parameter rebuilders, torch's storage types: the part of\n");
        text.Append("`torch.load(weights_only=True)`'s list a state dict uses), so a file that would call os.system, eval or subprocess is\n");
        text.Append("refused and nothing runs; a damaged one ends in an `InvalidDataException` too. The same reading bounds what\n");
        text.Append("TorchSharp.PyBridge would allocate (each tensor's size, before it reads the tensor's storage): a storage's numel ×\n");
        text.Append("element size must fit in its `data/<key>` entry, a tensor's values and its view (offset + Σ (size − 1)·stride + 1) in\n");
        text.Append("its storage, all tensors together in 16 times the storages they copy, and a numel, offset, size or stride that is not\n");
        text.Append("a literal whole number is refused. A name from an archive or a server (a shard, a hub commit or etag, a revision, an\n");
        text.Append("entry of a saved transformer) becomes a path only when it is plain: no absolute path, `..`, separator or drive.\n");
        text.Append("`MutationTests` checks the contract in every test run on a few thousand seeded mutations of valid files (truncations,\n");
        text.Append("bit flips, inserted and removed bytes, huge and negative numbers, JSON values of the wrong type, deep nesting, repeated\n");
        text.Append("keys and lines). One exception: a damaged header line of a data file that no longer names the `--text-col`/`--label-col`\n");
        text.Append("columns is a usage error (exit 2, rows 17-21), listing the columns the file has.\n\n");
        text.Append($"{BadInputCases.All.Count + BadInputCases.Elsewhere.Count} kinds: {BadInputCases.All.Count} run through the tool, {BadInputCases.Elsewhere.Count} shown by other tests.\n\n");
        text.Append("| # | bad input | command | `lorenza` says (contains) | exit |\n| --- | --- | --- | --- | --- |\n");
        var n = 0;
        foreach (var c in BadInputCases.All)
            text.Append($"| {++n} | {Cell(c.Kind)} | `lorenza {c.Arguments}` | {Cell(c.Message)} | {c.ExitCode} |\n");
        text.Append("\n| # | bad input | message (contains) | test |\n| --- | --- | --- | --- |\n");
        foreach (var c in BadInputCases.Elsewhere)
            text.Append($"| {++n} | {Cell(c.Kind)} | {Cell(c.Message)} | `{c.Test}` |\n");
        return text.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|");

    private static string Snapshot(string folder) => string.Join("\n", Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(p => Path.GetRelativePath(folder, p) + (File.Exists(p) ? " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "/")));
}
