namespace SaltApi.Abstractions.Errors;

/// <summary>The HTTP status of each <see cref="SaltErrorKind"/>: one mapping for every module.</summary>
public static class SaltErrorStatus
{
    /// <summary>
    /// As rest_cherrypy's hypermedia_handler: authentication and authorization errors are 401, a bad
    /// lowstate (SaltInvocationError) 400, a master that is down (SaltDaemonNotRunning) 503, a job past its
    /// time (SaltClientTimeout) 504, anything else the generic 500.
    /// </summary>
    public static int HttpStatus(this SaltErrorKind kind) => kind switch
    {
        SaltErrorKind.Authentication or SaltErrorKind.Authorization => 401,
        SaltErrorKind.Invocation => 400,
        SaltErrorKind.MasterUnavailable => 503,
        SaltErrorKind.Timeout => 504,
        _ => 500,
    };

    /// <summary>The HTTP status of the exception's kind.</summary>
    public static int HttpStatus(this SaltApiException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Kind.HttpStatus();
    }
}
