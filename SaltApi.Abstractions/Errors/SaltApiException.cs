namespace SaltApi.Abstractions.Errors;

/// <summary>What went wrong, in the terms a module maps to an HTTP status.</summary>
public enum SaltErrorKind
{
    /// <summary>Credentials missing or refused (Salt's EauthAuthenticationError, AuthenticationError, ...): 401.</summary>
    Authentication,

    /// <summary>An ACL refused the call (Salt's AuthorizationError): 401 in rest_cherrypy.</summary>
    Authorization,

    /// <summary>The lowstate is wrong or the client is disabled (SaltInvocationError): 400.</summary>
    Invocation,

    /// <summary>The master cannot be reached (SaltDaemonNotRunning, request timed out): 503.</summary>
    MasterUnavailable,

    /// <summary>A job did not finish in time (SaltClientTimeout): 504.</summary>
    Timeout,

    /// <summary>The master or the client failed in a way Salt reports as a generic error: 500.</summary>
    ClientError,
}

/// <summary>Base of every error the client layer reports. <see cref="Exception.Message"/> is Salt's own text.</summary>
public abstract class SaltApiException : Exception
{
    /// <summary>Creates the exception with Salt's message.</summary>
    protected SaltApiException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>The kind, for status-code mapping.</summary>
    public abstract SaltErrorKind Kind { get; }

    /// <summary>The Salt exception class name, e.g. <c>EauthAuthenticationError</c>.</summary>
    public abstract string SaltName { get; }
}

/// <summary>Salt's EauthAuthenticationError / TokenAuthenticationError / AuthenticationError.</summary>
public sealed class SaltAuthenticationException(string message, string saltName = "EauthAuthenticationError")
    : SaltApiException(message)
{
    /// <inheritdoc/>
    public override SaltErrorKind Kind => SaltErrorKind.Authentication;

    /// <inheritdoc/>
    public override string SaltName { get; } = saltName;
}

/// <summary>Salt's AuthorizationError.</summary>
public sealed class SaltAuthorizationException(string message) : SaltApiException(message)
{
    /// <inheritdoc/>
    public override SaltErrorKind Kind => SaltErrorKind.Authorization;

    /// <inheritdoc/>
    public override string SaltName => "AuthorizationError";
}

/// <summary>Salt's SaltInvocationError.</summary>
public sealed class SaltInvocationException(string message) : SaltApiException(message)
{
    /// <inheritdoc/>
    public override SaltErrorKind Kind => SaltErrorKind.Invocation;

    /// <inheritdoc/>
    public override string SaltName => "SaltInvocationError";
}

/// <summary>Salt's SaltDaemonNotRunning, and a request channel that got no reply.</summary>
public sealed class SaltMasterUnavailableException(string message, Exception? inner = null) : SaltApiException(message, inner)
{
    /// <inheritdoc/>
    public override SaltErrorKind Kind => SaltErrorKind.MasterUnavailable;

    /// <inheritdoc/>
    public override string SaltName => "SaltDaemonNotRunning";
}

/// <summary>Salt's SaltClientTimeout.</summary>
public sealed class SaltTimeoutException(string message) : SaltApiException(message)
{
    /// <inheritdoc/>
    public override SaltErrorKind Kind => SaltErrorKind.Timeout;

    /// <inheritdoc/>
    public override string SaltName => "SaltClientTimeout";
}

/// <summary>Salt's SaltClientError and any other error the master reports by name.</summary>
public sealed class SaltClientException(string message, string saltName = "SaltClientError") : SaltApiException(message)
{
    /// <inheritdoc/>
    public override SaltErrorKind Kind => SaltErrorKind.ClientError;

    /// <inheritdoc/>
    public override string SaltName { get; } = saltName;
}
