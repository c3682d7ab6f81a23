using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Hosting;

/// <summary>The options of a module's <see cref="HttpFront"/>, read from its section by <see cref="Read"/>.</summary>
public sealed record HttpFrontOptions
{
    /// <summary>rest_cherrypy's key (CherryPy's <c>log.access_file</c>).</summary>
    public const string AccessLogFileKey = "log_access_file";

    /// <summary>rest_cherrypy's key (CherryPy's <c>log.error_file</c>).</summary>
    public const string ErrorLogFileKey = "log_error_file";

    /// <summary>The module's section name, for error messages.</summary>
    public string ConfigKey { get; init; } = "module";

    /// <summary>Proxies whose forwarded headers are honoured; none by default.</summary>
    public TrustedProxies TrustedProxies { get; init; } = TrustedProxies.None;

    /// <summary>The access-log file; null: each line goes to the module's log at info.</summary>
    public string? AccessLogFile { get; init; }

    /// <summary>The error-log file; null: none (the module's log has every line anyway).</summary>
    public string? ErrorLogFile { get; init; }

    /// <summary>Reads <c>trusted_proxies</c>, <c>log_access_file</c> and <c>log_error_file</c> (an empty string is none, as Salt's default <c>""</c>).</summary>
    public static HttpFrontOptions Read(ModuleSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return new HttpFrontOptions
        {
            ConfigKey = section.ConfigKey,
            TrustedProxies = TrustedProxies.Read(section),
            AccessLogFile = NoneIfEmpty(section.GetString(AccessLogFileKey)),
            ErrorLogFile = NoneIfEmpty(section.GetString(ErrorLogFileKey)),
        };
    }

    private static string? NoneIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
