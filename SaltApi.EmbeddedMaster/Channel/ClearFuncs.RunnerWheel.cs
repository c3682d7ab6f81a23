using SaltApi.EmbeddedMaster.Auth;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Jobs;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Channel;

internal sealed partial class ClearFuncs
{
    // ---------------------------------------------------------------- runner / wheel

    /// <summary>
    /// The common start of Salt's ClearFuncs.runner and .wheel: authenticate, then spec_check the function
    /// against the user's ACL for <paramref name="form"/>. A refusal is the reply to send.
    /// </summary>
    private async Task<(object? Refusal, string? Username, string AuthType)> AuthorizeAsync(OrderedDictionary<string, object?> clearLoad, string form)
    {
        var (authType, errName, sensitive) = LoadAuth.PrepAuthInfo(clearLoad);
        var check = authType == "user" ? UserAuth(clearLoad) : await ctx.LoadAuth.CheckAuthenticationAsync(clearLoad, authType);
        if (check.Error is not null)
        {
            return (Py.Map(("error", check.Error)), null, authType);
        }

        if (authType == "user")
        {
            return (null, check.Username, authType);
        }

        var spec = Acl.SpecCheck(check.AuthList, PyValue.Str(Required(clearLoad, "fun")), clearLoad.Get("kwarg") ?? Py.Map(), form);
        if (spec is false)
        {
            return (Py.Map(("error", Py.Map(("name", errName), ("message", $"Authentication failure of type \"{authType}\" occurred for user {check.Username}.")))), null, authType);
        }

        if (spec is OrderedDictionary<string, object?> error)
        {
            return (error, null, authType);
        }

        foreach (var k in sensitive)
        {
            clearLoad.Remove(k);
        }

        return (null, check.Username, authType);
    }

    private async Task<object?> RunnerAsync(OrderedDictionary<string, object?> clearLoad)
    {
        var (refusal, username, authType) = await AuthorizeAsync(clearLoad, "runner");
        if (refusal is not null)
        {
            return refusal;
        }

        if (authType == "user")
        {
            username = clearLoad.Get("user") is string u ? (u.StartsWith("sudo_", StringComparison.Ordinal) ? ctx.Opts.Get("user") as string ?? "root" : u) : Environment.UserName;
        }

        var fun = PyValue.Str(Required(clearLoad, "fun"));
        clearLoad.Remove("fun");
        var low = Py.AsMap(clearLoad.Get("kwarg")) is { } k2 ? Py.Copy(k2) : Py.Map();
        var jid = Jid.New();
        var tag = EventTag.Run(jid);
        low["__jid__"] = jid;
        low["__user__"] = username;
        low["__tag__"] = tag;
        _ = Task.Run(() => ClientLow.RunAsync(ctx, "runner", fun, low));
        return Py.Map(("tag", tag), ("jid", jid));
    }

    private async Task<object?> WheelAsync(OrderedDictionary<string, object?> clearLoad)
    {
        var (refusal, username, authType) = await AuthorizeAsync(clearLoad, "wheel");
        if (refusal is not null)
        {
            return refusal;
        }

        if (authType == "user")
        {
            username = clearLoad.Get("user") is string u ? u : Environment.UserName;
        }

        var jid = Jid.New();
        var fun = PyValue.Str(Required(clearLoad, "fun"));
        clearLoad.Remove("fun");
        var tag = EventTag.Wheel(jid);
        var data = Py.Map(("fun", $"wheel.{fun}"), ("jid", jid), ("tag", tag), ("user", username));
        ctx.Bus.FireStamped(EventTag.New(tag), data);
        var low = Py.Copy(clearLoad);
        low["full_return"] = true;
        var ret = await ClientLow.RunAsync(ctx, "wheel", fun, low);
        data["return"] = ret.Get("return");
        data["success"] = ret.Get("success");
        ctx.Bus.FireStamped(EventTag.Ret(tag), data);
        return Py.Map(("tag", tag), ("data", data));
    }
}
