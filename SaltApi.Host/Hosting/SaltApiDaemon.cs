using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Host.Cli;
using SaltApi.Host.Configuration;
using SaltApi.Host.Logging;
using SaltApi.Host.Modules;
using SaltApi.Host.Plugins;

namespace SaltApi.Host.Hosting;

/// <summary>salt-api's main: command line, config, logging, plugins, pidfile, then the host until a stop signal.</summary>
internal static class SaltApiDaemon
{
    /// <summary>Salt's EX_GENERIC.</summary>
    public const int ExitError = 1;

    /// <summary>optparse's exit status for a usage error.</summary>
    public const int ExitUsage = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        CommandLine cli;
        try
        {
            cli = CommandLineParser.Parse(args);
        }
        catch (CommandLineException e)
        {
            await Console.Error.WriteAsync(CommandLineParser.ErrorText(e.Message));
            return ExitUsage;
        }

        var env = (Func<string, string?>)Environment.GetEnvironmentVariable;
        if (cli.Help)
        {
            var defaultDir = env("SALT_CONFIG_DIR") is { Length: > 0 } d ? d : MasterConfigLoader.DefaultConfigDir;
            await Console.Out.WriteAsync(CommandLineParser.HelpText(defaultDir));
            return 0;
        }

        if (cli.Version)
        {
            await Console.Out.WriteLineAsync(VersionReport.VersionLine);
            return 0;
        }

        if (cli.VersionsReport)
        {
            await Console.Out.WriteAsync(VersionReport.Report(BuiltInPlugins()));
            return 0;
        }

        LoadedConfig config;
        DaemonOptions options;
        var mainFile = MasterConfigLoader.ResolveMainFile(cli.ConfigDir, env, Environment.CurrentDirectory);
        try
        {
            config = MasterConfigLoader.Load(mainFile, env);
        }
        catch (ConfigFileException e)
        {
            await Console.Error.WriteLineAsync($"[{"ERROR",-8}] {e.Message}");
            return ExitError;
        }

        try
        {
            options = DaemonOptions.From(config, cli);
        }
        catch (ConfigFileException e)
        {
            // The daemon refuses its config: every wrong value at once, the modules' sections' included (as
            // YARP's ConfigValidator lists every wrong route), so that one start shows all there is to fix.
            var modules = PluginCatalog.Load(PluginCatalog.SearchDirs(DaemonOptions.PluginDirsOf(config)), NullLogger.Instance);
            foreach (var line in e.All.Select(a => a.Message).Concat(ModuleGate.Problems(modules, config)))
            {
                await Console.Error.WriteLineAsync($"[{"ERROR",-8}] {line}");
            }

            return ExitError;
        }

        // As salt-api's daemonize_if_required, once the config is read (its errors stay on the terminal):
        // the command starts the detached daemon and returns once its modules listen.
        using var readyPipe = Daemonize.TakeReadyPipe();
        if (cli.Daemon && readyPipe is null)
        {
            return Daemonize.Start(args, Console.Error);
        }

        using var loggers = SetUpLogging(options, out var fileSink);
        var log = loggers.CreateLogger("salt-api");
        log.LogDebug("Reading configuration from {Files}", config.Files.Count > 0 ? string.Join(", ", config.Files) : mainFile + " (missing: defaults apply)");
        foreach (var warning in config.Warnings.Concat(options.Warnings))
        {
            log.LogWarning("{Warning}", warning);
        }

        foreach (var error in config.Errors)
        {
            log.LogError("{Error}", error);
        }

        foreach (var warning in SaltReadingWarnings.For(config))
        {
            log.LogWarning("{Warning}", warning);
        }

        if (MasterHostChecks.CheckUser(options.User, log, Console.Error, out var switchTo) is { } userExit)
        {
            return userExit;
        }

        // As salt-api's start(): "The salt-api is starting up".
        log.LogInformation("The salt-api is starting up");
        var catalog = PluginCatalog.Load(PluginCatalog.SearchDirs(options.PluginDirs), loggers.CreateLogger("salt-api.plugins"));
        var enabled = ModuleGate.Enabled(catalog, config, log);
        if (enabled.Count == 0)
        {
            // Deliberate difference: 3006 means to log this but its check never fires; it then exits 0
            // after ten silent seconds. A daemon with nothing to serve is a configuration error.
            log.LogError("Did not find any netapi configurations, nothing to start");
            return ExitError;
        }

        if (SaltApi.Client.Netapi.EnableClientsHint.StartWarning(options.Master, enabled.Select(m => m.Type.ConfigKey).ToList()) is { } hint)
        {
            log.LogWarning("{Hint}", hint);
        }

        if (!options.EmbeddedMaster)
        {
            MasterHostChecks.CheckSockDir(options.Master, options.User, log);
        }

        var pidWritten = WritePidFile(options.PidFile, log);
        if (readyPipe is not null)
        {
            Daemonize.Detached();
        }

        var signals = new SignalState();
        try
        {
            using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
            {
                // Deliberate difference: SIGHUP reopens the log file (for logrotate) and has the modules re-read
                // their certificates, instead of restarting them.
                c.Cancel = true;
                ReopenLog(fileSink, log);
                signals.Reload.Raise();
            });
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => signals.Received = "SIGTERM");
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => signals.Received = "SIGINT");
            var supervision = SupervisorOptions.Default;
            var service = new SaltApiService(config.Options, options, enabled, supervision, loggers, signals)
            {
                SwitchTo = switchTo,
                OwnedFiles = [.. pidWritten ? [options.PidFile] : Array.Empty<string>(), .. fileSink is null ? [] : new[] { fileSink.Path }],
            };
            var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
            {
                ContentRootPath = AppContext.BaseDirectory,
                EnvironmentName = "Production",
            });
            builder.Services.AddSingleton(loggers);
            builder.Services.AddSingleton<IHostedService>(service);
            builder.Services.AddSingleton<IHostedService, IdleTrim>();
            builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
            builder.Services.Configure<HostOptions>(o =>
            {
                o.ShutdownTimeout = supervision.StopTimeout + TimeSpan.FromSeconds(5);
                o.StartupTimeout = TimeSpan.FromMinutes(2);
            });
            // systemd Type=notify: READY=1 once every module task is started, STOPPING=1 on stop.
            // Deliberate difference: salt-api notifies READY=1 before anything is started.
            builder.Services.AddSystemd();
            using var host = builder.Build();
            NotifyOutsideSystemd(host);
            if (readyPipe is not null)
            {
                host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => Daemonize.ReportReady(readyPipe));
            }

            try
            {
                await host.RunAsync();
            }
            catch (Exception) when (service.StartFailure is not null)
            {
                return ExitError;
            }

            return 0;
        }
        finally
        {
            if (pidWritten)
            {
                RemovePidFile(options.PidFile);
            }
        }
    }

    /// <summary>
    /// AddSystemd notifies only when systemd is the parent. As Salt's notify_systemd, also notify whenever
    /// $NOTIFY_SOCKET is set (a supervisor speaking the sd_notify protocol, or systemd-run --pipe).
    /// </summary>
    private static void NotifyOutsideSystemd(IHost host)
    {
        if (Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService() || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            return;
        }

        var notifier = new Microsoft.Extensions.Hosting.Systemd.SystemdNotifier();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() => notifier.Notify(Microsoft.Extensions.Hosting.Systemd.ServiceState.Ready));
        lifetime.ApplicationStopping.Register(() => notifier.Notify(Microsoft.Extensions.Hosting.Systemd.ServiceState.Stopping));
    }

    private static List<(string Name, string Version)> BuiltInPlugins()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "plugins");
        if (!Directory.Exists(dir))
        {
            return [];
        }

        return Directory.EnumerateDirectories(dir)
            .Select(d => (Name: Path.GetFileName(d), Dll: Path.Combine(d, Path.GetFileName(d) + ".dll")))
            .Where(p => File.Exists(p.Dll))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => (p.Name, System.Diagnostics.FileVersionInfo.GetVersionInfo(p.Dll).ProductVersion?.Split('+')[0] ?? "?"))
            .ToList();
    }

    /// <summary>Console (stderr) and file (or syslog) handlers with Salt's levels and formats.</summary>
    private static ILoggerFactory SetUpLogging(DaemonOptions options, out FileSink? fileSink)
    {
        var console = new SaltLoggerProvider(new ConsoleSink(), options.ConsoleLevel, new LogFormat(options.ConsoleFormat, options.ConsoleDateFormat), options.GranularLevels);
        fileSink = null;
        string? fileProblem = null;
        ILogSink? sink = null;
        if (options.FileLevel != LogLevel.None && options.Syslog is { } syslog)
        {
            // Deliberate difference: Salt exits 2 when the syslog socket cannot be opened at start; we
            // keep serving, say so on the console, and send once it answers (lines meanwhile dropped, counted).
            var consoleLog = console.CreateLogger("salt-api");
            sink = new SyslogSink(syslog, problem => consoleLog.LogWarning("{Problem}", problem));
        }
        else if (options.FileLevel != LogLevel.None)
        {
            try
            {
                sink = fileSink = FileSink.Open(options.LogFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                fileProblem = e.Message;
            }
        }

        var loggers = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(LogLevel.Trace);
            b.AddProvider(console);
            if (sink is not null)
            {
                b.AddProvider(new SaltLoggerProvider(sink, options.FileLevel, new LogFormat(options.FileFormat, options.FileDateFormat), options.GranularLevels));
            }

            // The framework's own chatter only at trace levels.
            var framework = options.ConsoleLevel == LogLevel.Trace ? LogLevel.Trace : LogLevel.Warning;
            b.AddFilter("Microsoft", framework);
            b.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        });
        if (fileProblem is not null)
        {
            loggers.CreateLogger("salt-api").LogWarning("Failed to open log file, do you have permission to write to {Path}? ({Problem}) Logging to the console only", options.LogFile, fileProblem);
        }

        return loggers;
    }

    private static void ReopenLog(FileSink? sink, ILogger log)
    {
        if (sink is null)
        {
            return;
        }

        try
        {
            sink.Reopen();
            log.LogInformation("Received SIGHUP: reopened log file {Path}", sink.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogError("Received SIGHUP but could not reopen log file {Path}: {Problem}", sink.Path, e.Message);
        }
    }

    /// <summary>salt.utils.process.set_pidfile: the decimal pid, no newline, directory created.</summary>
    private static bool WritePidFile(string path, ILogger log)
    {
        try
        {
            if (Path.GetDirectoryName(path) is { Length: > 0 } dir)
            {
                Directory.CreateDirectory(dir);
            }

            File.WriteAllText(path, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            log.LogDebug("Created pidfile: {Path}", path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Failed to write pidfile {Path}: {Problem}", path, e.Message);
            return false;
        }
    }

    private static void RemovePidFile(string path)
    {
        try
        {
            // Only our own: another daemon may have taken the file over.
            if (File.Exists(path) && File.ReadAllText(path).Trim() == Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
