using System.Diagnostics;
using System.Text;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Interop.Tests.Infrastructure;

/// <summary><c>yingyun serve</c> as a real process on free ports over a data folder that outlives it (so it can be
/// killed and restarted on the same data). Its output is kept for failure messages.</summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, string dataDirectory, int dimsePort, int httpPort)
    {
        _process = process;
        DataDirectory = dataDirectory;
        DimsePort = dimsePort;
        HttpPort = httpPort;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string DataDirectory { get; }
    public int DimsePort { get; }
    public int HttpPort { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>The <c>yingyun</c> built beside this test assembly (a project reference), run with <c>dotnet</c>.</summary>
    public static string Executable => Path.Combine(AppContext.BaseDirectory, "yingyun.dll");

    public static async Task<ServeProcess> StartAsync(string dataDirectory, IDictionary<string, string>? environment = null, params string[] extraArguments)
    {
        int dimsePort = Dcmtk.FreePort();
        int httpPort = Dcmtk.FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Executable, "serve", "--data", dataDirectory, "--dimse-port", dimsePort.ToString(), "--http-port", httpPort.ToString() })
            info.ArgumentList.Add(a);
        foreach (var a in extraArguments) info.ArgumentList.Add(a);
        info.Environment["DOTNET_gcServer"] = "0";
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start yingyun serve");
        var serve = new ServeProcess(process, dataDirectory, dimsePort, httpPort);
        try
        {
            await Dcmtk.WaitUntilListeningAsync(dimsePort, process);
            await Dcmtk.WaitUntilListeningAsync(httpPort, process);
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"yingyun serve did not come up: {ex.Message}\n{serve.Output}", ex);
        }
        return serve;
    }

    public HttpClient Http() => new() { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}/") };

    /// <summary>SIGKILL: no chance to flush or finish anything.</summary>
    public async Task KillHardAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait for the process to exit by itself; returns its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]);
            await kill.WaitForExitAsync();
        }
        using var guard = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(1));
        await _process.WaitForExitAsync(guard.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillHardAsync();
        _process.Dispose();
    }
}
