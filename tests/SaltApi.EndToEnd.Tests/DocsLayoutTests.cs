using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>
/// What the documentation promises about itself: the README's two commands (and CI runs the test one), the
/// module guide prints the sample's files as they are, and every relative link leads to a file.
/// </summary>
public sealed partial class DocsLayoutTests
{
    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([TestData.RepoRoot, .. path]));

    [Fact]
    public void The_readme_gives_the_two_commands_in_its_first_40_lines_and_ci_runs_the_test_one()
    {
        var head = string.Join('\n', Read("README.md").Split('\n').Take(40));
        Assert.Contains("dotnet run --project SaltApi.Host        # the daemon, on the embedded default (salt-master.yaml)", head, StringComparison.Ordinal);
        Assert.Contains("dotnet test SaltApi.sln                  # the tests", head, StringComparison.Ordinal);
        // The three rest_wsgi examples (ReadmeTests runs them).
        Assert.Equal(3, Regex.Count(head, "curl -sS localhost:8001"));
        Assert.Contains("\ndotnet test SaltApi.sln 2>&1 | tee \"$log\"", Read(".ci", "run"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_module_guide_prints_every_file_of_the_sample_as_it_is()
    {
        var guide = Read("docs", "writing-a-module.md");
        var printed = FileBlock().Matches(guide).ToDictionary(m => m.Groups["path"].Value, m => m.Groups["body"].Value);
        var sample = Directory.GetFiles(Path.Combine(TestData.RepoRoot, "samples", "HelloNetapi"))
            .Select(f => Path.GetRelativePath(TestData.RepoRoot, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(sample, printed.Keys.Order(StringComparer.Ordinal).ToList());
        foreach (var (path, body) in printed)
        {
            Assert.Equal(Read(path).TrimEnd('\n').ReplaceLineEndings("\n"), body);
        }
    }

    [Fact]
    public void Every_relative_link_of_the_docs_leads_to_a_file()
    {
        var pages = Directory.GetFiles(Path.Combine(TestData.RepoRoot, "docs"), "*.md").Append(Path.Combine(TestData.RepoRoot, "README.md")).Append(Path.Combine(TestData.RepoRoot, "bench", "README.md"));
        var broken = new List<string>();
        foreach (var page in pages)
        {
            foreach (Match m in Link().Matches(File.ReadAllText(page)))
            {
                var target = m.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith('#') || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target.Split('#')[0]));
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    broken.Add($"{Path.GetRelativePath(TestData.RepoRoot, page)}: {target}");
                }
            }
        }

        Assert.Empty(broken);
    }

    // <!-- file: path --> then a fenced block: its body.
    [GeneratedRegex(@"<!-- file: (?<path>\S+) -->\n```\w*\n(?<body>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex FileBlock();

    // [text](target)
    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();
}
