using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yingyun.Archive.Consumers;
using Yingyun.Archive.EventLog;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Tests.Serve;

/// <summary>`yingyun serve` in this process, built by the same <see cref="YingyunHost"/> the command uses, on free
/// ports of 127.0.0.1 with a temporary data directory.</summary>
internal sealed class ServerUnderTest : IAsyncDisposable
{
    private readonly TempFolder? _folder;

    private ServerUnderTest(WebApplication app, string dataDirectory, TempFolder? folder)
    {
        App = app;
        DataDirectory = dataDirectory;
        _folder = folder;
        HttpAddress = new Uri(app.Urls.Single());
        Http = new HttpClient { BaseAddress = HttpAddress };
        DimsePort = app.Services.GetRequiredService<DimseListener>().Port;
    }

    public WebApplication App { get; }

    public string DataDirectory { get; }

    public Uri HttpAddress { get; }

    public HttpClient Http { get; }

    public int DimsePort { get; }

    public string Port => DimsePort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public IEventLog EventLog => App.Services.GetRequiredService<IEventLog>();

    /// <summary>The settings every test server gets; <paramref name="settings"/> adds or changes keys
    /// (<c>Yingyun:Tenants:0:Id</c> …), <paramref name="services"/> registers more (an <see cref="IStoreHandler"/>,
    /// consumers, …).</summary>
    public static async Task<ServerUnderTest> StartAsync(
        Action<Dictionary<string, string?>>? settings = null,
        Action<IServiceCollection>? services = null,
        string? dataDirectory = null)
    {
        var folder = dataDirectory is null ? new TempFolder() : null;
        dataDirectory ??= Path.Combine(folder!.Path, "data");
        var overrides = Settings(dataDirectory);
        settings?.Invoke(overrides);
        var builder = YingyunHost.CreateBuilder(null, overrides);
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        var app = YingyunHost.Build(builder);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            folder?.Dispose();
            throw;
        }
        return new ServerUnderTest(app, dataDirectory, folder);
    }

    public static Dictionary<string, string?> Settings(string dataDirectory) => new()
    {
        ["Yingyun:DataDirectory"] = dataDirectory,
        ["Yingyun:Dimse:Address"] = "127.0.0.1",
        ["Yingyun:Dimse:Port"] = "0",
        ["Yingyun:Http:Port"] = "0",
        ["Yingyun:Dimse:ShutdownTimeoutSeconds"] = "10",
    };

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        response.IsSuccessStatusCode.Should().BeTrue($"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>echoscu (DCMTK) against this server.</summary>
    public Task<ProcessResult> EchoscuAsync(string callingAe = "ECHOSCU", string? calledAe = null) =>
        Dcmtk.RunAsync("echoscu", "-aet", callingAe, "-aec", calledAe ?? "YINGYUN", "127.0.0.1", Port);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _folder?.Dispose();
    }
}

/// <summary>A consumer group that only remembers what it was given: the server's running of consumers (start,
/// graceful stop, replay) is under test, not a real consumer.</summary>
internal sealed class RecordingConsumer(string group, params string[] topics) : ArchiveConsumer(group, topics)
{
    private readonly Lock _lock = new();
    private readonly List<EventRecord> _records = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<EventRecord> Records
    {
        get
        {
            lock (_lock) return [.. _records];
        }
    }

    protected override Task ProcessAsync(IReadOnlyList<EventRecord> batch, CancellationToken cancellationToken)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _records.AddRange(batch);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.SetResult();
        return Task.CompletedTask;
    }

    /// <summary>Waits until at least <paramref name="count"/> records were processed (and, the batch being done,
    /// committed right after).</summary>
    public async Task WaitForAsync(int count)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_records.Count >= count) return;
                changed = _changed.Task;
            }
            await changed.WaitAsync(guard.Token);
        }
    }
}
