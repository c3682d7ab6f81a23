using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Values;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>One eauth backend (a Salt <c>salt/auth/*.py</c> module).</summary>
internal interface IEauthBackend
{
    /// <summary>The module's <c>auth(username, password)</c>.</summary>
    bool Authenticate(string username, string password);

    /// <summary>The module's optional <c>groups(username)</c>; null when it has none.</summary>
    IReadOnlyList<string>? Groups(string username) => null;

    /// <summary>Whether <see cref="Authenticate"/> may wait on something slow (PAM); such calls run off the request's thread.</summary>
    bool MayBlock => true;
}

/// <summary>The eauth modules this master knows, by the name used under <c>external_auth</c>.</summary>
internal sealed class EauthModules(IReadOnlyDictionary<string, object?> externalAuth, IReadOnlyDictionary<string, object?> masterConfig, ILogger log)
{
    private readonly UsersFileCache usersFile = new();

    /// <summary>The backend for a name, or null when Salt has no such module (or we do not implement it).</summary>
    public IEauthBackend? Get(string name) => name switch
    {
        "auto" => new AutoEauth(),
        "sharedsecret" => new SharedSecretEauth(masterConfig.Get("sharedsecret") as string),
        "file" => new FileEauth(Py.AsMap(externalAuth.Get("file")) ?? Py.Map(), usersFile, log),
        "pam" => new PamEauth(masterConfig.Get("auth.pam.service") as string ?? "login", log),
        _ => null,
    };

    /// <summary>Constant-time comparison of two secrets.</summary>
    public static bool SecretEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}

/// <summary>salt/auth/auto.py: accepts any username and password (for tests).</summary>
internal sealed class AutoEauth : IEauthBackend
{
    public bool MayBlock => false;

    public bool Authenticate(string username, string password) => true;
}

/// <summary>salt/auth/sharedsecret.py: the password must equal the master option <c>sharedsecret</c>.</summary>
internal sealed class SharedSecretEauth(string? secret) : IEauthBackend
{
    public bool MayBlock => false;

    public bool Authenticate(string username, string password) => secret is not null && EauthModules.SecretEquals(password, secret);
}

/// <summary>
/// salt/auth/file.py: a text file (<c>user:password</c> lines, <c>^hashtype</c> plaintext or a hashlib
/// name, <c>^field_separator</c>, <c>^username_field</c>, <c>^password_field</c>, 1-based) or an
/// htpasswd file. A relative <c>^filename</c> is relative to the working directory, as in Salt.
/// </summary>
internal sealed class FileEauth(OrderedDictionary<string, object?> options, UsersFileCache cache, ILogger log) : IEauthBackend
{
    public FileEauth(OrderedDictionary<string, object?> options, ILogger log)
        : this(options, new UsersFileCache(), log)
    {
    }

    // passlib's MAX_PASSWORD_SIZE: Salt's htpasswd check (passlib's HtpasswdFile) raises PasswordSizeError
    // for a longer secret, a failed login. SHA-crypt hashes the password once per character (quadratic).
    internal const int MaxHtpasswdPassword = 4096;

    // A text file costs a stat per call (a read only when the file changed): not worth a thread-pool hop.
    // An htpasswd hash is thousands of rounds of a hash (a $6$ check of a 4 KiB password costs tens of ms).
    public bool MayBlock => options.Get("^filetype") as string == "htpasswd";

    public bool Authenticate(string username, string password)
    {
        if (options.Get("^filename") is not string filename)
        {
            log.LogError("eauth file: ^filename is not set");
            return false;
        }

        var filetype = options.Get("^filetype") as string ?? "text";
        UsersFileCache.Snapshot? file;
        try
        {
            file = cache.Read(filename);
        }
        catch (IOException e)
        {
            log.LogError("eauth file: cannot read {File}: {Error}", filename, e.Message);
            return false;
        }
        catch (UnauthorizedAccessException e)
        {
            log.LogError("eauth file: cannot read {File}: {Error}", filename, e.Message);
            return false;
        }

        if (file is null)
        {
            log.LogError("eauth file: {File} does not exist", filename);
            return false;
        }

        return filetype switch
        {
            "text" => Text(file.Fields(options.Get("^field_separator") as string ?? ":"), username, password),
            "htpasswd" => Htpasswd(file.Lines, username, password),
            _ => Unsupported(filetype),
        };
    }

    private bool Unsupported(string filetype)
    {
        log.LogError("eauth file: ^filetype {Type} is not supported", filetype);
        return false;
    }

    private bool Text(string[][] lines, string username, string password)
    {
        var hashtype = options.Get("^hashtype") as string ?? "plaintext";
        var userField = Field("^username_field", 1) - 1;
        var passField = Field("^password_field", 2) - 1;
        foreach (var fields in lines)
        {
            if (userField < 0 || userField >= fields.Length || passField < 0 || passField >= fields.Length)
            {
                log.LogError("eauth file: a line has fewer fields than ^username_field/^password_field need");
                return false;
            }

            if (fields[userField] != username)
            {
                continue;
            }

            if (hashtype == "plaintext")
            {
                return EauthModules.SecretEquals(fields[passField], password);
            }

            var digest = Digest(password, hashtype);
            return digest is not null && EauthModules.SecretEquals(fields[passField], digest);
        }

        return false;
    }

    private int Field(string key, int fallback) => options.Get(key) switch
    {
        long l => (int)l,
        string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
        _ => fallback,
    };

    // Salt's file eauth lets the operator choose md5/sha1 (hashutil.digest); we must read such files.
    private string? Digest(string password, string hashtype)
    {
        var h = HashType.Digest(hashtype.ToLowerInvariant(), Encoding.UTF8.GetBytes(password));
        if (h is null)
        {
            log.LogError("eauth file: ^hashtype {Type} is not supported", hashtype);
        }

        return h is null ? null : Convert.ToHexStringLower(h);
    }

    private bool Htpasswd(string[] lines, string username, string password)
    {
        if (Encoding.UTF8.GetByteCount(password) > MaxHtpasswdPassword)
        {
            return false;
        }

        foreach (var raw in lines)
        {
            var line = raw.TrimEnd('\r', '\n');
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line[..colon] != username)
            {
                continue;
            }

            var hash = line[(colon + 1)..].Trim();
            if (hash.StartsWith("{SHA}", StringComparison.Ordinal))
            {
                return EauthModules.SecretEquals(hash[5..], Convert.ToBase64String(HashType.Digest("sha1", Encoding.UTF8.GetBytes(password))!));
            }

            if (hash.StartsWith("$apr1$", StringComparison.Ordinal) || hash.StartsWith("$1$", StringComparison.Ordinal))
            {
                var magic = hash.StartsWith("$apr1$", StringComparison.Ordinal) ? "$apr1$" : "$1$";
                var rest = hash[magic.Length..];
                var salt = rest.Split('$')[0];
                return EauthModules.SecretEquals(hash, Md5Crypt.Hash(password, salt, magic));
            }

            if (hash.StartsWith("$5$", StringComparison.Ordinal) || hash.StartsWith("$6$", StringComparison.Ordinal))
            {
                return ShaCrypt.Verify(password, hash);
            }

            if (hash.StartsWith("$2", StringComparison.Ordinal))
            {
                log.LogError("eauth file: bcrypt htpasswd entries are not supported; use $apr1$, {{SHA}}, $5$ or $6$");
                return false;
            }

            // passlib's htpasswd context accepts plaintext on POSIX hosts.
            return EauthModules.SecretEquals(hash, password);
        }

        return false;
    }
}

/// <summary>
/// The eauth users file as last read. salt/auth/file.py reads and parses the file on every call; here a
/// call costs one stat while the file's last write time and length are unchanged (it was the largest part
/// of an eauth request). A changed file is read again at once.
/// </summary>
/// <param name="time">The clock a file's write time is compared with; the system clock when null.</param>
internal sealed class UsersFileCache(TimeProvider? time = null)
{
    private readonly TimeProvider time = time ?? TimeProvider.System;

    // File times come from the kernel's coarse clock (and some file systems keep whole seconds), so a file
    // rewritten twice within one tick with the same length would look unchanged: a file that changed this
    // recently before it was read is read again on the next call instead of being kept.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    private Snapshot? last;

    /// <summary>The file's lines (read again when it changed), or null when it does not exist.</summary>
    public Snapshot? Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        var (written, length) = (info.LastWriteTimeUtc, info.Length);
        var cached = Volatile.Read(ref last);
        if (cached is not null && cached.Path == path && cached.Written == written && cached.Length == length)
        {
            return cached;
        }

        var readAt = time.GetUtcNow().UtcDateTime;
        var fresh = new Snapshot(path, written, length, File.ReadAllLines(path));
        if (written < readAt - Settle)
        {
            Volatile.Write(ref last, fresh);
        }

        return fresh;
    }

    /// <summary>One reading of the file.</summary>
    internal sealed class Snapshot(string path, DateTime written, long length, string[] lines)
    {
        private Tuple<string, string[][]>? split; // a reference, so a reader never sees half of an update

        public string Path { get; } = path;

        public DateTime Written { get; } = written;

        public long Length { get; } = length;

        public string[] Lines { get; } = lines;

        /// <summary>Every line split as Salt does: <c>line.strip().split(separator)</c> (kept for the last separator asked for).</summary>
        public string[][] Fields(string separator)
        {
            var done = Volatile.Read(ref split);
            if (done is not null && done.Item1 == separator)
            {
                return done.Item2;
            }

            // As Salt: a password cannot contain the separator.
            var fields = Array.ConvertAll(Lines, l => l.Trim().Split(separator));
            Volatile.Write(ref split, Tuple.Create(separator, fields));
            return fields;
        }
    }
}
