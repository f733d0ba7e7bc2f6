using System.Text.RegularExpressions;

namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>
/// A model on the Hugging Face Hub: <c>org/name</c>, optionally <c>@revision</c> (a branch, a tag or a 40-hex commit;
/// "main" when absent). Owner and name use letters, digits, '-', '_' and '.', as the hub allows: neither starts or
/// ends with '-' or '.', neither holds "--" or "..", and the whole id is at most 96 characters. The revision becomes a path
/// below the cache's refs/ (as huggingface_hub keeps it): no "..", "." or empty segment, no '\', and none of the characters
/// git refuses in a ref name that a path could take otherwise (':' names a drive or a stream on Windows; '?', '*', '[', '~', '^').
/// </summary>
public sealed partial record HubModelId(string Owner, string Name, string Revision)
{
    public const string DefaultRevision = "main";

    /// <summary>"org/name".</summary>
    public string RepoId => $"{Owner}/{Name}";

    /// <summary>Whether the revision is a full commit hash (40 hexadecimal digits), which never moves.</summary>
    public bool IsCommit => IsCommitHash(Revision);

    /// <summary>The repository's folder in the hub cache: models--org--name.</summary>
    public string CacheFolderName => $"models--{Owner}--{Name}";

    /// <summary>"org/name", with "@revision" unless it is main.</summary>
    public override string ToString() => Revision == DefaultRevision ? RepoId : $"{RepoId}@{Revision}";

    public static bool IsCommitHash(string? value) => value is { Length: 40 } && CommitPattern().IsMatch(value);

    /// <summary>Whether <paramref name="value"/> is written as a hub id (org/name[@revision]); says nothing of whether it exists.</summary>
    public static bool IsId(string? value) => TryParse(value, out _, out _);

    /// <summary>The id in <paramref name="value"/>; an <see cref="ArgumentException"/> saying what is wrong with it otherwise.</summary>
    public static HubModelId Parse(string value) =>
        TryParse(value, out var id, out var problem) ? id : throw new ArgumentException(problem);

    /// <summary>Parses <c>org/name[@revision]</c>; <paramref name="problem"/> says in one sentence why it is not an id.</summary>
    public static bool TryParse(string? value, out HubModelId id, out string problem)
    {
        id = null!;
        problem = "";
        if (string.IsNullOrWhiteSpace(value)) { problem = "an empty model id"; return false; }
        var at = value.IndexOf('@');
        var repo = at < 0 ? value : value[..at];
        var revision = at < 0 ? DefaultRevision : value[(at + 1)..];
        var slash = repo.IndexOf('/');
        if (slash < 0 || slash != repo.LastIndexOf('/'))
        {
            problem = $"'{value}' is not a Hugging Face Hub id: write it as org/name (e.g. FacebookAI/roberta-base), optionally @revision";
            return false;
        }
        var (owner, name) = (repo[..slash], repo[(slash + 1)..]);
        if (!PartPattern().IsMatch(owner) || !PartPattern().IsMatch(name) || repo.Contains("--", StringComparison.Ordinal) || repo.Contains("..", StringComparison.Ordinal) || repo.Length > 96)
        {
            problem = $"'{repo}' is not a valid Hugging Face Hub id: owner and name use letters, digits, '-', '_' and '.', do not start or end with '-' or '.', hold no '--' or '..', and the id has at most 96 characters";
            return false;
        }
        if (revision.Length == 0 || revision.Length > 255 || revision.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '\\' or ':' or '?' or '*' or '[' or '~' or '^')
            || revision.Split('/').Any(part => part is "" or "." or ".."))
        {
            problem = $"'{value}' has no valid revision after '@': give a branch, a tag or a 40-hex commit (e.g. {repo}@main)";
            return false;
        }
        id = new HubModelId(owner, name, revision);
        return true;
    }

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex CommitPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?$")]
    private static partial Regex PartPattern();
}
