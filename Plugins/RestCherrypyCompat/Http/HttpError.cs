namespace SaltApi.Plugins.RestCherrypyCompat.Http;

/// <summary>CherryPy's HTTPError: answered with CherryPy's HTML error page.</summary>
internal sealed class HttpError(int status, string? message = null) : Exception(message ?? ErrorPage.DefaultMessage(status))
{
    public int Status { get; } = status;
}
