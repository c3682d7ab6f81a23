using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

/// <summary>log_error_file: the module's lines at info and above, CherryPy's error-log shape, no secret.</summary>
public class ErrorLogTeeTests
{
    [Fact]
    public async Task Info_and_above_reach_the_file_masked_with_the_exception()
    {
        var dir = Path.Combine(Path.GetTempPath(), "saltapi-error-" + Guid.NewGuid().ToString("N"));
        var path = Path.Combine(dir, "error.log");
        var file = LogLineWriter.ToFile(path, NullLogger.Instance, "error log");
        var tee = new ErrorLogTee(NullLogger.Instance, file);
        Assert.True(tee.IsEnabled(LogLevel.Information));   // whatever the daemon's level
        Assert.False(tee.IsEnabled(LogLevel.Debug));

        tee.LogDebug("not in the file");
        tee.LogInformation("rest_cherrypy listening on {Url}", "http://127.0.0.1:8000");
        tee.LogWarning(new InvalidOperationException("boom at /ws/0123abcd"), "{Path} failed with token=s3cr3t and\nmore", "/ws/0123abcd");
        await file.DisposeAsync();

        var text = await File.ReadAllTextAsync(path);
        Assert.DoesNotContain("not in the file", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", text, StringComparison.Ordinal);
        Assert.DoesNotContain("0123abcd", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\] INFO rest_cherrypy listening on http://127\.0\.0\.1:8000$", text);
        Assert.Matches(@"(?m)^\[[^\]]+\] WARNING /ws/\*\*\* failed with token=\*\*\* and\\nmore$", text);
        Assert.Contains("System.InvalidOperationException: boom at /ws/***", text, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }
}
