using SaltApi.Host.Configuration;

namespace SaltApi.Host.Tests;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-config-").FullName;
    private readonly Dictionary<string, string> env = new() { ["HOME"] = "/nonexistent-home" };

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string? Env(string name) => env.TryGetValue(name, out var v) ? v : null;

    private string Write(string relative, string text)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private LoadedConfig Load() => MasterConfigLoader.Load(Path.Combine(dir, "master"), Env);

    private static OrderedDictionary<string, object?> Map(object? v) => Assert.IsType<OrderedDictionary<string, object?>>(v);

    [Fact]
    public void Master_then_master_d_in_sorted_order_with_a_shallow_top_level_merge()
    {
        Write("master", "timeout: 3\nrest_cherrypy:\n  port: 8000\n  host: 0.0.0.0\n  ssl_crt: /x\n");
        Write("master.d/20-late.conf", "timeout: 20\n");
        Write("master.d/10-api.conf", "rest_cherrypy:\n  port: 8080\n");
        Write("master.d/ignored.txt", "timeout: 99\n");
        var config = Load();
        Assert.Equal(20L, config.Options["timeout"]);
        // The included block REPLACES the main file's block (spec/06 §3.4): host and ssl_crt are gone.
        var api = Map(config.Options["rest_cherrypy"]);
        Assert.Equal(["port"], api.Keys);
        Assert.Equal(8080L, api["port"]);
        Assert.Equal(
            [Path.Combine(dir, "master"), Path.Combine(dir, "master.d/10-api.conf"), Path.Combine(dir, "master.d/20-late.conf")],
            config.Files);
        Assert.Equal(Path.Combine(dir, "master.d/10-api.conf") + ", line 2", config.Where("rest_cherrypy.port"));
        Assert.Equal(Path.Combine(dir, "master.d/20-late.conf") + ", line 1", config.Where("timeout"));
    }

    [Fact]
    public void Files_of_one_include_list_deep_merge_maps_and_concatenate_lists()
    {
        Write("master", "include: [extra/*.conf]\nexternal_auth:\n  pam:\n    admin: ['.*']\n");
        Write("extra/a.conf", "external_auth:\n  file:\n    u1: [test.*]\nnetapi_enable_clients: [local, runner]\n");
        Write("extra/b.conf", "external_auth:\n  file:\n    u2: ['@wheel']\nnetapi_enable_clients: [runner, wheel]\n");
        var config = Load();
        var eauth = Map(config.Options["external_auth"]);
        // a.conf and b.conf merged deeply; the result replaced the main file's external_auth.
        Assert.Equal(["file"], eauth.Keys);
        Assert.Equal(["u1", "u2"], Map(eauth["file"]).Keys);
        Assert.Equal(new List<object?> { "local", "runner", "wheel" }, config.Options["netapi_enable_clients"]);
    }

    [Fact]
    public void Include_as_a_string_nested_includes_and_relative_paths()
    {
        Write("master", "include: sub/one.conf\n");
        Write("sub/one.conf", "a: 1\ninclude: two.conf\n");
        Write("sub/two.conf", "b: 2\n");
        var config = Load();
        Assert.Equal(1L, config.Options["a"]);
        Assert.Equal(2L, config.Options["b"]);
    }

    [Fact]
    public void Default_include_can_be_changed_and_an_include_matching_nothing_warns()
    {
        Write("master", "default_include: conf.d/*.yaml\ninclude: missing/*.conf\n");
        Write("conf.d/x.yaml", "a: 1\n");
        Write("master.d/y.conf", "a: 2\n");
        var config = Load();
        Assert.Equal(1L, config.Options["a"]);
        var warning = Assert.Single(config.Warnings);
        Assert.Contains("matches no files", warning);
        Assert.Contains(Path.Combine(dir, "missing/*.conf"), warning);
    }

    [Fact]
    public void A_broken_included_file_is_logged_with_its_name_and_line_and_skipped_as_salt_does()
    {
        Write("master", "a: 1\n");
        Write("master.d/10-api.conf", "rest_wsgi:\n  port: 1\n port: 2\n");
        Write("master.d/20-list.conf", "- not\n- a map\n");
        Write("master.d/30-good.conf", "rest_cherrypy:\n  port: 8000\n");
        var config = Load();
        Assert.False(config.Options.ContainsKey("rest_wsgi"));
        Assert.Equal(8000L, Map(config.Options["rest_cherrypy"])["port"]);
        Assert.Equal([Path.Combine(dir, "master"), Path.Combine(dir, "master.d/30-good.conf")], config.Files);
        Assert.Equal(2, config.Errors.Count);
        Assert.StartsWith($"Error parsing configuration file: {Path.Combine(dir, "master.d/10-api.conf")}, line ", config.Errors[0], StringComparison.Ordinal);
        Assert.EndsWith("(this file is skipped)", config.Errors[0], StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir, "master.d/20-list.conf"), config.Errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_broken_main_file_still_stops_the_daemon()
    {
        Write("master", "rest_wsgi:\n  port: 1\n port: 2\n");
        var e = Assert.Throws<ConfigFileException>(Load);
        Assert.Equal(Path.Combine(dir, "master"), e.File);
        Assert.True(e.Line > 0);
    }

    [Fact]
    public void A_missing_main_file_gives_salt_defaults()
    {
        var config = Load();
        Assert.Empty(config.Files);
        Assert.Equal("127.0.0.1", config.Options["interface"]);
        Assert.Equal(4506L, config.Options["ret_port"]);
        Assert.Equal("/var/run/salt/master", config.Options["sock_dir"]);
        Assert.Equal("/var/cache/salt/master/tokens", config.Options["token_dir"]);
        Assert.Equal(new List<object?>(), config.Options["netapi_enable_clients"]);
        Assert.Equal("/var/run/salt-api.pid", config.Options["api_pidfile"]);
        Assert.Equal("/var/run/salt-api.pid", config.Options["pidfile"]);
        Assert.Equal("/var/log/salt/api", config.Options["log_file"]);
        Assert.Equal("tcp://127.0.0.1:4506", config.Options["master_uri"]);
        Assert.Equal(300L, config.Options["rest_timeout"]);
        Assert.Equal("(default)", config.Where("timeout"));
    }

    [Fact]
    public void Derived_values_as_salt_applies_them()
    {
        Write("master", "interface: '::'\nret_port: 4600\ncachedir: /c\nsock_dir: /a/very/long/socket/directory/path\nhash_type: SHA512\nnodegroups:\nid: 42\nexternal_auth:\n  rest:\n    u: []\n");
        var config = Load();
        Assert.Equal("::1", config.Options["interface"]);
        Assert.Equal("tcp://[::1]:4600", config.Options["master_uri"]);
        Assert.Equal("/c/.salt-unix", config.Options["sock_dir"]);
        Assert.Equal("/c/tokens", config.Options["token_dir"]);
        Assert.Equal("sha512", config.Options["hash_type"]);
        Assert.Empty(Map(config.Options["nodegroups"]));
        Assert.Equal("42", config.Options["id"]);
        Assert.Equal(true, config.Options["keep_acl_in_token"]);
    }

    [Fact]
    public void Relative_paths_are_relative_to_the_config_file_and_root_dir_is_prepended()
    {
        Write("master", "cachedir: var/cache\napi_logfile: api.log\nnetapi_plugin_dirs: my-plugins\n");
        var config = Load();
        Assert.Equal(Path.Combine(dir, "var/cache"), config.Options["cachedir"]);
        Assert.Equal(Path.Combine(dir, "api.log"), config.Options["api_logfile"]);
        Assert.Equal(new List<object?> { Path.Combine(dir, "my-plugins") }, config.Options["netapi_plugin_dirs"]);

        Write("master", "root_dir: /srv/root\ncachedir: /var/cache/salt/master\n");
        config = Load();
        Assert.Equal("/srv/root/var/cache/salt/master", config.Options["cachedir"]);
        Assert.Equal("/srv/root/var/run/salt-api.pid", config.Options["api_pidfile"]);
    }

    [Fact]
    public void Saltrc_overlays_the_master_config()
    {
        Write("master", "timeout: 3\n");
        env["SALT_CLIENT_CONFIG"] = Write("rc", "timeout: 9\n");
        Assert.Equal(9L, Load().Options["timeout"]);
    }

    [Fact]
    public void Main_file_resolution()
    {
        var cwd = Directory.CreateDirectory(Path.Combine(dir, "cwd")).FullName;
        Assert.Equal("/etc/salt/master", MasterConfigLoader.ResolveMainFile(null, Env, cwd));
        Assert.Equal(Path.Combine(dir, "conf/master"), MasterConfigLoader.ResolveMainFile(Path.Combine(dir, "conf"), Env, cwd));
        Assert.Equal(Path.Combine(cwd, "rel/master"), MasterConfigLoader.ResolveMainFile("rel", Env, cwd));

        // ./salt-master.yaml when no -c is given (ours).
        var dev = Write("cwd/salt-master.yaml", "a: 1\n");
        Assert.Equal(dev, MasterConfigLoader.ResolveMainFile(null, Env, cwd));

        // SALT_CONFIG_DIR beats the working directory; -c beats SALT_CONFIG_DIR.
        env["SALT_CONFIG_DIR"] = "/opt/salt";
        Assert.Equal("/opt/salt/master", MasterConfigLoader.ResolveMainFile(null, Env, cwd));
        Assert.Equal("/x/master", MasterConfigLoader.ResolveMainFile("/x", Env, cwd));

        // SALT_MASTER_CONFIG names the file only in place of the default path.
        env.Remove("SALT_CONFIG_DIR");
        File.Delete(dev);
        env["SALT_MASTER_CONFIG"] = Write("elsewhere.conf", "a: 1\n");
        Assert.Equal(Path.Combine(dir, "elsewhere.conf"), MasterConfigLoader.ResolveMainFile(null, Env, cwd));
        Assert.Equal("/x/master", MasterConfigLoader.ResolveMainFile("/x", Env, cwd));
    }

    [Fact]
    public void Glob_is_sorted_skips_dot_files_and_supports_classes()
    {
        Write("g/b.conf", "");
        Write("g/a.conf", "");
        Write("g/.hidden.conf", "");
        Write("g/c1.conf", "");
        Assert.Equal(
            [Path.Combine(dir, "g/a.conf"), Path.Combine(dir, "g/b.conf"), Path.Combine(dir, "g/c1.conf")],
            MasterConfigLoader.Glob(Path.Combine(dir, "g/*.conf")));
        Assert.Equal([Path.Combine(dir, "g/a.conf"), Path.Combine(dir, "g/b.conf")], MasterConfigLoader.Glob(Path.Combine(dir, "g/[ab].conf")));
        Assert.Equal([Path.Combine(dir, "g/c1.conf")], MasterConfigLoader.Glob(Path.Combine(dir, "?/c?.conf")));
    }
}
