using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Yingyun.Dimse;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Server.Tests.Serve;

/// <summary>`./yingyun serve` as a real process, started through the script at the repository root (which builds
/// Release on first use): settings from the environment, and a graceful stop on SIGTERM. One class, so its tests run
/// one after the other and never build at the same time.</summary>
public class ServeProcessTests
{
    [Fact]
    public async Task Environment_variables_configure_it_and_the_command_line_wins_over_them()
    {
        using var folder = new TempFolder();
        int httpPort = Dcmtk.FreePort();
        await using var server = await YingyunProcess.StartAsync(folder.Path, httpPort, new Dictionary<string, string>
        {
            ["Yingyun__Dimse__AeTitle"] = "ENVAE",
            ["Yingyun__Http__Port"] = "1", // overridden by --http-port
            ["Yingyun__Tenants__0__Id"] = "hospital-a",
            ["Yingyun__Tenants__0__AeTitles__0"] = "CT01",
        });

        (await Dcmtk.RunAsync("echoscu", "-aet", "CT01", "-aec", "ENVAE", "127.0.0.1", server.DimsePort.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ExitCode.Should().Be(0, server.Output);
        var refused = await Dcmtk.RunAsync("echoscu", "-aet", "CT01", "-aec", "YINGYUN", "127.0.0.1", server.DimsePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        refused.ExitCode.Should().NotBe(0, "the AE title from the environment replaced the default");
        var tenants = await server.Http.GetFromJsonAsync<JsonElement>("/api/tenants");
        tenants.EnumerateArray().Select(t => t.GetProperty("id").GetString()).Should().Equal("hospital-a");

        (await server.StopAsync()).Should().Be(0, server.Output);
    }

    [Fact]
    public async Task SIGTERM_stops_accepting_lets_the_association_in_progress_finish_and_exits_0_with_a_clean_log()
    {
        using var folder = new TempFolder();
        await using var server = await YingyunProcess.StartAsync(folder.Path, Dcmtk.FreePort());
        var store = await Dcmtk.RunAsync("storescu", "-aec", "YINGYUN", "127.0.0.1", server.DimsePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Corpus.File("CT_small.dcm"), Corpus.File("MR_small.dcm"));
        store.ExitCode.Should().Be(0, store.ToString());

        // An association in progress when the signal comes.
        var client = new DicomClientOptions { Host = "127.0.0.1", Port = server.DimsePort, CallingAeTitle = "LATE", CalledAeTitle = "YINGYUN" };
        await using var association = await DicomClient.ConnectAsync(client, [Dicom.DicomUids.Verification]);
        server.Terminate();
        await server.WaitForOutputAsync("stopping: no new associations; waiting for 1 in progress");

        var refused = () => DicomClient.ConnectAsync(client, [Dicom.DicomUids.Verification]);
        (await refused.Should().ThrowAsync<Exception>()).Which.Should().Match<Exception>(e => e is SocketException || e.InnerException is SocketException,
            "the listener is closed once stopping begins");
        (await association.EchoAsync()).Should().Be(DimseStatus.Success, "the association in progress is served to its end");
        await association.ReleaseAsync();

        (await server.WaitForExitAsync()).Should().Be(0, server.Output);
        string log = server.Output;
        log.Should().Contain("consumer(s) stopped after committing their last batch").And.Contain("Yingyun stopped");
        log.Should().NotContainAny(["fail:", "crit:", "Exception", "aborted"]);
        File.Exists(Path.Combine(folder.Path, "data", "server.json")).Should().BeFalse("a stopped server withdraws its address");

        // Restarted on the same data directory, it finds what it had: nothing to recover, the instances indexed.
        await using var again = await YingyunProcess.StartAsync(folder.Path, Dcmtk.FreePort());
        again.Output.Should().NotContain("ingest recovery");
        var find = await Dcmtk.RunAsync("findscu", "-S", "-aec", "YINGYUN", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
            "127.0.0.1", again.DimsePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        find.ExitCode.Should().Be(0, find.ToString());
        foreach (var name in new[] { "CT_small.dcm", "MR_small.dcm" })
        {
            var dataset = (await Dicom.DicomReader.OpenAsync(Corpus.File(name), new Dicom.DicomReaderOptions { StopBeforeTag = Dicom.DicomTag.PixelDataTag })).Dataset;
            find.Output.Should().Contain(dataset.GetString(Dicom.DicomTags.StudyInstanceUID)!, "the index kept what was acknowledged before the stop");
        }
        (await again.StopAsync()).Should().Be(0, again.Output);
    }
}

/// <summary>A `./yingyun serve` child process on a data directory under <c>folder/data</c>, DIMSE on a free port.</summary>
internal sealed class YingyunProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _outputChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private YingyunProcess(Process process, int dimsePort, int httpPort)
    {
        _process = process;
        DimsePort = dimsePort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
    }

    public int DimsePort { get; }

    public HttpClient Http { get; }

    public string Output
    {
        get
        {
            lock (_lock) return _output.ToString();
        }
    }

    public static async Task<YingyunProcess> StartAsync(string folder, int httpPort, IReadOnlyDictionary<string, string>? environment = null)
    {
        int dimsePort = Dcmtk.FreePort();
        var info = new ProcessStartInfo(Path.Combine(RepositoryRoot(), "yingyun"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        foreach (var a in new[] { "serve", "--data", Path.Combine(folder, "data"), "--dimse-port", dimsePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ./yingyun");
        var server = new YingyunProcess(process, dimsePort, httpPort);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitForOutputAsync("Yingyun serving from", ServeProcessTestsLimits.Start);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        TaskCompletionSource changed;
        lock (_lock)
        {
            _output.AppendLine(line);
            changed = _outputChanged;
            _outputChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.SetResult();
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails early if the process ends first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan? limit = null)
    {
        using var guard = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_output.ToString().Contains(text, StringComparison.Ordinal)) return;
                changed = _outputChanged.Task;
            }
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(CancellationToken.None);
                lock (_lock)
                    if (_output.ToString().Contains(text, StringComparison.Ordinal)) return;
                throw new Xunit.Sdk.XunitException($"./yingyun serve exited with {_process.ExitCode} before printing '{text}':\n{Output}");
            }
            try
            {
                await Task.WhenAny(changed, _process.WaitForExitAsync(guard.Token)).WaitAsync(guard.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"./yingyun serve did not print '{text}' in time:\n{Output}");
            }
        }
    }

    /// <summary>SIGTERM, as systemd or `docker stop` send it.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await _process.WaitForExitAsync(guard.Token);
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public async Task<int> StopAsync()
    {
        Terminate();
        return await WaitForExitAsync();
    }

    public ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "yingyun")) && File.Exists(Path.Combine(dir.FullName, "Yingyun.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no repository root (with ./yingyun) above {AppContext.BaseDirectory}");
    }
}

internal static class ServeProcessTestsLimits
{
    /// <summary>The script's first build can take minutes on a busy machine; after that a start takes a second or two.</summary>
    public static readonly TimeSpan Start = TimeSpan.FromMinutes(20);
}
