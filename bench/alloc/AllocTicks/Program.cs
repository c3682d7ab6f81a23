using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Reads a trace of the runtime's GC events with stacks (GCAllocationTick, one every ~100 KB allocated) and tells
// the bytes allocated per request: in all, by type, by the innermost SaltApi/NetMQ frame, and by frame inclusive.
// Usage: AllocTicks trace.nettrace REQUESTS [TOP]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: AllocTicks trace.nettrace REQUESTS [TOP]");
    return 2;
}

var requests = double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var top = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 30;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>();
var byLeaf = new Dictionary<string, long>();
var byFrame = new Dictionary<string, long>();
long total = 0;
var gcs = new int[3];
foreach (var ev in log.Events)
{
    if (ev is GCStartTraceData start && start.Depth < 3)
    {
        gcs[start.Depth]++;
    }

    if (ev is not GCAllocationTickTraceData tick)
    {
        continue;
    }

    var amount = tick.AllocationAmount64 > 0 ? tick.AllocationAmount64 : tick.AllocationAmount;
    var type = tick.TypeName ?? "?";
    total += amount;
    byType[type] = byType.GetValueOrDefault(type) + amount;
    var frames = new List<string>();
    for (var s = ev.CallStack(); s != null && frames.Count < 60; s = s.Caller)
    {
        var name = s.CodeAddress.FullMethodName;
        frames.Add(string.IsNullOrEmpty(name) ? s.CodeAddress.ModuleName + "!?" : name.Split('(')[0]);
    }

    var leaf = frames.FirstOrDefault(f => f.StartsWith("SaltApi", StringComparison.Ordinal) || f.StartsWith("NetMQ", StringComparison.Ordinal))
        ?? frames.FirstOrDefault(f => !f.StartsWith("System.", StringComparison.Ordinal)) ?? "?";
    var key = $"{leaf}  [{type}]";
    byLeaf[key] = byLeaf.GetValueOrDefault(key) + amount;
    foreach (var f in frames.Distinct())
    {
        byFrame[f] = byFrame.GetValueOrDefault(f) + amount;
    }
}

Console.WriteLine($"allocated {total / 1e6:F1} MB (sampled) for {requests:F0} requests: {total / requests:F0} bytes/request; GCs gen0 {gcs[0]}, gen1 {gcs[1]}, gen2 {gcs[2]}");
Print("by type", byType);
Print("by innermost SaltApi/NetMQ frame [type]", byLeaf);
Print("by frame, inclusive", byFrame);
return 0;

void Print(string title, Dictionary<string, long> table)
{
    Console.WriteLine("--- " + title);
    foreach (var (name, bytes) in table.OrderByDescending(kv => kv.Value).Take(top))
    {
        Console.WriteLine($"{bytes / requests,9:F0} B/req  {name}");
    }
}
