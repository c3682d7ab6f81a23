using SaltApi.Bench;

// Usage: dotnet bench/SaltApi.Bench/bin/Release/net10.0/SaltApi.Bench.dll [--quick] [--only groups] [--duration s] [--repeats n]
// bench/run.sh builds everything first and then runs this.
var settings = Settings.From(args);
var runner = new Runner(settings);
return await runner.RunAsync();
