using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Tests;

/// <summary>The contract's web host: it reports the module listening, and reads an HTTP/1.0 POST without a length as CherryPy does.</summary>
public sealed class NetapiWebHostTests : IAsyncDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-webhost-").FullName;
    private WebApplication? app;

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        Directory.Delete(dir, recursive: true);
    }

    // An app that answers every POST with the body's length, behind HttpFront with an error log (a context of its own).
    private async Task<(int Port, TaskCompletionSource Listening, HttpFront Front)> StartAsync()
    {
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var section = new ModuleSection("m", new Dictionary<string, object?> { ["log_error_file"] = Path.Combine(dir, "error.log") });
        var context = new NetapiModuleContext(section.Values, new Dictionary<string, object?>(), null!, null!, NullLogger.Instance, CancellationToken.None)
        {
            Listening = () => listening.TrySetResult(),
        };
        var front = HttpFront.Open(context, HttpFrontOptions.Read(section));
        var builder = NetapiWebHost.CreateBuilder(front.Context, new ListenerOptions("127.0.0.1", 0));
        app = builder.Build();
        app.MapMethods("/{**path}", ["POST", "PUT"], async (HttpRequest r) =>
        {
            using var body = new MemoryStream();
            await r.Body.CopyToAsync(body);
            return Results.Text($"{r.Protocol} {r.Path} {body.Length}");
        });
        await app.StartAsync();
        return (new Uri(app.Urls.First()).Port, listening, front);
    }

    [Fact]
    public async Task The_module_is_reported_listening_once_its_server_accepts()
    {
        var (port, listening, front) = await StartAsync();
        await using var _ = front;
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var probe = new TcpClient();
        await probe.ConnectAsync("127.0.0.1", port);
    }

    [Fact]
    public async Task An_http10_post_without_a_length_has_an_empty_body_and_others_are_untouched()
    {
        var (port, _, front) = await StartAsync();
        await using var __ = front;

        // Two bodiless HTTP/1.0 POSTs on one keep-alive connection, the head split across writes, then one with a body.
        var answers = await ExchangeAsync(
            port,
            ["POST /logout HTTP/1.0\r\nX-Auth-Tok", "en: abc\r\nConnection: keep-alive\r\n\r\n"],
            ["PUT /minions HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"],
            ["POST /hook HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"]);
        Assert.Equal(["HTTP/1.0 /logout 0", "HTTP/1.0 /minions 0", "HTTP/1.0 /hook 3"], answers);

        // HTTP/1.1 is left alone: no length is an empty body there already, a chunked body is read.
        answers = await ExchangeAsync(
            port,
            ["POST /a HTTP/1.1\r\nHost: x\r\n\r\n"],
            ["POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n"]);
        Assert.Equal(["HTTP/1.1 /a 0", "HTTP/1.1 /b 2"], answers);
    }

    // Sends each request's parts as separate writes, reads one response per request; returns their bodies.
    private static async Task<List<string>> ExchangeAsync(int port, params string[][] requests)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var bodies = new List<string>();
        var pending = "";
        foreach (var parts in requests)
        {
            foreach (var part in parts)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(part), cts.Token);
                await stream.FlushAsync(cts.Token);
                await Task.Yield();
            }

            var buffer = new byte[4096];
            while (true)
            {
                var split = pending.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (split >= 0)
                {
                    var head = pending[..split];
                    var length = int.Parse(head.Split("\r\n").First(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    if (pending.Length >= split + 4 + length)
                    {
                        Assert.Contains(" 200 ", head.Split("\r\n")[0], StringComparison.Ordinal);
                        bodies.Add(pending.Substring(split + 4, length));
                        pending = pending[(split + 4 + length)..];
                        break;
                    }
                }

                var n = await stream.ReadAsync(buffer, cts.Token);
                Assert.True(n > 0, $"connection closed after {bodies.Count} answers: '{pending}'");
                pending += Encoding.ASCII.GetString(buffer, 0, n);
            }
        }

        return bodies;
    }
}
