using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Yingyun.Archive.Configuration;
using Yingyun.Archive.Consumers;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;
using Yingyun.Archive.Warehouse;
using Yingyun.Dimse;
using Yingyun.Server.Api;

namespace Yingyun.Server.Hosting;

/// <summary>The <c>yingyun serve</c> host: one process running every role on the embedded defaults
/// (ARCHITECTURE.md §2): Kestrel for HTTP, the DIMSE listener, the event log, the stores and the consumers.</summary>
public static class YingyunHost
{
    /// <summary>Configuration (see <see cref="YingyunConfiguration"/>), services and Kestrel. Tests may replace
    /// services on the returned builder before <see cref="Build"/>.</summary>
    /// <exception cref="YingyunConfigurationException">A setting is wrong; the message names its key.</exception>
    public static WebApplicationBuilder CreateBuilder(string? configFile, IReadOnlyDictionary<string, string?> overrides)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        YingyunConfiguration.AddSources(builder.Configuration, configFile, overrides);
        var options = YingyunConfiguration.Bind(builder.Configuration);
        YingyunConfiguration.Validate(options);

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.ColorBehavior = LoggerColorBehavior.Disabled;
        });

        var httpAddress = YingyunConfiguration.HttpLoopbackAddress(options.Http.Address)!;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(httpAddress, options.Http.Port));
        // The host's own bound on StopAsync: the DIMSE drain plus time for the consumers' last commits.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(options.Dimse.ShutdownTimeoutSeconds + 30));

        AddArchive(builder.Services, options);
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Yingyun";
            document.Info.Description = "Tenants, nodes, statistics and administration of a Yingyun archive (ARCHITECTURE.md §8).";
            return Task.CompletedTask;
        }));
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("yingyun", serviceInstanceId: options.ResolvedNodeId)).WithMetrics(metrics => metrics
            .AddMeter(YingyunMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
            .AddPrometheusExporter());
        return builder;
    }

    /// <summary>The archive's services. Registration order is start-up order where it matters: the data directory lock
    /// before the event log (the container disposes in reverse, so the log closes before the lock is released), the
    /// archive's lifecycle before the web server (the host starts it first and stops it last).</summary>
    public static void AddArchive(IServiceCollection services, YingyunOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<ServerHealth>();
        services.AddSingleton<YingyunMetrics>();
        services.AddSingleton(_ => DataDirectoryLock.Acquire(options.DataDirectory));
        services.AddSingleton<IEventLog>(sp =>
        {
            sp.GetRequiredService<DataDirectoryLock>();
            return EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = YingyunConfiguration.EventLogDirectory(options) },
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<EmbeddedEventLog>());
        });
        services.AddSingleton<IIndexStore>(_ => SqliteIndexStore.FromOptions(options));
        services.AddSingleton<IInstanceRegistry>(sp => sp.GetRequiredService<IIndexStore>());
        services.AddSingleton<TenantDirectory>();
        services.AddSingleton<TenantAssociationAuthorizer>();
        services.AddSingleton<IngestService>();
        services.AddSingleton<IStoreHandler>(sp => sp.GetRequiredService<IngestService>());
        services.AddSingleton(sp => new IndexQueryHandler(sp.GetRequiredService<IIndexStore>(), sp.GetRequiredService<TenantDirectory>(),
            sp.GetRequiredService<IngestService>().Blobs.Root));
        services.AddSingleton<IQueryHandler>(sp => sp.GetRequiredService<IndexQueryHandler>());
        services.AddSingleton<IMoveDestinationResolver>(sp => sp.GetRequiredService<IndexQueryHandler>());
        services.AddSingleton<IStorageCommitmentHandler>(sp => new ArchiveStorageCommitmentHandler(sp.GetRequiredService<IInstanceRegistry>(),
            sp.GetRequiredService<TenantDirectory>(), sp.GetRequiredService<IngestService>().Blobs));
        services.AddSingleton<IStorageCommitmentRequestorResolver>(sp => new ArchiveStorageCommitmentRequestorResolver(sp.GetRequiredService<IIndexStore>(),
            sp.GetRequiredService<TenantDirectory>()));
        services.AddSingleton<IWarehouse>(sp => string.IsNullOrWhiteSpace(options.Warehouse.ConnectionString)
            ? DuckDbWarehouse.ForDataDirectory(options.DataDirectory, sp.GetRequiredService<ILoggerFactory>().CreateLogger<DuckDbWarehouse>())
            : new DuckDbWarehouse(options.Warehouse.ConnectionString!, sp.GetRequiredService<ILoggerFactory>().CreateLogger<DuckDbWarehouse>()));
        services.AddSingleton<ArchiveConsumer, StorageConsumer>();
        services.AddSingleton<ArchiveConsumer>(sp => new IndexConsumer(sp.GetRequiredService<IIndexStore>(), sp.GetRequiredService<YingyunMetrics>().InstanceIndexed));
        services.AddSingleton<ArchiveConsumer>(sp => new WarehouseConsumer(sp.GetRequiredService<IWarehouse>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<WarehouseConsumer>()));
        services.AddSingleton<ConsumerSupervisor>();
        services.AddSingleton<DimseListener>();
        services.AddHostedService<ArchiveLifecycle>();
    }

    /// <summary>Builds the application and maps its endpoints.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi("/openapi");
        StatusEndpoints.Map(app);
        TenantEndpoints.Map(app);
        return app;
    }
}
