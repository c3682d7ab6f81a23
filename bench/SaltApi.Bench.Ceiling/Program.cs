using System.Buffers;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// The ceiling of the HTTP scenarios: Kestrel on loopback, the request body read and dropped, a fixed
// JSON body of the size of a local_async answer. Every HTTP scenario is reported as a share of it.
var port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 8099;
var body = """{"return": [{"jid": "20261126190508123456", "minions": ["ms--0", "ms--1", "ms--2", "ms--3", "ms--4"]}]}"""u8.ToArray();

var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
builder.WebHost.UseKestrelCore();
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http1);
});
await using var app = builder.Build();
app.Run(async http =>
{
    var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    try
    {
        while (await http.Request.Body.ReadAsync(buffer, http.RequestAborted) > 0)
        {
        }
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }

    http.Response.StatusCode = 200;
    http.Response.ContentType = "application/json";
    http.Response.ContentLength = body.Length;
    await http.Response.Body.WriteAsync(body, http.RequestAborted);
});
await app.RunAsync();
