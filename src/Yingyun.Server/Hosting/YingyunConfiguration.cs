using System.Net;
using Microsoft.Extensions.Configuration;
using Yingyun.Archive.Configuration;
using Yingyun.Dimse;

namespace Yingyun.Server.Hosting;

/// <summary>Where <c>yingyun serve</c> (and <c>yingyun replay</c>) take their settings from, lowest priority first
/// (ARCHITECTURE.md §8): built-in defaults, <c>appsettings.json</c> next to the executable, <c>appsettings.json</c> in
/// the working directory, the <c>--config</c> file, environment variables (<c>Yingyun__Dimse__Port=104</c>), then the
/// command-line options, which map to their keys (<c>--dimse-port</c> is <c>Yingyun:Dimse:Port</c>).</summary>
public static class YingyunConfiguration
{
    /// <summary>Defaults for keys that are not Yingyun's own: a quiet framework, one line per log entry.</summary>
    private static readonly Dictionary<string, string?> FrameworkDefaults = new()
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        ["Logging:LogLevel:System.Net.Http"] = "Warning",
        // A failed start is reported by `serve` itself in one line naming the cause; the host would add a stack trace.
        ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "Critical",
    };

    /// <summary>Adds the sources in their order of priority to <paramref name="configuration"/> (whose existing
    /// sources are removed). <paramref name="configFile"/> must exist when given; <paramref name="overrides"/> are
    /// the command-line options as configuration keys.</summary>
    public static void AddSources(IConfigurationBuilder configuration, string? configFile, IReadOnlyDictionary<string, string?> overrides)
    {
        configuration.Sources.Clear();
        configuration.AddInMemoryCollection(FrameworkDefaults);
        string besideExecutable = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        string inWorkingDirectory = Path.GetFullPath("appsettings.json");
        configuration.AddJsonFile(besideExecutable, optional: true, reloadOnChange: false);
        if (!string.Equals(besideExecutable, inWorkingDirectory, StringComparison.Ordinal))
            configuration.AddJsonFile(inWorkingDirectory, optional: true, reloadOnChange: false);
        if (configFile is not null)
        {
            string full = Path.GetFullPath(configFile);
            if (!File.Exists(full)) throw new YingyunConfigurationException($"--config {configFile}: no such file");
            configuration.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        configuration.AddEnvironmentVariables();
        configuration.AddInMemoryCollection(overrides.Where(kv => kv.Value is not null));
    }

    /// <summary>Binds the <c>Yingyun:</c> section, makes the data directory absolute and checks every value
    /// <c>serve</c> depends on, naming the key at fault.</summary>
    public static YingyunOptions Bind(IConfiguration configuration)
    {
        var options = new YingyunOptions();
        try
        {
            configuration.GetSection(YingyunOptions.Section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert.
            throw new YingyunConfigurationException($"configuration: {ex.Message}", ex);
        }
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
            throw new YingyunConfigurationException("Yingyun:DataDirectory (--data) is empty");
        options.DataDirectory = Path.GetFullPath(options.DataDirectory);
        if (!string.IsNullOrWhiteSpace(options.Storage.Root)) options.Storage.Root = Path.GetFullPath(options.Storage.Root);
        foreach (var tenant in options.Tenants)
        {
            tenant.AeTitles ??= [];
            tenant.AllowedIps ??= [];
        }
        return options;
    }

    public static void Validate(YingyunOptions options)
    {
        if (options.Dimse.Port is < 0 or > 65535)
            throw new YingyunConfigurationException($"Yingyun:Dimse:Port (--dimse-port) {options.Dimse.Port} is not a TCP port (0–65535; 0 picks a free one)");
        if (options.Http.Port is < 0 or > 65535)
            throw new YingyunConfigurationException($"Yingyun:Http:Port (--http-port) {options.Http.Port} is not a TCP port (0–65535; 0 picks a free one)");
        if (!ApplicationEntityTitle.IsValid(options.Dimse.AeTitle))
            throw new YingyunConfigurationException($"Yingyun:Dimse:AeTitle (--ae-title) '{options.Dimse.AeTitle}' is not an AE title (1–16 printable ASCII characters, no backslash, PS3.5 §6.2)");
        if (options.Dimse.MaximumAssociations < 1)
            throw new YingyunConfigurationException($"Yingyun:Dimse:MaximumAssociations {options.Dimse.MaximumAssociations} must be at least 1");
        if (options.Dimse.ShutdownTimeoutSeconds < 0)
            throw new YingyunConfigurationException($"Yingyun:Dimse:ShutdownTimeoutSeconds {options.Dimse.ShutdownTimeoutSeconds} must not be negative");
        if (!IPAddress.TryParse(options.Dimse.Address, out _))
            throw new YingyunConfigurationException($"Yingyun:Dimse:Address '{options.Dimse.Address}' is not an IP address (0.0.0.0 for every interface)");
        if (HttpLoopbackAddress(options.Http.Address) is null)
            throw new YingyunConfigurationException(
                $"Yingyun:Http:Address '{options.Http.Address}': the HTTP API has no authentication yet (tenants, nodes and admin calls are open), " +
                "so it binds to the loopback interface only (127.0.0.1, ::1 or localhost); put a reverse proxy with authentication in front of it to reach it from elsewhere");
        if (!string.Equals(options.EventLog.Provider, "Embedded", StringComparison.OrdinalIgnoreCase))
            throw new YingyunConfigurationException($"Yingyun:EventLog:Provider '{options.EventLog.Provider}': this build has the embedded event log only (Embedded)");
        if (!string.Equals(options.Index.Provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
            throw new YingyunConfigurationException($"Yingyun:Index:Provider '{options.Index.Provider}': this build has the SQLite index store only (Sqlite)");
        if (!string.Equals(options.Warehouse.Provider, "DuckDb", StringComparison.OrdinalIgnoreCase))
            throw new YingyunConfigurationException($"Yingyun:Warehouse:Provider '{options.Warehouse.Provider}': this build has the DuckDB warehouse only (DuckDb)");
        if (!string.IsNullOrWhiteSpace(options.Cache.Redis))
            throw new YingyunConfigurationException("Yingyun:Cache:Redis is set, but this build has the in-process cache only; leave it empty");
    }

    /// <summary>The loopback address <paramref name="address"/> names, or null when it is not a loopback address.</summary>
    public static IPAddress? HttpLoopbackAddress(string? address) => address?.Trim() switch
    {
        null or "" => null,
        "localhost" => IPAddress.Loopback,
        var text when IPAddress.TryParse(text, out var ip) && IPAddress.IsLoopback(ip) => ip,
        _ => null,
    };

    /// <summary>Where the embedded event log lives.</summary>
    public static string EventLogDirectory(YingyunOptions options) => Path.Combine(options.DataDirectory, "eventlog");
}

/// <summary>A setting <c>serve</c> cannot run with; the message names the key (and the option) at fault.</summary>
public sealed class YingyunConfigurationException : Exception
{
    public YingyunConfigurationException(string message) : base(message) { }

    public YingyunConfigurationException(string message, Exception inner) : base(message, inner) { }

    public YingyunConfigurationException() { }
}
