using SaltApi.Bench;

// Usage: dotnet bench/SaltApi.Bench/bin/Release/net10.0/SaltApi.Bench.dll [--quick] [--only groups] [--duration s] [--repeats n] [--baseline dll]
//        dotnet .../SaltApi.Bench.dll --chart results.json out.svg   (the chart of an earlier run's results)
// bench/run.sh builds everything first and then runs this.
if (args is ["--chart", var json, var svg])
{
    var rows = System.Text.Json.JsonSerializer.Deserialize<List<Row>>(await File.ReadAllTextAsync(json)) ?? [];
    await File.WriteAllTextAsync(svg, Chart.Svg(rows, "SaltApi bench: local_async test.ping, 5 minions, against a bare Kestrel (" + Path.GetFileName(json) + ")"));
    return 0;
}

var settings = Settings.From(args);
var runner = new Runner(settings);
return await runner.RunAsync();
