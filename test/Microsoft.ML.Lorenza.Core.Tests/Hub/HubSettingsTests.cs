using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Pretrained.Hub;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// The hub source's settings and names, without a server: the cache root and token are found where Python's
/// huggingface_hub finds them, ids and revisions parse as the hub writes them, URLs are escaped, and a model reference
/// is told apart as a folder, a built-in name or a hub id.
/// </summary>
[TestClass]
public sealed class HubSettingsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static readonly string Home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    [TestMethod]
    public void TheCacheRootIsPythonsHfHubCacheThenHfHomeThenXdgThenHome()
    {
        Assert.AreEqual("/c/hub-cache", HubSettings.CacheRootOf(null, Env(("HF_HUB_CACHE", "/c/hub-cache"), ("HF_HOME", "/h"), ("XDG_CACHE_HOME", "/x"))));
        Assert.AreEqual("/h/hub", HubSettings.CacheRootOf(null, Env(("HF_HOME", "/h"), ("XDG_CACHE_HOME", "/x"))));
        Assert.AreEqual("/x/huggingface/hub", HubSettings.CacheRootOf(null, Env(("XDG_CACHE_HOME", "/x"))));
        Assert.AreEqual(Path.Combine(Home, ".cache", "huggingface", "hub"), HubSettings.CacheRootOf(null, Env()));
        Assert.AreEqual(Path.Combine(Home, "models"), HubSettings.CacheRootOf(null, Env(("HF_HUB_CACHE", "~/models"))));
        Assert.AreEqual("/legacy", HubSettings.CacheRootOf(null, Env(("HUGGINGFACE_HUB_CACHE", "/legacy"), ("HF_HOME", "/h"))));
        Assert.AreEqual("/option", HubSettings.CacheRootOf("/option", Env(("HF_HUB_CACHE", "/c"))));
    }

    [TestMethod]
    public void TheTokenIsHfTokenThenTheTokenFileAndNeverShown()
    {
        var home = Directory.CreateTempSubdirectory("lorenza-hf-home-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(home, "token"), "hf_fromFile\n");
            var other = Path.Combine(home, "other-token");
            File.WriteAllText(other, "  hf_fromPath \r\n");
            Assert.AreEqual("hf_fromEnv", HubToken.Find(null, Env(("HF_TOKEN", "hf_fromEnv"), ("HF_TOKEN_PATH", other)), home)!.Value);
            Assert.AreEqual("hf_legacy", HubToken.Find(null, Env(("HUGGING_FACE_HUB_TOKEN", "hf_legacy")), home)!.Value);
            Assert.AreEqual("hf_fromPath", HubToken.Find(null, Env(("HF_TOKEN_PATH", other)), home)!.Value);
            var fromFile = HubToken.Find(null, Env(), home)!;
            Assert.AreEqual("hf_fromFile", fromFile.Value);
            Assert.AreEqual("hf_option", HubToken.Find("hf_option", Env(("HF_TOKEN", "hf_fromEnv")), home)!.Value);
            Assert.IsNull(HubToken.Find(null, Env(("HF_TOKEN", "  ")), Path.Combine(home, "none")));
            Assert.IsFalse(fromFile.ToString().Contains("hf_fromFile"), fromFile.ToString());
            Assert.AreEqual("refused <token> here", fromFile.Scrub("refused hf_fromFile here"));

            var settings = HubSettings.From(new PretrainedModelOptions(), Env(("HF_HOME", home)));
            Assert.AreEqual("hf_fromFile", settings.Token!.Value, "$HF_HOME/token, where huggingface-cli login writes it");
            Assert.AreEqual(Path.Combine(home, "hub"), settings.CacheRoot);
        }
        finally
        {
            Directory.Delete(home, true);
        }
    }

    [TestMethod]
    public void OfflineTimeoutsAndEndpointAreReadAsHuggingFaceHubReadsThem()
    {
        foreach (var yes in new[] { "1", "true", "ON", "yes" })
            Assert.IsTrue(HubSettings.From(new(), Env(("HF_HUB_OFFLINE", yes))).Offline, yes);
        foreach (var no in new[] { "0", "false", "", "no" })
            Assert.IsFalse(HubSettings.From(new(), Env(("HF_HUB_OFFLINE", no))).Offline, no);
        Assert.IsTrue(HubSettings.From(new(), Env(("TRANSFORMERS_OFFLINE", "1"))).Offline);
        Assert.IsFalse(HubSettings.From(new() { Offline = false }, Env(("HF_HUB_OFFLINE", "1"))).Offline, "the option wins");

        var defaults = HubSettings.From(new(), Env());
        Assert.AreEqual(new Uri("https://huggingface.co"), defaults.Endpoint);
        Assert.AreEqual(TimeSpan.FromSeconds(10), defaults.EtagTimeout);
        Assert.AreEqual(TimeSpan.FromSeconds(10), defaults.DownloadTimeout);
        var set = HubSettings.From(new(), Env(("HF_ENDPOINT", "http://mirror.example:8080/"), ("HF_HUB_ETAG_TIMEOUT", "2.5"), ("HF_HUB_DOWNLOAD_TIMEOUT", "30")));
        Assert.AreEqual("http://mirror.example:8080/", set.Endpoint.AbsoluteUri);
        Assert.AreEqual(TimeSpan.FromSeconds(2.5), set.EtagTimeout);
        Assert.AreEqual(TimeSpan.FromSeconds(30), set.DownloadTimeout);

        var badTimeout = Assert.ThrowsExactly<ArgumentException>(() => HubSettings.From(new(), Env(("HF_HUB_ETAG_TIMEOUT", "soon"))));
        Assert.AreEqual("HF_HUB_ETAG_TIMEOUT = 'soon' is not a number of seconds; set it to e.g. 10 or unset it.", badTimeout.Message);
        var badEndpoint = Assert.ThrowsExactly<ArgumentException>(() => HubSettings.From(new(), Env(("HF_ENDPOINT", "huggingface.co"))));
        Assert.AreEqual("HF_ENDPOINT = 'huggingface.co' is not an http(s) URL; set it to the hub's address, e.g. https://huggingface.co, or unset it.", badEndpoint.Message);
    }

    [TestMethod]
    public void IdsAndRevisionsParseAsTheHubWritesThem()
    {
        var id = HubModelId.Parse("FacebookAI/roberta-base");
        Assert.AreEqual(("FacebookAI", "roberta-base", "main"), (id.Owner, id.Name, id.Revision));
        Assert.AreEqual("models--FacebookAI--roberta-base", id.CacheFolderName);
        Assert.AreEqual("google-bert/bert-base-uncased@v1.0", HubModelId.Parse("google-bert/bert-base-uncased@v1.0").ToString());
        Assert.AreEqual("refs/pr/1", HubModelId.Parse("org/model.v2_x@refs/pr/1").Revision);
        Assert.IsTrue(HubModelId.Parse($"org/name@{new string('a', 40)}").IsCommit);
        Assert.IsFalse(HubModelId.Parse("org/name@abc123").IsCommit, "a short hash is a revision the hub resolves");

        foreach (var (bad, says) in new[]
                 {
                     ("roberta-base", "write it as org/name"), ("a/b/c", "write it as org/name"), ("org/-name", "not a valid Hugging Face Hub id"),
                     ("org/na me", "not a valid"), ("org--x/name", "not a valid"), ("org/name@", "no valid revision"), ("org/name@../main", "no valid revision"),
                     ($"org/{new string('n', 100)}", "at most 96"),
                     // The revision becomes a path below refs/: nothing a path could take for a drive, a stream or a pattern (git refuses them too).
                     ("org/name@C:evil", "no valid revision"), ("org/name@main:x", "no valid revision"), ("org/name@ma*n", "no valid revision"),
                     ("org/name@v1?", "no valid revision"), ("org/name@[x]", "no valid revision"), ("org/name@main~1", "no valid revision"), ("org/name@main^", "no valid revision"),
                 })
        {
            Assert.IsFalse(HubModelId.TryParse(bad, out _, out var problem), bad);
            StringAssert.Contains(problem, says, bad);
        }
    }

    [TestMethod]
    public void UrlsEscapeTheRevisionWholeAndTheFileBySegment()
    {
        var endpoint = new Uri("https://huggingface.co");
        Assert.AreEqual("https://huggingface.co/org/name/resolve/refs%2Fpr%2F1/config.json",
                        HubClient.ResolveUrl(endpoint, HubModelId.Parse("org/name@refs/pr/1"), "refs/pr/1", "config.json").AbsoluteUri);
        Assert.AreEqual("https://huggingface.co/org/name/resolve/main/sub%20dir/a%2Bb.json",
                        HubClient.ResolveUrl(endpoint, HubModelId.Parse("org/name"), "main", "sub dir/a+b.json").AbsoluteUri);
        Assert.AreEqual("abc", HubClient.Normalize("W/\"abc\""));
        Assert.AreEqual("abc", HubClient.Normalize("\"abc\""));
        Assert.IsNull(HubClient.Normalize("\"\""));
    }

    [TestMethod]
    public void AFileNameThatWouldLeaveTheSnapshotIsRefused()
    {
        var cache = new HubCache("/tmp/cache", HubModelId.Parse("org/name"));
        var commit = new string('a', 40);
        StringAssert.EndsWith(cache.PointerPath(commit, "sub/vocab.txt"), Path.Combine("snapshots", commit, "sub", "vocab.txt"));
        foreach (var bad in new[] { "../../evil", "/etc/passwd", "a/../../b", "a\\b", "", "a//b", "./x" })
        {
            var e = Assert.ThrowsExactly<PretrainedModelException>(() => cache.PointerPath(commit, bad), bad);
            StringAssert.Contains(e.Message, "outside the model's snapshot folder", bad);
        }
        Assert.ThrowsExactly<PretrainedModelException>(() => cache.BlobPath("../x"));
        Assert.ThrowsExactly<PretrainedModelException>(() => cache.SnapshotFolder("main"));
    }

    [TestMethod]
    public void AReferenceIsAFolderThenABuiltInNameThenAHubId()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-org-").FullName;
        try
        {
            Assert.AreEqual(PretrainedSource.Folder, PretrainedModels.Classify(folder));
            Assert.AreEqual(PretrainedSource.BuiltIn, PretrainedModels.Classify("minilm"));
            Assert.AreEqual(PretrainedSource.Hub, PretrainedModels.Classify("FacebookAI/roberta-base"));
            Assert.AreEqual(PretrainedSource.Hub, PretrainedModels.Classify("FacebookAI/roberta-base@main"));
            // An existing folder named like an id is the folder.
            var parent = Path.GetDirectoryName(folder)!;
            var nested = Path.Combine(folder, "model");
            Directory.CreateDirectory(nested);
            var relative = Path.GetRelativePath(parent, nested);
            var previous = Environment.CurrentDirectory;
            try
            {
                Environment.CurrentDirectory = parent;
                Assert.AreEqual(PretrainedSource.Folder, PretrainedModels.Classify(relative));
                Assert.AreEqual(nested, PretrainedModels.ResolveModel(relative).Folder);
            }
            finally
            {
                Environment.CurrentDirectory = previous;
            }
            foreach (var bad in new[] { "nomodel", "./org/name", "/no/such/folder", "a/b/c" })
            {
                var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => PretrainedModels.Classify(bad), bad);
                StringAssert.StartsWith(e.Message, $"Pretrained model folder not found: {bad}; pass an existing Hugging Face folder");
                StringAssert.Contains(e.Message, "org/name, optionally @revision");
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
