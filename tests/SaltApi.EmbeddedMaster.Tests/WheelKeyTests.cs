using System.Security.Cryptography;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>Wheel key management, config and minions (spec/03 §5.7–5.8).</summary>
public sealed class WheelKeyTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private OrderedDictionary<string, object?> Wheel(string fun, params (string Key, object? Value)[] args)
    {
        var load = Map(("eauth", "file"), ("username", "saltdev"), ("password", Password), ("client", "wheel"), ("fun", fun));
        foreach (var (k, v) in args)
        {
            load[k] = v;
        }

        load["cmd"] = "wheel";
        var reply = Assert.IsType<OrderedDictionary<string, object?>>(h.Send(load));
        var data = Assert.IsType<OrderedDictionary<string, object?>>(reply["data"]);
        Assert.True(data["success"] is true, $"{fun} failed: {data["return"]}");
        return data;
    }

    private object? Ret(string fun, params (string Key, object? Value)[] args) => Wheel(fun, args)["return"];

    [Fact]
    public async Task Gen_accept_reject_accept_delete_with_salt_key_events()
    {
        using var bus = h.Reader();
        var pair = Assert.IsType<OrderedDictionary<string, object?>>(Ret("key.gen_accept", ("id_", "newbox")));
        using (var rsa = RSA.Create())
        {
            rsa.ImportFromPem((string)pair["priv"]!);
            Assert.Equal(2048, rsa.KeySize);
            Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", (string)pair["priv"]!, StringComparison.Ordinal);
            Assert.StartsWith("-----BEGIN PUBLIC KEY-----", (string)pair["pub"]!, StringComparison.Ordinal);
        }

        var all = (OrderedDictionary<string, object?>)Ret("key.list_all")!;
        Assert.Contains("newbox", (List<object?>)all["minions"]!);
        // A key without a running minion is targeted (and will not answer).
        var pub = CapturedRequests.Load("req-publish-publish-eauth");
        pub["tgt"] = "newbox";
        Assert.Equal(new List<object?> { "newbox" }, ((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)h.Send(pub)!)["load"]!)["minions"]);

        Assert.Equal(Map(("minions_rejected", new List<object?> { "newbox" })), Ret("key.reject", ("match", "newbox"), ("include_accepted", true)));
        var ev = await bus.NextAsync(t => t == "salt/key");
        Assert.Equal(Map(("result", true), ("act", "reject"), ("id", "newbox")), Strip(ev.Data));
        Assert.Equal(Map(("minions_rejected", new List<object?> { "newbox" })), Ret("key.list", ("match", "rejected")));
        // Rejected keys need include_rejected; the answer is Salt's name_match afterwards either way.
        Assert.Equal(Map(("minions_rejected", new List<object?> { "newbox" })), Ret("key.accept", ("match", "newbox")));
        Assert.Equal(Map(("minions", new List<object?> { "newbox" })), Ret("key.accept", ("match", "newbox"), ("include_rejected", true)));
        Assert.Equal("accept", (await bus.NextAsync(t => t == "salt/key")).Data["act"]);
        Assert.Equal(Map(), Ret("key.delete", ("match", "newbox")));
        Assert.Equal("delete", (await bus.NextAsync(t => t == "salt/key")).Data["act"]);
        Assert.DoesNotContain("newbox", (List<object?>)((OrderedDictionary<string, object?>)Ret("key.list_all")!)["minions"]!);
    }

    private static OrderedDictionary<string, object?> Strip(OrderedDictionary<string, object?> d)
    {
        var m = new OrderedDictionary<string, object?>(d, StringComparer.Ordinal);
        m.Remove("_stamp");
        return m;
    }

    [Fact]
    public void Finger_is_the_sha256_of_the_pem_body_and_finger_master_and_gen()
    {
        var fingers = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Ret("key.finger", ("match", "ms--1"))!)["minions"]!;
        var pem = File.ReadAllText(Path.Combine(h.CacheDir, "pki", "minions", "ms--1"));
        var body = string.Concat(pem.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)).Select(l => l + "\n"));
        var hex = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(body)));
        Assert.Equal(string.Join(":", Enumerable.Range(0, 32).Select(i => hex.Substring(i * 2, 2))), fingers["ms--1"]);
        // The same key next time.
        Assert.Equal(fingers, ((OrderedDictionary<string, object?>)Ret("key.finger", ("match", "ms--1"))!)["minions"]);
        var local = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Ret("key.finger_master")!)["local"]!;
        Assert.Matches("^([0-9a-f]{2}:){31}[0-9a-f]{2}$", (string)local["master.pub"]!);
        Assert.Equal(Map(("minions", new List<object?> { "ms--0", "ms--1" })), Ret("key.name_match", ("match", "ms--0,ms--1")));
        var gen = (OrderedDictionary<string, object?>)Ret("key.gen")!;
        Assert.Equal(["priv", "pub"], gen.Keys);
    }

    [Fact]
    public void Config_values_and_minions_connected()
    {
        var cfg = (OrderedDictionary<string, object?>)Ret("config.values")!;
        Assert.Equal(h.SockDir, cfg["sock_dir"]);
        Assert.Equal(new List<object?> { "ms--0", "ms--1", "ms--2", "ms--3", "ms--4" }, Ret("minions.connected"));
    }

    [Fact]
    public async Task Wheel_async_style_jid_tag_and_user_set_the_inner_events()
    {
        using var bus = h.Reader();
        var jid = SaltApi.Protocol.Jobs.Jid.New();
        var outer = Wheel("key.list_all", ("__jid__", jid), ("__tag__", $"salt/wheel/{jid}"), ("__user__", "UNKNOWN"));
        Assert.Equal("saltdev", outer["user"]);
        Assert.NotEqual(jid, outer["jid"]);
        var created = await bus.NextAsync(t => t == $"salt/wheel/{jid}/new");
        Assert.Equal("UNKNOWN", created.Data["user"]);
        Assert.Equal(new List<object?>(), created.Data["fun_args"]);
        var ret = await bus.NextAsync(t => t == $"salt/wheel/{jid}/ret");
        Assert.Equal(true, ret.Data["success"]);
        Assert.Equal(["fun", "jid", "user", "fun_args", "_stamp", "return", "success"], ret.Data.Keys);
    }

    [Fact]
    public void Wheel_denied_for_a_user_without_wheel_rights()
    {
        var load = Map(("eauth", "file"), ("username", "limited"), ("password", Password), ("client", "wheel"), ("fun", "key.list_all"), ("cmd", "wheel"));
        var err = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)h.Send(load)!)["error"]!;
        Assert.Equal(Map(("name", "EauthAuthenticationError"), ("message", "Authentication failure of type \"eauth\" occurred for user limited.")), err);
    }
}
