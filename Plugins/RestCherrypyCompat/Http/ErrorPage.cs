using System.Net;
using System.Text;

namespace SaltApi.Plugins.RestCherrypyCompat.Http;

/// <summary>CherryPy 18's default error page, byte for byte (spec/05 §5).</summary>
internal static class ErrorPage
{
    /// <summary>The CherryPy version the pages claim, as clients of rest_cherrypy have seen it.</summary>
    public const string CherryPyVersion = "18.8.0";

    /// <summary>The Content-Type CherryPy sends with its pages.</summary>
    public const string ContentType = "text/html;charset=utf-8";

    /// <summary>The page for a status, message and (debug only) traceback.</summary>
    public static string Render(int status, string message, string traceback = "")
    {
        var title = $"{status} {Reason(status)}";
        var sb = new StringBuilder(900);
        sb.Append("<!DOCTYPE html PUBLIC\n");
        sb.Append("\"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n");
        sb.Append("\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n");
        sb.Append("<html>\n<head>\n");
        sb.Append("    <meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></meta>\n");
        sb.Append("    <title>").Append(title).Append("</title>\n");
        sb.Append("    <style type=\"text/css\">\n");
        sb.Append("    #powered_by {\n        margin-top: 20px;\n        border-top: 2px solid black;\n        font-style: italic;\n    }\n\n");
        sb.Append("    #traceback {\n        color: red;\n    }\n");
        sb.Append("    </style>\n</head>\n    <body>\n");
        sb.Append("        <h2>").Append(title).Append("</h2>\n");
        sb.Append("        <p>").Append(Escape(message)).Append("</p>\n");
        sb.Append("        <pre id=\"traceback\">").Append(Escape(traceback)).Append("</pre>\n");
        sb.Append("    <div id=\"powered_by\">\n      <span>\n");
        sb.Append("        Powered by <a href=\"http://www.cherrypy.dev\">CherryPy ").Append(CherryPyVersion).Append("</a>\n");
        sb.Append("      </span>\n    </div>\n    </body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>CherryPy escapes only &amp;, &lt; and &gt; in the message (quotes stay).</summary>
    public static string Escape(string s) =>
        s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>The reason phrase CherryPy uses.</summary>
    public static string Reason(int status) => status switch
    {
        413 => "Request Entity Too Large",
        _ => ReasonFromBcl(status),
    };

    private static string ReasonFromBcl(int status)
    {
        var name = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        return name.Length > 0 ? name : ((HttpStatusCode)status).ToString();
    }

    /// <summary>CherryPy's text when an error is raised without one.</summary>
    public static string DefaultMessage(int status) => status switch
    {
        400 => "Bad Request",
        401 => "No permission -- see authorization schemes",
        403 => "Request forbidden -- authorization will not help",
        405 => "Specified method is invalid for this resource",
        406 => "Not Acceptable",
        411 => "Client must specify Content-Length",
        413 => "Entity is too large",
        500 => "The server encountered an unexpected condition which prevented it from fulfilling the request.",
        503 => "This server is currently unavailable. Please try again later.",
        504 => "The gateway server did not receive a timely response",
        _ => ReasonFromBcl(status),
    };
}
