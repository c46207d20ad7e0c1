using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Yingyun.Dimse.Tests.Infrastructure;

/// <summary>How to configure an <see cref="OrthancProcess"/>: its AE title, the DICOM modalities it knows (name →
/// node), and any further options of Orthanc's configuration file (they override the defaults).</summary>
internal sealed class OrthancOptions
{
    public string AeTitle { get; set; } = "ORTHANC";

    /// <summary>DicomModalities: the name used in the REST API (/modalities/{name}) → the peer.</summary>
    public Dictionary<string, DicomNode> Modalities { get; } = new(StringComparer.Ordinal);

    /// <summary>More options, merged over the defaults.</summary>
    public JsonObject Extra { get; } = [];
}

/// <summary>An Orthanc server (Debian package orthanc) of the test's own: a generated configuration in a temporary
/// folder, its own storage there, free HTTP and DICOM ports on 127.0.0.1, REST without authentication (loopback
/// only), every DICOM service allowed; started, awaited until its REST API answers /system, and killed at the end.
/// Reusable by any test project that links this file.</summary>
internal sealed class OrthancProcess : IAsyncDisposable
{
    private const int LogLines = 4000;
    private readonly Process _process;
    private readonly TempFolder _folder;
    private readonly Queue<string> _log = new();

    private OrthancProcess(Process process, TempFolder folder, int httpPort, int dicomPort, string aeTitle)
    {
        _process = process;
        _folder = folder;
        HttpPort = httpPort;
        DicomPort = dicomPort;
        AeTitle = aeTitle;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}/"), Timeout = TimeSpan.FromMinutes(2) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }
    public int DicomPort { get; }
    public string AeTitle { get; }
    public HttpClient Http { get; }

    /// <summary>Orthanc as a DICOM node, for our side's resolvers.</summary>
    public DicomNode Node => new(AeTitle, "127.0.0.1", DicomPort);

    /// <summary>The last lines Orthanc logged (it runs with --verbose), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log) return string.Join('\n', _log);
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > LogLines) _log.Dequeue();
        }
    }

    public static string Executable()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/sbin"))
        {
            var candidate = Path.Combine(dir, "Orthanc");
            if (File.Exists(candidate)) return candidate;
        }
        throw new Xunit.Sdk.XunitException("Orthanc not found: install the Debian package orthanc (apt-get install -y orthanc; ./test.sh does it)");
    }

    /// <summary>Starts Orthanc and waits until its REST API answers. The ports are probed free just before; should
    /// another process take one in between, Orthanc exits and is started again on new ports.</summary>
    public static async Task<OrthancProcess> StartAsync(OrthancOptions? options = null)
    {
        options ??= new OrthancOptions();
        string executable = Executable();
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var folder = new TempFolder();
            int httpPort = Dcmtk.FreePort(), dicomPort = Dcmtk.FreePort();
            while (dicomPort == httpPort) dicomPort = Dcmtk.FreePort();
            string config = Path.Combine(folder.Path, "orthanc.json");
            await File.WriteAllTextAsync(config, Configuration(options, folder.Path, httpPort, dicomPort).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            var info = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = folder.Path,
            };
            info.ArgumentList.Add("--verbose");
            info.ArgumentList.Add(config);
            var process = Process.Start(info) ?? throw new InvalidOperationException("could not start Orthanc");
            var orthanc = new OrthancProcess(process, folder, httpPort, dicomPort, options.AeTitle);
            try
            {
                await orthanc.WaitUntilReadyAsync();
                return orthanc;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                last = new InvalidOperationException($"{ex.Message}\n{orthanc.Log}", ex);
                await orthanc.DisposeAsync();
            }
        }
        throw last!;
    }

    private static JsonObject Configuration(OrthancOptions options, string folder, int httpPort, int dicomPort)
    {
        var modalities = new JsonObject();
        foreach (var (name, node) in options.Modalities)
            modalities[name] = new JsonArray(node.AeTitle, node.Host, node.Port);
#pragma warning disable CA1507 // These are the keys of Orthanc's configuration file, which happen to share names with our properties.
        var config = new JsonObject
        {
            ["Name"] = "yingyun-test",
            ["StorageDirectory"] = Path.Combine(folder, "storage"),
            ["IndexDirectory"] = Path.Combine(folder, "storage"),
            // Not the plugins of the system's Orthanc: only the core is under test.
            ["Plugins"] = new JsonArray(),
            ["HttpServerEnabled"] = true,
            ["HttpPort"] = httpPort,
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = false,
            ["WebDavEnabled"] = false,
            ["DicomServerEnabled"] = true,
            ["DicomAet"] = options.AeTitle,
            ["DicomPort"] = dicomPort,
            ["DicomCheckCalledAet"] = false,
            ["DicomAlwaysAllowEcho"] = true,
            ["DicomAlwaysAllowStore"] = true,
            ["DicomAlwaysAllowFind"] = true,
            ["DicomAlwaysAllowMove"] = true,
            ["DicomAlwaysAllowGet"] = true,
            ["DicomModalities"] = modalities,
            ["DicomScuTimeout"] = 30,
            ["DicomScpTimeout"] = 30,
            // Close each SCU association when done rather than keep it for reuse: tests see whole exchanges.
            ["DicomAssociationCloseDelay"] = 0,
            ["SaveJobs"] = false,
            ["ConcurrentJobs"] = 2,
            ["StorageCommitmentReportsSize"] = 100,
        };
#pragma warning restore CA1507
        foreach (var (key, value) in options.Extra) config[key] = value?.DeepClone();
        return config;
    }

    /// <summary>Polls GET /system until it answers (no fixed sleep: each poll is a real check).</summary>
    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"Orthanc exited with {_process.ExitCode} before its REST API answered");
            try
            {
                using var response = await Http.GetAsync("system");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("Orthanc's REST API did not answer within 60 s");
            await Task.Delay(50);
        }
    }

    // ---------------------------------------------------------------- REST

    public async Task<JsonNode> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        return await ReadAsync(response, "GET", path);
    }

    public async Task<JsonNode> PostJsonAsync(string path, JsonNode body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(path, content);
        return await ReadAsync(response, "POST", path);
    }

    /// <summary>POST /instances: uploads a DICOM file; returns Orthanc's instance ID.</summary>
    public async Task<string> UploadAsync(string file)
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(file));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        using var response = await Http.PostAsync("instances", content);
        var json = await ReadAsync(response, "POST", "instances");
        return json["ID"]!.GetValue<string>();
    }

    /// <summary>The Orthanc ID of the instance with <paramref name="sopInstanceUid"/>, or null if Orthanc has none.</summary>
    public async Task<string?> FindInstanceAsync(string sopInstanceUid)
    {
        var found = await PostJsonAsync("tools/find", new JsonObject
        {
            ["Level"] = "Instance",
            ["Query"] = new JsonObject { ["SOPInstanceUID"] = sopInstanceUid },
        });
        return found.AsArray().Select(n => n!.GetValue<string>()).SingleOrDefault();
    }

    /// <summary>GET /instances/{id}/file: the Part 10 file as Orthanc stores it, written to <paramref name="path"/>.</summary>
    public async Task DownloadAsync(string instanceId, string path)
    {
        using var response = await Http.GetAsync($"instances/{instanceId}/file");
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET instances/{instanceId}/file: {(int)response.StatusCode}\n{Log}");
        await using var file = File.Create(path);
        await response.Content.CopyToAsync(file);
    }

    private async Task<JsonNode> ReadAsync(HttpResponseMessage response, string method, string path)
    {
        string text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}\n--- Orthanc log ---\n{Log}");
        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        Http.Dispose();
        _folder.Dispose();
    }
}
